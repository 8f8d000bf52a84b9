package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/rpc"
)

// configFrom parses args as the node command does and returns the config
// nodeConfig builds from them.
func configFrom(t *testing.T, args ...string) node.Config {
	t.Helper()
	var cfg node.Config
	app := newApp()
	app.Action = func(ctx *cli.Context) error {
		if err := applyConfigFile(ctx); err != nil {
			return err
		}
		spec, err := loadSpec(ctx)
		if err != nil {
			return err
		}
		cfg, err = nodeConfig(ctx, spec)
		return err
	}
	if err := app.Run(append([]string{"mmgeth"}, args...)); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRPCLimitFlags: the RPC hardening flags reach the node's config, and
// their defaults are geth's where geth has the flag.
func TestRPCLimitFlags(t *testing.T) {
	def := configFrom(t, "--dev")
	if !slices.Equal(def.HTTPVirtualHosts, []string{"localhost"}) || def.WSOrigins != nil {
		t.Errorf("defaults: vhosts %v, ws origins %v; want [localhost] and geth's default (nil)", def.HTTPVirtualHosts, def.WSOrigins)
	}
	if def.HTTPMaxConns != node.DefaultHTTPMaxConns || def.WSMaxConns != node.DefaultWSMaxConns ||
		def.MaxSubscriptions != rpc.DefaultMaxSubscriptions || def.TraceLimit != rpc.DefaultTraceLimit {
		t.Errorf("default limits: %d %d %d %d", def.HTTPMaxConns, def.WSMaxConns, def.MaxSubscriptions, def.TraceLimit)
	}
	if !slices.Equal(def.HTTPCors, node.DevCORS) || slices.Contains(def.HTTPCors, "*") {
		t.Errorf("--dev CORS %v, want %v (no wildcard)", def.HTTPCors, node.DevCORS)
	}

	cfg := configFrom(t, "--dev", "--http.vhosts", "node.example,localhost", "--ws.origins", "https://app.example",
		"--http.maxconns", "7", "--ws.maxconns", "8", "--ws.maxsubscriptions", "9", "--rpc.tracelimit", "3",
		"--http.corsdomain", "*")
	if !slices.Equal(cfg.HTTPVirtualHosts, []string{"node.example", "localhost"}) ||
		!slices.Equal(cfg.WSOrigins, []string{"https://app.example"}) ||
		cfg.HTTPMaxConns != 7 || cfg.WSMaxConns != 8 || cfg.MaxSubscriptions != 9 || cfg.TraceLimit != 3 {
		t.Errorf("flags not wired: %+v", cfg)
	}
	if !slices.Equal(cfg.HTTPCors, []string{"*"}) {
		t.Errorf("--dev --http.corsdomain '*': CORS %v; an explicit wildcard must be kept", cfg.HTTPCors)
	}
}

// run runs mmgeth with args and returns its error and what it printed on
// stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	runErr := newApp().Run(append([]string{"mmgeth"}, args...))
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	return string(out), runErr
}

// TestDevFlags: --dev.chainid sets the dev chain's id (and network id)
// where init writes it; it needs --dev; --gcmode takes full or archive only.
func TestDevFlags(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "init", "--dev", "--dev.chainid", "4242", "--datadir", dir); err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join(dir, "mmgeth", "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(spec), `"chainId": 4242`) || !strings.Contains(string(spec), `"networkId": 4242`) {
		t.Fatalf("init --dev --dev.chainid 4242 wrote:\n%s", spec)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--regtest", "--dev.chainid", "5"}, "--dev.chainid needs --dev"},
		{[]string{"--dev", "--dev.chainid", "0"}, "0 is not a chain id"},
		{[]string{"--dev", "--gcmode", "pruned"}, `--gcmode "pruned": want full or archive`},
	} {
		if _, err := run(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("mmgeth %s: %v; want an error saying %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestBtcAddress: `mmgeth btcaddress --regtest` prints a regtest address
// and nothing else on stdout, a fresh one each time.
func TestBtcAddress(t *testing.T) {
	seen := map[string]bool{}
	for range 2 {
		out, err := run(t, "btcaddress", "--regtest")
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSpace(out)
		addr, err := address.DecodeAddress(line, &chaincfg.RegressionNetParams)
		if err != nil || !addr.IsForNet(&chaincfg.RegressionNetParams) || seen[line] {
			t.Fatalf("btcaddress printed %q (%v); want a new regtest address", out, err)
		}
		seen[line] = true
	}
	if _, err := run(t, "btcaddress"); err == nil {
		t.Fatal("btcaddress without a network succeeded")
	}
}

func TestDevGCTarget(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		dev  bool
		env  string
		want int
	}{{true, "", devGCPercent}, {false, "", 100}, {true, "150", 100}} {
		t.Setenv("GOGC", tc.env)
		debug.SetGCPercent(100)
		tuneGC(tc.dev)
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("dev %v, GOGC %q: GC percent %d, want %d", tc.dev, tc.env, got, tc.want)
		}
	}
}
