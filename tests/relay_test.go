package tests

// The Bitcoin light client end to end (issue 10): btcd in regtest, mmgeth
// --regtest --mine, mmminer and mmfed relay, each its own process.
//
//	go test ./tests/ -run TestBtcdRelay -v

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// relayChains is what the test watches: btcd (directly, never through the
// relayer's proxy) and mmgeth.
type relayChains struct {
	t   *testing.T
	btc *btcrpc.Client
	eth *ethclient.Client
}

// relayView reads BtcRelay at a sidechain block (nil: latest).
func (c *relayChains) relayView(block *big.Int) *bridge.View {
	return bridge.NewCallView(func(to common.Address, in []byte) ([]byte, error) {
		return c.eth.CallContract(context.Background(), ethereum.CallMsg{To: &to, Data: in}, block)
	})
}

func (c *relayChains) btcTip() chainhash.Hash {
	c.t.Helper()
	h, err := c.btc.BestBlockHash(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	return h
}

// relayTip is BtcRelay's best block, zero while mmgeth is unreachable.
func (c *relayChains) relayTip() bridge.BestChain {
	best, _ := c.relayView(nil).BestChain()
	return best
}

// waitInStep waits until BtcRelay's tip is btcd's, and returns it.
func (c *relayChains) waitInStep(p *btcdProcess, timeout time.Duration, what string) bridge.BestChain {
	c.t.Helper()
	var best bridge.BestChain
	btcdWaitFor(c.t, p, timeout, what, func() bool {
		best = c.relayTip()
		return best.Hash == common.Hash(c.btcTip())
	})
	return best
}

// relayFreshness tracks each Bitcoin block from when the test sees btcd
// accept it to when BtcRelay's best chain first holds it.
type relayFreshness struct {
	chains  *relayChains
	next    int64  // the next btcd height to look at
	source  string // who makes the blocks being seen now
	pending []relayPending
	samples map[string][]relaySample // by source
}

type relayPending struct {
	hash   chainhash.Hash
	height uint32
	seen   time.Time
	head   uint64 // sidechain head when btcd had it
	source string
}

type relaySample struct {
	delay time.Duration
	// blocks is how many sidechain blocks were sealed from btcd's
	// acceptance to BtcRelay holding it (1: the very next one).
	blocks uint64
}

// poll notes btcd's new best-chain blocks and BtcRelay's inclusions.
func (f *relayFreshness) poll() {
	t, ctx := f.chains.t, context.Background()
	t.Helper()
	now := time.Now()
	head, err := f.chains.eth.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count, err := f.chains.btc.BlockCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for ; f.next <= count; f.next++ {
		hash, err := f.chains.btc.BlockHash(ctx, f.next)
		if err != nil {
			t.Fatal(err)
		}
		f.pending = append(f.pending, relayPending{hash: hash, height: uint32(f.next), seen: now, head: head, source: f.source})
	}
	// Read BtcRelay at one block, so that the block holding an inclusion
	// is known exactly.
	view := f.chains.relayView(new(big.Int).SetUint64(head))
	best, err := view.BestChain()
	if err != nil {
		t.Fatal(err)
	}
	f.pending = slices.DeleteFunc(f.pending, func(p relayPending) bool {
		if p.height > best.Height {
			return false
		}
		at, err := view.BlockHashAt(p.height)
		if err != nil || at != common.Hash(p.hash) {
			return false
		}
		f.samples[p.source] = append(f.samples[p.source], relaySample{delay: now.Sub(p.seen), blocks: head - p.head})
		return true
	})
}

// summary logs the percentiles of a source's samples and returns the p99
// delay and the most sidechain blocks any block waited.
func (f *relayFreshness) summary(source string) (p99 time.Duration, maxBlocks uint64) {
	samples := f.samples[source]
	if len(samples) == 0 {
		f.chains.t.Fatalf("no Bitcoin block of %s was relayed", source)
	}
	delays := make([]time.Duration, len(samples))
	blocks := make([]uint64, len(samples))
	for i, s := range samples {
		delays[i], blocks[i] = s.delay, s.blocks
	}
	slices.Sort(delays)
	slices.Sort(blocks)
	f.chains.t.Logf("relay freshness of %d Bitcoin blocks of %s: p50 %v, p99 %v; sidechain blocks until in BtcRelay: p50 %d, p99 %d, max %d",
		len(samples), source, percentile(delays, 50).Round(time.Millisecond), percentile(delays, 99).Round(time.Millisecond),
		percentile(blocks, 50), percentile(blocks, 99), blocks[len(blocks)-1])
	return percentile(delays, 99), blocks[len(blocks)-1]
}

// watch polls every 100 ms for d.
func (f *relayFreshness) watch(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		f.poll()
	}
}

