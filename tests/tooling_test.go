package tests

// End-to-end proof that stock Foundry and Hardhat 3 work against a dev node
// with no flags beyond its URL and a dev key: deploys, calls, transfers,
// events, EIP-1559 transactions, and Prague opcodes (PUSH0, TSTORE/TLOAD,
// MCOPY). The tools come from tests/tooling/install.sh (npm only); the
// projects they run are in tests/tooling/.
//
//	go test ./tests/ -run 'TestFoundry|TestHardhat' -timeout 30m                       # against mmgeth --dev
//	MMGETH_E2E_NODE=anvil go test ./tests/ -run 'TestFoundry|TestHardhat' -timeout 30m # against anvil
//
// A first run installs (npm, ~20 s to a few minutes) and builds mmgeth, so it
// needs more than go test's default 10 minutes on a busy 2-core machine.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// storedTopic is topic 0 of Tooling's Stored(address indexed, uint256 indexed, uint256).
var storedTopic = crypto.Keccak256Hash([]byte("Stored(address,uint256,uint256)"))

// devAddress is the account of devKey.
var devAddress = common.HexToAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")

func TestFoundry(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	node := startDevNode(t)
	rpc := proxyRPC(t, node)
	dir := filepath.Join(tools.project(t), "foundry")
	key := []string{"--rpc-url", rpc.URL, "--private-key", devKey}

	chainID := tools.run(t, dir, nil, "cast", "chain-id", "--rpc-url", rpc.URL)
	if want := hexToBig(t, node.ChainID).String(); chainID != want {
		t.Fatalf("cast chain-id = %s, eth_chainId = %s", chainID, want)
	}

	// forge script: local simulation, then broadcast of deploy + 2 calls.
	out := tools.run(t, dir, nil, "forge", append([]string{"script", "script/Deploy.s.sol:Deploy", "--broadcast"}, key...)...)
	if !strings.Contains(out, "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL") {
		t.Fatalf("forge script did not report success:\n%s", out)
	}
	// Forge sends the three transactions at once; its broadcast file lists
	// them but may pair hashes with the wrong calls, so each receipt is
	// identified by what it holds.
	var run struct {
		Receipts []struct {
			TransactionHash string `json:"transactionHash"`
		} `json:"receipts"`
		Returns struct {
			Tooling struct {
				Value string `json:"value"`
			} `json:"tooling"`
		} `json:"returns"`
	}
	readJSON(t, filepath.Join(dir, "broadcast", "Deploy.s.sol", chainID, "run-latest.json"), &run)
	scripted := run.Returns.Tooling.Value
	if len(run.Receipts) != 3 || !common.IsHexAddress(scripted) {
		t.Fatalf("forge script broadcast %d receipts, returned tooling %q; want 3 and an address", len(run.Receipts), scripted)
	}
	var creates, stores int
	for _, r := range run.Receipts {
		rc := checkCastReceipt(t, tools, dir, rpc.URL, r.TransactionHash)
		switch {
		case rc.ContractAddress != "":
			creates++
			if !strings.EqualFold(rc.ContractAddress, scripted) {
				t.Fatalf("script returned %s, its deployment receipt says %s", scripted, rc.ContractAddress)
			}
		case len(rc.Logs) > 0:
			stores++
			checkStored(t, rc.Logs, scripted, 7, 42)
		}
	}
	if creates != 1 || stores != 1 {
		t.Fatalf("forge script receipts: %d deployments and %d with Stored events, want 1 and 1", creates, stores)
	}
	expectCall(t, tools, dir, rpc.URL, scripted, "42", "values(uint256)(uint256)", "7")
	expectCall(t, tools, dir, rpc.URL, scripted, "42", "total()(uint256)")
	expectCall(t, tools, dir, rpc.URL, scripted, "0", "peek()(uint256)")

	// forge create, then cast send / cast call against that instance.
	var created struct {
		DeployedTo      string `json:"deployedTo"`
		TransactionHash string `json:"transactionHash"`
	}
	decodeJSON(t, tools.run(t, dir, nil, "forge", append([]string{"create", "src/Tooling.sol:Tooling", "--broadcast", "--json"}, key...)...), &created)
	if rc := checkCastReceipt(t, tools, dir, rpc.URL, created.TransactionHash); !strings.EqualFold(rc.ContractAddress, created.DeployedTo) {
		t.Fatalf("forge create deployed to %s, receipt says %s", created.DeployedTo, rc.ContractAddress)
	}
	addr := created.DeployedTo

	var sent txReceipt
	decodeJSON(t, tools.run(t, dir, nil, "cast", append([]string{"send", addr, "store(uint256,uint256)", "9", "900", "--json"}, key...)...), &sent)
	checkReceipt(t, "cast send store", sent)
	checkStored(t, sent.Logs, addr, 9, 900)
	expectCall(t, tools, dir, rpc.URL, addr, "900", "values(uint256)(uint256)", "9")
	// The same read over WebSocket.
	expectCall(t, tools, dir, node.WSURL, addr, "900", "values(uint256)(uint256)", "9")

	// Transient storage and MCOPY: mix(5) = (5 + 6, ~5) in a call; in a
	// transaction it succeeds and leaves nothing in transient storage.
	expectCall(t, tools, dir, rpc.URL, addr,
		"11\n0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa", "mix(uint256)(uint256,bytes32)", "5")
	decodeJSON(t, tools.run(t, dir, nil, "cast", append([]string{"send", addr, "mix(uint256)", "5", "--json"}, key...)...), &sent)
	checkReceipt(t, "cast send mix", sent)
	expectCall(t, tools, dir, rpc.URL, addr, "0", "peek()(uint256)")

	// The deployed code really uses the Prague-era opcodes.
	code := tools.run(t, dir, nil, "cast", "code", addr, "--rpc-url", rpc.URL)
	asm := tools.run(t, dir, nil, "cast", "disassemble", code)
	for _, op := range []string{"PUSH0", "TSTORE", "TLOAD", "MCOPY"} {
		if !strings.Contains(asm, " "+op) {
			t.Errorf("deployed code has no %s:\n%s", op, asm)
		}
	}

	// A value transfer.
	const to = "0x00000000000000000000000000000000000E2E01"
	before := hexOrDec(t, tools.run(t, dir, nil, "cast", "balance", to, "--rpc-url", rpc.URL))
	decodeJSON(t, tools.run(t, dir, nil, "cast", append([]string{"send", to, "--value", "1ether", "--json"}, key...)...), &sent)
	checkReceipt(t, "cast send transfer", sent)
	after := hexOrDec(t, tools.run(t, dir, nil, "cast", "balance", to, "--rpc-url", rpc.URL))
	if got := new(big.Int).Sub(after, before); got.Cmp(big.NewInt(1e18)) != 0 {
		t.Fatalf("transfer of 1 ether moved %s wei", got)
	}
}

