package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devKey is the first key of the "test test ... junk" mnemonic: the first
// dev account of both mmgeth --dev and anvil.
const devKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

// devNode is a running dev-mode node that a test talks JSON-RPC to.
type devNode struct {
	Kind    string // "mmgeth" or "anvil"
	HTTPURL string
	WSURL   string
	ChainID string // eth_chainId as the node answered it, hex
	logPath string
}

// startDevNode starts a dev-mode node on free 127.0.0.1 ports, waits until it
// answers eth_chainId, and stops it when the test ends; if the test failed,
// the end of the node's log is printed. MMGETH_E2E_NODE picks the node:
// unset or "mmgeth" builds ./cmd/mmgeth into a temp dir and runs
// `mmgeth --dev`; "anvil" runs the anvil that tests/tooling/install.sh
// installs, to check the harness itself against a reference node.
func startDevNode(t *testing.T) *devNode {
	t.Helper()
	dir := t.TempDir()
	node := &devNode{Kind: e2eNodeKind(), logPath: filepath.Join(dir, "node.log")}
	ports := freePorts(t, 2)
	var argv []string
	switch node.Kind {
	case "mmgeth":
		bin := binary(t, "./cmd/mmgeth")
		argv = []string{bin, "--dev",
			"--http", "--http.addr", "127.0.0.1", "--http.port", fmt.Sprint(ports[0]),
			"--ws", "--ws.addr", "127.0.0.1", "--ws.port", fmt.Sprint(ports[1])}
		node.HTTPURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		node.WSURL = fmt.Sprintf("ws://127.0.0.1:%d", ports[1])
	case "anvil":
		bin := filepath.Join(toolingDir(t), "bin", "anvil")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("MMGETH_E2E_NODE=anvil needs anvil from tests/tooling/install.sh: %v", err)
		}
		// anvil serves HTTP and WebSocket on one port; its chain id is
		// 31337 as mmgeth --dev's.
		argv = []string{bin, "--host", "127.0.0.1", "--port", fmt.Sprint(ports[0])}
		node.HTTPURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		node.WSURL = fmt.Sprintf("ws://127.0.0.1:%d", ports[0])
	default:
		t.Fatalf("MMGETH_E2E_NODE=%q: want mmgeth or anvil", node.Kind)
	}

	p := startProcess(t, node.Kind, argv, dir, node.logPath)
	p.waitRPC(t, node.HTTPURL, 90*time.Second)
	var id string
	if err := rpcCall(context.Background(), node.HTTPURL, &id, "eth_chainId"); err != nil {
		t.Fatal(err)
	}
	node.ChainID = id
	t.Logf("%s dev node up: %s %s, chain id %s", node.Kind, node.HTTPURL, node.WSURL, id)
	return node
}

// e2eNodeKind is the dev node MMGETH_E2E_NODE picks: "mmgeth" unless set.
func e2eNodeKind() string {
	if kind := os.Getenv("MMGETH_E2E_NODE"); kind != "" {
		return kind
	}
	return "mmgeth"
}

// process is a server a test started in its own process group.
type process struct {
	name    string
	argv    []string
	cmd     *exec.Cmd
	exited  chan error
	logPath string
}

// startProcess runs argv in dir with its output in logPath; the process is
// stopped when the test ends, and its log tail printed if the test failed.
func startProcess(t *testing.T, name string, argv []string, dir, logPath string) *process {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	// Whatever the node keeps under $HOME by default stays in the temp dir.
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group, so that stopping the node also stops any child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, argv: argv, cmd: cmd, exited: make(chan error, 1), logPath: logPath}
	go func() { p.exited <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("last lines of the %s log (%s):\n%s", name, strings.Join(argv, " "), tailFile(logPath, 150))
		}
	})
	return p
}

// stop ends the process gracefully (SIGTERM, SIGKILL after 10 s).
func (p *process) stop() { stopProcessGroup(p.cmd.Process.Pid, p.exited) }

// kill ends the process at once, as a crash or power cut would.
func (p *process) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.exited <- <-p.exited
}

// waitRPC waits until url answers eth_chainId.
func (p *process) waitRPC(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var id string
		err := rpcCall(ctx, url, &id, "eth_chainId")
		if err == nil {
			return
		}
		select {
		case werr := <-p.exited:
			p.exited <- werr // for the cleanup
			t.Fatalf("%s exited before serving RPC: %v", p.name, werr)
		case <-ctx.Done():
			t.Fatalf("%s did not answer eth_chainId on %s within %s: %v", p.name, url, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopProcessGroup sends SIGTERM to the group led by pid, SIGKILL after 10s,
// and waits for the leader to be reaped.
func stopProcessGroup(pid int, exited chan error) {
	select {
	case err := <-exited:
		exited <- err
		syscall.Kill(-pid, syscall.SIGKILL) // children left behind, if any
		return
	default:
	}
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
	case <-time.After(10 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		exited <- <-exited
	}
}

// freePorts returns n distinct ports that were free on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are picked, so they differ
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// rpcError is a JSON-RPC error object answered by a node.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// rpcCall does one JSON-RPC call over HTTP and decodes its result into result.
func rpcCall(ctx context.Context, url string, result any, method string, params ...any) error {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("%s: HTTP %d, undecodable reply %.200q: %v", method, resp.StatusCode, raw, err)
	}
	if reply.Error != nil {
		return fmt.Errorf("%s: %w", method, reply.Error)
	}
	if reply.Result == nil {
		return fmt.Errorf("%s: reply without result", method)
	}
	return json.Unmarshal(reply.Result, result)
}

// repoRoot is the checkout's root: the parent of this package's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: %v", root, err)
	}
	return root
}

// toolingDir is where tests/tooling/install.sh installs: $MMGETH_TOOLING_DIR,
// else $MMGETH_TEST_CACHE/tooling, else <repo>/.cache/tooling.
func toolingDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MMGETH_TOOLING_DIR")
	if dir == "" {
		cache := os.Getenv("MMGETH_TEST_CACHE")
		if cache == "" {
			cache = filepath.Join(repoRoot(t), ".cache")
		}
		dir = filepath.Join(cache, "tooling")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// tailFile returns the last n lines of a file, or why it could not.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		lines = append(lines, "(log unreadable past here: "+err.Error()+")")
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
