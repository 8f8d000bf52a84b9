package tests

// Merged mining against a real Bitcoin node: btcd in regtest mode (installed
// and started by tests/btcd), the reference miner cmd/mmminer, and either
// mmgeth --mine, as a process (TestBtcdMergeMining) or in process behind a
// proxy that can take it away (TestBtcdMmminer).
//
//	go test ./tests/ -run TestBtcd -v

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
	mmnode "github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// btcdMmgethArgs is the one place that knows mmgeth's command line for a
// merge-mining node on the regtest network.
func btcdMmgethArgs(bin, datadir string, httpPort int, etherbase common.Address) []string {
	return []string{bin, "--regtest", "--datadir", datadir,
		"--mine", "--miner.etherbase", etherbase.Hex(),
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(httpPort),
		"--port", "0", "--nodiscover", "--maxpeers", "0", "--ipcdisable"}
}

// btcdMmminerArgs runs the miner on one thread (the machine is shared),
// polling often so that the tests see many blocks.
func btcdMmminerArgs(bin string, node *btcd.Node, btcRPC, sideRPC string) []string {
	return []string{bin, "--btc.rpc", btcRPC, "--btc.user", node.User, "--btc.pass", node.Pass,
		"--rpc", sideRPC, "--threads", "1", "--poll", "100ms", "--verbose"}
}