func TestHardhat(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	node := startDevNode(t)
	rpc := proxyRPC(t, node)
	dir := tools.hardhatProject(t)
	env := []string{
		"RPC_URL=" + rpc.URL,
		"WS_URL=" + node.WSURL,
		"PRIVATE_KEY=" + devKey,
	}

	tools.run(t, dir, env, "hardhat", "build")
	var artifact struct {
		DeployedBytecode string `json:"deployedBytecode"`
	}
	readJSON(t, filepath.Join(dir, "artifacts", "contracts", "Tooling.sol", "Tooling.json"), &artifact)
	if len(artifact.DeployedBytecode) < 100 {
		t.Fatalf("hardhat build wrote no bytecode for Tooling")
	}

	// With the default config Ignition waits for 5 confirmations unless the
	// node says it automines, which on an automine node would never come.
	var automine bool
	if err := rpcCall(context.Background(), rpc.URL, &automine, "hardhat_getAutomine"); err != nil || !automine {
		t.Fatalf("hardhat_getAutomine = %v, %v; a dev node must answer true, or Hardhat Ignition "+
			"waits for 5 confirmations that an automine chain only makes when more transactions come", automine, err)
	}
	// Ignition asks "Confirm deploy to network …?" on any chain id but
	// 31337, and without a terminal takes the silence for a no ("Deploy
	// cancelled", exit 1): run without one and without
	// HARDHAT_IGNITION_CONFIRM_DEPLOYMENT, the deploy succeeds only if no
	// prompt came. On 31337 it calls hardhat_metadata instead.
	if slices.ContainsFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=") }) {
		t.Fatal("HARDHAT_IGNITION_CONFIRM_DEPLOYMENT is set: the test could not tell whether Ignition would prompt")
	}
	out := tools.run(t, dir, env, "hardhat", "ignition", "deploy", "ignition/modules/Tooling.js", "--network", "mmgeth")
	if strings.Contains(out, "Confirm deploy") || strings.Contains(out, "Deploy cancelled") || !strings.Contains(out, "successfully deployed") {
		t.Fatalf("ignition deploy did not report success:\n%s", out)
	}
	var deployed map[string]string
	readJSON(t, filepath.Join(dir, "ignition", "deployments", "chain-"+hexToBig(t, node.ChainID).String(), "deployed_addresses.json"), &deployed)
	ignitionAddress := deployed["ToolingModule#Tooling"]
	if !common.IsHexAddress(ignitionAddress) {
		t.Fatalf("ignition deployed_addresses.json: %v", deployed)
	}

	for _, script := range []string{"scripts/ethers.js", "scripts/viem.js"} {
		out := tools.run(t, dir, append(env, "IGNITION_ADDRESS="+ignitionAddress), "hardhat", "run", script, "--network", "mmgeth")
		var result struct {
			ChainID json.Number `json:"chainId"`
			Address string      `json:"address"`
			StoreTx string      `json:"storeTx"`
		}
		t.Logf("%s progress:\n%s", script, out)
		line, ok := lastLineWithPrefix(out, "RESULT ")
		if !ok {
			t.Fatalf("%s printed no RESULT line:\n%s", script, out)
		}
		decodeJSON(t, line, &result)
		if result.ChainID.String() != hexToBig(t, node.ChainID).String() {
			t.Errorf("%s saw chain id %s, node says %s", script, result.ChainID, node.ChainID)
		}
		// Check the script's own claims from outside, with plain JSON-RPC.
		var rc txReceipt
		if err := rpcCall(context.Background(), rpc.URL, &rc, "eth_getTransactionReceipt", result.StoreTx); err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		checkReceipt(t, script+" store", rc)
		if len(rc.Logs) != 1 || !strings.EqualFold(rc.Logs[0].Address, result.Address) {
			t.Errorf("%s store receipt logs %+v, want one from %s", script, rc.Logs, result.Address)
		}
	}
}

