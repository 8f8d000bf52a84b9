package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/node"
)

func runNode(ctx *cli.Context) error {
	if ctx.Args().Len() > 0 {
		return fmt.Errorf("unknown command %q", ctx.Args().First())
	}
	setupLogging(ctx.Int(verbosity.Name))
	spec, err := loadSpec(ctx)
	if err != nil {
		return err
	}
	cfg := node.Config{
		Spec:        spec,
		DataDir:     ctx.String(dataDirFlag.Name),
		HTTP:        ctx.Bool(httpFlag.Name),
		HTTPAddr:    ctx.String(httpAddr.Name),
		HTTPPort:    ctx.Int(httpPort.Name),
		HTTPModules: splitList(ctx.StringSlice(httpAPI.Name)),
		HTTPCors:    splitList(ctx.StringSlice(httpCors.Name)),
		WS:          ctx.Bool(wsFlag.Name),
		WSAddr:      ctx.String(wsAddr.Name),
		WSPort:      ctx.Int(wsPort.Name),
		WSModules:   splitList(ctx.StringSlice(wsAPI.Name)),
		IPCDisable:  ctx.Bool(ipcDisable.Name),
		Dev:         ctx.Bool(devFlag.Name),
		DevPeriod:   time.Duration(ctx.Uint64(devPeriod.Name)) * time.Second,
		Mine:        ctx.Bool(mineFlag.Name),
		GasCeil:     ctx.Uint64(gasLimit.Name),
		ListenPort:  ctx.Int(portFlag.Name),
		ListenHost:  ctx.String(p2pAddr.Name),
		MaxPeers:    ctx.Int(maxPeers.Name),
		NoDiscover:  ctx.Bool(noDiscover.Name),
		Bootnodes:   splitList(ctx.StringSlice(bootnodes.Name)),
		Metrics:     ctx.Bool(metricsFlag.Name),
		MetricsAddr: ctx.String(metricsAddr.Name),
		MetricsPort: ctx.Int(metricsPort.Name),

		AllowUnprotectedTxs: ctx.Bool(unprotected.Name),
		OverrideFinality:    ctx.Bool(overrideFin.Name),
		BtcRPC:              ctx.String(btcRPC.Name),
		BtcUser:             ctx.String(btcUser.Name),
		BtcPass:             ctx.String(btcPass.Name),
		PegWatch:            ctx.Bool(pegWatch.Name),
	}
	if len(cfg.Bootnodes) == 0 {
		cfg.Bootnodes = spec.Bootnodes
	}
	if eb := ctx.String(etherbase.Name); eb != "" {
		if !common.IsHexAddress(eb) {
			return fmt.Errorf("--miner.etherbase: %q is not an address", eb)
		}
		cfg.Etherbase = common.HexToAddress(eb)
	} else if cfg.Mine && !cfg.Dev {
		return fmt.Errorf("--mine needs --miner.etherbase: the address mined blocks pay")
	}
	if path := ctx.String(nodeKey.Name); path != "" {
		key, err := crypto.LoadECDSA(path)
		if err != nil {
			return fmt.Errorf("--nodekey: %w", err)
		}
		cfg.NodeKey = key
	}
	if cfg.Dev {
		// A dev node is useless without RPC, so it serves it like anvil does.
		cfg.HTTP = true
		if len(cfg.HTTPCors) == 0 {
			cfg.HTTPCors = []string{"*"}
		}
		if !ctx.IsSet(portFlag.Name) {
			cfg.ListenPort = -1
		}
		// Keyless deployments (the CREATE2 factory's, ERC-1820's) are
		// pre-EIP-155 transactions that Foundry and Hardhat send to a dev
		// node, and anvil takes them.
		if !ctx.IsSet(unprotected.Name) {
			cfg.AllowUnprotectedTxs = true
		}
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		n.Close()
		return err
	}
	if cfg.Dev {
		printDevBanner(n)
	}
	log.Info("mmgeth started", "network", spec.Name, "chainid", spec.ChainID, "http", n.HTTPEndpoint(), "ws", n.WSEndpoint())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		log.Info("Shutting down", "signal", sig)
		go n.Close()
		<-sigs
		log.Warn("Second signal: exiting without a clean shutdown")
		os.Exit(1)
	}()
	n.Wait()
	return nil
}

func setupLogging(level int) {
	lvl := log.LevelInfo
	switch {
	case level <= 0:
		lvl = log.LevelCrit + 1
	case level == 1:
		lvl = log.LevelError
	case level == 2:
		lvl = log.LevelWarn
	case level == 4:
		lvl = log.LevelDebug
	case level >= 5:
		lvl = log.LevelTrace
	}
	log.SetDefault(log.NewLogger(node.QuietShareRejections(log.NewTerminalHandlerWithLevel(os.Stderr, lvl, false))))
}

// splitList accepts both repeated flags and geth's comma-separated lists.
func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func printDevBanner(n *node.Node) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nmmgeth dev node — chain id %d, RPC %s\n\nAvailable accounts (10000 BTC each)\n", n.Chain().Config().ChainID, n.HTTPEndpoint())
	keys := n.DevKeys()
	for i, k := range keys {
		fmt.Fprintf(&b, "(%d) %s\n", i, crypto.PubkeyToAddress(k.PublicKey))
	}
	b.WriteString("\nPrivate keys\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "(%d) %s\n", i, hexutil.Encode(crypto.FromECDSA(k)))
	}
	fmt.Println(b.String())
}
