package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/p2p/nat"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/node"
)

func runNode(ctx *cli.Context) error {
	if ctx.Args().Len() > 0 {
		return fmt.Errorf("unknown command %q", ctx.Args().First())
	}
	if err := applyConfigFile(ctx); err != nil {
		return err
	}
	spec, err := loadSpec(ctx)
	if err != nil {
		return err
	}
	if err := setupLogging(ctx, spec); err != nil {
		return err
	}
	if ctx.Bool(pprofFlag.Name) {
		if err := startPprof(ctx.String(pprofAddr.Name)); err != nil {
			return err
		}
	}
	cfg, err := nodeConfig(ctx, spec)
	if err != nil {
		return err
	}
	tuneGC(cfg.Dev)
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
	started := []any{"network", spec.Name, "chainid", spec.ChainID}
	if cfg.HTTP {
		started = append(started, "http", n.HTTPEndpoint())
	}
	if cfg.WS {
		started = append(started, "ws", n.WSEndpoint())
	}
	if ipc := n.IPCEndpoint(); ipc != "" {
		started = append(started, "ipc", ipc)
	}
	if enode := n.Enode(); enode != "" {
		started = append(started, "enode", enode)
	}
	log.Info("mmgeth started", started...)

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

// nodeConfig reads the node's configuration from the flags.
func nodeConfig(ctx *cli.Context, spec *genesis.Spec) (node.Config, error) {
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
		WSOrigins:   splitList(ctx.StringSlice(wsOrigins.Name)),
		IPCDisable:  ctx.Bool(ipcDisable.Name),
		IPCPath:     ctx.String(ipcPath.Name),
		Dev:         ctx.Bool(devFlag.Name),
		DevPeriod:   time.Duration(ctx.Uint64(devPeriod.Name)) * time.Second,
		Mine:        ctx.Bool(mineFlag.Name),
		GasCeil:     ctx.Uint64(gasLimit.Name),
		ListenPort:  ctx.Int(portFlag.Name),
		ListenHost:  ctx.String(p2pAddr.Name),
		MaxPeers:    ctx.Int(maxPeers.Name),
		Cache:       ctx.Int(cacheFlag.Name),
		NoDiscover:  ctx.Bool(noDiscover.Name),
		Bootnodes:   splitList(ctx.StringSlice(bootnodes.Name)),
		Metrics:     ctx.Bool(metricsFlag.Name),
		MetricsAddr: ctx.String(metricsAddr.Name),
		MetricsPort: ctx.Int(metricsPort.Name),

		HTTPVirtualHosts: splitList(ctx.StringSlice(httpVHosts.Name)),
		HTTPMaxConns:     ctx.Int(httpMaxConns.Name),
		WSMaxConns:       ctx.Int(wsMaxConns.Name),
		MaxSubscriptions: ctx.Int(wsMaxSubs.Name),
		TraceLimit:       ctx.Int(traceLimit.Name),
		MaxPendingPeers:  ctx.Int(maxPendPeer.Name),
		RPCGasCap:        ctx.Uint64(rpcGasCap.Name),
		RPCTxFeeCap:      ctx.Float64(rpcTxFeeCap.Name),
		TxPool: &legacypool.Config{
			PriceLimit:   ctx.Uint64(poolPrice.Name),
			PriceBump:    legacypool.DefaultConfig.PriceBump,
			AccountSlots: ctx.Uint64(poolASlots.Name),
			GlobalSlots:  ctx.Uint64(poolGSlots.Name),
			AccountQueue: ctx.Uint64(poolAQueue.Name),
			GlobalQueue:  ctx.Uint64(poolGQueue.Name),
			Lifetime:     ctx.Duration(poolLife.Name),
		},

		AllowUnprotectedTxs: ctx.Bool(unprotected.Name),
		OverrideFinality:    ctx.Bool(overrideFin.Name),
		BtcRPC:              ctx.String(btcRPC.Name),
		BtcUser:             ctx.String(btcUser.Name),
		BtcPass:             ctx.String(btcPass.Name),
		PegWatch:            ctx.Bool(pegWatch.Name),
	}
	// geth's 0 means no cap, which is the rpc package's < 0 (its 0 is the
	// default).
	if ctx.IsSet(rpcGasCap.Name) && cfg.RPCGasCap == 0 {
		cfg.RPCGasCap = math.MaxUint64 / 2
	}
	if ctx.IsSet(rpcTxFeeCap.Name) && cfg.RPCTxFeeCap == 0 {
		cfg.RPCTxFeeCap = -1
	}
	switch mode := ctx.String(syncMode.Name); mode {
	case "full":
	case "snap":
		return cfg, fmt.Errorf("--syncmode snap: this chain has no snap sync (no peer serves state snapshots); nodes sync full, executing every block from genesis")
	default:
		return cfg, fmt.Errorf("--syncmode %q: want full", mode)
	}
	if cfg.Cache < 0 {
		return cfg, fmt.Errorf("--cache %d: want megabytes, > 0", cfg.Cache)
	}
	// Nodes of a public network need their public address in their enode,
	// which geth's default "any" finds; local networks have none to find.
	natSpec := "any"
	if spec.Local {
		natSpec = "none"
	}
	if ctx.IsSet(natFlag.Name) {
		natSpec = ctx.String(natFlag.Name)
	}
	mapper, err := nat.Parse(natSpec)
	if err != nil {
		return cfg, fmt.Errorf("--nat %q: %w (want none, any, upnp, pmp, pmp:IP, extip:IP or stun)", natSpec, err)
	}
	cfg.NAT = mapper
	// A dev chain keeps every state, as anvil does; it is short-lived and
	// its histories are small.
	cfg.Archive = cfg.Dev
	if ctx.IsSet(gcMode.Name) {
		switch mode := ctx.String(gcMode.Name); mode {
		case "full", "archive":
			cfg.Archive = mode == "archive"
		default:
			return cfg, fmt.Errorf("--gcmode %q: want full or archive", mode)
		}
	}
	cfg.StateHistory = defaultStateHistory
	if cfg.Dev {
		cfg.StateHistory = 0
	}
	if ctx.IsSet(stateHistory.Name) {
		cfg.StateHistory = ctx.Uint64(stateHistory.Name)
	}
	if len(cfg.Bootnodes) == 0 {
		cfg.Bootnodes = spec.Bootnodes
	}
	if eb := ctx.String(etherbase.Name); eb != "" {
		if !common.IsHexAddress(eb) {
			return cfg, fmt.Errorf("--miner.etherbase: %q is not an address", eb)
		}
		cfg.Etherbase = common.HexToAddress(eb)
	} else if cfg.Mine && !cfg.Dev {
		return cfg, fmt.Errorf("--mine needs --miner.etherbase: the address mined blocks pay")
	}
	if path := ctx.String(nodeKey.Name); path != "" {
		key, err := crypto.LoadECDSA(path)
		if err != nil {
			return cfg, fmt.Errorf("--nodekey: %w", err)
		}
		cfg.NodeKey = key
	}
	if cfg.Dev {
		// A dev node is useless without RPC, so it serves it like anvil
		// does, but only to pages served from this machine unless asked.
		cfg.HTTP = true
		if !ctx.IsSet(httpCors.Name) {
			cfg.HTTPCors = node.DevCORS
		}
		// Keyless deployments (the CREATE2 factory's, ERC-1820's) are
		// pre-EIP-155 transactions that Foundry and Hardhat send to a dev
		// node, and anvil takes them.
		if !ctx.IsSet(unprotected.Name) {
			cfg.AllowUnprotectedTxs = true
		}
	}
	// Nodes of a network on one machine (a dev chain and its followers, a
	// regtest network) often run side by side: unless --port is given, one
	// that finds 30303 taken listens on a free port, which the log and the
	// dev banner print, instead of failing to start.
	if spec.Local && !ctx.IsSet(portFlag.Name) && !portFree(cfg.ListenPort) {
		log.Info("devp2p port taken: listening on a free port instead", "port", cfg.ListenPort)
		cfg.ListenPort = 0
	}
	return cfg, nil
}