func percentile[T any](sorted []T, p int) T { return sorted[(len(sorted)-1)*p/100] }

// startMergeMined starts mmgeth with args, serving HTTP on port, and
// mmminer merge-mining it against btcd at btcAddr (host:port), and waits
// for 3 sidechain blocks. The client is closed when the test ends.
func startMergeMined(t *testing.T, args []string, port int, minerBin string, node *btcd.Node, btcAddr string) (
	mmgeth, miner *btcdProcess, eth *ethclient.Client, url string) {
	t.Helper()
	ctx := context.Background()
	mmgeth = btcdStart(t, "mmgeth", args)
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	eth, err := ethclient.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	btcdWaitFor(t, mmgeth, 90*time.Second, "mmgeth's RPC", func() bool {
		_, err := eth.BlockNumber(ctx)
		return err == nil
	})
	miner = btcdStart(t, "mmminer", btcdMmminerArgs(minerBin, node, "http://"+btcAddr, url))
	btcdWaitFor(t, miner, 60*time.Second, "3 sidechain blocks", func() bool {
		n, err := eth.BlockNumber(ctx)
		return err == nil && n >= 3
	})
	return mmgeth, miner, eth, url
}

// relayerArgs polls btcd four times a sidechain block (regtest seals about
// one a second here), so that a Bitcoin block makes the next sidechain block.
func relayerArgs(bin, rpcURL, btcAddr, keyFile string, node *btcd.Node) []string {
	return []string{bin, "relay", "--rpc", rpcURL, "--btc.rpc", "http://" + btcAddr,
		"--btc.user", node.User, "--btc.pass", node.Pass, "--key", keyFile, "--interval", "250ms"}
}

