package tests

// Networks of real mmgeth processes on 127.0.0.1: propagation, sync, fork
// choice across a partition, crashes during sync. Nodes never discover each
// other (--nodiscover); they peer through --bootnodes (dialled as static
// peers) or admin_addPeer over IPC.
//
// A node that follows the dev network without sealing is set up the geth
// way: `mmgeth init --dev --datadir D`, then `mmgeth --datadir D`.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

const (
	// fixtureBlocks is the length of the chain the sync tests start from.
	fixtureBlocks = 2000
	// followBound is how long a follower may take to hold the miner's head
	// (the miner seals one block a second).
	followBound = 3 * time.Second
	// sinkInitCode deploys a contract that logs the value it receives (LOG0)
	// and reverts when called with data.
	sinkInitCode = "0x60108060095f395ff3" + "36600c57345f5260205fa0005b5f5ffd"
)

// netNode is an mmgeth process with a datadir, reachable over HTTP,
// WebSocket and IPC.
type netNode struct {
	name    string
	dir     string
	dataDir string
	http    string
	ws      string
	ipc     string
	argv    []string
	logPath string
	proc    *process
}

// startNetNode starts a node listening for peers on a free 127.0.0.1 port,
// without discovery. A dev node seals blocks itself; any other node is
// initialised on the dev network and only follows.
func startNetNode(t *testing.T, name string, dev bool, extra ...string) *netNode {
	t.Helper()
	return startNode(t, name, dev, append([]string{"--nodiscover"}, extra...)...)
}

func startNode(t *testing.T, name string, dev bool, extra ...string) *netNode {
	t.Helper()
	bin := binary(t, "./cmd/mmgeth")
	dir := t.TempDir()
	n := &netNode{name: name, dir: dir, dataDir: filepath.Join(dir, "d"), logPath: filepath.Join(dir, name+".log")}
	n.ipc = filepath.Join(n.dataDir, "mmgeth.ipc")
	if !dev {
		runMmgeth(t, bin, "init", "--dev", "--datadir", n.dataDir)
	}
	ports := freePorts(t, 2)
	n.http = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	n.ws = fmt.Sprintf("ws://127.0.0.1:%d", ports[1])
	n.argv = []string{bin, "--datadir", n.dataDir, "--port", "0",
		"--http", "--http.port", strconv.Itoa(ports[0]), "--ws", "--ws.port", strconv.Itoa(ports[1])}
	if dev {
		n.argv = append(n.argv, "--dev")
	}
	n.argv = append(n.argv, extra...)
	n.start(t)
	return n
}

func (n *netNode) start(t *testing.T) {
	t.Helper()
	n.proc = startProcess(t, n.name, n.argv, n.dir, n.logPath)
	n.proc.waitRPC(t, n.http, 2*time.Minute)
}

