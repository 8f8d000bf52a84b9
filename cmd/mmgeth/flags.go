package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/core/txpool/legacypool"

	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/rpc"
)

// Flags are named and grouped as geth names them, so operators' habits and
// scripts carry over.
var (
	dataDirFlag = &cli.StringFlag{Name: "datadir", Usage: "data directory for the database and keys (dev mode: in memory when unset)", Category: "ETHEREUM"}
	devFlag     = &cli.BoolFlag{Name: "dev", Usage: "ephemeral dev network: prefunded accounts, automine, RPC on 127.0.0.1 (a node that follows a dev network without sealing: `mmgeth init --dev --datadir D`, then `mmgeth --datadir D`)", Category: "DEVELOPER CHAIN"}
	devPeriod   = &cli.Uint64Flag{Name: "dev.period", Usage: "seal a block every N seconds (0 = on each transaction)", Category: "DEVELOPER CHAIN"}
	devChainID  = &cli.Uint64Flag{Name: "dev.chainid", Value: 31337, Usage: "chain id, and network id, of the dev chain (31337 is the local chain id of Hardhat, anvil and their tool presets)", Category: "DEVELOPER CHAIN"}
	testnetFlag = &cli.BoolFlag{Name: "testnet", Usage: "the public test network", Category: "ETHEREUM"}
	regtestFlag = &cli.BoolFlag{Name: "regtest", Usage: "a private network merge-mined on a regtest Bitcoin node", Category: "ETHEREUM"}
	networkID   = &cli.Uint64Flag{Name: "networkid", Usage: "override the network id of the chosen network", Category: "ETHEREUM"}
	verbosity   = &cli.IntFlag{Name: "verbosity", Value: 3, Usage: "log level: 0=silent, 1=error, 2=warn, 3=info, 4=debug, 5=trace", Category: "LOGGING AND DEBUGGING"}

	httpFlag     = &cli.BoolFlag{Name: "http", Usage: "enable the HTTP-RPC server", Category: "API AND CONSOLE"}
	httpAddr     = &cli.StringFlag{Name: "http.addr", Value: "127.0.0.1", Usage: "HTTP-RPC listening interface", Category: "API AND CONSOLE"}
	httpPort     = &cli.IntFlag{Name: "http.port", Value: 8545, Usage: "HTTP-RPC listening port", Category: "API AND CONSOLE"}
	httpAPI      = &cli.StringSliceFlag{Name: "http.api", Usage: "APIs offered over HTTP (default eth,net,web3,mm; with --dev also txpool,debug,evm,hardhat,personal)", Category: "API AND CONSOLE"}
	httpCors     = &cli.StringSliceFlag{Name: "http.corsdomain", Usage: "origins allowed to call the HTTP-RPC server from a browser (default none; with --dev, pages on localhost)", Category: "API AND CONSOLE"}
	httpVHosts   = &cli.StringSliceFlag{Name: "http.vhosts", Value: cli.NewStringSlice("localhost"), Usage: "host names HTTP-RPC requests may name (Host header; \"*\" for any); requests to an IP address are always served", Category: "API AND CONSOLE"}
	httpMaxConns = &cli.IntFlag{Name: "http.maxconns", Value: node.DefaultHTTPMaxConns, Usage: "open HTTP-RPC connections at most (more wait to be accepted)", Category: "API AND CONSOLE"}
	wsFlag       = &cli.BoolFlag{Name: "ws", Usage: "enable the WS-RPC server", Category: "API AND CONSOLE"}
	wsAddr       = &cli.StringFlag{Name: "ws.addr", Value: "127.0.0.1", Usage: "WS-RPC listening interface", Category: "API AND CONSOLE"}
	wsPort       = &cli.IntFlag{Name: "ws.port", Value: 8546, Usage: "WS-RPC listening port", Category: "API AND CONSOLE"}
	wsAPI        = &cli.StringSliceFlag{Name: "ws.api", Usage: "APIs offered over WS (default: as --http.api)", Category: "API AND CONSOLE"}
	wsOrigins    = &cli.StringSliceFlag{Name: "ws.origins", Usage: "browser origins allowed to open a WebSocket (\"*\" for any; default localhost and this host's name)", Category: "API AND CONSOLE"}
	wsMaxConns   = &cli.IntFlag{Name: "ws.maxconns", Value: node.DefaultWSMaxConns, Usage: "open WS-RPC connections at most (more wait to be accepted)", Category: "API AND CONSOLE"}
	wsMaxSubs    = &cli.IntFlag{Name: "ws.maxsubscriptions", Value: rpc.DefaultMaxSubscriptions, Usage: "subscriptions one WS connection may hold", Category: "API AND CONSOLE"}
	traceLimit   = &cli.IntFlag{Name: "rpc.tracelimit", Value: rpc.DefaultTraceLimit, Usage: "debug_trace* calls run at once (more wait for a slot)", Category: "API AND CONSOLE"}
	ipcDisable   = &cli.BoolFlag{Name: "ipcdisable", Usage: "disable the IPC-RPC server", Category: "API AND CONSOLE"}
	unprotected  = &cli.BoolFlag{Name: "rpc.allow-unprotected-txs", Usage: "allow transactions without EIP-155 replay protection over RPC (default false; true with --dev, for keyless deployers, unless set to false)", Category: "API AND CONSOLE"}
	mineFlag     = &cli.BoolFlag{Name: "mine", Usage: "serve merge-mining work (mnr_*) to pools", Category: "MINER"}
	etherbase    = &cli.StringFlag{Name: "miner.etherbase", Usage: "address the mined blocks' fees are paid to", Category: "MINER"}
	gasLimit     = &cli.Uint64Flag{Name: "miner.gaslimit", Usage: "gas ceiling the miner steers block gas limits to (default: the network's)", Category: "MINER"}
	portFlag     = &cli.IntFlag{Name: "port", Value: defaultPort, Usage: "devp2p listening port (0: any free port; on dev and regtest, unless given, any free port when 30303 is taken)", Category: "NETWORKING"}
	p2pAddr      = &cli.StringFlag{Name: "p2p.addr", Usage: "devp2p listening interface (default: 127.0.0.1 on dev and regtest, all interfaces otherwise)", Category: "NETWORKING"}
	maxPeers     = &cli.IntFlag{Name: "maxpeers", Value: 50, Usage: "maximum number of peers", Category: "NETWORKING"}
	noDiscover   = &cli.BoolFlag{Name: "nodiscover", Usage: "disable peer discovery", Category: "NETWORKING"}
	bootnodes    = &cli.StringSliceFlag{Name: "bootnodes", Usage: "enode URLs to bootstrap from (default: the network's)", Category: "NETWORKING"}
	nodeKey      = &cli.StringFlag{Name: "nodekey", Usage: "file holding the devp2p node key (hex)", Category: "NETWORKING"}
	gcMode       = &cli.StringFlag{Name: "gcmode", Usage: `state kept: "full" (the newest 128 blocks' states) or "archive" (every block's state within --history.state of the head, for eth_call, eth_getBalance, eth_getProof and tracing at old blocks)`, DefaultText: `"archive" with --dev, "full" otherwise`, Category: "STATE"}
	stateHistory = &cli.Uint64Flag{Name: "history.state", Aliases: []string{"state.history"}, Usage: "number of recent blocks whose state history is kept (rewinds, reorgs, and archive reads); 0 = entire chain", DefaultText: "90000; 0 with --dev", Category: "STATE"}
	metricsFlag  = &cli.BoolFlag{Name: "metrics", Usage: "serve Prometheus metrics", Category: "METRICS"}
	metricsAddr  = &cli.StringFlag{Name: "metrics.addr", Value: "127.0.0.1", Usage: "metrics HTTP listening interface", Category: "METRICS"}
	metricsPort  = &cli.IntFlag{Name: "metrics.port", Value: 6060, Usage: "metrics HTTP listening port", Category: "METRICS"}
	pprofFlag    = &cli.BoolFlag{Name: "pprof", Usage: "serve Go's net/http/pprof profiles (CPU, heap, goroutines) for performance work", Category: "METRICS"}
	pprofAddr    = &cli.StringFlag{Name: "pprof.addr", Value: "127.0.0.1:6061", Usage: "pprof HTTP listening address (keep it on loopback: profiles expose the node's internals)", Category: "METRICS"}
	overrideFin  = &cli.BoolFlag{Name: "override.finality", Usage: "adopt a heavier chain that forks below the Bitcoin-finalized block (refused otherwise, with a CRIT log line): only after checking which chain is right", Category: "ETHEREUM"}
	btcRPC       = &cli.StringFlag{Name: "btc.rpc", Usage: "this node's Bitcoin node (btcd or bitcoind JSON-RPC, host:port or URL), for mm_getPegInProof and mm_getPegInStatus before a deposit is registered", Category: "PEG"}
	btcUser      = &cli.StringFlag{Name: "btc.user", Usage: "Bitcoin node RPC user", Category: "PEG"}
	btcPass      = &cli.StringFlag{Name: "btc.pass", Usage: "Bitcoin node RPC password", Category: "PEG"}
	pegWatch     = &cli.BoolFlag{Name: "peg.watch", Usage: "remember the recipient of every mm_getDepositAddress and list them for relayers (mm_watchedDeposits)", Category: "PEG"}

	configFile  = &cli.StringFlag{Name: "config", Usage: "TOML configuration file: flag names as keys (`mmgeth dumpconfig` writes one); flags and MMGETH_* variables win over it", Category: "ETHEREUM"}
	syncMode    = &cli.StringFlag{Name: "syncmode", Value: "full", Usage: `blockchain sync mode: only "full" (every block executed from genesis); this chain has no snap sync`, Category: "ETHEREUM"}
	cacheFlag   = &cli.IntFlag{Name: "cache", Usage: "megabytes of memory for the database and trie caches, split as geth does: 50% database, 15% trie, 25% gc, 10% snapshot", DefaultText: "512 MB database, the chain's own trie caches", Category: "PERFORMANCE TUNING"}
	logFormat   = &cli.StringFlag{Name: "log.format", Value: "terminal", Usage: "log format: terminal, logfmt or json", Category: "LOGGING AND DEBUGGING"}
	logFile     = &cli.StringFlag{Name: "log.file", Usage: "write the log to this file (appended) instead of the terminal", Category: "LOGGING AND DEBUGGING"}
	natFlag     = &cli.StringFlag{Name: "nat", Usage: "NAT port mapping and public address: none, any, upnp, pmp, pmp:<gateway IP>, extip:<IP>, stun[:<server>]", DefaultText: `"none" on dev and regtest, "any" otherwise`, Category: "NETWORKING"}
	maxPendPeer = &cli.IntFlag{Name: "maxpendpeers", Value: node.DefaultMaxPendingPeers, Usage: "connections in their handshakes at most, inbound and outbound each", Category: "NETWORKING"}
	ipcPath     = &cli.StringFlag{Name: "ipcpath", Usage: "IPC socket: a name in the datadir, or an absolute path", DefaultText: "mmgeth.ipc in the datadir", Category: "API AND CONSOLE"}
	rpcGasCap   = &cli.Uint64Flag{Name: "rpc.gascap", Value: rpc.DefaultGasCap, Usage: "gas cap of eth_call, eth_estimateGas and eth_simulateV1 (0 = no cap)", Category: "API AND CONSOLE"}
	rpcTxFeeCap = &cli.Float64Flag{Name: "rpc.txfeecap", Value: rpc.DefaultTxFeeCap, Usage: "fee cap (in BTC) of transactions sent over RPC (0 = no cap)", Category: "API AND CONSOLE"}
	poolPrice   = &cli.Uint64Flag{Name: "txpool.pricelimit", Value: legacypool.DefaultConfig.PriceLimit, Usage: "minimum gas tip (wei) for a transaction to enter the pool", Category: "TRANSACTION POOL (EVM)"}
	poolASlots  = &cli.Uint64Flag{Name: "txpool.accountslots", Value: legacypool.DefaultConfig.AccountSlots, Usage: "executable transactions guaranteed per account", Category: "TRANSACTION POOL (EVM)"}
	poolGSlots  = &cli.Uint64Flag{Name: "txpool.globalslots", Value: legacypool.DefaultConfig.GlobalSlots, Usage: "executable transactions for all accounts", Category: "TRANSACTION POOL (EVM)"}
	poolAQueue  = &cli.Uint64Flag{Name: "txpool.accountqueue", Value: legacypool.DefaultConfig.AccountQueue, Usage: "non-executable transactions per account", Category: "TRANSACTION POOL (EVM)"}
	poolGQueue  = &cli.Uint64Flag{Name: "txpool.globalqueue", Value: legacypool.DefaultConfig.GlobalQueue, Usage: "non-executable transactions for all accounts", Category: "TRANSACTION POOL (EVM)"}
	poolLife    = &cli.DurationFlag{Name: "txpool.lifetime", Value: legacypool.DefaultConfig.Lifetime, Usage: "longest a non-executable transaction stays queued", Category: "TRANSACTION POOL (EVM)"}

	networkFlags = []cli.Flag{devFlag, devChainID, testnetFlag, regtestFlag, dataDirFlag}
)

