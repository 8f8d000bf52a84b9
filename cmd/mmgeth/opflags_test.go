package main

import (
	"encoding/json"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/p2p/nat"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/rpc"
)

// operatorArgs set every operator flag to a value other than its default.
var operatorArgs = []string{
	"--dev", "--cache", "2048", "--syncmode", "full", "--nat", "extip:203.0.113.7",
	"--rpc.gascap", "7000000", "--rpc.txfeecap", "0.25",
	"--txpool.pricelimit", "3", "--txpool.accountslots", "5", "--txpool.globalslots", "600",
	"--txpool.accountqueue", "7", "--txpool.globalqueue", "800", "--txpool.lifetime", "90m",
	"--ipcpath", "/tmp/x.ipc", "--maxpendpeers", "33",
	"--http.api", "eth,net", "--http.vhosts", "a.example", "--http.vhosts", "b.example",
}

// TestOperatorFlags: geth's operator flags reach the node's config, with
// geth's meanings where the rpc package's differ (0 = no cap), and bad
// values are refused with an error naming the flag.
func TestOperatorFlags(t *testing.T) {
	cfg := configFrom(t, operatorArgs...)
	wantPool := legacypool.Config{PriceLimit: 3, PriceBump: legacypool.DefaultConfig.PriceBump, AccountSlots: 5,
		GlobalSlots: 600, AccountQueue: 7, GlobalQueue: 800, Lifetime: 90 * time.Minute}
	if cfg.Cache != 2048 || cfg.RPCGasCap != 7_000_000 || cfg.RPCTxFeeCap != 0.25 || cfg.IPCPath != "/tmp/x.ipc" ||
		cfg.MaxPendingPeers != 33 || cfg.TxPool == nil || !reflect.DeepEqual(*cfg.TxPool, wantPool) {
		t.Errorf("flags not wired: cache %d gascap %d txfeecap %v ipc %q pending %d pool %+v",
			cfg.Cache, cfg.RPCGasCap, cfg.RPCTxFeeCap, cfg.IPCPath, cfg.MaxPendingPeers, cfg.TxPool)
	}
	if ip, ok := cfg.NAT.(nat.ExtIP); !ok || !net.IP(ip).Equal(net.ParseIP("203.0.113.7")) {
		t.Errorf("--nat extip:203.0.113.7: %v", cfg.NAT)
	}

	def := configFrom(t, "--dev")
	if def.TxPool == nil || def.TxPool.GlobalSlots != legacypool.DefaultConfig.GlobalSlots ||
		def.TxPool.Lifetime != legacypool.DefaultConfig.Lifetime || def.TxPool.PriceLimit != legacypool.DefaultConfig.PriceLimit {
		t.Errorf("pool defaults are not geth's: %+v", def.TxPool)
	}
	if def.RPCGasCap != rpc.DefaultGasCap || def.RPCTxFeeCap != rpc.DefaultTxFeeCap || def.Cache != 0 ||
		def.MaxPendingPeers != node.DefaultMaxPendingPeers || def.NAT != nil {
		t.Errorf("defaults: gascap %d txfeecap %v cache %d pending %d nat %v", def.RPCGasCap, def.RPCTxFeeCap, def.Cache, def.MaxPendingPeers, def.NAT)
	}
	if tn := configFrom(t, "--testnet"); tn.NAT == nil || tn.NAT.String() != "any" {
		t.Errorf("--testnet NAT %v, want geth's default any", tn.NAT)
	}
	if uncapped := configFrom(t, "--dev", "--rpc.gascap", "0", "--rpc.txfeecap", "0"); uncapped.RPCGasCap != math.MaxUint64/2 || uncapped.RPCTxFeeCap >= 0 {
		t.Errorf("geth's 0 (no cap): gascap %d, txfeecap %v", uncapped.RPCGasCap, uncapped.RPCTxFeeCap)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dev", "--syncmode", "snap"}, "this chain has no snap sync"},
		{[]string{"--dev", "--syncmode", "light"}, `--syncmode "light": want full`},
		{[]string{"--dev", "--nat", "carrier-pigeon"}, `--nat "carrier-pigeon"`},
		{[]string{"--dev", "--nat", "extip:not-an-ip"}, `--nat "extip:not-an-ip"`},
		{[]string{"--dev", "--cache", "-5"}, "--cache -5"},
		{[]string{"--dev", "--log.format", "xml"}, `--log.format "xml": want terminal, logfmt or json`},
		{[]string{"--dev", "--log.file", filepath.Join(t.TempDir(), "no", "such", "dir", "log")}, "--log.file"},
	} {
		if _, err := run(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("mmgeth %s: %v; want an error saying %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestLogFlags: --log.file receives the log, in --log.format's format, at
// --verbosity's level.
func TestLogFlags(t *testing.T) {
	prev := log.Root()
	t.Cleanup(func() { log.SetDefault(prev) })
	path := filepath.Join(t.TempDir(), "node.log")
	app := newApp()
	app.Action = func(ctx *cli.Context) error {
		spec, err := loadSpec(ctx)
		if err != nil {
			return err
		}
		if err := setupLogging(ctx, spec); err != nil {
			return err
		}
		log.Info("hello operator", "n", 1)
		log.Debug("below the level")
		return nil
	}
	if err := app.Run([]string{"mmgeth", "--dev", "--log.format", "json", "--log.file", path}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(data, &line); err != nil || line["msg"] != "hello operator" || line["n"] != float64(1) {
		t.Fatalf("--log.file with --log.format json wrote %q (%v)", data, err)
	}
}

// TestHelpCategories: --help lists the operator flags in geth's categories.
func TestHelpCategories(t *testing.T) {
	out, err := run(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"config": "ETHEREUM", "syncmode": "ETHEREUM", "cache": "PERFORMANCE TUNING",
		"log.format": "LOGGING AND DEBUGGING", "log.file": "LOGGING AND DEBUGGING",
		"nat": "NETWORKING", "maxpendpeers": "NETWORKING",
		"rpc.gascap": "API AND CONSOLE", "rpc.txfeecap": "API AND CONSOLE", "ipcpath": "API AND CONSOLE",
		"txpool.pricelimit": "TRANSACTION POOL (EVM)", "txpool.accountslots": "TRANSACTION POOL (EVM)",
		"txpool.globalslots": "TRANSACTION POOL (EVM)", "txpool.accountqueue": "TRANSACTION POOL (EVM)",
		"txpool.globalqueue": "TRANSACTION POOL (EVM)", "txpool.lifetime": "TRANSACTION POOL (EVM)",
	}
	got := map[string]string{}
	category := ""
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "--"):
			name, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "--"), " ")
			got[name] = category
		case trimmed != "" && trimmed == strings.ToUpper(trimmed) && !strings.HasPrefix(line, "     "):
			category = trimmed
		}
	}
	for name, cat := range want {
		if got[name] != cat {
			t.Errorf("--%s listed under %q, want geth's %q", name, got[name], cat)
		}
	}
}

