package node

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/genesis"
)

// historyBlocks is how far the chain is mined past the transaction under
// test: beyond geth's 128 live states and past a state flush
// (chain.FlushBlocks), after which the old states are gone from memory and
// only the archive's indexed histories hold them.
const historyBlocks = chain.FlushBlocks + 150

// TestArchiveServesOldState: on an archive dev node, the state of a block
// far below the head is read through geth's historic state reader: balance,
// nonce, eth_call, an eth_getProof that verifies against the block's state
// root, and a trace of the block's transaction. geth indexes the histories
// in the background and, on a chain whose head was old at start-up (the
// dev genesis is dated 1970), serves none until its indexer is marked in
// sync, about a minute in: until then the error says so.
func TestArchiveServesOldState(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for geth's history indexer, about a minute")
	}
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	n, rc := startNode(t, Config{Spec: spec, Dev: true, Archive: true})
	key := n.DevKeys()[1]
	from := crypto.PubkeyToAddress(key.PublicKey)
	to := common.HexToAddress("0x00000000000000000000000000000000000a4c41")
	var txHash common.Hash
	if err := rc.Call(&txHash, "eth_sendTransaction", map[string]any{"from": from, "to": to, "value": "0x2a"}); err != nil {
		t.Fatal(err)
	}
	receipt := waitReceiptRPC(t, rc, txHash)
	old := receipt.BlockNumber.Uint64()
	for range historyBlocks {
		var mined json.RawMessage
		if err := rc.Call(&mined, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	oldTag := hexutil.EncodeUint64(old)
	if _, err := n.Chain().StateAt(n.Chain().GetHeaderByNumber(old).Root, new(big.Int).SetUint64(old), 0); err == nil {
		t.Fatalf("the state of block %d is still live %d blocks below the head: the test reads nothing historic", old, historyBlocks)
	}

	// geth indexes the state and trie-node histories in the background:
	// a read waits for the index it needs, and fails on any other error.
	deadline := time.Now().Add(2 * time.Minute)
	untilIndexed := func(result any, method string, params ...any) {
		t.Helper()
		for {
			err := rc.Call(result, method, params...)
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), "indexed") || time.Now().After(deadline) {
				t.Fatalf("%s at block %d: %v", method, old, err)
			}
			time.Sleep(time.Second)
		}
	}
	var balance hexutil.Big
	untilIndexed(&balance, "eth_getBalance", to, oldTag)
	if balance.ToInt().Int64() != 0x2a {
		t.Fatalf("balance at block %d = %v, want 0x2a", old, &balance)
	}
	var nonce hexutil.Uint64
	if err := rc.Call(&nonce, "eth_getTransactionCount", from, hexutil.EncodeUint64(old-1)); err != nil || nonce != 0 {
		t.Fatalf("nonce before the transaction = %d, %v; want 0", nonce, err)
	}
	var ret hexutil.Bytes
	if err := rc.Call(&ret, "eth_call", map[string]any{"from": from, "to": to}, oldTag); err != nil {
		t.Fatalf("eth_call at block %d: %v", old, err)
	}

	var proof struct {
		AccountProof []hexutil.Bytes `json:"accountProof"`
		Balance      *hexutil.Big    `json:"balance"`
	}
	untilIndexed(&proof, "eth_getProof", to, []string{}, oldTag)
	proofDB := memorydb.New()
	for _, node := range proof.AccountProof {
		proofDB.Put(crypto.Keccak256(node), node)
	}
	root := n.Chain().GetHeaderByNumber(old).Root
	leaf, err := trie.VerifyProof(root, crypto.Keccak256(to.Bytes()), proofDB)
	if err != nil {
		t.Fatalf("eth_getProof at block %d does not verify against its root: %v", old, err)
	}
	var account types.StateAccount
	if err := rlp.DecodeBytes(leaf, &account); err != nil || account.Balance.Uint64() != 0x2a {
		t.Fatalf("proven account %+v (%v), want balance 0x2a", account, err)
	}

	var trace struct {
		From  common.Address `json:"from"`
		To    common.Address `json:"to"`
		Value *hexutil.Big   `json:"value"`
	}
	if err := rc.Call(&trace, "debug_traceTransaction", txHash, map[string]any{"tracer": "callTracer"}); err != nil {
		t.Fatalf("debug_traceTransaction of block %d: %v", old, err)
	}
	if trace.From != from || trace.To != to || trace.Value.ToInt().Int64() != 0x2a {
		t.Fatalf("trace %+v, want the transfer", trace)
	}
}

// TestFullNodeNamesArchive: without --gcmode archive, an old state is
// refused with an error that says why and what keeps it.
func TestFullNodeNamesArchive(t *testing.T) {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	_, rc := startNode(t, Config{Spec: spec, Dev: true})
	for range historyBlocks {
		var mined json.RawMessage
		if err := rc.Call(&mined, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	var balance hexutil.Big
	err = rc.Call(&balance, "eth_getBalance", common.Address{}, "0x1")
	if err == nil || !strings.Contains(err.Error(), "--gcmode archive") {
		t.Fatalf("eth_getBalance at block 1 of a full node: %v; want an error naming --gcmode archive", err)
	}
}

// TestMnrWithoutMine: a node that does not mine answers mnr_* with how to
// start one that does, as method-not-found.
func TestMnrWithoutMine(t *testing.T) {
	spec, err := genesis.Load("regtest")
	if err != nil {
		t.Fatal(err)
	}
	_, rc := startNode(t, Config{Spec: spec})
	var res json.RawMessage
	err = rc.CallContext(context.Background(), &res, "mnr_getWork")
	var coded interface{ ErrorCode() int }
	if err == nil || !strings.Contains(err.Error(), "--mine") {
		t.Fatalf("mnr_getWork without --mine: %v; want a hint to start with --mine", err)
	}
	if !errors.As(err, &coded) || coded.ErrorCode() != -32601 {
		t.Fatalf("mnr_getWork without --mine: %v; want code -32601", err)
	}
	err = rc.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", "00", "00", "00", "1")
	if err == nil || !strings.Contains(err.Error(), "--mine") {
		t.Fatalf("mnr_submitBitcoinBlockPartialMerkle without --mine: %v", err)
	}
}

func waitReceiptRPC(t *testing.T, rc interface {
	Call(result any, method string, args ...any) error
}, hash common.Hash) *types.Receipt {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var r *types.Receipt
		if err := rc.Call(&r, "eth_getTransactionReceipt", hash); err == nil && r != nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no receipt for %s", hash)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
