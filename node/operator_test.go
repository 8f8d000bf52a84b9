package node

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/genesis"
)

// TestVirtualHosts: geth's default lets requests naming "localhost" or an
// IP address through and refuses other host names; --http.vhosts adds them.
func TestVirtualHosts(t *testing.T) {
	spec, _ := genesis.Load("dev")
	status := func(n *Node, host string) int {
		req, _ := http.NewRequest(http.MethodPost, n.HTTPEndpoint(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	def, _ := startNode(t, Config{Spec: spec, Dev: true})
	named, _ := startNode(t, Config{Spec: spec, Dev: true, HTTPVirtualHosts: []string{"node.example"}})
	for _, c := range []struct {
		n    *Node
		host string
		want int
	}{
		{def, "localhost", 200}, {def, "127.0.0.1:8545", 200}, {def, "node.example", 403},
		{named, "node.example:8545", 200}, {named, "other.example", 403},
	} {
		if got := status(c.n, c.host); got != c.want {
			t.Errorf("Host %s: %d, want %d", c.host, got, c.want)
		}
	}
}

// TestWSOrigins: a browser origin not allowed is refused the WebSocket;
// geth's default allows localhost, --ws.origins others.
func TestWSOrigins(t *testing.T) {
	spec, _ := genesis.Load("dev")
	upgrade := func(n *Node, origin string) int {
		req, _ := http.NewRequest(http.MethodGet, "http"+strings.TrimPrefix(n.WSEndpoint(), "ws"), nil)
		for k, v := range map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13", "Origin": origin} {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	def, _ := startNode(t, Config{Spec: spec, Dev: true, WS: true, WSAddr: "127.0.0.1"})
	app, _ := startNode(t, Config{Spec: spec, Dev: true, WS: true, WSAddr: "127.0.0.1", WSOrigins: []string{"https://app.example"}})
	for _, c := range []struct {
		n      *Node
		origin string
		want   int
	}{
		{def, "http://localhost:3000", 101}, {def, "https://evil.example", 403},
		{app, "https://app.example", 101}, {app, "http://localhost:3000", 403},
	} {
		if got := upgrade(c.n, c.origin); got != c.want {
			t.Errorf("origin %s: %d, want %d", c.origin, got, c.want)
		}
	}
}

func TestWSRefusesForeignModules(t *testing.T) {
	spec, _ := genesis.Load("dev")
	_, err := New(Config{Spec: spec, Dev: true, WS: true, WSAddr: "127.0.0.1", WSModules: []string{"eth", "admin"}, ListenPort: -1})
	if err == nil || !strings.Contains(err.Error(), "ws api admin: not served over WebSocket") {
		t.Fatalf("admin over WS: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "[::]:1": false, "192.168.1.2:1": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if isLoopback(a) != want {
			t.Errorf("isLoopback(%s) = %v", addr, !want)
		}
	}
}

// TestUnknownTransactionIsNull: on a fresh node (genesis only, the
// transaction indexer not yet run), unknown hashes are null, not
// "transaction indexing is in progress".
func TestUnknownTransactionIsNull(t *testing.T) {
	d := startDev(t, "")
	hash := common.HexToHash("0x1234")
	for _, method := range []string{"eth_getTransactionReceipt", "eth_getTransactionByHash"} {
		var res json.RawMessage
		if err := d.rpc.Call(&res, method, hash); err != nil || string(res) != "null" {
			t.Errorf("%s on a fresh node: %s %v, want null", method, res, err)
		}
	}
}

// recordHandler keeps the log records of one message.
type recordHandler struct {
	msg     string
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.mu.Lock()
		h.records = append(h.records, r)
		h.mu.Unlock()
	}
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// TestSealedBlockLog: each block this node seals is logged with its
// number, hash, Bitcoin header hash and whether that header is a real
// Bitcoin block.
func TestSealedBlockLog(t *testing.T) {
	rec := &recordHandler{msg: "Sealed block"}
	prev := log.Root()
	log.SetDefault(log.NewLogger(rec))
	defer log.SetDefault(prev)
	d := startDev(t, "")
	var b string
	if err := d.rpc.Call(&b, "evm_mine"); err != nil {
		t.Fatal(err)
	}
	head := d.Chain().CurrentBlock()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.records) != 1 {
		t.Fatalf("%d \"Sealed block\" lines for one block", len(rec.records))
	}
	attrs := map[string]string{}
	rec.records[0].Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	if attrs["number"] != head.Number.String() || attrs["hash"] != head.Hash().String() {
		t.Errorf("logged %v, head %d %s", attrs, head.Number, head.Hash())
	}
	if len(attrs["btc"]) != 64 || (attrs["bitcoinblock"] != "true" && attrs["bitcoinblock"] != "false") {
		t.Errorf("Bitcoin fields: %v", attrs)
	}
}

// TestMetricsServer: the safe and finalized gauges follow the chain's
// finality (what eth_getBlockByNumber returns), our metrics carry # HELP
// text, and /debug/metrics serves the registry as JSON, as geth does.
func TestMetricsServer(t *testing.T) {
	spec, _ := genesis.Load("dev")
	n, rc := startNode(t, Config{Spec: spec, Dev: true, Metrics: true, MetricsAddr: "127.0.0.1"})
	for i := 0; i < 5; i++ {
		var b string
		if err := rc.Call(&b, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) string {
		resp, err := http.Get("http://" + n.metrics.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	number := func(tag string) int64 {
		var h struct{ Number hexutil.Uint64 }
		if err := rc.Call(&h, "eth_getBlockByNumber", tag, false); err != nil {
			t.Fatal(err)
		}
		return int64(h.Number)
	}
	var page string
	deadline := time.Now().Add(10 * time.Second)
	for {
		page = get(MetricsPath)
		safe, fin := gaugeValue(page, "mmgeth_chain_head_safe"), gaugeValue(page, "mmgeth_chain_head_finalized")
		if safe == number("safe") && fin == number("finalized") && safe > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("safe %d finalized %d in metrics; RPC says %d and %d", safe, fin, number("safe"), number("finalized"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"# HELP mmgeth_chain_head_safe ", "# HELP mmgeth_chain_head Number of the head block.\n# TYPE mmgeth_chain_head gauge"} {
		if !strings.Contains(page, want) {
			t.Errorf("metrics page lacks %q", want)
		}
	}
	var vars map[string]any
	if err := json.Unmarshal([]byte(get(MetricsJSONPath)), &vars); err != nil {
		t.Fatal(err)
	}
	if _, ok := vars["mmgeth/chain/head"]; !ok {
		t.Errorf("/debug/metrics JSON has no mmgeth/chain/head")
	}
}

func gaugeValue(page, name string) int64 {
	m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindStringSubmatch(page)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseInt(m[1], 10, 64)
	return v
}