// runMmgeth runs an mmgeth command to completion and returns its output.
func runMmgeth(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := tryMmgeth(bin, args...)
	if err != nil {
		t.Fatalf("mmgeth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func tryMmgeth(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func (n *netNode) call(t *testing.T, result any, method string, params ...any) {
	t.Helper()
	if err := rpcCall(context.Background(), n.http, result, method, params...); err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
}

// admin calls the admin namespace, which only IPC serves.
func (n *netNode) admin(t *testing.T, result any, method string, params ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := gethrpc.DialIPC(ctx, n.ipc)
	if err != nil {
		t.Fatalf("%s: IPC: %v", n.name, err)
	}
	defer c.Close()
	if err := c.CallContext(ctx, result, method, params...); err != nil {
		t.Fatalf("%s: %s: %v", n.name, method, err)
	}
}

type nodeInfo struct {
	ID    string `json:"id"`
	Enode string `json:"enode"`
	Ports struct {
		Discovery int `json:"discovery"`
		Listener  int `json:"listener"`
	} `json:"ports"`
}

func (n *netNode) info(t *testing.T) nodeInfo {
	t.Helper()
	var info nodeInfo
	n.admin(t, &info, "admin_nodeInfo")
	if !strings.HasPrefix(info.Enode, "enode://") || !strings.Contains(info.Enode, "@127.0.0.1:") || info.Ports.Listener == 0 {
		t.Fatalf("%s: admin_nodeInfo %+v", n.name, info)
	}
	return info
}

func (n *netNode) enode(t *testing.T) string {
	t.Helper()
	return n.info(t).Enode
}

// mmgPeers returns the ids of the node's peers that finished the mmg
// handshake.
func (n *netNode) mmgPeerIDs(t *testing.T) []string {
	t.Helper()
	var peers []struct {
		ID        string         `json:"id"`
		Protocols map[string]any `json:"protocols"`
	}
	n.admin(t, &peers, "admin_peers")
	var ids []string
	for _, p := range peers {
		if info, ok := p.Protocols["mmg"].(map[string]any); ok && info["head"] != nil {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

func (n *netNode) mmgPeers(t *testing.T) int {
	t.Helper()
	return len(n.mmgPeerIDs(t))
}

type netBlock struct {
	Number     hexutil.Uint64 `json:"number"`
	Hash       common.Hash    `json:"hash"`
	Cumulative *hexutil.Big   `json:"cumulativeDifficulty"`
}

func (n *netNode) head(t *testing.T) netBlock {
	t.Helper()
	return n.block(t, "latest")
}

// blockAt returns the canonical block at number; a zero hash if none.
func (n *netNode) blockAt(t *testing.T, number uint64) netBlock {
	t.Helper()
	return n.block(t, hexutil.Uint64(number).String())
}

func (n *netNode) block(t *testing.T, tag string) netBlock {
	t.Helper()
	var b *netBlock
	n.call(t, &b, "eth_getBlockByNumber", tag, false)
	if b == nil {
		return netBlock{}
	}
	return *b
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNetworkFollowersTrackTheMiner runs one miner sealing a block a second
// and three followers, one of which only hears of blocks through another
// follower. Every follower must hold each new miner head within followBound.
func TestNetworkFollowersTrackTheMiner(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	miner := startNetNode(t, "miner", true, "--dev.period", "1")
	me := miner.enode(t)
	f1 := startNetNode(t, "follower1", false, "--bootnodes", me)
	f2 := startNetNode(t, "follower2", false, "--bootnodes", me)
	f3 := startNetNode(t, "follower3", false, "--bootnodes", f2.enode(t)) // two hops away
	followers := []*netNode{f1, f2, f3}

	want := map[*netNode]int{miner: 2, f1: 1, f2: 2, f3: 1}
	for n, peers := range want {
		waitFor(t, time.Minute, n.name+"'s peers", func() bool { return n.mmgPeers(t) == peers })
	}
	var count hexutil.Uint
	f2.call(t, &count, "net_peerCount")
	if count != 2 {
		t.Fatalf("follower2 net_peerCount %d, want 2", count)
	}

	prev := miner.head(t)
	for _, f := range followers { // catch up with what was sealed before peering
		waitFor(t, time.Minute, f.name+" syncing", func() bool { return f.head(t).Number >= prev.Number })
	}
	for round := 0; round < 5; round++ {
		waitFor(t, 10*time.Second, "a new miner block", func() bool { return miner.head(t).Number > prev.Number })
		head := miner.head(t)
		for _, f := range followers {
			waitFor(t, followBound, fmt.Sprintf("%s to hold miner block %d %s", f.name, head.Number, head.Hash),
				func() bool { return f.blockAt(t, uint64(head.Number)).Hash == head.Hash })
		}
		prev = head
	}
	for _, f := range followers {
		var syncing any
		f.call(t, &syncing, "eth_syncing")
		if syncing != false {
			t.Fatalf("%s eth_syncing = %v while following", f.name, syncing)
		}
	}
}

// TestNetworkDiscovery starts two nodes that know only a bootnode: they must
// find each other through discv4 and peer. With --nodiscover a node runs no
// discovery at all.
func TestNetworkDiscovery(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	boot := startNode(t, "bootnode", false)
	bootInfo := boot.info(t)
	if bootInfo.Ports.Discovery == 0 {
		t.Fatalf("bootnode runs no discovery: %+v", bootInfo)
	}
	b := startNode(t, "b", false, "--bootnodes", bootInfo.Enode)
	c := startNode(t, "c", false, "--bootnodes", bootInfo.Enode)
	bID := b.info(t).ID
	waitFor(t, time.Minute, "c to find b through discovery", func() bool { return slices.Contains(c.mmgPeerIDs(t), bID) })

	quiet := startNetNode(t, "nodiscover", false, "--bootnodes", bootInfo.Enode)
	if info := quiet.info(t); info.Ports.Discovery != 0 {
		t.Fatalf("--nodiscover node listens for discovery on port %d", info.Ports.Discovery)
	}
}

// chainFixture is a 2,000-block dev chain in RLP form, built once per test
// run: a dev node seals blocks with evm_mine, a transfer every few blocks, and
// `mmgeth export` writes them out.
var chainFixture = struct {
	once sync.Once
	file string
	head netBlock
	err  error
}{}

func fixtureChain(t *testing.T) (string, netBlock) {
	t.Helper()
	chainFixture.once.Do(func() {
		chainFixture.err = errors.New("building the chain fixture failed (see the first test that needed it)")
		start := time.Now()
		file, head := buildFixtureChain(t)
		chainFixture.file, chainFixture.head, chainFixture.err = file, head, nil
		t.Logf("chain fixture: %d blocks in %v", head.Number, time.Since(start).Round(time.Millisecond))
	})
	if chainFixture.err != nil {
		t.Fatal(chainFixture.err)
	}
	return chainFixture.file, chainFixture.head
}

func buildFixtureChain(t *testing.T) (string, netBlock) {
	dir := filepath.Join(binDir, "fixture")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := binary(t, "./cmd/mmgeth")
	dataDir := filepath.Join(dir, "d")
	port := freePorts(t, 1)[0]
	n := &netNode{name: "fixture", dir: dir, dataDir: dataDir, http: fmt.Sprintf("http://127.0.0.1:%d", port),
		logPath: filepath.Join(dir, "fixture.log")}
	n.argv = []string{bin, "--dev", "--datadir", dataDir, "--ipcdisable", "--http.port", strconv.Itoa(port)}
	n.start(t)
	var accounts []common.Address
	n.call(t, &accounts, "eth_accounts")
	for i := 0; ; i++ {
		if i%100 == 0 && n.head(t).Number >= fixtureBlocks {
			break
		}
		if i%8 == 0 { // sealed on arrival: a block with a body to fetch
			to := common.BigToAddress(big.NewInt(int64(0x100000 + i)))
			var hash common.Hash
			n.call(t, &hash, "eth_sendTransaction", map[string]any{"from": accounts[i%len(accounts)], "to": to, "value": "0x1"})
			continue
		}
		var ok string
		n.call(t, &ok, "evm_mine")
	}
	head := n.blockAt(t, fixtureBlocks)
	n.proc.stop()
	file := filepath.Join(dir, "chain.rlp")
	runMmgeth(t, bin, "export", "--dev", "--datadir", dataDir, file, "0", strconv.Itoa(fixtureBlocks))
	return file, head
}

// seedNode starts a follower holding the fixture chain, imported from its
// file with `mmgeth import`.
func seedNode(t *testing.T, name, file string, head netBlock) *netNode {
	t.Helper()
	bin := binary(t, "./cmd/mmgeth")
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "d")
	runMmgeth(t, bin, "init", "--dev", "--datadir", dataDir)
	out := runMmgeth(t, bin, "import", "--datadir", dataDir, file)
	if !strings.Contains(out, fmt.Sprintf("Imported %d blocks", head.Number)) || !strings.Contains(out, head.Hash.Hex()) {
		t.Fatalf("import did not end at the fixture head %d %s:\n%s", head.Number, head.Hash, out)
	}
	ports := freePorts(t, 1)
	n := &netNode{name: name, dir: dir, dataDir: dataDir, http: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		ipc: filepath.Join(dataDir, "mmgeth.ipc"), logPath: filepath.Join(dir, name+".log")}
	n.argv = []string{bin, "--datadir", dataDir, "--port", "0", "--nodiscover", "--http", "--http.port", strconv.Itoa(ports[0])}
	n.start(t)
	if got := n.head(t); got.Hash != head.Hash {
		t.Fatalf("%s: head %d %s after import, want %d %s", name, got.Number, got.Hash, head.Number, head.Hash)
	}
	return n
}

// TestNetworkLateNodeSyncs2000Blocks starts a node after two peers hold 2,000
// blocks; it must sync all of them from the two and end at the same head.
func TestNetworkLateNodeSyncs2000Blocks(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	file, head := fixtureChain(t)
	s1 := seedNode(t, "seed1", file, head)
	s2 := seedNode(t, "seed2", file, head)
	start := time.Now()
	late := startNetNode(t, "late", false, "--bootnodes", s1.enode(t)+","+s2.enode(t))

	var progress []map[string]hexutil.Uint64
	waitFor(t, 3*time.Minute, "the late node to reach the seeds' head", func() bool {
		var syncing any
		late.call(t, &syncing, "eth_syncing")
		if obj, ok := syncing.(map[string]any); ok {
			p := map[string]hexutil.Uint64{}
			for k, v := range obj {
				var q hexutil.Uint64
				if s, ok := v.(string); !ok || q.UnmarshalText([]byte(s)) != nil {
					t.Fatalf("eth_syncing field %s = %v is not a quantity", k, v)
				}
				p[k] = q
			}
			progress = append(progress, p)
		}
		return late.head(t).Hash == head.Hash
	})
	elapsed := time.Since(start)
	t.Logf("synced %d blocks in %v (including start-up); %d eth_syncing samples in progress", head.Number, elapsed.Round(time.Millisecond), len(progress))
	for _, p := range progress {
		if !(p["startingBlock"] <= p["currentBlock"] && p["currentBlock"] <= p["highestBlock"] && p["highestBlock"] <= head.Number) {
			t.Fatalf("inconsistent eth_syncing %v", p)
		}
	}
	for _, number := range []uint64{1, 8, 999, 1000, uint64(head.Number)} {
		if got, want := late.blockAt(t, number).Hash, s1.blockAt(t, number).Hash; got != want {
			t.Fatalf("block %d: %s on the late node, %s on the seed", number, got, want)
		}
	}
	if peers := late.mmgPeers(t); peers != 2 {
		t.Fatalf("late node has %d mmg peers, want 2", peers)
	}
}

// TestNetworkHeavierHalfWinsAfterJoin mines two halves of a network apart,
// then joins them. Both must end on the chain with more cumulative work, and
// a WebSocket log subscriber on the losing half must see its logs removed.
func TestNetworkHeavierHalfWinsAfterJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	heavy := startNetNode(t, "heavy", true)
	light := startNetNode(t, "light", true)
	var accounts []common.Address
	light.call(t, &accounts, "eth_accounts")
	from := accounts[5]

	// The account's first two nonces go to plain transfers on the heavy
	// half and to the log-emitting transactions on the light half, so that
	// after the reorg the light half's transactions are stale rather than
	// re-mined.
	for i := 0; i < 2; i++ {
		var hash common.Hash
		heavy.call(t, &hash, "eth_sendTransaction", map[string]any{"from": from, "to": accounts[6], "value": "0x1"})
		netReceipt(t, heavy, hash)
	}
	var deploy common.Hash
	light.call(t, &deploy, "eth_sendTransaction", map[string]any{"from": from, "data": sinkInitCode, "gas": "0x30000"})
	sink := netReceipt(t, light, deploy).ContractAddress

	ws, err := gethrpc.Dial(light.ws)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	logs := make(chan types.Log, 16)
	sub, err := ws.EthSubscribe(context.Background(), logs, "logs", map[string]any{"address": sink})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	var call common.Hash
	light.call(t, &call, "eth_sendTransaction", map[string]any{"from": from, "to": sink, "value": "0x1234"})
	netReceipt(t, light, call)
	first := nextLog(t, logs, sub)
	if first.TxHash != call || first.Removed {
		t.Fatalf("first log %+v, want the call %s, not removed", first, call)
	}

	for i := 0; i < 30; i++ {
		var ok string
		heavy.call(t, &ok, "evm_mine")
	}
	for i := 0; i < 5; i++ {
		var ok string
		light.call(t, &ok, "evm_mine")
	}
	heavyHead, lightHead := heavy.head(t), light.head(t)
	if heavyHead.Cumulative.ToInt().Cmp(lightHead.Cumulative.ToInt()) <= 0 {
		t.Fatalf("setup: heavy half's work %v is not above the light half's %v", heavyHead.Cumulative, lightHead.Cumulative)
	}
	t.Logf("heavy half: %d blocks, work %v; light half: %d blocks, work %v",
		heavyHead.Number, heavyHead.Cumulative.ToInt(), lightHead.Number, lightHead.Cumulative.ToInt())

	var added bool
	light.admin(t, &added, "admin_addPeer", heavy.enode(t))
	if !added {
		t.Fatal("admin_addPeer returned false")
	}
	for _, n := range []*netNode{heavy, light} {
		waitFor(t, time.Minute, n.name+" to adopt the heavier chain", func() bool { return n.head(t).Hash == heavyHead.Hash })
		if got := n.blockAt(t, uint64(lightHead.Number)).Hash; got == lightHead.Hash {
			t.Fatalf("%s: the light half's head %s is still canonical", n.name, got)
		}
	}
	removed := nextLog(t, logs, sub)
	if removed.TxHash != call || !removed.Removed {
		t.Fatalf("after the reorg: log %+v, want the call %s removed", removed, call)
	}
	var receipt *types.Receipt
	light.call(t, &receipt, "eth_getTransactionReceipt", call)
	if receipt != nil {
		t.Fatalf("the reorged-out call still has a receipt in block %v", receipt.BlockNumber)
	}
}

func netReceipt(t *testing.T, n *netNode, hash common.Hash) *types.Receipt {
	t.Helper()
	var r *types.Receipt
	waitFor(t, 30*time.Second, "receipt of "+hash.Hex(), func() bool {
		n.call(t, &r, "eth_getTransactionReceipt", hash)
		return r != nil
	})
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("%s: transaction %s failed", n.name, hash)
	}
	return r
}

func nextLog(t *testing.T, logs <-chan types.Log, sub *gethrpc.ClientSubscription) types.Log {
	t.Helper()
	select {
	case l := <-logs:
		return l
	case err := <-sub.Err():
		t.Fatalf("log subscription ended: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no log within a minute")
	}
	return types.Log{}
}

// syncBatch is how many blocks the sync imports per fork-choice insert
// (p2p's headers per request). Each insert ends with one sync of the
// database's write-ahead log, so a crash loses at most the batch under way:
// pebble buffers unsynced writes in the process while a sync runs.
const syncBatch = 192

// TestNetworkSyncSurvivesKills kills a node with SIGKILL at 10 random heights
// of its sync of 2,000 blocks. Every restart must come back on the peer's
// chain, having lost at most the sync batch under way, and the last one must
// reach the peer's head. MMGETH_KILL_SEED replays a run.
func TestNetworkSyncSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	file, head := fixtureChain(t)
	seed := seedNode(t, "seed", file, head)

	rngSeed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MMGETH_KILL_SEED"); s != "" {
		var err error
		if rngSeed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("MMGETH_KILL_SEED: %v", err)
		}
	}
	t.Logf("kill heights seeded with MMGETH_KILL_SEED=%d", rngSeed)
	rng := rand.New(rand.NewPCG(rngSeed, 0))
	var targets []uint64
	for len(targets) < 10 {
		if h := 50 + rng.Uint64N(uint64(head.Number)-100); !slices.Contains(targets, h) {
			targets = append(targets, h)
		}
	}
	slices.Sort(targets)

	n := startNetNode(t, "victim", false, "--bootnodes", seed.enode(t))
	for i, target := range targets {
		var reached uint64
		waitFor(t, 2*time.Minute, fmt.Sprintf("kill %d: height %d", i, target), func() bool {
			reached = uint64(n.head(t).Number)
			return reached >= target
		})
		n.proc.kill()
		n.start(t)
		after := n.head(t)
		if uint64(after.Number)+syncBatch < reached {
			t.Fatalf("kill %d at height %d: restarted at %d, more than a sync batch lower", i, reached, after.Number)
		}
		if want := seed.blockAt(t, uint64(after.Number)).Hash; after.Hash != want {
			t.Fatalf("kill %d: restarted at %d %s, the peer's block there is %s", i, after.Number, after.Hash, want)
		}
		t.Logf("kill %d: at height %d (target %d), restarted at %d", i, reached, target, after.Number)
	}
	waitFor(t, 2*time.Minute, "the restarted node to reach the peer's head", func() bool { return n.head(t).Hash == head.Hash })
}