// setupLogging installs the logger: geth's handler for --log.format at the
// --verbosity level, on stderr or --log.file, without geth's Ethereum chain
// banner for spec's chain (the node logs its own) and with pools' refused
// shares at DEBUG.
func setupLogging(ctx *cli.Context, spec *genesis.Spec) error {
	var out io.Writer = os.Stderr
	if path := ctx.String(logFile.Name); path != "" {
		// Left open for the life of the process, as geth leaves its own.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--log.file: %w", err)
		}
		out = f
	}
	lvl := logLevel(ctx.Int(verbosity.Name))
	var h slog.Handler
	switch format := ctx.String(logFormat.Name); format {
	case "terminal", "":
		h = log.NewTerminalHandlerWithLevel(out, lvl, false)
	case "logfmt":
		h = log.LogfmtHandlerWithLevel(out, lvl)
	case "json":
		h = log.JSONHandlerWithLevel(out, lvl)
	default:
		return fmt.Errorf("--log.format %q: want terminal, logfmt or json", format)
	}
	h = node.QuietShareRejections(h)
	if gen, err := spec.Genesis(); err == nil {
		h = node.QuietGethBanner(h, gen.Config)
	}
	log.SetDefault(log.NewLogger(h))
	return nil
}

// logLevel maps geth's --verbosity numbers to levels.
func logLevel(level int) slog.Level {
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
	return lvl
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

// portFree reports whether port is free for devp2p on every interface,
// TCP (RLPx) and UDP (discovery).
func portFree(port int) bool {
	if port <= 0 {
		return true
	}
	addr := net.JoinHostPort("", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	p, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	p.Close()
	return true
}

func printDevBanner(n *node.Node) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nmmgeth dev node — chain id %d, RPC %s\n", n.Chain().Config().ChainID, n.HTTPEndpoint())
	if enode := n.Enode(); enode != "" {
		fmt.Fprintf(&b, "Peers: %s\n", enode)
	}
	if ipc := n.IPCEndpoint(); ipc != "" {
		fmt.Fprintf(&b, "IPC: %s\n", ipc)
	}
	fmt.Fprintf(&b, "Fees go to %s\n\nAvailable accounts (10000 BTC each)\n", n.Etherbase())
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

// devGCPercent is a dev node's GC target: collect at three times the live
// heap instead of Go's two. A dev node runs on a developer's machine beside
// the tools that load it, on the same cores, and GC was a sixth of its CPU
// under loadgen's pipelined transfers: at 200 the node's CPU per transfer
// fell 13% and per eth_call 5% (bench/cpu-per-request.sh, GOGC=100 against
// 200), for a third more memory (bench/memory.sh: 245 against 183 MiB after
// 20,000 transactions; anvil 233).
const devGCPercent = 200

// tuneGC sets a dev node's GC target unless the operator set GOGC.
func tuneGC(dev bool) {
	if dev && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(devGCPercent)
	}
}
