package node

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/genesis"
)

// syncBuffer is a log sink the node's goroutines write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNoPeersWarning: a testnet node with no bootnodes says so at start,
// warns again every noPeersInterval while it has no peers, and eth_syncing
// answers the documented no-peers object; a dev node, a network of its
// own, answers false.
func TestNoPeersWarning(t *testing.T) {
	var logs syncBuffer
	prev := log.Root()
	log.SetDefault(log.NewLogger(log.NewTerminalHandlerWithLevel(&logs, log.LevelWarn, false)))
	t.Cleanup(func() { log.SetDefault(prev) })
	interval := noPeersInterval
	noPeersInterval = 50 * time.Millisecond
	t.Cleanup(func() { noPeersInterval = interval })

	spec, err := genesis.Load("testnet")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Spec: spec, ListenPort: -1, NoDiscover: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if !strings.Contains(logs.String(), "No bootnodes") {
		t.Errorf("no warning at start:\n%s", logs.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "No peers") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := logs.String(); strings.Count(got, "No peers") < 2 || !strings.Contains(got, "network=testnet") {
		t.Errorf("no repeated no-peers warning:\n%s", got)
	}
	out, err := json.Marshal(n.syncing())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"startingBlock":"0x0","currentBlock":"0x0","highestBlock":"0x0","peers":"0x0","status":"no peers"}`
	if string(out) != want {
		t.Errorf("eth_syncing without peers: %s, want %s", out, want)
	}

	dev, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Spec: dev, ListenPort: -1, NoDiscover: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.syncing(); got != false {
		t.Errorf("eth_syncing on a lone dev node: %v, want false", got)
	}
}

// TestOfflineNode: a node opened for a chain command starts no P2P server
// and no RPC, and its chain still opens and closes.
func TestOfflineNode(t *testing.T) {
	spec, err := genesis.Load("regtest")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Spec: spec, DataDir: t.TempDir(), Offline: true, HTTP: true, HTTPAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if n.stack.Server().LocalNode() != nil || n.HTTPEndpoint() != "" || n.Enode() != "" {
		t.Errorf("offline node started networking: p2p %v, http %q", n.stack.Server().LocalNode() != nil, n.HTTPEndpoint())
	}
	if n.Chain().CurrentBlock().Number.Uint64() != 0 {
		t.Error("offline node's chain not at genesis")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCacheSplit: --cache is split as geth splits it; without it the
// database and chain keep their defaults.
func TestCacheSplit(t *testing.T) {
	bc := chain.DefaultConfig()
	if db := caches(2000, bc); db != 1000 || bc.TrieCleanLimit != 300 || bc.TrieDirtyLimit != 500 || bc.SnapshotLimit != 200 {
		t.Errorf("--cache 2000: database %d, trie clean %d, dirty %d, snapshot %d; want 1000, 300, 500, 200",
			db, bc.TrieCleanLimit, bc.TrieDirtyLimit, bc.SnapshotLimit)
	}
	def, bc := chain.DefaultConfig(), chain.DefaultConfig()
	if db := caches(0, bc); db != 512 || bc.TrieCleanLimit != def.TrieCleanLimit ||
		bc.TrieDirtyLimit != def.TrieDirtyLimit || bc.SnapshotLimit != def.SnapshotLimit {
		t.Errorf("no --cache: database %d, chain caches %d %d %d", db, bc.TrieCleanLimit, bc.TrieDirtyLimit, bc.SnapshotLimit)
	}
}
