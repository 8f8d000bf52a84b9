package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// Bad requests get the right error code, and the server keeps serving.

// stillServes checks that the server answers a plain request.
func (tc *testChain) stillServes() {
	tc.t.Helper()
	var n hexutil.Uint64
	tc.mustDecode(&n, "eth_blockNumber")
	if want := tc.bc.CurrentBlock().Number.Uint64(); uint64(n) != want {
		tc.t.Fatalf("eth_blockNumber = %d, want %d", n, want)
	}
}

func TestProtocolErrors(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	tests := []struct {
		name string
		body string
		code int
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`, -32700},
		{"not an object", `"eth_blockNumber"`, -32600},
		{"no method", `{"jsonrpc":"2.0","id":1}`, -32600},
		{"empty batch", `[]`, -32600},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"eth_noSuchMethod","params":[]}`, -32601},
		{"unknown namespace", `{"jsonrpc":"2.0","id":1,"method":"admin_peers","params":[]}`, -32601},
		{"address not hex", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["nothex","latest"]}`, -32602},
		{"short address", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x1234","latest"]}`, -32602},
		{"bad block tag", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x0000000000000000000000000000000000000001","newest"]}`, -32602},
		{"bool for block", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[true,false]}`, -32602},
		{"block above int64", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0xffffffffffffffffff",false]}`, -32602},
		{"missing argument", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x1"]}`, -32602},
		{"too many arguments", `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[1,2,3]}`, -32602},
		{"params not a list", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":"0x00"}`, -32602},
		{"hash too short", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByHash","params":["0x1234",false]}`, -32602},
		{"quantity with leading zero", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x01",false]}`, -32602},
		{"storage key too long", `{"jsonrpc":"2.0","id":1,"method":"eth_getStorageAt","params":["0x0000000000000000000000000000000000000001","0x` + strings.Repeat("1", 66) + `","latest"]}`, -32602},
		{"raw tx not hex", `{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0xzz"]}`, -32602},
		{"raw tx garbage", `{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x0102030405"]}`, -32602},
		{"unknown state override key", `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x0000000000000000000000000000000000000001"},"latest",{"0x0000000000000000000000000000000000000001":{"balanse":"0x1"}}]}`, -32602},
		{"call with blobs", `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x0000000000000000000000000000000000000001","blobVersionedHashes":["0x0100000000000000000000000000000000000000000000000000000000000000"]}]}`, -32602},
		{"empty storage request", `{"jsonrpc":"2.0","id":1,"method":"eth_getStorageValues","params":[{}]}`, -32602},
		{"too many log addresses", fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"address":[%s]}]}`, strings.TrimSuffix(strings.Repeat(`"0x0000000000000000000000000000000000000001",`, 1001), ",")), -32000},
		{"simulate nothing", `{"jsonrpc":"2.0","id":1,"method":"eth_simulateV1","params":[{"blockStateCalls":[]}]}`, -32602},
		{"too many proof keys", fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"eth_getProof","params":["0x0000000000000000000000000000000000000001",[%s],"latest"]}`, strings.TrimSuffix(strings.Repeat(`"0x1",`, 1025), ",")), -32602},
	}
	for _, tt := range tests {
		raw := tc.post([]byte(tt.body))
		var resp rpcResponse
		if err := json.Unmarshal(raw, &resp); err != nil {
			// A batch-level error may come back as a one-element list.
			var list []rpcResponse
			if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
				t.Fatalf("%s: unparsable response %q", tt.name, raw)
			}
			resp = list[0]
		}
		if resp.Error == nil {
			t.Errorf("%s: got result %s, want error %d", tt.name, resp.Result, tt.code)
			continue
		}
		if resp.Error.Code != tt.code {
			t.Errorf("%s: error %d %q, want code %d", tt.name, resp.Error.Code, resp.Error.Message, tt.code)
		}
	}
	tc.stillServes()
}

func TestBatchLimit(t *testing.T) {
	tc := newTestChain(t, testOptions{batchItems: 1000})
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range 10_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"eth_blockNumber","params":[]}`, i)
	}
	b.WriteByte(']')
	raw := tc.post(b.Bytes())
	var list []rpcResponse
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
	if len(list) != 1 || list[0].Error == nil || list[0].Error.Code != -32600 || !strings.Contains(list[0].Error.Message, "batch too large") {
		t.Fatalf("10,000-call batch: got %s, want one -32600 batch too large", shortJSON(raw))
	}
	// A batch within the limit is served in full.
	raw = tc.post([]byte(`[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":2,"method":"net_version","params":[]}]`))
	var small []rpcResponse
	if err := json.Unmarshal(raw, &small); err != nil || len(small) != 2 || small[0].Error != nil || small[1].Error != nil {
		t.Fatalf("small batch: %s", raw)
	}
	tc.stillServes()
}

