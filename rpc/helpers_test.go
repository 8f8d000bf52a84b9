package rpc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/testchain"
	"github.com/mmgeth/mmgeth/rpc/httpfront"
)

// The test chain: the product's chain from internal/testchain (the dev
// network's chain configuration, the merged-mining engine, fork choice by
// work, blocks sealed with real proofs) in memory, with the fixture's
// accounts funded at genesis. Blocks:
//
//	1: key1 deploys the logger (legacy EIP-155 tx), key2 the reverter (1559)
//	2: key1 calls the logger with word 1 (1559); key2 sends 1 wei with an access list (2930)
//	3: key1 calls the reverter (legacy, fails); key3 sends a 7702 set-code tx for key4
//	4: key1 calls the logger with word 2
//	5: key1 calls the logger with word 3
//
// The logger stores calldata word 0 in slot 0 and logs the calldata under
// loggerTopic; the reverter reverts with Error("nope"). Every block pays
// testCoinbase, which the engine's Finalize credits with the base fees.

var (
	key1, _ = crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	key2, _ = crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	key3, _ = crypto.HexToECDSA("49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee")
	key4, _ = crypto.HexToECDSA("0202020202020202020202020202020202020202020202020202020202020202")
	addr1   = crypto.PubkeyToAddress(key1.PublicKey)
	addr2   = crypto.PubkeyToAddress(key2.PublicKey)
	addr3   = crypto.PubkeyToAddress(key3.PublicKey)
	addr4   = crypto.PubkeyToAddress(key4.PublicKey)

	testChainID  = devChainID()
	testCoinbase = common.HexToAddress("0x00000000000000000000000000000000c0ffee00")
	loggerTopic  = common.HexToHash("0x1111111111111111111111111111111111111111111111111111111111111111")
	loggerAddr   = crypto.CreateAddress(addr1, 0)
	reverterAddr = crypto.CreateAddress(addr2, 0)
	oneBTC       = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
)

// loggerCode: CALLDATACOPY(0, 0, size); LOG1(0, size, topic); SSTORE(0, CALLDATALOAD(0)).
var loggerCode = append(append(common.FromHex("0x366000600037"+"7f"), loggerTopic[:]...),
	common.FromHex("0x366000a1"+"600035600055"+"00")...)

// reverterCode: CODECOPY the ABI-encoded Error("nope") after the code into
// memory and REVERT with it.
var reverterCode = append(common.FromHex("0x6064600c60003960646000fd"), errorNope...)

var errorNope = common.FromHex("0x08c379a0" +
	"0000000000000000000000000000000000000000000000000000000000000020" +
	"0000000000000000000000000000000000000000000000000000000000000004" +
	"6e6f706500000000000000000000000000000000000000000000000000000000")

// deployCode wraps runtime code (< 256 bytes) in a constructor returning it.
func deployCode(runtime []byte) []byte {
	init := []byte{0x60, byte(len(runtime)), 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3}
	return append(init, runtime...)
}

func word(n int64) []byte { return common.BigToHash(big.NewInt(n)).Bytes() }

// devChainID is the dev network's chain id, which the fixture's
// transactions are signed for.
func devChainID() *big.Int {
	spec, err := genesis.Load("dev")
	if err != nil {
		panic(err)
	}
	return new(big.Int).SetUint64(spec.ChainID)
}

type testChain struct {
	*testchain.Chain
	t       testing.TB
	bc      *core.BlockChain
	pool    *txpool.TxPool
	svc     *Service
	srv     *gethrpc.Server
	url     string // the HTTP endpoint: the node's front and fast path before srv
	blocks  []*types.Block
	signer  types.Signer
	txs     map[string]*types.Transaction // named fixture transactions
	dev     *testDev
	options testOptions
}

type testOptions struct {
	dev              bool
	allowUnprotected bool // Config.AllowUnprotectedTxs
	logRangeLimit    uint64
	batchItems       int  // gethrpc batch item limit; 0 = none
	noLogIndex       bool // Config.NoLogIndex: the recent-logs index, as on dev
}

