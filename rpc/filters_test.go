package rpc

import (
	"crypto/ecdsa"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestGetLogs runs against geth's log index (filtermaps) and against the
// recent-logs index a dev node uses.
func TestGetLogs(t *testing.T) {
	t.Run("filtermaps", func(t *testing.T) { testGetLogs(t, testOptions{}) })
	t.Run("recent", func(t *testing.T) { testGetLogs(t, testOptions{noLogIndex: true}) })
}

func testGetLogs(t *testing.T, opts testOptions) {
	tc := newTestChain(t, opts)
	var logs []types.Log
	words := func() []int64 {
		var w []int64
		for _, l := range logs {
			w = append(w, new(big.Int).SetBytes(l.Data).Int64())
		}
		return w
	}
	tests := []struct {
		name   string
		filter map[string]any
		want   []int64
	}{
		{"all by address", map[string]any{"fromBlock": "0x0", "toBlock": "latest", "address": loggerAddr}, []int64{1, 2, 3}},
		// addr4 delegates to the logger (7702, block 3): its log carries no data.
		{"by topic", map[string]any{"fromBlock": "earliest", "topics": []any{loggerTopic}}, []int64{1, 0, 2, 3}},
		{"range", map[string]any{"fromBlock": "0x3", "toBlock": "0x4"}, []int64{0, 2}},
		{"up to safe", map[string]any{"fromBlock": "0x0", "toBlock": "safe"}, []int64{1, 0}},
		{"delegated account", map[string]any{"fromBlock": "0x0", "address": addr4}, []int64{0}},
		{"default range is latest", map[string]any{}, []int64{3}},
		{"pending is latest", map[string]any{"fromBlock": "pending", "toBlock": "pending"}, []int64{3}},
		{"block hash", map[string]any{"blockHash": tc.blocks[3].Hash()}, []int64{2}},
		{"other topic", map[string]any{"fromBlock": "0x0", "topics": []any{common.Hash{9}}}, nil},
	}
	for _, tt := range tests {
		tc.mustDecode(&logs, "eth_getLogs", tt.filter)
		if !slices.Equal(words(), tt.want) {
			t.Errorf("%s: words %v, want %v", tt.name, words(), tt.want)
		}
	}
	tc.mustDecode(&logs, "eth_getLogs", map[string]any{"blockHash": tc.blocks[1].Hash()})
	l := logs[0]
	if l.TxHash != tc.txs["log1"].Hash() || l.BlockNumber != 2 || l.BlockHash != tc.blocks[1].Hash() || l.Index != 0 || l.BlockTimestamp != tc.blocks[1].Time() {
		t.Errorf("log fields: %+v", l)
	}

	// A million-block range is refused up front, whatever the head.
	tc.wantError(codeInvalidParams, "query a smaller range", "eth_getLogs", map[string]any{"fromBlock": "0x0", "toBlock": "0xf4240"})
	tc.wantError(codeInvalidParams, "query a smaller range", "eth_newFilter", map[string]any{"fromBlock": "0x0", "toBlock": "0xf4240"})
	tc.wantError(codeInvalidParams, "beyond current head", "eth_getLogs", map[string]any{"fromBlock": "0x4", "toBlock": "0x10"})
	tc.wantError(codeInvalidParams, "invalid block range", "eth_getLogs", map[string]any{"fromBlock": "0x4", "toBlock": "0x2"})
	tc.wantError(codeInvalidParams, "larger than int64", "eth_getLogs", map[string]any{"fromBlock": "0x0", "toBlock": "0x8000000000000000"})
	tc.stillServes()
}

func TestLogLimits(t *testing.T) {
	tc := newTestChain(t, testOptions{logRangeLimit: 2})
	// Block 6 holds three logs: more than the limit of two.
	block := tc.mine(tc.Chain, tc.blocks[4], testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
		var txs []*types.Transaction
		for i, key := range []*ecdsa.PrivateKey{key1, key2, key3} {
			txs = append(txs, tc.dynTx(key, nonce(crypto.PubkeyToAddress(key.PublicKey)), loggerAddr, nil, word(int64(10+i))))
		}
		return txs
	})
	var logs []types.Log
	tc.mustDecode(&logs, "eth_getLogs", map[string]any{"fromBlock": "0x4", "toBlock": "0x5"})
	if len(logs) != 2 {
		t.Errorf("blocks 4-5: %d logs, want 2", len(logs))
	}
	tc.wantError(codeInvalidParams, "more than 2 blocks", "eth_getLogs", map[string]any{"fromBlock": "0x3", "toBlock": "0x5"})
	tc.wantError(codeInvalidParams, "more than 2 blocks", "eth_getLogs", map[string]any{"fromBlock": "0x0"})
	tc.wantError(codeLimitExceeded, "more than 2 results", "eth_getLogs", map[string]any{"blockHash": block.Hash()})
	tc.wantError(codeLimitExceeded, "more than 2 results", "eth_getLogs", map[string]any{"fromBlock": "0x6"})
	var id string
	tc.mustDecode(&id, "eth_newFilter", map[string]any{"fromBlock": "0x6", "toBlock": "0x6"})
	tc.wantError(codeLimitExceeded, "more than 2 results", "eth_getFilterLogs", id)
}
