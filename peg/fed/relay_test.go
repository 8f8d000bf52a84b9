package fed

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/metrics"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

func init() {
	if os.Getenv("MMGETH_TEST_LOG") == "" {
		log.SetDefault(log.NewLogger(log.DiscardHandler()))
	}
}

// devChain is an in-process mmgeth --dev node (a block per transaction
// batch; BtcRelay follows regtest there too) and a funded dev key.
type devChain struct {
	client *ethclient.Client
	key    *ecdsa.PrivateKey
}

func startDevChain(t *testing.T) *devChain {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	n, client := startNode(t, node.Config{Spec: spec, Dev: true})
	return &devChain{client: client, key: n.DevKeys()[1]}
}

// startNode starts an in-process node of cfg serving HTTP on 127.0.0.1
// only (no p2p, no IPC), stopped when the test ends, and its client.
func startNode(t *testing.T, cfg node.Config) (*node.Node, *ethclient.Client) {
	t.Helper()
	cfg.HTTP, cfg.HTTPAddr, cfg.ListenPort, cfg.IPCDisable = true, "127.0.0.1", -1, true
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	client, err := ethclient.Dial(n.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return n, client
}

func newTestRelayer(t *testing.T, btc *btcrpc.Client, side *devChain, reg metrics.Registry) *Relayer {
	t.Helper()
	r, err := NewRelayer(RelayConfig{Bitcoin: btc, Sidechain: side.client, Key: side.key, Interval: time.Second, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func btcClient(t *testing.T, addr string, n *btcd.Node) *btcrpc.Client {
	t.Helper()
	c, err := btcrpc.New(addr, n.User, n.Pass)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sync makes one round that must succeed and end in step with the node.
func sync(t *testing.T, r *Relayer) *Round {
	t.Helper()
	rd, err := r.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rd.InSync() {
		t.Fatalf("BtcRelay at %d %v, the node at %d %v", rd.Relay.Height, chainhash.Hash(rd.Relay.Hash), rd.BitcoinHeight, rd.Bitcoin)
	}
	return rd
}

// relayGauges are the relay metrics in reg by short name.
func relayGauges(reg metrics.Registry) map[string]float64 {
	m := map[string]float64{}
	reg.Each(func(name string, v any) {
		switch v := v.(type) {
		case *metrics.Gauge:
			m[name] = float64(v.Snapshot().Value())
		case *metrics.GaugeFloat64:
			m[name] = v.Snapshot().Value()
		case *metrics.Counter:
			m[name] = float64(v.Snapshot().Count())
		}
	})
	return m
}

// checkMetrics compares the metrics in reg with want, by short name.
func checkMetrics(t *testing.T, what string, reg metrics.Registry, want map[string]float64) {
	t.Helper()
	got := relayGauges(reg)
	for name, v := range want {
		if got["mmfed/"+name] != v {
			t.Errorf("%s: mmfed/%s = %v, want %v", what, name, got["mmfed/"+name], v)
		}
	}
}

func receiptGas(rds ...*Round) (gas uint64) {
	for _, rd := range rds {
		for _, r := range rd.Receipts {
			gas += r.GasUsed
		}
	}
	return gas
}

func gasPerHeader(rd *Round) uint64 { return receiptGas(rd) / uint64(rd.Headers) }

// TestRelay follows a real btcd from BtcRelay's genesis checkpoint through
// catch-up, single blocks, a reorg, a restart and the node going away.
func TestRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd and a dev node")
	}
	ctx := context.Background()
	node := btcd.Start(t)
	proxy := btcd.StartProxy(t, node.RPCAddr)
	btc := btcClient(t, proxy.Addr, node)
	side := startDevChain(t)
	reg := metrics.NewRegistry()
	r := newTestRelayer(t, btc, side, reg)

	// Catch-up: 101 headers above the checkpoint in one transaction.
	rd := sync(t, r)
	if rd.Headers != 101 || len(rd.Receipts) != 1 || rd.Relay.Height != 101 {
		t.Fatalf("catch-up: %d headers in %d transactions to height %d; want 101 in 1 to 101", rd.Headers, len(rd.Receipts), rd.Relay.Height)
	}
	t.Logf("catch-up: 101 headers, %d gas per header", gasPerHeader(rd))
	if again := sync(t, r); again.Headers != 0 {
		t.Fatalf("a round in step submitted %d headers", again.Headers)
	}
	checkMetrics(t, "caught up", reg, map[string]float64{"btcrelay/height": 101, "bitcoin/height": 101, "relay/lag": 0,
		"relay/lagseconds": 0, "relay/headers": 101, "relay/gas": float64(receiptGas(rd)), "relay/errors": 0})

	if _, err := btc.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	rd = sync(t, r)
	if rd.Headers != 1 || rd.Relay.Height != 102 {
		t.Fatalf("one new block: %d headers, height %d", rd.Headers, rd.Relay.Height)
	}
	t.Logf("one header alone: %d gas", gasPerHeader(rd))

	// A heavier branch from height 99 (three blocks leave the best
	// chain), built here and handed to btcd, which reorgs to it.
	forkHash, err := btc.BlockHash(ctx, 99)
	if err != nil {
		t.Fatal(err)
	}
	forkHeader, err := btc.BlockHeader(ctx, forkHash)
	if err != nil {
		t.Fatal(err)
	}
	oldTip := rd.Relay.Hash
	branch, err := btcd.Branch(forkHeader, 99, 4, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range branch {
		if err := btc.SubmitBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	newTip := branch[3].BlockHash()
	if best, _ := btc.BestBlockHash(ctx); best != newTip {
		t.Fatalf("btcd did not reorg to the heavier branch: best %v, want %v", best, newTip)
	}
	rd = sync(t, r)
	if rd.Headers != 4 || rd.Relay.Height != 103 {
		t.Fatalf("reorg: %d headers, height %d; want 4 to 103", rd.Headers, rd.Relay.Height)
	}
	var reorgs []bridge.BtcReorg
	for _, l := range rd.Receipts[0].Logs {
		if ev, ok := bridge.ParseBtcReorg(l); ok {
			reorgs = append(reorgs, ev)
		}
	}
	want := bridge.BtcReorg{OldBest: oldTip, NewBest: common.Hash(newTip), ForkHeight: 99, Depth: 3}
	if len(reorgs) != 1 || reorgs[0] != want {
		t.Fatalf("BtcReorg events %+v, want [%+v]", reorgs, want)
	}

	// A restarted relayer knows nothing and resumes from the chains.
	r = newTestRelayer(t, btc, side, reg)
	if _, err := btc.Generate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if rd = sync(t, r); rd.Headers != 3 || rd.Relay.Height != 106 {
		t.Fatalf("after a restart: %d headers, height %d; want 3 to 106", rd.Headers, rd.Relay.Height)
	}

	// The node goes away: the round fails without a transaction; back, it
	// catches up.
	proxy.Down()
	if _, err := node.Client.Generate(2); err != nil {
		t.Fatal(err)
	}
	if rd, err := r.Sync(ctx); err == nil || !strings.Contains(err.Error(), "Bitcoin node") {
		t.Fatalf("with the node away: %+v, %v; want a Bitcoin node error", rd, err)
	}
	// The relayer cannot see the node's new blocks: the lag is the last
	// one seen, and the failure is counted.
	checkMetrics(t, "node away", reg, map[string]float64{"btcrelay/height": 106, "bitcoin/height": 106, "relay/lag": 0,
		"relay/lagseconds": 0, "relay/headers": 101 + 1 + 4 + 3, "relay/errors": 1})
	proxy.Up(t)
	if rd = sync(t, r); rd.Headers != 2 {
		t.Fatalf("node back: %d headers, want 2", rd.Headers)
	}
	checkMetrics(t, "node back", reg, map[string]float64{"btcrelay/height": 108, "bitcoin/height": 108, "relay/lag": 0,
		"relay/lagseconds": 0, "relay/headers": 101 + 1 + 4 + 3 + 2, "relay/errors": 1})
}

// TestWaitReceiptDropped: a transaction the node does not have (as after
// a kill -9 of the node, which loses its pool) ends the wait at once
// instead of after receiptTimeout.
func TestWaitReceiptDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev node")
	}
	side := startDevChain(t)
	r := newTestRelayer(t, btcClient(t, "127.0.0.1:1", &btcd.Node{}), side, nil)
	ctx := context.Background()
	if err := r.init(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(side.key, r.signer, &types.DynamicFeeTx{ChainID: r.chainID, Gas: 21_000, To: &common.Address{}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := r.waitReceipt(ctx, tx); !errors.Is(err, errDropped) || time.Since(start) > 10*time.Second {
		t.Fatalf("waiting for a transaction the node never had: %v after %v, want errDropped at once", err, time.Since(start))
	}

	// A transaction the pool holds in its queue leaves the account's
	// pending nonce where it was, as a new one does until the pool's next
	// reorg promotes it: it is waited for, not dropped.
	nonce, err := side.client.PendingNonceAt(ctx, r.from)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := types.SignNewTx(side.key, r.signer, &types.DynamicFeeTx{ChainID: r.chainID, Nonce: nonce + 1, Gas: 21_000,
		GasFeeCap: big.NewInt(1e10), GasTipCap: big.NewInt(1), To: &common.Address{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := side.client.SendTransaction(ctx, queued); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := r.waitReceipt(short, queued); err == nil || errors.Is(err, errDropped) {
		t.Fatalf("waiting for a queued transaction: %v, want to wait until the deadline", err)
	}
}

// TestRelayRefusals: a header BtcRelay would refuse is stopped by the
// pre-check with its decoded error and costs nothing; a node of another
// Bitcoin chain is told apart from a node that is behind.
func TestRelayRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd and a dev node")
	}
	ctx := context.Background()
	node := btcd.Start(t)
	btc := btcClient(t, node.RPCAddr, node)
	side := startDevChain(t)
	r := newTestRelayer(t, btc, side, nil)
	rd := sync(t, r)

	tip, err := btc.BlockHeader(ctx, rd.Bitcoin)
	if err != nil {
		t.Fatal(err)
	}
	// A child of the tip claiming mainnet's difficulty: its hash is far
	// above that target.
	bad := wire.BlockHeader{Version: 4, PrevBlock: rd.Bitcoin, Timestamp: tip.Timestamp.Add(time.Second), Bits: 0x1d00ffff}
	nonce, _ := side.client.NonceAt(ctx, r.Address(), nil)
	_, err = r.submit(ctx, []wire.BlockHeader{bad})
	var revert *bridge.RevertError
	if !errors.As(err, &revert) || revert.Name != "InsufficientPoW" || !strings.Contains(err.Error(), "pre-check (eth_call receiveHeaders): InsufficientPoW(hash=") {
		t.Fatalf("bad header: %v, want the pre-check's InsufficientPoW", err)
	}
	if after, _ := side.client.NonceAt(ctx, r.Address(), nil); after != nonce {
		t.Fatalf("a refused batch sent a transaction (nonce %d -> %d)", nonce, after)
	}

	// The node drops its tip (invalidateblock): it is behind BtcRelay on
	// the same chain, and nothing is worth sending.
	other := btcd.Start(t)
	if err := btc.Call(ctx, "invalidateblock", []any{rd.Bitcoin.String()}, nil); err != nil {
		t.Fatal(err)
	}
	if behind, err := r.Sync(ctx); err != nil || !behind.NoMoreWork || behind.Headers != 0 || behind.Relay.Hash != rd.Relay.Hash {
		t.Fatalf("node behind: %+v, %v; want NoMoreWork and BtcRelay unchanged", behind, err)
	}
	// It mines a sibling of the dropped tip: equal work, BtcRelay keeps the
	// first seen, as Bitcoin does.
	if _, err := btc.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if sibling, err := r.Sync(ctx); err != nil || !sibling.NoMoreWork || sibling.Headers != 0 {
		t.Fatalf("equal-work sibling: %+v, %v; want NoMoreWork", sibling, err)
	}
	// One more block: the node's branch is heavier and BtcRelay follows.
	if _, err := btc.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if rd = sync(t, r); rd.Headers != 2 || rd.Relay.Height != 102 {
		t.Fatalf("heavier branch: %d headers to %d, want 2 to 102", rd.Headers, rd.Relay.Height)
	}

	// A fresh btcd mined its own 101 blocks: nothing in common above the
	// genesis, more than maxForkDepth (100) below BtcRelay's tip at 102.
	// It is ahead: a lag the relayer measures but cannot close, growing in
	// seconds from the first round that saw it.
	otherBtc := btcClient(t, other.RPCAddr, other)
	if _, err := otherBtc.Generate(ctx, 5); err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	r2 := newTestRelayer(t, otherBtc, side, reg)
	for i := range 2 {
		if rd, err := r2.Sync(ctx); !errors.Is(err, ErrDiverged) {
			t.Fatalf("a node of another chain: %+v, %v; want ErrDiverged", rd, err)
		}
		if i == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	checkMetrics(t, "diverged", reg, map[string]float64{"btcrelay/height": 102, "bitcoin/height": 106, "relay/lag": 4,
		"relay/headers": 0, "relay/gas": 0, "relay/errors": 2})
	if s := relayGauges(reg)["mmfed/relay/lagseconds"]; s < 0.05 || s > 30 {
		t.Errorf("diverged: lag of %v s after two rounds 50 ms apart", s)
	}
}
