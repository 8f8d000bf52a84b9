// Command mmfed is mmgeth's federator and relayer daemon (PEG.md §5.5), a
// command line over peg/fed. relay keeps the sidechain's Bitcoin light
// client (BtcRelay) in step with a Bitcoin node, paying for the
// receiveHeaders transactions with its own key; anyone may run it, it needs
// no Bitcoin key. run is one federation member's daemon (run.go).
package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/metrics"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/peg/fed"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "mmfed:", err)
		os.Exit(1)
	}
}

var (
	rpcFlag = &cli.StringFlag{
		Name:  "rpc",
		Usage: "mmgeth HTTP JSON-RPC endpoint, http(s)://host:port or host:port",
		Value: "http://127.0.0.1:8545",
	}
	btcRPCFlag = &cli.StringFlag{
		Name:  "btc.rpc",
		Usage: "Bitcoin node JSON-RPC endpoint, http(s)://host:port or host:port (btcd or bitcoind)",
		Value: "http://127.0.0.1:8332",
	}
	btcUserFlag = &cli.StringFlag{
		Name:    "btc.user",
		Usage:   "Bitcoin node RPC user",
		EnvVars: []string{"MMFED_BTC_USER"},
	}
	btcPassFlag = &cli.StringFlag{
		Name:    "btc.pass",
		Usage:   "Bitcoin node RPC password",
		EnvVars: []string{"MMFED_BTC_PASS"},
	}
	keyFlag = &cli.StringFlag{
		Name:     "key",
		Usage:    "file holding the key that pays the relay's gas: a hex private key, or a geth keystore JSON file with --password",
		Required: true,
	}
	passwordFlag = &cli.StringFlag{
		Name:  "password",
		Usage: "file whose first line is the password of the --key keystore file",
	}
	intervalFlag = &cli.DurationFlag{
		Name:  "interval",
		Usage: "how often the Bitcoin node is polled for new blocks",
		Value: 2 * time.Second,
	}
	verboseFlag = &cli.BoolFlag{
		Name:  "verbose",
		Usage: "log debug messages",
	}
	watchFlag = &cli.StringSliceFlag{
		Name:  "watch",
		Usage: "sidechain recipients (0x addresses, comma-separated or repeated) whose deposits to register",
	}
	watchNodeFlag = &cli.BoolFlag{
		Name:  "watch.node",
		Usage: "also register deposits of the recipients the --rpc node watches (mmgeth --peg.watch)",
	}
)

var relayCommand = &cli.Command{
	Name:  "relay",
	Usage: "keep BtcRelay, the sidechain's Bitcoin light client, in step with a Bitcoin node",
	Description: "Each --interval, mmfed relay compares BtcRelay's best chain (eth_call on --rpc) with the Bitcoin " +
		"node's (--btc.rpc), and sends the missing headers in receiveHeaders transactions signed with --key, " +
		"following Bitcoin reorgs. With --watch or --watch.node it also reads new Bitcoin blocks for payments to " +
		"the watched recipients' deposit addresses and sends registerPegIn for each once BtcRelay holds its " +
		"confirmations. It keeps no state: restart it at will (it reads the last maxForkDepth blocks again). With --metrics it serves, for Prometheus, " +
		"BtcRelay's and the Bitcoin node's heights, the lag between them in blocks and seconds, the headers relayed, " +
		"the gas spent and the rounds that failed.",
	Flags: []cli.Flag{rpcFlag, btcRPCFlag, btcUserFlag, btcPassFlag, keyFlag, passwordFlag, intervalFlag, verboseFlag,
		watchFlag, watchNodeFlag, metricsFlag, metricsAddrFlag, metricsPortFlag},
	Action: runRelay,
}

func newApp() *cli.App {
	return &cli.App{
		Name:     "mmfed",
		Usage:    "federator and relayer daemon of an mmgeth sidechain",
		Commands: []*cli.Command{relayCommand, runCommand, signerCommand, keyCommand, statusCommand, btcCommand},
	}
}

