package rpc

import (
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// specNotImplemented lists the spec methods of the namespaces this package
// serves that it deliberately does not implement, and why.
var specNotImplemented = map[string]string{
	"eth_getBlockAccessList":      "EIP-7928 block access lists exist from Amsterdam, which this chain does not activate",
	"debug_getRawBlockAccessList": "EIP-7928 block access lists exist from Amsterdam, which this chain does not activate",
}

// loadSpec reads the Execution API OpenRPC document.
func loadSpec(t *testing.T) (map[string]any, map[string]map[string]any) {
	t.Helper()
	raw, err := os.ReadFile("testdata/openrpc.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	methods := make(map[string]map[string]any)
	for _, m := range doc["methods"].([]any) {
		mm := m.(map[string]any)
		methods[mm["name"].(string)] = mm
	}
	return doc, methods
}

type specCase struct {
	method string
	params []any
	result json.RawMessage // already fetched (filter changes are consumed by reading)
	// pooled: a transaction still in the pool. The spec has no shape for it
	// (its block fields are required strings); like geth, this node returns
	// it with null block fields, so only the transaction part is checked.
	pooled bool
}

// TestSpecConformance calls every implemented method of the spec, on data
// that exercises each transaction type, and validates each result against the
// method's result schema.
func TestSpecConformance(t *testing.T) {
	doc, methods := loadSpec(t)
	tc := newTestChain(t, testOptions{dev: true})
	sv := &schemaValidator{root: doc}

	// Filters, then a block with a log after them, so that every filter has
	// changes to report: an empty list would match both of the spec's
	// eth_getFilterChanges shapes.
	var logFilter, blockFilter, txFilter string
	tc.mustDecode(&logFilter, "eth_newFilter", map[string]any{"fromBlock": "0x0", "address": loggerAddr})
	tc.mustDecode(&blockFilter, "eth_newBlockFilter")
	tc.mustDecode(&txFilter, "eth_newPendingTransactionFilter")
	tc.mustCall("eth_sendRawTransaction", rawTx(t, tc.nextDynTx(key1, loggerAddr, nil, word(9))))
	tc.mustCall("evm_mine")
	logChanges := tc.pollNonEmpty("eth_getFilterChanges", logFilter)
	blockChanges := tc.pollNonEmpty("eth_getFilterChanges", blockFilter)
	txChanges := tc.pollNonEmpty("eth_getFilterChanges", txFilter)

	// Something in the pool: one executable, one waiting behind a nonce gap.
	pending := tc.nextDynTx(key2, addr3, big.NewInt(5), nil)
	tc.mustCall("eth_sendRawTransaction", rawTx(t, pending))
	gapped := tc.dynTx(key3, tc.pool.PoolNonce(addr3)+3, addr2, big.NewInt(5), nil)
	if errs := tc.pool.Add([]*types.Transaction{gapped}, true); errs[0] != nil {
		t.Fatal(errs[0])
	}

	b2 := tc.blocks[1].Hash()
	hash := func(name string) common.Hash { return tc.txs[name].Hash() }
	callArgs := map[string]any{"from": addr1, "to": loggerAddr, "input": hexutil.Bytes(word(7))}
	head := tc.bc.CurrentBlock()
	maxFee := (*hexutil.Big)(new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei)))
	unsent := tc.nextDynTx(key1, addr3, big.NewInt(1), nil)

	cases := []specCase{
		{method: "eth_accounts", params: nil},
		{method: "eth_baseFee", params: nil},
		{method: "eth_blobBaseFee", params: nil},
		{method: "eth_blockNumber", params: nil},
		{method: "eth_call", params: []any{callArgs, "latest"}},
		{method: "eth_call", params: []any{callArgs, map[string]any{"blockHash": b2}}},
		{method: "eth_capabilities", params: nil},
		{method: "eth_chainId", params: nil},
		{method: "eth_coinbase", params: nil},
		{method: "eth_config", params: nil},
		{method: "eth_createAccessList", params: []any{callArgs, "latest"}},
		{method: "eth_estimateGas", params: []any{callArgs}},
		{method: "eth_feeHistory", params: []any{"0x4", "latest", []float64{25, 75}}},
		{method: "eth_feeHistory", params: []any{"0x2", "pending", []float64{}}},
		{method: "eth_fillTransaction", params: []any{map[string]any{"from": addr1, "to": addr3, "value": "0x1"}}},
		{method: "eth_gasPrice", params: nil},
		{method: "eth_getBalance", params: []any{addr1, "latest"}},
		{method: "eth_getBalance", params: []any{addr1, "safe"}},
		{method: "eth_getBlockByHash", params: []any{b2, true}},
		{method: "eth_getBlockByHash", params: []any{b2, false}},
		{method: "eth_getBlockByHash", params: []any{common.Hash{1}, false}},
		{method: "eth_getBlockByNumber", params: []any{"0x0", true}},
		{method: "eth_getBlockByNumber", params: []any{"0x1", true}},
		{method: "eth_getBlockByNumber", params: []any{"0x2", true}},
		{method: "eth_getBlockByNumber", params: []any{"0x3", true}},
		{method: "eth_getBlockByNumber", params: []any{"latest", false}},
		{method: "eth_getBlockByNumber", params: []any{"pending", true}},
		{method: "eth_getBlockByNumber", params: []any{"safe", false}},
		{method: "eth_getBlockByNumber", params: []any{"finalized", true}},
		{method: "eth_getBlockByNumber", params: []any{"earliest", false}},
		{method: "eth_getBlockByNumber", params: []any{"0x100", false}},
		{method: "eth_getBlockReceipts", params: []any{"0x1"}},
		{method: "eth_getBlockReceipts", params: []any{"0x2"}},
		{method: "eth_getBlockReceipts", params: []any{"0x3"}},
		{method: "eth_getBlockReceipts", params: []any{map[string]any{"blockHash": b2}}},
		{method: "eth_getBlockReceipts", params: []any{"0x100"}},
		{method: "eth_getBlockTransactionCountByHash", params: []any{b2}},
		{method: "eth_getBlockTransactionCountByNumber", params: []any{"0x2"}},
		{method: "eth_getCode", params: []any{loggerAddr, "latest"}},
		{method: "eth_getCode", params: []any{addr4, "latest"}}, // 7702 delegation designator
		{method: "eth_getFilterChanges", result: logChanges},
		{method: "eth_getFilterChanges", result: blockChanges},
		{method: "eth_getFilterChanges", result: txChanges},
		{method: "eth_getFilterLogs", params: []any{logFilter}},
		{method: "eth_getLogs", params: []any{map[string]any{"fromBlock": "0x0", "toBlock": "latest", "address": loggerAddr}}},
		{method: "eth_getLogs", params: []any{map[string]any{"blockHash": b2}}},
		{method: "eth_getProof", params: []any{loggerAddr, []string{"0x0", "0x0000000000000000000000000000000000000000000000000000000000000001"}, "latest"}},
		{method: "eth_getProof", params: []any{addr4, []string{}, "latest"}},
		{method: "eth_getProof", params: []any{common.Address{0xde, 0xad}, []string{"0x1"}, "latest"}},
		{method: "eth_getStorageAt", params: []any{loggerAddr, "0x0", "latest"}},
		{method: "eth_getStorageValues", params: []any{map[string]any{loggerAddr.Hex(): []common.Hash{{}}}, "latest"}},
		{method: "eth_getTransactionByBlockHashAndIndex", params: []any{b2, "0x1"}},
		{method: "eth_getTransactionByBlockNumberAndIndex", params: []any{"0x1", "0x0"}},
		{method: "eth_getTransactionByBlockNumberAndIndex", params: []any{"0x1", "0x9"}},
		{method: "eth_getTransactionByHash", params: []any{hash("deployLogger")}},
		{method: "eth_getTransactionByHash", params: []any{hash("deployReverter")}},
		{method: "eth_getTransactionByHash", params: []any{hash("accessList")}},
		{method: "eth_getTransactionByHash", params: []any{hash("setCode")}},
		{method: "eth_getTransactionByHash", params: []any{pending.Hash()}, pooled: true},
		{method: "eth_getTransactionByHash", params: []any{common.Hash{2}}},
		{method: "eth_getTransactionCount", params: []any{addr1, "latest"}},
		{method: "eth_getTransactionCount", params: []any{addr2, "pending"}},
		{method: "eth_getTransactionReceipt", params: []any{hash("deployLogger")}},
		{method: "eth_getTransactionReceipt", params: []any{hash("log1")}},
		{method: "eth_getTransactionReceipt", params: []any{hash("accessList")}},
		{method: "eth_getTransactionReceipt", params: []any{hash("revert")}},
		{method: "eth_getTransactionReceipt", params: []any{hash("setCode")}},
		{method: "eth_getTransactionReceipt", params: []any{common.Hash{2}}},
		{method: "eth_maxPriorityFeePerGas", params: nil},
		{method: "eth_newBlockFilter", params: nil},
		{method: "eth_newFilter", params: []any{map[string]any{"topics": []any{loggerTopic}}}},
		{method: "eth_newPendingTransactionFilter", params: nil},
		{method: "eth_sendRawTransaction", params: []any{rawTx(t, unsent)}},
		{method: "eth_sendTransaction", params: []any{map[string]any{"from": addr3, "to": addr1, "value": "0x2"}}},
		{method: "eth_sign", params: []any{addr1, "0xdeadbeef"}},
		{method: "eth_signTransaction", params: []any{map[string]any{"from": addr1, "to": addr3, "gas": "0x5208", "maxFeePerGas": maxFee, "maxPriorityFeePerGas": "0x1", "nonce": "0x10"}}},
		{method: "eth_simulateV1", params: []any{map[string]any{
			"blockStateCalls": []any{
				map[string]any{"calls": []any{
					map[string]any{"from": addr1, "to": addr4, "value": "0x1"},
					callArgs,
					map[string]any{"from": addr1, "to": reverterAddr},
				}},
				map[string]any{"blockOverrides": map[string]any{"number": "0x9"}, "calls": []any{callArgs}},
			},
			"traceTransfers":         true,
			"returnFullTransactions": true,
		}, "latest"}},
		{method: "eth_syncing", params: nil},
		{method: "eth_uninstallFilter", params: []any{blockFilter}},
		{method: "net_version", params: nil},
		{method: "txpool_content", params: nil},
		{method: "txpool_contentFrom", params: []any{addr3}},
		{method: "txpool_status", params: nil},
		{method: "debug_getBadBlocks", params: nil},
		{method: "debug_getRawBlock", params: []any{"0x2"}},
		{method: "debug_getRawHeader", params: []any{b2}},
		{method: "debug_getRawReceipts", params: []any{"0x3"}},
		{method: "debug_getRawTransaction", params: []any{hash("setCode")}},
		{method: "debug_traceBlockByHash", params: []any{b2, map[string]any{"tracer": "callTracer"}}},
		{method: "debug_traceBlockByNumber", params: []any{"0x3", map[string]any{}}},
		{method: "debug_traceTransaction", params: []any{hash("log1"), map[string]any{}}},
		{method: "debug_traceTransaction", params: []any{hash("revert"), map[string]any{"tracer": "prestateTracer"}}},
	}

	covered := make(map[string]bool)
	for _, c := range cases {
		spec, ok := methods[c.method]
		if !ok {
			t.Errorf("%s is not in the spec", c.method)
			continue
		}
		covered[c.method] = true
		res := c.result
		if res == nil {
			var rerr *rpcError
			if res, rerr = tc.call(c.method, c.params...); rerr != nil {
				t.Errorf("%s %s: error %d %s", c.method, short(c.params), rerr.Code, rerr.Message)
				continue
			}
		}
		var v any
		if err := json.Unmarshal(res, &v); err != nil {
			t.Fatal(err)
		}
		schema := spec["result"].(map[string]any)["schema"].(map[string]any)
		if c.pooled {
			txInfo := schema["oneOf"].([]any)[1].(map[string]any)
			schema = map[string]any{"oneOf": txInfo["oneOf"]}
		}
		if err := sv.validate(schema, v, "result"); err != nil {
			t.Errorf("%s %s: %v\nresult: %s", c.method, short(c.params), err, shortJSON(res))
		}
	}
	// Every spec method of our namespaces is either exercised above or
	// listed as deliberately absent.
	for name := range methods {
		ns, _, _ := strings.Cut(name, "_")
		if ns != "eth" && ns != "net" && ns != "txpool" && ns != "debug" && ns != "web3" {
			continue
		}
		if _, absent := specNotImplemented[name]; absent {
			if _, rerr := tc.call(name); rerr == nil || rerr.Code != -32601 {
				t.Errorf("%s is listed as not implemented but answers", name)
			}
			continue
		}
		if !covered[name] {
			t.Errorf("spec method %s is not covered", name)
		}
	}
}

func short(params []any) string {
	b, _ := json.Marshal(params)
	return shortJSON(b)
}

func shortJSON(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}
