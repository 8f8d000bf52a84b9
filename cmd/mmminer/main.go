package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "mmminer:", err)
		os.Exit(1)
	}
}

var (
	btcRPCFlag = &cli.StringFlag{
		Name:  "btc.rpc",
		Usage: "Bitcoin node JSON-RPC endpoint, http(s)://host:port or host:port (btcd or bitcoind)",
		Value: "http://127.0.0.1:8332",
	}
	btcUserFlag = &cli.StringFlag{
		Name:    "btc.user",
		Usage:   "Bitcoin node RPC user",
		EnvVars: []string{"MMMINER_BTC_USER"},
	}
	btcPassFlag = &cli.StringFlag{
		Name:    "btc.pass",
		Usage:   "Bitcoin node RPC password",
		EnvVars: []string{"MMMINER_BTC_PASS"},
	}
	btcAddressFlag = &cli.StringFlag{
		Name:  "btc.address",
		Usage: "payout address of the coinbase the miner builds (btcd then needs no --miningaddr; bitcoind always leaves the coinbase to the miner)",
	}
	rpcFlag = &cli.StringFlag{
		Name:  "rpc",
		Usage: "mmgeth HTTP JSON-RPC endpoint serving mnr_* (mmgeth --mine), http(s)://host:port or host:port",
		Value: "http://127.0.0.1:8545",
	}
	threadsFlag = &cli.IntFlag{
		Name:  "threads",
		Usage: "hashing goroutines",
		Value: runtime.NumCPU(),
	}
	pollFlag = &cli.DurationFlag{
		Name:  "poll",
		Usage: "how often both nodes are asked for new work",
		Value: time.Second,
	}
	rateFlag = &cli.Float64Flag{
		Name:  "rate",
		Usage: "at most this many hashes per second over all threads (0: no limit); on regtest the sidechain's difficulty settles at rate x target spacing",
	}
	verboseFlag = &cli.BoolFlag{
		Name:  "verbose",
		Usage: "log every new job",
	}
	anchorsOnlyFlag = &cli.BoolFlag{
		Name: "btc.anchors-only",
		Usage: "send the Bitcoin node only blocks that also seal a sidechain block, as every merge-mined Bitcoin block " +
			"does on mainnet: on regtest, whose Bitcoin target is far easier than the sidechain's, this makes each " +
			"Bitcoin block an anchor of Bitcoin-anchored finality (and Bitcoin as slow as the sidechain)",
	}
)

func newApp() *cli.App {
	return &cli.App{
		Name:  "mmminer",
		Usage: "reference CPU merge-miner for Bitcoin and an mmgeth sidechain",
		Flags: []cli.Flag{btcRPCFlag, btcUserFlag, btcPassFlag, btcAddressFlag, rpcFlag, threadsFlag, pollFlag, rateFlag, verboseFlag,
			anchorsOnlyFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return fmt.Errorf("unexpected arguments %q", c.Args().Slice())
			}
			cfg, err := configFromFlags(c)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if c.Bool(verboseFlag.Name) {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return mine(ctx, cfg, log)
		},
	}
}

func configFromFlags(c *cli.Context) (config, error) {
	cfg := config{
		btcRPC:      c.String(btcRPCFlag.Name),
		btcUser:     c.String(btcUserFlag.Name),
		btcPass:     c.String(btcPassFlag.Name),
		sideRPC:     c.String(rpcFlag.Name),
		anchorsOnly: c.Bool(anchorsOnlyFlag.Name),
		threads:     c.Int(threadsFlag.Name),
		poll:        c.Duration(pollFlag.Name),
		rate:        c.Float64(rateFlag.Name),
	}
	if cfg.rate < 0 {
		return cfg, fmt.Errorf("--rate must not be negative, got %v", cfg.rate)
	}
	if cfg.threads < 1 {
		return cfg, fmt.Errorf("--threads must be at least 1, got %d", cfg.threads)
	}
	if cfg.poll <= 0 {
		return cfg, fmt.Errorf("--poll must be positive, got %v", cfg.poll)
	}
	if a := c.String(btcAddressFlag.Name); a != "" {
		script, err := payScript(a)
		if err != nil {
			return cfg, err
		}
		cfg.payScript = script
	}
	return cfg, nil
}

// payNets are the networks an address may belong to; the miner does not
// need to know which one its node runs, only the output script.
var payNets = []*chaincfg.Params{
	&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.TestNet4Params,
	&chaincfg.RegressionNetParams, &chaincfg.SigNetParams, &chaincfg.SimNetParams,
}

// payScript is the output script paying a Bitcoin address of any network.
func payScript(addr string) ([]byte, error) {
	for _, net := range payNets {
		a, err := address.DecodeAddress(addr, net)
		if err != nil || !a.IsForNet(net) {
			continue
		}
		return txscript.PayToAddrScript(a)
	}
	return nil, fmt.Errorf("invalid --btc.address %q: not an address of a known Bitcoin network", addr)
}

func mine(ctx context.Context, cfg config, log *slog.Logger) error {
	btc, err := btcrpc.New(cfg.btcRPC, cfg.btcUser, cfg.btcPass)
	if err != nil {
		return err
	}
	side, err := newSideRPC(cfg.sideRPC)
	if err != nil {
		return err
	}
	defer side.close()
	log.Info("Starting mmminer", "btc", btc.URL(), "rpc", side.url, "threads", cfg.threads, "poll", cfg.poll)
	newMiner(cfg, btc, side, log).run(ctx)
	log.Info("Stopped")
	return nil
}

func hexBytes(b []byte) string { return "0x" + hex.EncodeToString(b) }