func TestUnknownBlocks(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	unknown := common.HexToHash("0x" + strings.Repeat("ab", 32))

	// Getters of a block answer null for a block that does not exist.
	for _, c := range []struct {
		method string
		params []any
	}{
		{"eth_getBlockByHash", []any{unknown, false}},
		{"eth_getBlockByNumber", []any{"0x1000", true}},
		{"eth_getBlockTransactionCountByHash", []any{unknown}},
		{"eth_getBlockTransactionCountByNumber", []any{"0x1000"}},
		{"eth_getBlockReceipts", []any{map[string]any{"blockHash": unknown}}},
		{"eth_getTransactionByBlockHashAndIndex", []any{unknown, "0x0"}},
		{"eth_getUncleByBlockHashAndIndex", []any{unknown, "0x0"}},
		{"eth_getUncleCountByBlockNumber", []any{"0x1000"}},
		{"eth_getTransactionByHash", []any{unknown}},
		{"eth_getTransactionReceipt", []any{unknown}},
	} {
		if res := tc.mustCall(c.method, c.params...); string(res) != "null" {
			t.Errorf("%s: got %s, want null", c.method, res)
		}
	}
	// The spec types it as bytes, never null; geth answers empty bytes.
	if res := tc.mustCall("debug_getRawTransaction", unknown); string(res) != `"0x"` {
		t.Errorf("debug_getRawTransaction of an unknown hash: got %s, want \"0x\"", res)
	}
	// State at a block that does not exist is an error: EIP-1898's
	// "resource not found".
	tc.wantError(codeResourceNotFound, "header for hash not found", "eth_getBalance", addr1, map[string]any{"blockHash": unknown})
	tc.wantError(codeResourceNotFound, "header not found", "eth_getBalance", addr1, "0x1000")
	tc.wantError(codeResourceNotFound, "header not found", "eth_call", map[string]any{"to": loggerAddr}, "0x1000")
	tc.wantError(codeResourceNotFound, "block not found", "debug_getRawBlock", "0x1000")
	tc.wantError(codeResourceNotFound, "header for hash not found", "debug_getRawHeader", unknown)

	// A known block off the canonical chain: fine unless requireCanonical.
	// Block 4 leaves it when a heavier chain forking after block 3 comes,
	// and keeps its state, which side blocks never executed lack.
	tc.MustInsert(tc.peer(3).Extend(tc.blocks[2], 3, 0)...)
	sideHash := tc.blocks[3].Hash()
	var bal string
	tc.mustDecode(&bal, "eth_getBalance", addr1, map[string]any{"blockHash": sideHash})
	tc.wantError(codeServerError, "not currently canonical", "eth_getBalance", addr1, map[string]any{"blockHash": sideHash, "requireCanonical": true})
	if res := tc.mustCall("eth_getBlockByHash", sideHash, false); string(res) == "null" {
		t.Error("eth_getBlockByHash of a side block: null")
	}
	tc.stillServes()
}

func TestRejectedTransactions(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	head := tc.bc.CurrentBlock()
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei))
	poor, _ := crypto.GenerateKey()
	otherChain := types.LatestSignerForChainID(big.NewInt(1))
	huge := new(big.Int).Mul(oneBTC, big.NewInt(10)) // gasPrice such that price*gas is far above the 1 BTC cap

	tests := []struct {
		name string
		tx   *types.Transaction
		code int
		want string
	}{
		{"nonce too low", tc.dynTx(key1, 0, addr2, big.NewInt(1), nil), codeServerError, "nonce too low"},
		{"insufficient funds", tc.dynTx(poor, 0, addr2, big.NewInt(1), nil), codeServerError, "insufficient funds"},
		{"value above balance", tc.dynTx(key1, tc.pool.PoolNonce(addr1), addr2, new(big.Int).Mul(oneBTC, big.NewInt(5000)), nil), codeServerError, "insufficient funds"},
		{"gas above the EIP-7825 cap", types.MustSignNewTx(key1, tc.signer, &types.DynamicFeeTx{ChainID: testChainID, Nonce: tc.pool.PoolNonce(addr1), To: &addr2, Gas: 40_000_000, GasFeeCap: fee, GasTipCap: fee}), codeServerError, "gas limit too high"},
		{"intrinsic gas", types.MustSignNewTx(key1, tc.signer, &types.DynamicFeeTx{ChainID: testChainID, Nonce: tc.pool.PoolNonce(addr1), To: &addr2, Gas: 20_000, GasFeeCap: fee, GasTipCap: fee}), codeServerError, "intrinsic gas too low"},
		{"wrong chain id", types.MustSignNewTx(key1, otherChain, &types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: tc.pool.PoolNonce(addr1), To: &addr2, Gas: 21_000, GasFeeCap: fee, GasTipCap: fee}), codeServerError, "invalid chain id"},
		{"fee above cap", types.MustSignNewTx(key1, tc.signer, &types.LegacyTx{Nonce: tc.pool.PoolNonce(addr1), To: &addr2, Gas: 21_000, GasPrice: huge}), codeServerError, "exceeds the configured cap"},
		{"unprotected", types.MustSignNewTx(key1, types.HomesteadSigner{}, &types.LegacyTx{Nonce: tc.pool.PoolNonce(addr1), To: &addr2, Gas: 21_000, GasPrice: fee}), codeServerError, "replay-protected"},
		{"blob transaction", types.MustSignNewTx(key1, tc.signer, &types.BlobTx{ChainID: uint256.MustFromBig(testChainID), Nonce: tc.pool.PoolNonce(addr1), To: addr2, Gas: 21_000, GasFeeCap: uint256.MustFromBig(fee), GasTipCap: uint256.MustFromBig(fee), BlobFeeCap: uint256.MustFromBig(fee), BlobHashes: []common.Hash{{1}}}), codeServerError, "blob transactions are not supported"},
	}
	for _, tt := range tests {
		rerr := tc.wantError(tt.code, tt.want, "eth_sendRawTransaction", rawTx(t, tt.tx))
		t.Logf("%s: %d %s", tt.name, rerr.Code, rerr.Message)
	}
	// The same transaction twice: the second is "already known".
	ok := tc.nextDynTx(key1, addr2, big.NewInt(1), nil)
	tc.mustCall("eth_sendRawTransaction", rawTx(t, ok))
	tc.wantError(codeServerError, "already known", "eth_sendRawTransaction", rawTx(t, ok))
	tc.stillServes()
}