// TestSecondNodeOnSameDatadirFails starts a second node on a datadir in use:
// it must exit with an error that says so, and the first keep running.
func TestSecondNodeOnSameDatadirFails(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	first := startNetNode(t, "first", false)
	port := freePorts(t, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, first.argv[0], "--datadir", first.dataDir, "--port", "0", "--nodiscover",
		"--http", "--http.port", strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("second node on the datadir: %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(string(out), "datadir already used by another process") {
		t.Fatalf("second node's error does not say the datadir is in use:\n%s", out)
	}
	var number hexutil.Uint64
	first.call(t, &number, "eth_blockNumber")
}

// TestChainExportImport round-trips the fixture chain through `mmgeth export`
// and `mmgeth import`: plain and gzip files, ranges, re-imports that skip
// what is stored, a file whose blocks lack their parents, and a file of
// another network.
func TestChainExportImport(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	file, head := fixtureChain(t)
	bin := binary(t, "./cmd/mmgeth")
	dir := t.TempDir()
	datadir := func(name string, network string) string {
		d := filepath.Join(dir, name)
		runMmgeth(t, bin, "init", network, "--datadir", d)
		return d
	}
	full := datadir("full", "--dev")
	if out := runMmgeth(t, bin, "import", "--datadir", full, file); !strings.Contains(out, fmt.Sprintf("Imported %d blocks (0 skipped)", head.Number)) {
		t.Fatalf("first import:\n%s", out)
	}
	if out := runMmgeth(t, bin, "import", "--datadir", full, file); !strings.Contains(out, fmt.Sprintf("Imported 0 blocks (%d skipped)", head.Number)) ||
		!strings.Contains(out, head.Hash.Hex()) {
		t.Fatalf("re-import:\n%s", out)
	}

	gz := filepath.Join(dir, "chain.rlp.gz")
	runMmgeth(t, bin, "export", "--datadir", full, gz)
	firstHalf := filepath.Join(dir, "first-half.rlp")
	runMmgeth(t, bin, "export", "--datadir", full, firstHalf, "0", "1000")
	secondHalf := filepath.Join(dir, "second-half.rlp")
	runMmgeth(t, bin, "export", "--datadir", full, secondHalf, "1001", strconv.Itoa(int(head.Number)))

	halves := datadir("halves", "--dev")
	if out, err := tryMmgeth(bin, "import", "--datadir", halves, secondHalf); err == nil || !strings.Contains(out, "block 1001") {
		t.Fatalf("importing blocks without their parents: %v\n%s", err, out)
	}
	runMmgeth(t, bin, "import", "--datadir", halves, firstHalf)
	if out := runMmgeth(t, bin, "import", "--datadir", halves, gz); !strings.Contains(out, fmt.Sprintf("Imported %d blocks (1000 skipped)", head.Number-1000)) ||
		!strings.Contains(out, head.Hash.Hex()) {
		t.Fatalf("gzip import on top of the first half:\n%s", out)
	}

	other := datadir("testnet", "--testnet")
	if out, err := tryMmgeth(bin, "import", "--datadir", other, file); err == nil || !strings.Contains(out, "is not this network's") {
		t.Fatalf("importing a dev chain into a testnet datadir: %v\n%s", err, out)
	}
}