func runRelay(c *cli.Context) error {
	key, err := loadKey(c.String(keyFlag.Name), c.String(passwordFlag.Name))
	if err != nil {
		return err
	}
	d, err := setup(c, key)
	if err != nil {
		return err
	}
	defer d.close()
	watch, err := recipients(c.StringSlice(watchFlag.Name))
	if err != nil {
		return err
	}
	d.cfg.Watch, d.cfg.WatchNode = watch, c.Bool(watchNodeFlag.Name)
	r, err := fed.NewRelayer(d.cfg)
	if err != nil {
		return err
	}
	d.log.Info("Starting mmfed relay", "rpc", d.sideURL, "btc", d.cfg.Bitcoin.URL(), "relayer", r.Address(),
		"interval", d.cfg.Interval, "watch", len(watch), "watchNode", d.cfg.WatchNode)
	r.Run(d.ctx)
	d.log.Info("Stopped")
	return nil
}

// daemon is what relay and run share: both nodes, the gas key, the log,
// the signal context and the metrics server.
type daemon struct {
	cfg     fed.RelayConfig
	sideURL string
	log     *slog.Logger
	ctx     context.Context
	close   func()
}

// setup reads the flags relay and run share; gas pays the transactions.
func setup(c *cli.Context, gas *ecdsa.PrivateKey) (*daemon, error) {
	if c.Args().Present() {
		return nil, fmt.Errorf("unexpected arguments %q", c.Args().Slice())
	}
	interval := c.Duration(intervalFlag.Name)
	if interval <= 0 {
		return nil, fmt.Errorf("--interval must be positive, got %v", interval)
	}
	btc, err := btcrpc.New(c.String(btcRPCFlag.Name), c.String(btcUserFlag.Name), c.String(btcPassFlag.Name))
	if err != nil {
		return nil, err
	}
	side, sideURL, err := dialSidechain(c)
	if err != nil {
		return nil, err
	}
	log := logger(c)
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	d := &daemon{cfg: fed.RelayConfig{Bitcoin: btc, Sidechain: side, Key: gas, Interval: interval, Log: log,
		Metrics: metrics.DefaultRegistry}, sideURL: sideURL, log: log, ctx: ctx,
		close: func() { stop(); side.Close() }}
	if err := startMetrics(ctx, c, log); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// dialSidechain is a client of --rpc. HTTP only: a client that connects
// per call retries a node that is down at start like one that goes away
// later.
func dialSidechain(c *cli.Context) (*ethclient.Client, string, error) {
	sideURL, err := btcrpc.Endpoint("--rpc", c.String(rpcFlag.Name))
	if err != nil {
		return nil, "", err
	}
	rc, err := gethrpc.DialHTTP(sideURL)
	if err != nil {
		return nil, "", fmt.Errorf("invalid --rpc %q: %v", sideURL, err)
	}
	return ethclient.NewClient(rc), sideURL, nil
}

// logger logs text to stderr, debug messages too with --verbose.
func logger(c *cli.Context) *slog.Logger {
	level := slog.LevelInfo
	if c.Bool(verboseFlag.Name) {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// startMetrics serves the metrics until ctx ends when --metrics is set.
func startMetrics(ctx context.Context, c *cli.Context, log *slog.Logger) error {
	if !c.Bool(metricsFlag.Name) {
		return nil
	}
	return serveMetrics(ctx, net.JoinHostPort(c.String(metricsAddrFlag.Name), strconv.Itoa(c.Int(metricsPortFlag.Name))), log)
}

// recipients parses --watch.
func recipients(args []string) ([]common.Address, error) {
	var out []common.Address
	for _, a := range args {
		if !common.IsHexAddress(a) || !strings.HasPrefix(a, "0x") {
			return nil, fmt.Errorf("--watch %q: want a 0x-prefixed sidechain address", a)
		}
		out = append(out, common.HexToAddress(a))
	}
	return out, nil
}
