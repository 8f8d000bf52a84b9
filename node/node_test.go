package node

import (
	"context"
	"crypto/ecdsa"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/log"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
)

func init() {
	if os.Getenv("MMGETH_TEST_LOG") == "" {
		// Only geth's log.Crit, which exits the process: a test binary
		// ending in "exit status 1" then says why.
		log.SetDefault(log.NewLogger(log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelCrit, false)))
	} else {
		log.SetDefault(log.NewLogger(log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelDebug, false)))
	}
}

type devNode struct {
	*Node
	client *ethclient.Client
	rpc    *gethrpc.Client
	keys   []*ecdsa.PrivateKey
	signer types.Signer
}

// startNode starts a node with HTTP on a free 127.0.0.1 port and no p2p
// listener or IPC, and returns it with an RPC client; both close when the
// test ends.
func startNode(tb testing.TB, cfg Config) (*Node, *gethrpc.Client) {
	tb.Helper()
	cfg.HTTP, cfg.HTTPAddr, cfg.ListenPort, cfg.IPCDisable = true, "127.0.0.1", -1, true
	n, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	rc, err := gethrpc.Dial(n.HTTPEndpoint())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(rc.Close)
	return n, rc
}

func startDev(t *testing.T, dataDir string) *devNode {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	n, rc := startNode(t, Config{Spec: spec, DataDir: dataDir, Dev: true})
	return &devNode{
		Node: n, client: ethclient.NewClient(rc), rpc: rc, keys: n.DevKeys(),
		signer: types.LatestSignerForChainID(n.Chain().Config().ChainID),
	}
}