// envPrefix names every flag's environment variable: MMGETH_ and the flag's
// name in capitals with dots and dashes as underscores (MMGETH_HTTP_PORT),
// as geth names GETH_* (internal/flags.AutoEnvVars).
const envPrefix = "MMGETH_"

func envVar(name string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

// init gives every flag its environment variable.
func init() {
	for _, f := range nodeFlags() {
		env := []string{envVar(f.Names()[0])}
		switch f := f.(type) {
		case *cli.StringFlag:
			f.EnvVars = env
		case *cli.BoolFlag:
			f.EnvVars = env
		case *cli.IntFlag:
			f.EnvVars = env
		case *cli.Uint64Flag:
			f.EnvVars = env
		case *cli.Float64Flag:
			f.EnvVars = env
		case *cli.DurationFlag:
			f.EnvVars = env
		case *cli.StringSliceFlag:
			f.EnvVars = env
		default:
			panic(fmt.Sprintf("flag %s: %T has no environment variable", f.Names()[0], f))
		}
	}
}

// Defaults that differ between dev and other networks, when not given.
const (
	defaultPort         = 30303
	defaultStateHistory = 90_000 // geth's: about 12 days of mainnet blocks
)

func nodeFlags() []cli.Flag {
	return []cli.Flag{
		configFile, dataDirFlag, devFlag, devPeriod, devChainID, testnetFlag, regtestFlag, networkID, syncMode,
		verbosity, logFormat, logFile,
		gcMode, stateHistory, cacheFlag,
		poolPrice, poolASlots, poolGSlots, poolAQueue, poolGQueue, poolLife,
		httpFlag, httpAddr, httpPort, httpAPI, httpCors, httpVHosts, httpMaxConns,
		wsFlag, wsAddr, wsPort, wsAPI, wsOrigins, wsMaxConns, wsMaxSubs, traceLimit, ipcDisable, ipcPath, unprotected,
		rpcGasCap, rpcTxFeeCap,
		mineFlag, etherbase, gasLimit,
		portFlag, p2pAddr, maxPeers, maxPendPeer, noDiscover, bootnodes, nodeKey, natFlag,
		metricsFlag, metricsAddr, metricsPort, pprofFlag, pprofAddr, overrideFin,
		btcRPC, btcUser, btcPass, pegWatch,
	}
}

// specFile is where `mmgeth init` keeps a datadir's network spec.
func specFile(dataDir string) string { return filepath.Join(dataDir, "mmgeth", "spec.json") }

// loadSpec picks the network: a network flag, else the spec `init` wrote
// into the datadir.
func loadSpec(ctx *cli.Context) (*genesis.Spec, error) {
	var names []string
	for flag, name := range map[*cli.BoolFlag]string{devFlag: "dev", testnetFlag: "testnet", regtestFlag: "regtest"} {
		if ctx.Bool(flag.Name) {
			names = append(names, name)
		}
	}
	var spec *genesis.Spec
	var err error
	switch {
	case len(names) > 1:
		return nil, fmt.Errorf("choose one network, not %v", names)
	case len(names) == 1:
		spec, err = genesis.Load(names[0])
	case ctx.String(dataDirFlag.Name) != "":
		data, rerr := os.ReadFile(specFile(ctx.String(dataDirFlag.Name)))
		if rerr != nil {
			return nil, fmt.Errorf("no network chosen: pass --dev, --testnet or --regtest, or run `mmgeth init` on this datadir")
		}
		spec, err = genesis.Parse(data)
	default:
		return nil, fmt.Errorf("no network chosen: pass --dev, --testnet or --regtest")
	}
	if err != nil {
		return nil, err
	}
	if ctx.IsSet(devChainID.Name) {
		if !ctx.Bool(devFlag.Name) {
			return nil, fmt.Errorf("--dev.chainid needs --dev (a datadir made by `mmgeth init --dev --dev.chainid N` keeps its chain id)")
		}
		if spec.ChainID = ctx.Uint64(devChainID.Name); spec.ChainID == 0 {
			return nil, fmt.Errorf("--dev.chainid: 0 is not a chain id")
		}
		spec.NetworkID = spec.ChainID
	}
	if ctx.IsSet(networkID.Name) {
		spec.NetworkID = ctx.Uint64(networkID.Name)
	}
	return spec, nil
}
