package rpc

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

func TestBlockTags(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	tests := []struct {
		tag  string
		want uint64
	}{
		{"latest", 5},
		{"pending", 5},
		{"safe", 3}, // head - Confirmations (2)
		{"finalized", 3},
		{"earliest", 0},
		{"0x2", 2},
	}
	for _, tt := range tests {
		var block map[string]any
		tc.mustDecode(&block, "eth_getBlockByNumber", tt.tag, false)
		if block["number"] != hexutil.EncodeUint64(tt.want) {
			t.Errorf("%s: block %v, want %d", tt.tag, block["number"], tt.want)
		}
		// The node's extra fields are there, and never replace standard ones.
		if block["hashForMergedMining"] == nil {
			t.Errorf("%s: no hashForMergedMining", tt.tag)
		}
		if _, has := block["totalDifficulty"]; has {
			t.Errorf("%s: totalDifficulty present", tt.tag)
		}
	}
	// The depth rule never goes below genesis.
	for confirmations, want := range map[uint64]uint64{0: 5, 2: 3, 5: 0, 100: 0} {
		d := depthFinality{chain: tc.bc, confirmations: confirmations}
		if got := d.Finalized().Number.Uint64(); got != want || d.Safe().Number.Uint64() != want {
			t.Errorf("depth rule with %d confirmations: finalized %d, want %d", confirmations, got, want)
		}
	}
}

func TestNetWeb3TxPool(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	for _, c := range []struct {
		method string
		params []any
		want   string
	}{
		{"net_version", nil, `"777"`},
		{"net_listening", nil, `true`},
		{"net_peerCount", nil, `"0x3"`},
		{"web3_clientVersion", nil, `"mmgeth/test"`},
		{"web3_sha3", []any{"0x68656c6c6f20776f726c64"}, `"0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"`},
		{"eth_chainId", nil, `"0x7a69"`}, // the dev network's 7773
		{"eth_syncing", nil, `false`},
		{"eth_coinbase", nil, `"` + strings.ToLower(testCoinbase.Hex()) + `"`},
		{"eth_getUncleCountByBlockNumber", []any{"0x2"}, `"0x0"`},
		{"eth_getUncleByBlockNumberAndIndex", []any{"0x2", "0x0"}, `null`},
	} {
		if got := string(tc.mustCall(c.method, c.params...)); got != c.want {
			t.Errorf("%s: %s, want %s", c.method, got, c.want)
		}
	}

	// One executable and one gapped transaction from key2.
	next := tc.nextDynTx(key2, addr3, big.NewInt(1), nil)
	gapped := tc.dynTx(key2, next.Nonce()+2, common.Address{}, big.NewInt(2), nil)
	for _, tx := range []string{rawTx(t, next), rawTx(t, gapped)} {
		tc.mustCall("eth_sendRawTransaction", tx)
	}
	// The pool sorts new transactions into pending and queued in the
	// background; the counts below are those after it has.
	if err := tc.pool.Sync(); err != nil {
		t.Fatal(err)
	}
	var status map[string]hexutil.Uint
	tc.mustDecode(&status, "txpool_status")
	if status["pending"] != 1 || status["queued"] != 1 {
		t.Errorf("txpool_status: %v", status)
	}
	var content map[string]map[string]map[string]rpcTransaction
	tc.mustDecode(&content, "txpool_content")
	nonce := func(tx interface{ Nonce() uint64 }) string { return new(big.Int).SetUint64(tx.Nonce()).String() }
	if got := content["pending"][addr2.Hex()][nonce(next)]; got.Hash != next.Hash() {
		t.Errorf("txpool_content pending: %+v", content["pending"])
	}
	if got := content["queued"][addr2.Hex()][nonce(gapped)]; got.Hash != gapped.Hash() {
		t.Errorf("txpool_content queued: %+v", content["queued"])
	}
	var inspect map[string]map[string]map[string]string
	tc.mustDecode(&inspect, "txpool_inspect")
	if line := inspect["pending"][addr2.Hex()][nonce(next)]; !strings.HasPrefix(line, addr3.Hex()+": 1 wei + 100000 gas × ") {
		t.Errorf("txpool_inspect line %q", line)
	}
	var from map[string]map[string]rpcTransaction
	tc.mustDecode(&from, "txpool_contentFrom", addr2)
	if len(from["pending"]) != 1 || len(from["queued"]) != 1 {
		t.Errorf("txpool_contentFrom: %+v", from)
	}
}