func (d *devNode) sign(t *testing.T, key *ecdsa.PrivateKey, tx types.TxData) *types.Transaction {
	t.Helper()
	signed, err := types.SignNewTx(key, d.signer, tx)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func (d *devNode) waitReceipt(t *testing.T, hash common.Hash) *types.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		r, err := d.client.TransactionReceipt(ctx, hash)
		if err == nil {
			return r
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s: %v", hash, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (d *devNode) nonce(t *testing.T, addr common.Address) uint64 {
	n, err := d.client.PendingNonceAt(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (d *devNode) transfer(t *testing.T, key *ecdsa.PrivateKey, to common.Address, value *big.Int) *types.Transaction {
	return d.sign(t, key, &types.DynamicFeeTx{
		ChainID: d.Chain().Config().ChainID, Nonce: d.nonce(t, crypto.PubkeyToAddress(key.PublicKey)),
		GasTipCap: big.NewInt(1e6), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &to, Value: value,
	})
}

func TestDevTransferIsMinedWithAProof(t *testing.T) {
	d := startDev(t, "")
	to := common.HexToAddress("0x1234")
	tx := d.transfer(t, d.keys[0], to, big.NewInt(1e15))
	if err := d.client.SendTransaction(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	r := d.waitReceipt(t, tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("status %d", r.Status)
	}
	bal, err := d.client.BalanceAt(context.Background(), to, nil)
	if err != nil || bal.Cmp(big.NewInt(1e15)) != 0 {
		t.Fatalf("recipient balance %v, %v", bal, err)
	}
	var block map[string]any
	if err := d.rpc.Call(&block, "eth_getBlockByNumber", hexutil.EncodeBig(r.BlockNumber), false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hashForMergedMining", "bitcoinMergedMiningHeader", "bitcoinMergedMiningMerkleProof",
		"bitcoinMergedMiningCoinbaseTransaction", "mergedMiningDifficulty", "cumulativeDifficulty"} {
		if _, ok := block[f]; !ok {
			t.Errorf("block lacks %s", f)
		}
	}
	if got := block["bitcoinMergedMiningHeader"].(string); len(got) != 2+160 {
		t.Errorf("bitcoin header %q is not 80 bytes", got)
	}
}

// TestBadTransactionsLeaveStateUnchanged sends what users get wrong and
// checks each gets a clear error, nothing changes, and the node keeps
// serving.
func TestBadTransactionsLeaveStateUnchanged(t *testing.T) {
	d := startDev(t, "")
	from := crypto.PubkeyToAddress(d.keys[1].PublicKey)
	poor, _ := crypto.GenerateKey()
	to := common.HexToAddress("0xdead")
	chainID := d.Chain().Config().ChainID
	ctx := context.Background()

	// Move the sender's nonce to 1, so that nonce 0 is too low.
	first := d.transfer(t, d.keys[1], to, big.NewInt(1))
	if err := d.client.SendTransaction(ctx, first); err != nil {
		t.Fatal(err)
	}
	d.waitReceipt(t, first.Hash())
	// The pool drops a mined transaction at its next reset, a moment after
	// the block; until then a second nonce 0 reads as its underpriced
	// replacement, not as too low (seen under load).
	waitFor(t, "the pool to drop the mined transaction", func() bool { return !d.pool.Has(first.Hash()) })
	head, _ := d.client.BlockNumber(ctx)
	balance, _ := d.client.BalanceAt(ctx, from, nil)

	wrongChain := types.LatestSignerForChainID(big.NewInt(1))
	wrongTx, _ := types.SignNewTx(d.keys[1], wrongChain, &types.DynamicFeeTx{
		ChainID: big.NewInt(1), Nonce: 1, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &to,
	})
	cases := []struct {
		name, raw string
		tx        *types.Transaction
		want      string
	}{
		{name: "garbage", raw: "0xdeadbeef", want: "invalid transaction encoding"},
		{name: "wrong chain id", tx: wrongTx, want: "invalid chain id"},
		{name: "nonce too low", tx: d.sign(t, d.keys[1], &types.DynamicFeeTx{
			ChainID: chainID, Nonce: 0, GasTipCap: big.NewInt(1e6), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &to,
		}), want: "nonce too low"},
		{name: "insufficient funds", tx: d.sign(t, poor, &types.DynamicFeeTx{
			ChainID: chainID, Nonce: 0, GasTipCap: big.NewInt(1e6), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &to, Value: big.NewInt(1),
		}), want: "insufficient funds"},
		{name: "gas above cap", tx: d.sign(t, d.keys[1], &types.DynamicFeeTx{
			ChainID: chainID, Nonce: 1, GasTipCap: big.NewInt(1e6), GasFeeCap: big.NewInt(1e9), Gas: 40_000_000, To: &to,
		}), want: "gas"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := c.raw
			if c.tx != nil {
				b, _ := c.tx.MarshalBinary()
				raw = "0x" + common.Bytes2Hex(b)
			}
			var hash common.Hash
			err := d.rpc.Call(&hash, "eth_sendRawTransaction", raw)
			if err == nil {
				t.Fatalf("accepted, hash %s", hash)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if _, ok := err.(gethrpc.Error); !ok {
				t.Fatalf("not a JSON-RPC error: %T", err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // let any wrongly admitted tx reach a block
	if h, _ := d.client.BlockNumber(ctx); h != head {
		t.Errorf("head moved from %d to %d", head, h)
	}
	if b, _ := d.client.BalanceAt(ctx, from, nil); b.Cmp(balance) != 0 {
		t.Errorf("sender balance changed from %v to %v", balance, b)
	}
	if n, _ := d.client.NonceAt(ctx, from, nil); n != 1 {
		t.Errorf("sender nonce %d, want 1", n)
	}
	if _, err := d.client.ChainID(ctx); err != nil {
		t.Fatalf("node stopped serving: %v", err)
	}
}

// TestHTTPAdminModule checks that asking for a module only geth's node
// provides (admin) over HTTP serves it, with ours alongside.
func TestHTTPAdminModule(t *testing.T) {
	spec, _ := genesis.Load("dev")
	_, c := startNode(t, Config{Spec: spec, Dev: true, HTTPModules: []string{"eth", "admin"}})
	var info map[string]any
	if err := c.Call(&info, "admin_nodeInfo"); err != nil || info["name"] == nil {
		t.Fatalf("admin_nodeInfo over HTTP: %v %v", info, err)
	}
	var id string
	if err := c.Call(&id, "eth_chainId"); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(&id, "txpool_status"); err == nil {
		t.Fatal("txpool served though not in --http.api")
	}
}

// TestOneHTTPServer: asking for admin, which only geth's node implements,
// keeps mmgeth's own HTTP server (no gzip, whatever the client accepts)
// and serves admin and mmgeth's namespaces through it, alone and batched,
// while namespaces not asked for stay unserved.
func TestOneHTTPServer(t *testing.T) {
	spec, _ := genesis.Load("dev")
	n, _ := startNode(t, Config{Spec: spec, Dev: true, HTTPModules: []string{"eth", "admin"}})
	post := func(body string) (string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, n.HTTPEndpoint(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw), resp.Header
	}
	for _, c := range []struct{ body, want string }{
		{`{"jsonrpc":"2.0","id":1,"method":"admin_nodeInfo"}`, `"enode":`},
		{`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`, `"result":"0x7a69"`},
		{`[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"admin_datadir"}]`, `"result":"0x7a69"`},
		{`{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion"}`, `does not exist`},
		{`{"jsonrpc":"2.0","id":1,"method":"txpool_status"}`, `does not exist`},
		{`{"jsonrpc":"2.0","id":1,"method":"debug_gcStats"}`, `does not exist`},
	} {
		body, header := post(c.body)
		if enc := header.Get("Content-Encoding"); enc != "" {
			t.Errorf("%s: served with Content-Encoding %q: not mmgeth's server", c.body, enc)
		}
		if !strings.Contains(body, c.want) {
			t.Errorf("%s: got %s, want %s", c.body, body, c.want)
		}
	}
	if n.stack.HTTPEndpoint() != "http://" && n.stack.HTTPEndpoint() != "" {
		t.Errorf("geth's own HTTP server is configured at %s", n.stack.HTTPEndpoint())
	}
}

// TestDevSnapshotRevert checks evm_snapshot/evm_revert/evm_mine and the
// timestamp controls against the real chain.
func TestDevSnapshotRevert(t *testing.T) {
	d := startDev(t, "")
	ctx := context.Background()
	var id hexutil.Uint64
	if err := d.rpc.Call(&id, "evm_snapshot"); err != nil {
		t.Fatal(err)
	}
	head := d.Chain().CurrentBlock()
	to := common.HexToAddress("0x5a5a")
	tx := d.transfer(t, d.keys[6], to, big.NewInt(5))
	if err := d.client.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	d.waitReceipt(t, tx.Hash())
	next := d.Chain().CurrentBlock().Time + 1000
	if err := d.rpc.Call(nil, "evm_setNextBlockTimestamp", hexutil.Uint64(next)); err != nil {
		t.Fatal(err)
	}
	var mined string
	if err := d.rpc.Call(&mined, "evm_mine"); err != nil {
		t.Fatal(err)
	}
	if got := d.Chain().CurrentBlock().Time; got != next {
		t.Fatalf("evm_mine block time %d, want %d", got, next)
	}
	var ok bool
	if err := d.rpc.Call(&ok, "evm_revert", id); err != nil || !ok {
		t.Fatalf("evm_revert: %v %v", ok, err)
	}
	if d.Chain().CurrentBlock().Hash() != head.Hash() {
		t.Fatalf("head %d after revert, want %d", d.Chain().CurrentBlock().Number, head.Number)
	}
	if bal, _ := d.client.BalanceAt(ctx, to, nil); bal.Sign() != 0 {
		t.Fatalf("reverted transfer still credited: %v", bal)
	}
	if err := d.rpc.Call(&ok, "evm_revert", id); err != nil || ok {
		t.Fatalf("second revert of the same snapshot: %v %v", ok, err)
	}
	// The chain keeps working after the revert.
	tx = d.transfer(t, d.keys[6], to, big.NewInt(7))
	if err := d.client.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if r := d.waitReceipt(t, tx.Hash()); r.Status != types.ReceiptStatusSuccessful {
		t.Fatal("transfer after revert failed")
	}
}

// TestRevertWhileAutomining runs 1,000 evm_snapshot/evm_revert pairs
// against a dev node that keeps automining a stream of transactions (run
// it with -race): rewinds and inserts take the chain's one lock, so the
// head is always a stored block with its state and work, on an unbroken
// canonical chain, and the node keeps mining afterwards.
func TestRevertWhileAutomining(t *testing.T) {
	d := startDev(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	from := crypto.PubkeyToAddress(d.keys[3].PublicKey)
	to := common.HexToAddress("0x5a5b")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			// Reverts drop pool state under the sender: errors are expected.
			d.rpc.CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"from": from, "to": to, "value": "0x1"})
		}
	}()
	for i := range 1000 {
		var id hexutil.Uint64
		if err := d.rpc.Call(&id, "evm_snapshot"); err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
		var ok bool
		if err := d.rpc.Call(&ok, "evm_revert", id); err != nil || !ok {
			t.Fatalf("revert %d: %v %v", i, ok, err)
		}
	}
	cancel()
	<-done
	bc := d.Chain()
	head := bc.CurrentBlock()
	if !bc.HasBlockAndState(head.Hash(), head.Number.Uint64()) || d.mmchain.WorkOf(head.Hash()) == nil {
		t.Fatalf("head #%d without state or work", head.Number)
	}
	for n := head.Number.Uint64(); n > 0; n-- {
		if h := bc.GetHeaderByNumber(n); h == nil || bc.GetCanonicalHash(n-1) != h.ParentHash {
			t.Fatalf("canonical chain broken at #%d", n)
		}
	}
	tx := d.transfer(t, d.keys[6], to, big.NewInt(7))
	if err := d.client.SendTransaction(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	d.waitReceipt(t, tx.Hash())
}