// tooling is an installed tests/tooling/install.sh.
type tooling struct {
	dir string // its install dir
	src string // tests/tooling of this checkout
}

var (
	installOnce sync.Once
	installOut  []byte
	installErr  error
	installTook time.Duration
)

// installTooling runs tests/tooling/install.sh once per test binary (it is
// a no-op when its stamp is current). Failing to install fails the test:
// these tests must never pass by not running.
func installTooling(t *testing.T) *tooling {
	t.Helper()
	tl := &tooling{dir: toolingDir(t), src: filepath.Join(repoRoot(t), "tests", "tooling")}
	installOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(tl.src, "install.sh"))
		cmd.Env = append(os.Environ(), "MMGETH_TOOLING_DIR="+tl.dir)
		installOut, installErr = cmd.CombinedOutput()
		installTook = time.Since(start)
	})
	if installErr != nil {
		t.Fatalf("tests/tooling/install.sh: %v\n%s", installErr, installOut)
	}
	t.Logf("tooling in %s (install.sh took %s)", tl.dir, installTook.Round(time.Millisecond))
	return tl
}

// project copies tests/tooling into a temp dir, without build output, so
// that the tools write artifacts, broadcasts and Ignition journals there
// and every run starts clean. Symlinks are kept (hardhat/contracts links
// to foundry/src).
func (tl *tooling) project(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "tooling")
	skip := []string{"node_modules", "out", "cache", "broadcast", "artifacts", "deployments"}
	err := filepath.WalkDir(tl.src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && slices.Contains(skip, d.Name()) {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(tl.src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
	})
	if err != nil {
		t.Fatalf("copy %s: %v", tl.src, err)
	}
	return dst
}