func TestFees(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	head := tc.bc.CurrentBlock()
	var price, tip, baseFee hexutil.Big
	tc.mustDecode(&price, "eth_gasPrice")
	tc.mustDecode(&tip, "eth_maxPriorityFeePerGas")
	tc.mustDecode(&baseFee, "eth_baseFee")
	// The fixture's transactions all tip 1 gwei.
	if tip.ToInt().Int64() != 1e9 {
		t.Errorf("suggested tip %v, want 1 gwei", tip.ToInt())
	}
	if want := new(big.Int).Add(head.BaseFee, tip.ToInt()); price.ToInt().Cmp(want) != 0 {
		t.Errorf("gas price %v, want base fee + tip = %v", price.ToInt(), want)
	}
	if baseFee.ToInt().Cmp(head.BaseFee) >= 0 {
		t.Errorf("next base fee %v not below the head's %v after near-empty blocks", baseFee.ToInt(), head.BaseFee)
	}
	var hist struct {
		OldestBlock  hexutil.Uint64  `json:"oldestBlock"`
		BaseFee      []hexutil.Big   `json:"baseFeePerGas"`
		GasUsedRatio []float64       `json:"gasUsedRatio"`
		Reward       [][]hexutil.Big `json:"reward"`
	}
	tc.mustDecode(&hist, "eth_feeHistory", "0x3", "latest", []float64{50})
	if hist.OldestBlock != 3 || len(hist.BaseFee) != 4 || len(hist.GasUsedRatio) != 3 || len(hist.Reward) != 3 {
		t.Errorf("feeHistory: %+v", hist)
	}
	if hist.BaseFee[2].ToInt().Cmp(head.BaseFee) != 0 || hist.BaseFee[3].ToInt().Cmp(baseFee.ToInt()) != 0 {
		t.Errorf("feeHistory base fees %v: want the head's then the next", hist.BaseFee)
	}
	tc.wantError(codeServerError, "invalid reward percentile", "eth_feeHistory", "0x3", "latest", []float64{80, 20})
}

func TestNew(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no chain", Config{TxPool: tc.pool}, "Chain is required"},
		{"no pool", Config{Chain: tc.bc}, "TxPool is required"},
		{"wrong chain id", Config{Chain: tc.bc, TxPool: tc.pool, ChainID: big.NewInt(1)}, "differs from the chain config"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	s, err := New(Config{Chain: tc.bc, TxPool: tc.pool})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.GasCap != DefaultGasCap || s.cfg.LogRangeLimit != DefaultLogRangeLimit || s.cfg.TxFeeCap != DefaultTxFeeCap || s.cfg.ChainID.Cmp(testChainID) != 0 {
		t.Errorf("defaults: %+v", s.cfg)
	}
	namespaces := map[string]bool{}
	for _, api := range s.APIs() {
		namespaces[api.Namespace] = true
	}
	for _, ns := range []string{"eth", "net", "web3", "txpool", "debug"} {
		if !namespaces[ns] {
			t.Errorf("namespace %s missing", ns)
		}
	}
	if namespaces["evm"] {
		t.Error("evm namespace without dev mode")
	}
	// Stop without Start, and twice, is fine.
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}

// State older than the ~128 blocks path scheme keeps is refused with a clear
// error; the blocks themselves stay readable.
func TestPrunedState(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	tc.Extend(tc.blocks[4], 130, 0)
	tc.wantError(codeServerError, "historical state of block 1 is not available", "eth_getBalance", addr1, "0x1")
	tc.wantError(codeServerError, "not available", "eth_call", map[string]any{"to": loggerAddr}, "0x2")
	tc.wantError(codeServerError, "not available", "debug_traceTransaction", tc.txs["log1"].Hash())
	var block map[string]any
	tc.mustDecode(&block, "eth_getBlockByNumber", "0x1", true)
	if block["hash"] != tc.blocks[0].Hash().Hex() {
		t.Errorf("block 1: %v", block["hash"])
	}
	var bal hexutil.Big
	tc.mustDecode(&bal, "eth_getBalance", addr1, "latest")
	if bal.ToInt().Sign() == 0 {
		t.Error("latest state unreadable")
	}
}
