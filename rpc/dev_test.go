package rpc

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

func TestDevAccounts(t *testing.T) {
	tc := newTestChain(t, testOptions{dev: true})
	var accts []common.Address
	tc.mustDecode(&accts, "eth_accounts")
	if len(accts) != 3 {
		t.Fatalf("eth_accounts: %v", accts)
	}

	// eth_sendTransaction: filled, signed with the dev key, pooled, mined.
	target := common.Address{0x7a}
	var hash common.Hash
	tc.mustDecode(&hash, "eth_sendTransaction", map[string]any{"from": addr1, "to": target, "value": "0x7"})
	// The pool sorts new transactions into pending and queued in the
	// background; the counts below are those after it has.
	if err := tc.pool.Sync(); err != nil {
		t.Fatal(err)
	}
	var status map[string]hexutil.Uint
	tc.mustDecode(&status, "txpool_status")
	if status["pending"] != 1 || status["queued"] != 0 {
		t.Errorf("txpool_status after send: %v", status)
	}
	var pooled rpcTransaction
	tc.mustDecode(&pooled, "eth_getTransactionByHash", hash)
	if pooled.From != addr1 || pooled.BlockHash != nil || uint64(pooled.Gas) != 21000 || pooled.Type != types.DynamicFeeTxType {
		t.Errorf("pooled transaction: %+v", pooled)
	}
	tc.mustCall("evm_mine")
	var receipt struct {
		Status      hexutil.Uint   `json:"status"`
		BlockNumber hexutil.Uint64 `json:"blockNumber"`
	}
	tc.mustDecode(&receipt, "eth_getTransactionReceipt", hash)
	if receipt.Status != 1 || receipt.BlockNumber != 6 {
		t.Errorf("receipt after evm_mine: %+v", receipt)
	}
	var bal hexutil.Big
	tc.mustDecode(&bal, "eth_getBalance", target, "latest")
	if bal.ToInt().Int64() != 7 {
		t.Errorf("recipient balance %v, want 7", bal.ToInt())
	}
	tc.wantError(codeServerError, "unknown account", "eth_sendTransaction", map[string]any{"from": addr4, "to": target})
	tc.wantError(codeInvalidParams, "contract creation without any data", "eth_sendTransaction", map[string]any{"from": addr1})

	// eth_signTransaction returns a transaction signed by the account.
	var signed struct {
		Raw hexutil.Bytes `json:"raw"`
	}
	tc.mustDecode(&signed, "eth_signTransaction", map[string]any{"from": addr3, "to": target, "gas": "0x5208", "gasPrice": "0x3b9aca00", "nonce": "0x9"})
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(signed.Raw); err != nil {
		t.Fatal(err)
	}
	if from, err := types.Sender(tc.signer, tx); err != nil || from != addr3 || tx.Nonce() != 9 || tx.Type() != types.LegacyTxType {
		t.Errorf("signed transaction from %s nonce %d type %d (%v)", from, tx.Nonce(), tx.Type(), err)
	}
	tc.wantError(codeInvalidParams, "nonce not specified", "eth_signTransaction", map[string]any{"from": addr3, "to": target, "gas": "0x5208", "gasPrice": "0x1"})

	// eth_fillTransaction needs no key.
	var filled struct {
		Tx rpcTransaction `json:"tx"`
	}
	tc.mustDecode(&filled, "eth_fillTransaction", map[string]any{"from": addr3, "to": target})
	if filled.Tx.From != addr3 || uint64(filled.Tx.Gas) != 21000 || filled.Tx.ChainID.ToInt().Cmp(testChainID) != 0 {
		t.Errorf("filled: %+v", filled.Tx)
	}
}

func TestEVMNamespace(t *testing.T) {
	tc := newTestChain(t, testOptions{dev: true})
	head := func() *types.Header { return tc.bc.CurrentBlock() }
	var offset uint64                                // a JSON number, as anvil answers
	tc.mustDecode(&offset, "evm_increaseTime", 3600) // a plain JSON number, as Hardhat scripts send
	if offset != 3600 {
		t.Errorf("evm_increaseTime: %d", offset)
	}
	before := head().Time
	tc.mustCall("evm_mine")
	if got := head().Time; got < before+3600 {
		t.Errorf("block time %d after increaseTime, want >= %d", got, before+3600)
	}
	next := head().Time + 1000
	tc.mustCall("evm_setNextBlockTimestamp", hexutil.Uint64(next))
	tc.mustCall("evm_mine")
	if head().Time != next {
		t.Errorf("block time %d, want %d", head().Time, next)
	}
	tc.wantError(codeServerError, "not after the head", "evm_setNextBlockTimestamp", 5)
	tc.mustCall("evm_mine", hexutil.Uint64(next+50))
	// A timestamp not after the head's is an error, as on anvil, not
	// silently replaced.
	tc.wantError(-32602, "Timestamp error", "evm_mine", hexutil.Uint64(next+50))
	tc.wantError(-32602, "Timestamp error", "evm_mine", 1)
	if head().Time != next+50 {
		t.Errorf("evm_mine with a timestamp: %d", head().Time)
	}

	var snap hexutil.Uint64
	tc.mustDecode(&snap, "evm_snapshot")
	tc.mustCall("evm_mine")
	var reverted bool
	tc.mustDecode(&reverted, "evm_revert", snap)
	if !reverted || head().Number.Uint64() != uint64(snap) {
		t.Errorf("evm_revert: %v, head %d, want %d", reverted, head().Number, snap)
	}
	tc.mustDecode(&reverted, "evm_revert", "0x100")
	if reverted {
		t.Error("evm_revert to an unknown snapshot succeeded")
	}
}

func TestNoDevMode(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	var accts []common.Address
	if err := json.Unmarshal(tc.mustCall("eth_accounts"), &accts); err != nil || accts == nil || len(accts) != 0 {
		t.Errorf("eth_accounts without dev mode: %v", accts)
	}
	tc.wantError(-32601, "does not exist", "evm_mine")
	tc.wantError(codeServerError, "unknown account", "eth_sendTransaction", map[string]any{"from": addr1, "to": addr2})
	tc.wantError(codeServerError, "unknown account", "eth_sign", addr1, "0x00")
	tc.wantError(-32601, "does not exist", "personal_sign", "0x00", addr1)
	tc.wantError(-32601, "does not exist", "eth_signTypedData_v4", addr1, "{}")
}

// TestUnprotectedTransactions: Config.AllowUnprotectedTxs alone decides
// whether a pre-EIP-155 transaction is taken, dev mode or not.
func TestUnprotectedTransactions(t *testing.T) {
	for _, opts := range []testOptions{{}, {dev: true}, {allowUnprotected: true}, {dev: true, allowUnprotected: true}} {
		tc := newTestChain(t, opts)
		unprotected := types.MustSignNewTx(key1, types.HomesteadSigner{}, &types.LegacyTx{
			Nonce: tc.pool.PoolNonce(addr1), To: &addr2, Gas: 21_000, GasPrice: new(big.Int).Mul(tc.bc.CurrentBlock().BaseFee, big.NewInt(2)),
		})
		if !opts.allowUnprotected {
			tc.wantError(codeServerError, "only replay-protected (EIP-155) transactions allowed over RPC", "eth_sendRawTransaction", rawTx(t, unprotected))
			continue
		}
		var hash common.Hash
		tc.mustDecode(&hash, "eth_sendRawTransaction", rawTx(t, unprotected))
		if hash != unprotected.Hash() {
			t.Errorf("%+v: eth_sendRawTransaction = %s, want %s", opts, hash, unprotected.Hash())
		}
	}
}