// hardhatProject is a fresh copy of the Hardhat project (see project) with
// the installed node_modules linked in.
func (tl *tooling) hardhatProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(tl.project(t), "hardhat")
	if err := os.Symlink(filepath.Join(tl.dir, "hardhat", "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs one of the installed tools in dir with a timeout and returns its
// trimmed stdout; a non-zero exit fails the test with everything it printed.
// The environment points the tools at the install only: Node 22 first on
// PATH, a fresh HOME (nothing read from or left in the user's), no colours.
func (tl *tooling) run(t *testing.T, dir string, env []string, tool string, args ...string) string {
	t.Helper()
	var bin string
	timeout := 3 * time.Minute
	switch tool {
	case "forge", "cast", "node":
		bin = filepath.Join(tl.dir, "bin", tool)
	case "hardhat":
		bin = filepath.Join(dir, "node_modules", ".bin", "hardhat")
		timeout = 5 * time.Minute
	default:
		t.Fatalf("unknown tool %s", tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Join(tl.dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(),
		"MMGETH_TOOLING_DIR="+tl.dir,
		"NO_COLOR=1",
		"FOUNDRY_DISABLE_NIGHTLY_WARNING=1",
	)
	cmd.Env = append(cmd.Env, env...)
	// Hardhat runs solc-js in child processes: on timeout stop them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	line := tool
	for _, a := range args {
		if len(a) > 70 { // bytecode
			a = a[:66] + "..."
		}
		line += " " + a
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (timeout %s)", err, timeout)
		}
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", line, err, stdout.String(), stderr.String())
	}
	t.Logf("%s (%s)", line, time.Since(start).Round(time.Millisecond))
	return strings.TrimSpace(stdout.String())
}

// txReceipt is the part of a JSON-RPC receipt (as cast --json also
// prints it) that the tests check.
type txReceipt struct {
	TransactionHash string       `json:"transactionHash"`
	Status          string       `json:"status"`
	Type            string       `json:"type"`
	ContractAddress string       `json:"contractAddress"`
	Logs            []receiptLog `json:"logs"`
}

type receiptLog struct {
	Address string        `json:"address"`
	Topics  []common.Hash `json:"topics"`
	Data    string        `json:"data"`
}

// checkReceipt fails unless the transaction succeeded as EIP-1559 (type 2).
func checkReceipt(t *testing.T, what string, rc txReceipt) {
	t.Helper()
	if rc.Status != "0x1" || rc.Type != "0x2" {
		t.Fatalf("%s: receipt of %s has status %q type %q, want 0x1 and 0x2", what, rc.TransactionHash, rc.Status, rc.Type)
	}
}

// checkCastReceipt reads a receipt with `cast receipt --json` and checks it.
func checkCastReceipt(t *testing.T, tl *tooling, dir, url, hash string) txReceipt {
	t.Helper()
	var rc txReceipt
	decodeJSON(t, tl.run(t, dir, nil, "cast", "receipt", hash, "--json", "--rpc-url", url), &rc)
	checkReceipt(t, "cast receipt", rc)
	return rc
}

// checkStored fails unless logs are exactly one Stored(devAddress, key, value) from addr.
func checkStored(t *testing.T, logs []receiptLog, addr string, key, value int64) {
	t.Helper()
	want := []common.Hash{storedTopic, common.BytesToHash(devAddress.Bytes()), common.BigToHash(big.NewInt(key))}
	if len(logs) != 1 || !strings.EqualFold(logs[0].Address, addr) || !slices.Equal(logs[0].Topics, want) ||
		logs[0].Data != common.BigToHash(big.NewInt(value)).Hex() {
		t.Fatalf("logs %+v, want one Stored(%s, %d, %d) from %s", logs, devAddress, key, value, addr)
	}
}

// expectCall runs `cast call` and compares its decoded output.
func expectCall(t *testing.T, tl *tooling, dir, url, addr, want, sig string, args ...string) {
	t.Helper()
	got := tl.run(t, dir, nil, "cast", append([]string{"call", addr, sig, "--rpc-url", url}, args...)...)
	if got != want {
		t.Fatalf("cast call %s %s via %s = %q, want %q", sig, strings.Join(args, " "), url, got, want)
	}
}

// rpcProxy sits between the tools and the node's HTTP endpoint. It counts
// the JSON-RPC methods the tools call and the errors the node answers, so a
// failure shows which call the node refused, and the log lists what each
// tool needs from a node. In front of anvil it also answers "method not
// found" for anvil's own extensions (anvil_*, hardhat_*, eth_getAccountInfo)
// that the tools probe for and then take shortcuts on: this way they behave
// as they will against mmgeth, whose RPC is geth's.
type rpcProxy struct {
	URL    string
	hide   func(method string) bool
	mu     sync.Mutex
	calls  map[string]int
	errors map[string]string // method -> first error answered
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Error  *rpcError       `json:"error"`
}

func proxyRPC(t *testing.T, node *devNode) *rpcProxy {
	t.Helper()
	p := &rpcProxy{calls: map[string]int{}, errors: map[string]string{}, hide: func(string) bool { return false }}
	if node.Kind == "anvil" {
		p.hide = anvilExtension
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reqs, batch := decodeRPC(body)
		for _, m := range reqs {
			if !p.hide(m.Method) {
				continue
			}
			if batch {
				t.Errorf("a tool asked for %s in a batch: the proxy cannot hide it there", m.Method)
				break
			}
			reply, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID,
				"error": rpcError{Code: -32601, Message: "the method " + m.Method + " does not exist/is not available"}})
			p.note(reqs, reply)
			w.Header().Set("Content-Type", "application/json")
			w.Write(reply)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, node.HTTPURL+r.URL.Path, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		reply, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.note(reqs, reply)
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(reply)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	p.URL = "http://" + l.Addr().String()
	t.Cleanup(func() {
		srv.Close()
		t.Log(p.summary())
	})
	return p
}

// anvilExtension tells anvil's non-geth methods, which mmgeth does not
// serve. hardhat_getAutomine and hardhat_metadata are kept: mmgeth serves
// them for Hardhat Ignition.
func anvilExtension(method string) bool {
	if method == "hardhat_getAutomine" || method == "hardhat_metadata" {
		return false
	}
	ns, _, _ := strings.Cut(method, "_")
	return method == "eth_getAccountInfo" || !slices.Contains([]string{"eth", "net", "web3"}, ns)
}

// decodeRPC reads a JSON-RPC request or reply, single or batch.
func decodeRPC(body []byte) (msgs []rpcMessage, batch bool) {
	if json.Unmarshal(body, &msgs) == nil {
		return msgs, true
	}
	var one rpcMessage
	if json.Unmarshal(body, &one) != nil {
		return nil, false
	}
	return []rpcMessage{one}, false
}

// note records the methods of a request and, by id, the errors in its reply.
func (p *rpcProxy) note(reqs []rpcMessage, reply []byte) {
	reps, _ := decodeRPC(reply)
	methods := map[string]string{}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range reqs {
		p.calls[m.Method]++
		methods[string(m.ID)] = m.Method
	}
	for _, m := range reps {
		if method := methods[string(m.ID)]; m.Error != nil && p.errors[method] == "" {
			p.errors[method] = m.Error.Error()
		}
	}
}

func (p *rpcProxy) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	methods := make([]string, 0, len(p.calls))
	for m := range p.calls {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	var b strings.Builder
	b.WriteString("JSON-RPC methods the tools called over HTTP (count, first error if any):")
	for _, m := range methods {
		fmt.Fprintf(&b, "\n  %-32s %5d", m, p.calls[m])
		if e := p.errors[m]; e != "" {
			fmt.Fprintf(&b, "  %s", e)
		}
		if p.hide(m) {
			b.WriteString(" (answered by the test proxy: anvil-only)")
		}
	}
	return b.String()
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %.500q: %v", s, err)
	}
}

func lastLineWithPrefix(out, prefix string) (string, bool) {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(lines[i], prefix); ok {
			return rest, true
		}
	}
	return "", false
}

func hexToBig(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(strings.TrimPrefix(s, "0x"), 16)
	if !ok || !strings.HasPrefix(s, "0x") {
		t.Fatalf("not a hex quantity: %q", s)
	}
	return n
}

// hexOrDec parses a number as cast prints it.
func hexOrDec(t *testing.T, s string) *big.Int {
	t.Helper()
	if strings.HasPrefix(s, "0x") {
		return hexToBig(t, s)
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