// newTestChain builds the fixture chain and serves it over HTTP on 127.0.0.1.
func newTestChain(t testing.TB, opts testOptions) *testChain {
	t.Helper()
	c := newChain(t)
	tc := &testChain{Chain: c, t: t, bc: c.BlockChain(), txs: make(map[string]*types.Transaction), options: opts}
	tc.signer = types.LatestSigner(tc.bc.Config())
	tc.buildFixture()
	bc := tc.bc
	poolCfg := legacypool.DefaultConfig
	poolCfg.Journal = ""
	pool, err := txpool.New(0, bc, []txpool.SubPool{legacypool.New(poolCfg, bc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	tc.pool = pool

	cfg := Config{
		Chain:         bc,
		TxPool:        pool,
		NetworkID:     777,
		Confirmations: 2,
		LogRangeLimit: opts.logRangeLimit,
		NoLogIndex:    opts.noLogIndex,
		ClientVersion: "mmgeth/test",
		BlockFields: func(h *types.Header) map[string]any {
			return map[string]any{"hashForMergedMining": crypto.Keccak256Hash(h.Extra, h.Number.Bytes()), "number": "ignored"}
		},
		Syncing:   func() any { return false },
		PeerCount: func() int { return 3 },
		Coinbase:  func() (common.Address, error) { return testCoinbase, nil },

		AllowUnprotectedTxs: opts.allowUnprotected,
	}
	if opts.dev {
		tc.dev = &testDev{tc: tc, keys: map[common.Address]*ecdsa.PrivateKey{addr1: key1, addr2: key2, addr3: key3}}
		cfg.Dev = tc.dev
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop() })
	tc.svc = svc

	tc.srv = gethrpc.NewServer()
	if opts.batchItems > 0 {
		tc.srv.SetBatchLimits(opts.batchItems, 10*1024*1024)
	}
	for _, api := range svc.APIs() {
		if err := tc.srv.RegisterName(api.Namespace, api.Service); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(tc.srv.Stop)
	// Through the node's HTTP front and fast path, so every JSON-RPC test
	// covers them.
	fast := svc.HTTPHandler(tc.srv)
	timeouts := gethrpc.DefaultHTTPTimeouts
	front := httpfront.New(httpfront.Config{
		Server: &http.Server{Handler: fast, ReadHeaderTimeout: timeouts.ReadHeaderTimeout, ReadTimeout: timeouts.ReadTimeout,
			WriteTimeout: timeouts.WriteTimeout, IdleTimeout: timeouts.IdleTimeout},
		Answer: fast.Answer, Slow: tc.srv, BodyMax: FastBodyMax,
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front.Serve(l)
	t.Cleanup(func() {
		l.Close()
		front.Stop(context.Background())
	})
	tc.url = "http://" + l.Addr().String()
	// Wait for the log index to catch up, so that results do not depend on
	// how far it got.
	svc.b.logIndex.fm.WaitIdle()
	return tc
}

// waitLogIndex waits until the log index has indexed head. The index
// follows the chain a little behind it (indexDelay), and geth's log search
// fails rather than waits while the index rewinds after a reorg.
func (tc *testChain) waitLogIndex(ctx context.Context, head *types.Block) {
	tc.t.Helper()
	mb := tc.svc.b.logIndex.fm.NewMatcherBackend()
	defer mb.Close()
	for {
		r, err := mb.SyncLogIndex(ctx)
		if err != nil {
			tc.t.Fatalf("log index never reached block %d: %v", head.NumberU64(), err)
		}
		if v := r.IndexedView; v != nil && v.HeadNumber() == head.NumberU64() && v.BlockHash(head.NumberU64()) == head.Hash() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newChain opens a chain with the fixture's accounts funded.
func newChain(t testing.TB) *testchain.Chain {
	funds := new(big.Int).Mul(oneBTC, big.NewInt(1000))
	return testchain.New(t, testchain.Options{Alloc: types.GenesisAlloc{
		addr1: {Balance: funds},
		addr2: {Balance: funds},
		addr3: {Balance: funds},
	}})
}

// buildFixture builds and inserts the fixture's blocks (see the top).
func (tc *testChain) buildFixture() {
	parent := tc.bc.Genesis()
	for i := range 5 {
		tc.blocks = append(tc.blocks, tc.mine(tc.Chain, parent, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
			return tc.fixtureTxs(i, parent, nonce)
		}))
		parent = tc.blocks[i]
	}
}

// fixtureTxs are the transactions of fixture block i+1, named in tc.txs.
func (tc *testChain) fixtureTxs(i int, parent *types.Block, nonce func(common.Address) uint64) []*types.Transaction {
	fee := new(big.Int).Add(new(big.Int).Mul(parent.BaseFee(), big.NewInt(2)), big.NewInt(params.GWei))
	dyn := func(key *ecdsa.PrivateKey, to *common.Address, data []byte) *types.Transaction {
		return types.MustSignNewTx(key, tc.signer, &types.DynamicFeeTx{
			ChainID: testChainID, Nonce: nonce(crypto.PubkeyToAddress(key.PublicKey)), To: to,
			Gas: 200_000, GasFeeCap: fee, GasTipCap: big.NewInt(params.GWei), Data: data,
		})
	}
	legacy := func(key *ecdsa.PrivateKey, to *common.Address, data []byte) *types.Transaction {
		return types.MustSignNewTx(key, tc.signer, &types.LegacyTx{
			Nonce: nonce(crypto.PubkeyToAddress(key.PublicKey)), To: to, Gas: 200_000, GasPrice: fee, Data: data,
		})
	}
	var txs []*types.Transaction
	add := func(name string, tx *types.Transaction) {
		txs = append(txs, tx)
		tc.txs[name] = tx
	}
	switch i {
	case 0:
		add("deployLogger", legacy(key1, nil, deployCode(loggerCode)))
		add("deployReverter", dyn(key2, nil, deployCode(reverterCode)))
	case 1:
		add("log1", dyn(key1, &loggerAddr, word(1)))
		add("accessList", types.MustSignNewTx(key2, tc.signer, &types.AccessListTx{
			ChainID: testChainID, Nonce: nonce(addr2), To: &addr3, Value: big.NewInt(1),
			Gas: 30_000, GasPrice: fee, AccessList: types.AccessList{{Address: loggerAddr, StorageKeys: []common.Hash{{}}}},
		}))
	case 2:
		add("revert", legacy(key1, &reverterAddr, nil))
		auth, err := types.SignSetCode(key4, types.SetCodeAuthorization{ChainID: *uint256.MustFromBig(testChainID), Address: loggerAddr, Nonce: 0})
		if err != nil {
			tc.t.Fatal(err)
		}
		add("setCode", types.MustSignNewTx(key3, tc.signer, &types.SetCodeTx{
			ChainID: uint256.MustFromBig(testChainID), Nonce: nonce(addr3), To: addr4,
			Gas: 100_000, GasFeeCap: uint256.MustFromBig(fee), GasTipCap: uint256.NewInt(params.GWei),
			AuthList: []types.SetCodeAuthorization{auth},
		}))
	case 3:
		add("log2", dyn(key1, &loggerAddr, word(2)))
	case 4:
		add("log3", dyn(key1, &loggerAddr, word(3)))
	}
	return txs
}

// mine builds a block on parent in c, paying coinbase, with the
// transactions txs signs, and inserts it. txs gets each account's next
// nonce, from the parent's state on, since Build executes on that state.
func (tc *testChain) mine(c *testchain.Chain, parent *types.Block, coinbase common.Address, txs func(nonce func(common.Address) uint64) []*types.Transaction) *types.Block {
	tc.t.Helper()
	st, err := c.BlockChain().StateAt(parent.Root(), parent.Number(), parent.Time())
	if err != nil {
		tc.t.Fatal(err)
	}
	nonce := func(addr common.Address) uint64 {
		n := st.GetNonce(addr)
		st.SetNonce(addr, n+1, tracing.NonceChangeUnspecified)
		return n
	}
	b := c.Build(parent, testchain.Block{Coinbase: coinbase, Txs: txs(nonce)})
	c.MustInsert(b)
	return b
}

// peer is a chain of its own holding the fixture's first n blocks, on which
// a test builds blocks that the served chain will see as a side chain:
// Build needs its parent's state, and the served chain stores lighter side
// blocks without executing them.
func (tc *testChain) peer(n int) *testchain.Chain {
	tc.t.Helper()
	peer := newChain(tc.t)
	peer.MustInsert(tc.blocks[:n]...)
	return peer
}

// nextDynTx signs a 1559 transaction from key at its pool nonce.
func (tc *testChain) nextDynTx(key *ecdsa.PrivateKey, to common.Address, value *big.Int, data []byte) *types.Transaction {
	return tc.dynTx(key, tc.pool.PoolNonce(crypto.PubkeyToAddress(key.PublicKey)), to, value, data)
}

// dynTx signs a 1559 transaction paying twice the head's base fee plus 1 gwei.
func (tc *testChain) dynTx(key *ecdsa.PrivateKey, nonce uint64, to common.Address, value *big.Int, data []byte) *types.Transaction {
	head := tc.bc.CurrentBlock()
	return types.MustSignNewTx(key, tc.signer, &types.DynamicFeeTx{
		ChainID: testChainID, Nonce: nonce, To: &to, Value: value, Data: data,
		Gas: 100_000, GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei)),
		GasTipCap: big.NewInt(params.GWei),
	})
}

func rawTx(t *testing.T, tx *types.Transaction) string {
	t.Helper()
	b, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return hexutil.Encode(b)
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

// post sends a raw HTTP body and returns the raw response body.
func (tc *testChain) post(body []byte) []byte {
	tc.t.Helper()
	resp, err := http.Post(tc.url, "application/json", bytes.NewReader(body))
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		tc.t.Fatal(err)
	}
	return out
}

// call makes one JSON-RPC call over HTTP and returns its result or error.
func (tc *testChain) call(method string, params ...any) (json.RawMessage, *rpcError) {
	tc.t.Helper()
	if params == nil {
		params = []any{}
	}
	req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		tc.t.Fatal(err)
	}
	var resp rpcResponse
	raw := tc.post(req)
	if err := json.Unmarshal(raw, &resp); err != nil {
		tc.t.Fatalf("%s: bad response %q: %v", method, raw, err)
	}
	return resp.Result, resp.Error
}

// mustCall is call that fails the test on an RPC error.
func (tc *testChain) mustCall(method string, params ...any) json.RawMessage {
	tc.t.Helper()
	res, rerr := tc.call(method, params...)
	if rerr != nil {
		tc.t.Fatalf("%s%v: error %d %s", method, params, rerr.Code, rerr.Message)
	}
	return res
}

// mustDecode calls and decodes the result into v.
func (tc *testChain) mustDecode(v any, method string, params ...any) {
	tc.t.Helper()
	if err := json.Unmarshal(tc.mustCall(method, params...), v); err != nil {
		tc.t.Fatalf("%s: %v", method, err)
	}
}

// pollNonEmpty repeats a call until it returns a non-empty list: filter
// systems learn of events asynchronously.
func (tc *testChain) pollNonEmpty(method string, params ...any) json.RawMessage {
	tc.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list []json.RawMessage
		res := tc.mustCall(method, params...)
		if err := json.Unmarshal(res, &list); err != nil {
			tc.t.Fatalf("%s: %v", method, err)
		}
		if len(list) > 0 {
			return res
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("%s%v: still empty", method, params)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantError calls and checks the error code and that the message contains want.
func (tc *testChain) wantError(code int, want string, method string, params ...any) *rpcError {
	tc.t.Helper()
	res, rerr := tc.call(method, params...)
	if rerr == nil {
		tc.t.Fatalf("%s%v: got result %s, want error %d", method, params, res, code)
	}
	if rerr.Code != code || !bytes.Contains([]byte(rerr.Message), []byte(want)) {
		tc.t.Fatalf("%s%v: got error %d %q, want %d containing %q", method, params, rerr.Code, rerr.Message, code, want)
	}
	return rerr
}

// testDev is a dev node for tests: real keys, and blocks built from the
// pool's pending transactions and imported through the chain's door, as the
// node's dev miner does.
type testDev struct {
	// The test-node methods are not served by this fake: node's tests call
	// them on a real dev node.
	TestNode
	tc      *testChain
	keys    map[common.Address]*ecdsa.PrivateKey
	offset  uint64 // total evm_increaseTime
	applied uint64 // part of offset already in a block's time
	next    uint64 // evm_setNextBlockTimestamp
}

func (d *testDev) Impersonating(common.Address) bool { return false }

func (d *testDev) Accounts() []common.Address {
	return slices.SortedFunc(maps.Keys(d.keys), common.Address.Cmp)
}

func (d *testDev) SignTx(from common.Address, tx *types.Transaction) (*types.Transaction, error) {
	key, ok := d.keys[from]
	if !ok {
		return nil, fmt.Errorf("no key for %s", from)
	}
	return types.SignTx(tx, d.tc.signer, key)
}

func (d *testDev) SignHash(from common.Address, hash []byte) ([]byte, error) {
	key, ok := d.keys[from]
	if !ok {
		return nil, fmt.Errorf("no key for %s", from)
	}
	return crypto.Sign(hash, key)
}

func (d *testDev) Mine(ctx context.Context, timestamp uint64) (*types.Block, error) {
	tc := d.tc
	if err := tc.pool.Sync(); err != nil {
		return nil, err
	}
	pending, _ := tc.pool.Pending(txpool.PendingFilter{})
	var txs []*types.Transaction
	for _, list := range pending {
		for _, lazy := range list {
			txs = append(txs, lazy.Resolve())
		}
	}
	head := tc.HeadBlock()
	if timestamp == 0 {
		timestamp, d.next = d.next, 0
	}
	if timestamp == 0 {
		timestamp = head.Time() + tc.Spec.MergeMining.TargetSpacing
	}
	block := tc.Build(head, testchain.Block{Time: timestamp + d.offset - d.applied, Coinbase: testCoinbase, Txs: txs})
	if _, err := tc.Insert([]*types.Block{block}); err != nil {
		return nil, err
	}
	d.applied = d.offset
	return block, nil
}

// Automine is off: the tests seal blocks themselves (Mine).
func (d *testDev) Automine() bool { return false }

func (d *testDev) Snapshot() uint64 { return d.tc.bc.CurrentBlock().Number.Uint64() }

func (d *testDev) Revert(id uint64) (bool, error) {
	if id > d.tc.bc.CurrentBlock().Number.Uint64() {
		return false, nil
	}
	return true, d.tc.Rewind(id)
}

func (d *testDev) IncreaseTime(seconds uint64) uint64 {
	d.offset += seconds
	return d.offset
}

func (d *testDev) SetNextBlockTimestamp(t uint64) error {
	if t <= d.tc.bc.CurrentBlock().Time {
		return fmt.Errorf("timestamp %d is not after the head's", t)
	}
	d.next = t
	return nil
}