// TestBtcdMmminer runs mmminer against btcd and an in-process mmgeth
// --mine node reached through a proxy, takes each endpoint away and brings
// it back, and checks that btcd accepted blocks whose coinbase is btcd's
// own plus the commitment, and that every sidechain block's proof sits on
// btcd's chain.
func TestBtcdMmminer(t *testing.T) {
	node := btcd.Start(t)
	btcProxy := btcd.StartProxy(t, node.RPCAddr)
	side := startBtcdSidechain(t)
	sideProxy := btcd.StartProxy(t, strings.TrimPrefix(side.HTTPEndpoint(), "http://"))
	client, err := gethrpc.Dial(side.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	height := func() uint64 {
		var head hexutil.Uint64
		if err := client.Call(&head, "eth_blockNumber"); err != nil {
			t.Fatal(err)
		}
		return uint64(head)
	}

	bin := binary(t, "./cmd/mmminer")
	miner := btcdStart(t, "mmminer", btcdMmminerArgs(bin, node, "http://"+btcProxy.Addr, "http://"+sideProxy.Addr))

	btcdWaitFor(t, miner, 60*time.Second, "3 sidechain blocks and 3 Bitcoin blocks", func() bool {
		return height() >= 3 && btcdHeight(t, node) >= 104
	})

	// mmgeth goes away: Bitcoin mining goes on.
	sideProxy.Down()
	btcHeight := btcdHeight(t, node)
	btcdWaitFor(t, miner, 30*time.Second, "Bitcoin blocks without mmgeth", func() bool {
		return btcdHeight(t, node) >= btcHeight+3
	})
	blocks := height()
	sideProxy.Up(t)
	btcdWaitFor(t, miner, 60*time.Second, "sidechain blocks after mmgeth came back", func() bool {
		return height() >= blocks+3
	})

	// btcd goes away: the miner waits and resumes.
	btcProxy.Down()
	time.Sleep(time.Second)
	btcHeight = btcdHeight(t, node)
	btcProxy.Up(t)
	btcdWaitFor(t, miner, 60*time.Second, "Bitcoin blocks after btcd came back", func() bool {
		return btcdHeight(t, node) >= btcHeight+3
	})

	if err := miner.stop(); err != nil {
		t.Errorf("mmminer did not exit cleanly on SIGINT: %v", err)
	}

	// Every sidechain block's proof (the node verified it) was mined on a
	// block of btcd's chain.
	sealed := map[[32]byte]bool{}
	chain := side.Chain()
	for n := uint64(1); n <= chain.CurrentBlock().Number.Uint64(); n++ {
		h := chain.GetHeaderByNumber(n)
		seal, err := consensus.DecodeSeal(h.Extra)
		if err != nil || seal.Proof == nil {
			t.Fatalf("block %d: no merged-mining proof: %v", n, err)
		}
		prev := btcdPrevBlock(t, seal.Proof.BitcoinHeader)
		if _, err := node.Client.GetBlockHeader(&prev); err != nil {
			t.Errorf("block %d builds on %v, unknown to btcd: %v", n, prev, err)
		}
		sealed[consensus.SealHash(h)] = true
	}
	// btcd accepted blocks carrying commitments to sidechain blocks' seal
	// hashes, in the coinbase btcd itself built (it pays btcd's
	// --miningaddr): the shares that sealed sidechain blocks were Bitcoin
	// blocks too.
	committed := btcdCommittedBlocks(t, node, []byte(side.tag), 0)
	both := 0
	for _, seal := range committed {
		if sealed[seal] {
			both++
		}
	}
	if both == 0 {
		t.Fatalf("no Bitcoin block commits to a sidechain block (%d blocks with a %q commitment, %d sidechain blocks)", len(committed), side.tag, len(sealed))
	}
	t.Logf("%d sidechain blocks, Bitcoin height %d, %d Bitcoin blocks commit to a sidechain block",
		len(sealed), btcdHeight(t, node), both)
}

// TestBtcdMergeMining is the end-to-end test of issue #5: mmgeth --mine on
// the regtest network, mmminer and btcd. Within 60 s of the miner starting
// the sidechain has at least 10 blocks whose Bitcoin headers extend btcd's
// chain, and btcd has accepted a block with a sidechain commitment.
func TestBtcdMergeMining(t *testing.T) {
	mmgethBin := binary(t, "./cmd/mmgeth")
	help, _ := exec.Command(mmgethBin, "--help").CombinedOutput()
	if !bytes.Contains(help, []byte("--mine")) || !bytes.Contains(help, []byte("--regtest")) {
		t.Skip("awaits the node: mmgeth has no --mine / --regtest flags yet")
	}
	minerBin := binary(t, "./cmd/mmminer")
	node := btcd.Start(t)

	port := btcd.FreePort(t)
	etherbase := common.HexToAddress("0x00000000000000000000000000000000000000e5")
	mmgeth := btcdStart(t, "mmgeth", btcdMmgethArgs(mmgethBin, t.TempDir(), port, etherbase))
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	client, err := gethrpc.DialContext(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var work struct {
		Tag hexutil.Bytes `json:"tag"`
	}
	start := time.Now()
	btcdWaitFor(t, mmgeth, 90*time.Second, "mnr_getWork", func() bool {
		return client.Call(&work, "mnr_getWork") == nil
	})
	t.Logf("mmgeth serves work after %v", time.Since(start).Round(time.Millisecond))
	if len(work.Tag) == 0 {
		t.Fatal("mnr_getWork has no tag")
	}

	miner := btcdStart(t, "mmminer", btcdMmminerArgs(minerBin, node, node.RPCURL(), url))
	start = time.Now()
	var head hexutil.Uint64
	btcdWaitFor(t, miner, 60*time.Second, "10 sidechain blocks", func() bool {
		return client.Call(&head, "eth_blockNumber") == nil && head >= 10
	})
	t.Logf("sidechain height %d after %v", head, time.Since(start).Round(time.Millisecond))
	btcdWaitFor(t, miner, 60*time.Second-time.Since(start), "a Bitcoin block with a sidechain commitment", func() bool {
		return len(btcdCommittedBlocks(t, node, work.Tag, 1)) > 0
	})
	t.Logf("btcd has a block committing to the sidechain after %v", time.Since(start).Round(time.Millisecond))

	for n := uint64(1); n <= uint64(head); n++ {
		var block struct {
			ExtraData hexutil.Bytes `json:"extraData"`
		}
		if err := client.Call(&block, "eth_getBlockByNumber", hexutil.Uint64(n), false); err != nil {
			t.Fatalf("block %d: %v", n, err)
		}
		seal, err := consensus.DecodeSeal(block.ExtraData)
		if err != nil || seal.Proof == nil {
			t.Fatalf("block %d: no merged-mining proof in extraData %x: %v", n, block.ExtraData, err)
		}
		prev := btcdPrevBlock(t, seal.Proof.BitcoinHeader)
		if _, err := node.Client.GetBlockHeader(&prev); err != nil {
			t.Errorf("block %d: its Bitcoin header builds on %v, unknown to btcd: %v", n, prev, err)
		}
	}
	if err := miner.stop(); err != nil {
		t.Errorf("mmminer did not exit cleanly on SIGINT: %v", err)
	}
}

// btcdSidechain is an in-process mmgeth --mine node on the regtest
// network with its own tag, serving HTTP on a free 127.0.0.1 port.
type btcdSidechain struct {
	*mmnode.Node
	tag string
}

func startBtcdSidechain(t *testing.T) *btcdSidechain {
	t.Helper()
	spec, err := genesis.Load("regtest")
	if err != nil {
		t.Fatal(err)
	}
	spec.MergeMining.Tag = "MMGETHTEST:"
	n, err := mmnode.New(mmnode.Config{Spec: spec, Mine: true, Etherbase: common.HexToAddress("0xe5"),
		HTTP: true, HTTPAddr: "127.0.0.1", ListenPort: -1, IPCDisable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &btcdSidechain{Node: n, tag: spec.MergeMining.Tag}
}

// btcdProcess is a command started by a test, stopped when it ends.
type btcdProcess struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // valid once exited is closed
	logPath string
}

func btcdStart(t *testing.T, name string, argv []string) *btcdProcess {
	t.Helper()
	dir := t.TempDir()
	p := &btcdProcess{name: name, exited: make(chan struct{}), logPath: filepath.Join(dir, name+".log")}
	out, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		start := time.Now()
		lines := 60
		if err := p.stop(); errors.Is(err, errBtcdKilled) {
			t.Errorf("%s did not exit within 15 s of SIGINT (goroutine dump at the end of its output)", name)
			lines = 2000
		}
		t.Logf("%s stopped in %v", name, time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("%s (%s) output, last lines:\n%s", name, strings.Join(argv, " "), btcdTail(p.logPath, lines))
		}
	})
	return p
}

// stop interrupts the process group, kills it after 15 s (SIGQUIT first, for
// a goroutine dump in its log), and returns how the process ended.
func (p *btcdProcess) stop() error {
	select {
	case <-p.exited:
		return p.err
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		// A Go program dumps its goroutines on SIGQUIT: the log then
		// shows where it hangs.
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGQUIT)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		p.err = fmt.Errorf("%w (%v)", errBtcdKilled, p.err)
	}
	return p.err
}

