package rpc

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// A reorg seen over RPC: a side chain forking after block 3 overtakes blocks
// 4-5 through the chain's fork choice, once its third block makes it the
// heavier. A logs subscription must report the logs of 4-5 again with
// removed:true, then the side chain's logs; reads must follow the new chain.
func TestReorgRemovedLogs(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	client := gethrpc.DialInProc(tc.srv)
	t.Cleanup(client.Close)
	ec := ethclient.NewClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	logs := make(chan types.Log, 64)
	sub, err := ec.SubscribeFilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{loggerAddr}}, logs)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	heads := make(chan *types.Header, 16)
	hsub, err := ec.SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	defer hsub.Unsubscribe()

	// key3 (not key1, whose transactions fill 4-5) calls the logger with
	// words 100, 101, 102 in blocks 4', 5', 6'.
	peer := tc.peer(3)
	var side []*types.Block
	parent := tc.blocks[2]
	for i := range 3 {
		parent = tc.mine(peer, parent, common.Address{0x5e}, func(nonce func(common.Address) uint64) []*types.Transaction {
			return []*types.Transaction{tc.dynTx(key3, nonce(addr3), loggerAddr, nil, word(int64(100+i)))}
		})
		side = append(side, parent)
	}
	tc.MustInsert(side...)

	removed := map[common.Hash]bool{} // block hash -> seen removed
	added := map[common.Hash]bool{}   // block hash -> seen added
	for len(removed) < 2 || len(added) < 3 {
		select {
		case l := <-logs:
			if l.Removed {
				removed[l.BlockHash] = true
			} else {
				added[l.BlockHash] = true
			}
		case err := <-sub.Err():
			t.Fatalf("subscription ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("saw removed %v and added %v, want blocks 4-5 removed and 4'-6' added", removed, added)
		}
	}
	for _, b := range tc.blocks[3:5] {
		if !removed[b.Hash()] {
			t.Errorf("no removed log for old block %d", b.NumberU64())
		}
		if added[b.Hash()] {
			t.Errorf("old block %d reported as added", b.NumberU64())
		}
	}
	for _, b := range side {
		if !added[b.Hash()] {
			t.Errorf("no log for new block %d", b.NumberU64())
		}
	}
	// newHeads reports each block the new chain adds, in order, up to its
	// head: fork choice imports the side chain as one run of blocks.
	for _, want := range side {
		select {
		case h := <-heads:
			if h.Hash() != want.Hash() {
				t.Errorf("newHeads: got block %d %x, want %d %x", h.Number, h.Hash(), want.NumberU64(), want.Hash())
			}
		case <-ctx.Done():
			t.Fatalf("no newHeads notification for block %d", want.NumberU64())
		}
	}

	// Reads follow the new chain.
	tc.waitLogIndex(ctx, side[2])
	var head string
	tc.mustDecode(&head, "eth_blockNumber")
	if head != "0x6" {
		t.Errorf("head %s, want 0x6", head)
	}
	var got []types.Log
	tc.mustDecode(&got, "eth_getLogs", map[string]any{"fromBlock": "0x0", "address": loggerAddr})
	var words []int64
	for _, l := range got {
		words = append(words, new(big.Int).SetBytes(l.Data).Int64())
		if l.Removed {
			t.Errorf("eth_getLogs returned a removed log")
		}
	}
	if want := []int64{1, 100, 101, 102}; !slices.Equal(words, want) {
		t.Errorf("logs after reorg carry words %v, want %v", words, want)
	}
	if res := tc.mustCall("eth_getTransactionReceipt", tc.txs["log2"].Hash()); string(res) != "null" {
		t.Errorf("receipt of a reorged-out transaction: %s, want null", res)
	}
	// The reorged-out transaction went back to the pool.
	if err := tc.pool.Sync(); err != nil {
		t.Fatal(err)
	}
	if tx := tc.pool.Get(tc.txs["log2"].Hash()); tx == nil {
		t.Errorf("reorged-out transaction not back in the pool")
	}
}