// TestConfigRoundTrip: the TOML dumpconfig prints, read back with
// --config, gives the same node config; the command line wins over the
// file; unknown keys are refused.
func TestConfigRoundTrip(t *testing.T) {
	dumped, err := run(t, append([]string{"dumpconfig"}, operatorArgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dumped, `"txpool.lifetime" = "1h30m0s"`) || !strings.Contains(dumped, `# "http.port" = 8545`) {
		t.Fatalf("dumpconfig printed:\n%s", dumped)
	}
	file := filepath.Join(t.TempDir(), "mmgeth.toml")
	if err := os.WriteFile(file, []byte(dumped), 0o644); err != nil {
		t.Fatal(err)
	}
	want, got := configFrom(t, operatorArgs...), configFrom(t, "--config", file)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("config from flags:\n%+v\nfrom their dump:\n%+v", want, got)
	}
	if over := configFrom(t, "--config", file, "--cache", "64"); over.Cache != 64 || over.MaxPendingPeers != 33 {
		t.Errorf("--cache 64 over the file: cache %d, pending %d; want 64 and the file's 33", over.Cache, over.MaxPendingPeers)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("dev = true\nhttp.port = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--config", bad); err == nil || !strings.Contains(err.Error(), `unknown key http.port: keys are flag names, quoted`) {
		t.Errorf("unquoted dotted key: %v", err)
	}
}

// TestEnvVars: every flag has its MMGETH_* variable, which sets it; a flag
// on the command line wins over it.
func TestEnvVars(t *testing.T) {
	for _, f := range nodeFlags() {
		env := f.(interface{ GetEnvVars() []string }).GetEnvVars()
		if name := f.Names()[0]; !slices.Equal(env, []string{envVar(name)}) || !strings.HasPrefix(env[0], "MMGETH_") {
			t.Errorf("--%s: environment %v", name, env)
		}
	}
	t.Setenv("MMGETH_DEV", "true")
	t.Setenv("MMGETH_HTTP_PORT", "9999")
	t.Setenv("MMGETH_TXPOOL_GLOBALSLOTS", "777")
	t.Setenv("MMGETH_HTTP_VHOSTS", "x.example,y.example")
	t.Setenv("MMGETH_RPC_ALLOW_UNPROTECTED_TXS", "false")
	cfg := configFrom(t)
	if !cfg.Dev || cfg.HTTPPort != 9999 || cfg.TxPool.GlobalSlots != 777 || cfg.AllowUnprotectedTxs ||
		!slices.Equal(cfg.HTTPVirtualHosts, []string{"x.example", "y.example"}) {
		t.Errorf("from the environment: dev %v port %d globalslots %d unprotected %v vhosts %v",
			cfg.Dev, cfg.HTTPPort, cfg.TxPool.GlobalSlots, cfg.AllowUnprotectedTxs, cfg.HTTPVirtualHosts)
	}
	if cfg := configFrom(t, "--http.port", "7000"); cfg.HTTPPort != 7000 {
		t.Errorf("--http.port 7000 with MMGETH_HTTP_PORT=9999: %d", cfg.HTTPPort)
	}
	// A run reads the environment as it is then: nothing stays from the last.
	os.Unsetenv("MMGETH_DEV")
	os.Unsetenv("MMGETH_HTTP_PORT")
	if cfg := configFrom(t, "--regtest"); cfg.Dev || cfg.HTTPPort != 8545 {
		t.Errorf("after MMGETH_DEV and MMGETH_HTTP_PORT are unset: dev %v port %d", cfg.Dev, cfg.HTTPPort)
	}
}

// TestFlagsBeforeFile: a flag after a chain command's FILE is reported as
// such, not as a bad block number or a second file.
func TestFlagsBeforeFile(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"export", "chain.rlp", "--datadir", dir},
		{"export", "chain.rlp", "1", "--datadir", dir},
		{"import", "chain.rlp", "--datadir", dir},
		{"init", "spec.json", "--datadir", dir},
	} {
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), "--datadir follows chain.rlp: flags go before FILE") &&
			!strings.Contains(err.Error(), "--datadir follows spec.json: flags go before FILE") {
			t.Errorf("mmgeth %s: %v", strings.Join(args, " "), err)
		}
	}
}

// TestVersion: the commit and date come from Go's VCS stamp, else from the
// Makefile's -ldflags; a dirty tree is marked.
func TestVersion(t *testing.T) {
	stamped := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-11-20T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	if c, d := vcsOf(stamped, "fallback", "19700101"); c != "0123456789abcdef-dirty" || d != "20261120" {
		t.Errorf("stamped build: %q %q", c, d)
	}
	if c, d := vcsOf(&debug.BuildInfo{}, "feedface", "20261121"); c != "feedface" || d != "20261121" {
		t.Errorf("ldflags fallback: %q %q", c, d)
	}
	gitCommit, gitDate = "cafebabe12345678", "20261122"
	t.Cleanup(func() { gitCommit, gitDate = "", "" })
	out, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	// Test binaries carry no VCS stamp, so the -X values show.
	if !strings.Contains(out, "Git Commit: cafebabe12345678") || !strings.Contains(out, "Git Commit Date: 20261122") {
		t.Errorf("version printed:\n%s", out)
	}
}