// TestBtcdRelay is the light client's must-show of issue 10: mmfed relay
// catches BtcRelay up with btcd, keeps it within a sidechain block of
// btcd's tip (relay freshness logged), follows a Bitcoin reorg with a
// BtcReorg event, resumes after being killed, and recovers when btcd or
// mmgeth goes away and comes back.
func TestBtcdRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs btcd, mmgeth, mmminer and mmfed")
	}
	ctx := context.Background()
	mmgethBin, minerBin, fedBin := binary(t, "./cmd/mmgeth"), binary(t, "./cmd/mmminer"), binary(t, "./cmd/mmfed")
	node := btcd.Start(t)
	// mmminer and mmfed reach btcd through proxies the test can take
	// down: mmminer's, to stop its Bitcoin blocks while it goes on sealing
	// sidechain blocks on its last template; mmfed's, to make btcd go away
	// (restarting btcd itself would wipe its regtest chain).
	minerProxy := btcd.StartProxy(t, node.RPCAddr)
	fedProxy := btcd.StartProxy(t, node.RPCAddr)
	btc, err := btcrpc.New(node.RPCAddr, node.User, node.Pass)
	if err != nil {
		t.Fatal(err)
	}

	port := btcd.FreePort(t)
	datadir := t.TempDir()
	etherbase := common.HexToAddress("0x00000000000000000000000000000000000000e5")
	mmgeth, miner, eth, url := startMergeMined(t, btcdMmgethArgs(mmgethBin, datadir, port, etherbase), port, minerBin, node, minerProxy.Addr)
	chains := &relayChains{t: t, btc: btc, eth: eth}

	// The regtest sidechain starts with a burst (one CPU thread at the
	// minimum difficulty) until its timestamps run 60 s ahead of the clock,
	// mmgeth's limit; from then on it seals about a block a second, the
	// pace at which freshness is counted in sidechain blocks.
	btcdWaitFor(t, miner, 90*time.Second, "the sidechain past its start-up burst", func() bool {
		head, err := eth.HeaderByNumber(ctx, nil)
		return err == nil && time.Unix(int64(head.Time), 0).After(time.Now().Add(30*time.Second))
	})

	// The relayer starts from BtcRelay's genesis checkpoint while mmminer
	// adds Bitcoin blocks (one per template, several a second).
	keyFile := filepath.Join(t.TempDir(), "relayer.key")
	if err := os.WriteFile(keyFile, []byte(devKey), 0o600); err != nil {
		t.Fatal(err)
	}
	fedArgs := relayerArgs(fedBin, url, fedProxy.Addr, keyFile, node)
	start := time.Now()
	startHeight := btcdHeight(t, node)
	fed := btcdStart(t, "mmfed", fedArgs)
	btcdWaitFor(t, fed, 60*time.Second, "BtcRelay caught up", func() bool {
		return int64(chains.relayTip().Height) >= startHeight
	})
	t.Logf("catch-up: BtcRelay past btcd's height %d at the start after %v", startHeight, time.Since(start).Round(time.Millisecond))

	// Freshness: mmminer's blocks, then, with mmminer's Bitcoin node
	// gone (it goes on sealing sidechain blocks on its last template),
	// blocks from generate calls at times unrelated to the sidechain's.
	f := &relayFreshness{chains: chains, next: btcdHeight(t, node) + 1, source: "mmminer", samples: map[string][]relaySample{}}
	f.watch(20 * time.Second)
	minerProxy.Down()
	time.Sleep(500 * time.Millisecond) // a block mmminer was submitting lands
	best := chains.waitInStep(fed, 30*time.Second, "BtcRelay at btcd's tip once mmminer's blocks stopped")
	t.Logf("BtcRelay at btcd's best block %d (%v)", best.Height, chainhash.Hash(best.Hash))
	f.poll()
	f.source = "generate"
	for i := range 8 {
		if _, err := btc.Generate(ctx, 1); err != nil {
			t.Fatal(err)
		}
		f.watch(time.Duration(2000+300*i) * time.Millisecond)
	}
	chains.waitInStep(fed, 30*time.Second, "BtcRelay at btcd's tip after the generate calls")
	f.poll()
	if len(f.pending) != 0 || len(f.samples["mmminer"]) < 20 || len(f.samples["generate"]) != 8 {
		t.Fatalf("relayed %d Bitcoin blocks of mmminer, %d of generate; %d never seen in BtcRelay",
			len(f.samples["mmminer"]), len(f.samples["generate"]), len(f.pending))
	}
	// PEG.md §13: p99 within 30 s, and BtcRelay at most one sidechain
	// block behind the relayer's node. A Bitcoin block accepted while a
	// sidechain block is being sealed cannot be in it: it must be in the
	// next one (2 here). mmminer's blocks come about ten a second, each
	// waiting for the relayer's transaction in flight: they are logged, and
	// held to the 30 s goal only.
	for _, source := range []string{"mmminer", "generate"} {
		p99, late := f.summary(source)
		if p99 > 30*time.Second {
			t.Errorf("relay freshness p99 of %s's blocks %v, goal 30 s", source, p99)
		}
		if source == "generate" && late > 2 {
			t.Errorf("a Bitcoin block reached BtcRelay %d sidechain blocks after btcd accepted it, want at most 2", late)
		}
	}

	// A Bitcoin reorg: a heavier branch from two blocks below the tip,
	// built here and submitted to btcd, which switches to it.
	old := chains.waitInStep(fed, 30*time.Second, "BtcRelay in step before the reorg")
	from, err := eth.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forkHeight := int64(old.Height) - 2
	forkHash, _ := btc.BlockHash(ctx, forkHeight)
	forkHeader, err := btc.BlockHeader(ctx, forkHash)
	if err != nil {
		t.Fatal(err)
	}
	branch, err := btcd.Branch(forkHeader, int32(forkHeight), 3, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range branch {
		if err := btc.SubmitBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	newTip := branch[2].BlockHash()
	if got := chains.btcTip(); got != newTip {
		t.Fatalf("btcd's best block %v, want the heavier branch's %v", got, newTip)
	}
	reorged := chains.waitInStep(fed, 30*time.Second, "BtcRelay on the heavier branch")
	logs, err := eth.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(from), Addresses: []common.Address{bridge.BtcRelayAddress},
		Topics: [][]common.Hash{{bridge.BtcRelayABI.Events["BtcReorg"].ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := bridge.BtcReorg{OldBest: old.Hash, NewBest: common.Hash(newTip), ForkHeight: uint32(forkHeight), Depth: 2}
	if len(logs) != 1 {
		t.Fatalf("%d BtcReorg logs since block %d, want 1", len(logs), from)
	}
	if ev, ok := bridge.ParseBtcReorg(&logs[0]); !ok || ev != want {
		t.Fatalf("BtcReorg %+v, want %+v", ev, want)
	}
	t.Logf("reorg: BtcRelay left %v for %v at height %d (fork %d, depth 2) in sidechain block %d",
		chainhash.Hash(old.Hash), newTip, reorged.Height, forkHeight, logs[0].BlockNumber)

	// The relayer is killed; blocks come meanwhile; a new one resumes.
	syscall.Kill(-fed.cmd.Process.Pid, syscall.SIGKILL)
	<-fed.exited
	if _, err := btc.Generate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	fed = btcdStart(t, "mmfed", fedArgs)
	start = time.Now()
	chains.waitInStep(fed, 30*time.Second, "BtcRelay in step after the relayer restarted")
	t.Logf("a restarted relayer was in step after %v", time.Since(start).Round(time.Millisecond))

	// btcd goes away: BtcRelay stays behind; back, the relayer recovers.
	fedProxy.Down()
	if _, err := btc.Generate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if chains.relayTip().Hash == common.Hash(chains.btcTip()) {
		t.Fatal("BtcRelay followed btcd while the relayer could not reach it")
	}
	fedProxy.Up(t)
	start = time.Now()
	chains.waitInStep(fed, 60*time.Second, "BtcRelay in step after btcd came back")
	t.Logf("btcd back: in step after %v", time.Since(start).Round(time.Millisecond))

	// mmgeth goes away and comes back on the same datadir and port.
	if err := mmgeth.stop(); err != nil {
		t.Fatalf("mmgeth did not exit cleanly: %v", err)
	}
	if _, err := btc.Generate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	mmgeth = btcdStart(t, "mmgeth", btcdMmgethArgs(mmgethBin, datadir, port, etherbase))
	start = time.Now()
	chains.waitInStep(mmgeth, 90*time.Second, "BtcRelay in step after mmgeth came back")
	t.Logf("mmgeth back: in step after %v", time.Since(start).Round(time.Millisecond))

	if err := fed.stop(); err != nil {
		t.Errorf("mmfed did not exit cleanly on SIGINT: %v", err)
	}
	out, _ := os.ReadFile(fed.logPath)
	for _, line := range []string{"Relay round failed", "Relay recovered"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("the relayer's log has no %q", line)
		}
	}
	relayGas(t, eth)
}

// relayGas logs the gas per header of every receiveHeaders transaction the
// sidechain holds, batched and alone.
func relayGas(t *testing.T, eth *ethclient.Client) {
	ctx := context.Background()
	head, err := eth.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	method := bridge.BtcRelayABI.Methods["receiveHeaders"]
	var batchGas, batchHeaders, singleGas, singles, txs uint64
	for n := uint64(1); n <= head; n++ {
		block, err := eth.BlockByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range block.Transactions() {
			if tx.To() == nil || *tx.To() != bridge.BtcRelayAddress {
				continue
			}
			args, err := method.Inputs.Unpack(tx.Data()[4:])
			if err != nil {
				t.Fatal(err)
			}
			headers := uint64(len(args[0].([]byte)) / 80)
			receipt, err := eth.TransactionReceipt(ctx, tx.Hash())
			if err != nil {
				t.Fatal(err)
			}
			if receipt.Status != 1 {
				t.Errorf("receiveHeaders transaction %v in block %d failed", tx.Hash(), n)
			}
			txs++
			if headers == 1 {
				singleGas += receipt.GasUsed
				singles++
			} else {
				batchGas += receipt.GasUsed
				batchHeaders += headers
			}
		}
	}
	if singles == 0 || batchHeaders == 0 {
		t.Fatalf("%d single-header and %d batched headers relayed", singles, batchHeaders)
	}
	t.Logf("gas: %d receiveHeaders transactions; batched %d gas per header over %d headers, alone %d gas (%d transactions) — "+
		"reorg headers included", txs, batchGas/batchHeaders, batchHeaders, singleGas/singles, singles)
}