// errBtcdKilled: a process had to be killed.
var errBtcdKilled = errors.New("killed after 15 s")

func (p *btcdProcess) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// btcdWaitFor polls cond every 100 ms until it holds, failing the test after
// timeout or as soon as p exits.
func btcdWaitFor(t *testing.T, p *btcdProcess, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if !p.running() {
			t.Fatalf("waiting for %s: %s exited: %v", what, p.name, p.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func btcdHeight(t *testing.T, node *btcd.Node) int64 {
	t.Helper()
	h, err := node.Client.GetBlockCount()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// btcdPrevBlock is the previous-block hash of an 80-byte header.
func btcdPrevBlock(t *testing.T, header80 []byte) chainhash.Hash {
	t.Helper()
	h, err := mergemine.ParseHeader(header80)
	if err != nil {
		t.Fatal(err)
	}
	return h.PrevBlock
}

// btcdCommittedBlocks returns the hashes committed with tag in the coinbases
// of btcd's blocks above 101, from the tip down, at most limit of them (0:
// all), checking each such coinbase is btcd's own (it pays the node's
// mining address) with the commitment as its last output.
func btcdCommittedBlocks(t *testing.T, node *btcd.Node, tag []byte, limit int) [][32]byte {
	t.Helper()
	addr, err := btcd.MiningAddress()
	if err != nil {
		t.Fatal(err)
	}
	pay, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	var seals [][32]byte
	for h := btcdHeight(t, node); h > 101 && (limit == 0 || len(seals) < limit); h-- {
		hash, err := node.Client.GetBlockHash(h)
		if err != nil {
			t.Fatal(err)
		}
		block, err := node.Client.GetBlock(hash)
		if err != nil {
			t.Fatal(err)
		}
		coinbase := block.Transactions[0]
		seal, err := mergemine.CommittedHash(btcdNoWitness(t, coinbase), tag)
		if errors.Is(err, mergemine.ErrTagMissing) {
			continue
		}
		if err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		if !bytes.Equal(coinbase.TxOut[0].PkScript, pay) {
			t.Errorf("block %d: coinbase pays %x, not btcd's mining address", h, coinbase.TxOut[0].PkScript)
		}
		if last := coinbase.TxOut[len(coinbase.TxOut)-1].PkScript; !bytes.Equal(last, mergemine.CommitmentScript(tag, seal)) {
			t.Errorf("block %d: last output %x is not the commitment", h, last)
		}
		seals = append(seals, seal)
	}
	return seals
}

func btcdNoWitness(t *testing.T, tx *wire.MsgTx) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.SerializeNoWitness(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// btcdTail is the end of a log file, for failure reports.
func btcdTail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
