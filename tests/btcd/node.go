package btcd

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
)

const (
	rpcUser = "mmgeth"

	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
	// matureBlocks are mined at start: the first coinbase matures and the
	// tip is recent, which getblocktemplate requires.
	matureBlocks = 101
)

// Node is a running btcd regtest node.
type Node struct {
	RPCAddr    string // 127.0.0.1:port, HTTP without TLS
	User, Pass string
	MiningAddr string
	// Client is an HTTP POST-mode client of the node.
	Client *rpcclient.Client

	dir    string
	btcctl string
	args   []string
	cmd    *exec.Cmd
	exited chan struct{}
}

// RPCURL is the node's JSON-RPC endpoint.
func (n *Node) RPCURL() string { return "http://" + n.RPCAddr }

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a fresh btcd regtest node and mines its first 101 blocks; it
// is stopped, and its directory removed, when the test ends.
func Start(t testing.TB) *Node {
	t.Helper()
	btcdPath, btcctlPath := Install(t)
	addr, err := MiningAddress()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n := &Node{
		RPCAddr:    "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		User:       rpcUser,
		Pass:       rpcPass(t),
		MiningAddr: addr.EncodeAddress(),
		dir:        dir,
		btcctl:     btcctlPath,
	}
	n.args = []string{btcdPath,
		"--regtest", "--notls", "--nolisten",
		"--datadir=" + filepath.Join(dir, "data"), "--logdir=" + filepath.Join(dir, "logs"),
		"--rpcuser=" + n.User, "--rpcpass=" + n.Pass, "--rpclisten=" + n.RPCAddr,
		"--miningaddr=" + n.MiningAddr}
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.stop(t) })

	n.Client, err = rpcclient.New(&rpcclient.ConnConfig{
		Host: n.RPCAddr, User: n.User, Pass: n.Pass, HTTPPostMode: true, DisableTLS: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.waitRPC(); err != nil {
		t.Fatal(err)
	}
	n.Ctl(t, "generate", strconv.Itoa(matureBlocks))
	return n
}

// rpcPass is a password of this node's own: FreePort's port can be taken
// by another package's btcd before this one binds it, and with one shared
// password the test would talk to that node without noticing (TestRelay
// once found a block it never mined); a stranger now answers 401, and
// waitRPC keeps waiting for this node.
func rpcPass(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "mmgeth-test-" + hex.EncodeToString(b)
}

// start runs btcd with n.args, its output appended to btcd.out.
func (n *Node) start() error {
	out, err := os.OpenFile(filepath.Join(n.dir, "btcd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// btcd still creates an empty ~/.btcd (it finds the home directory
	// from the user database, not $HOME); all it writes goes to dir.
	cmd := exec.Command(n.args[0], n.args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		out.Close()
		close(exited)
	}()
	n.cmd, n.exited = cmd, exited
	return nil
}

func (n *Node) waitRPC() error {
	deadline := time.Now().Add(startTimeout)
	for {
		_, err := n.Client.GetBlockCount()
		if err == nil {
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("btcd exited at start: %s", n.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("btcd RPC not up after %v: %v", startTimeout, err)
		}
	}
}

// Ctl runs btcctl against the node and returns its trimmed output. Its
// (empty) config file is passed explicitly so that btcctl creates none in
// the home directory.
func (n *Node) Ctl(t testing.TB, args ...string) string {
	t.Helper()
	conf := filepath.Join(n.dir, "btcctl.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(n.btcctl, append([]string{"-C", conf, "--regtest", "--notls",
		"--rpcuser=" + n.User, "--rpcpass=" + n.Pass, "--rpcserver=" + n.RPCAddr}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("btcctl %s: %v: %s", strings.Join(args, " "), err, exit.Stderr)
		}
		t.Fatalf("btcctl %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// stop interrupts btcd, which shuts down cleanly, and kills it if it has
// not exited in time.
func (n *Node) stop(t testing.TB) {
	if n.Client != nil {
		n.Client.Shutdown()
	}
	n.interrupt()
	if t.Failed() {
		t.Logf("btcd output (last lines):\n%s", n.logTail(40))
	}
}

func (n *Node) interrupt() {
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.exited:
	case <-time.After(stopTimeout):
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// logTail is the end of btcd's output, for failure reports.
func (n *Node) logTail(lines int) string {
	f, err := os.Open(filepath.Join(n.dir, "btcd.out"))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var all []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		all = append(all, s.Text())
	}
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// StartWithoutMiningAddr is Start, then a restart of the same node without
// --miningaddr: btcd's generate needs one to mine the first blocks, and a
// miner that builds its own coinbase (mmminer --btc.address) needs none.
func StartWithoutMiningAddr(t testing.TB) *Node {
	t.Helper()
	n := Start(t)
	n.Client.Shutdown()
	n.interrupt()
	n.args = slices.DeleteFunc(n.args, func(a string) bool { return strings.HasPrefix(a, "--miningaddr=") })
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	var err error
	n.Client, err = rpcclient.New(&rpcclient.ConnConfig{
		Host: n.RPCAddr, User: n.User, Pass: n.Pass, HTTPPostMode: true, DisableTLS: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.waitRPC(); err != nil {
		t.Fatal(err)
	}
	return n
}
