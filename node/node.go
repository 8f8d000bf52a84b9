package node

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/log"
	gethnode "github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/triedb/pathdb"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/miner"
	mmgp2p "github.com/mmgeth/mmgeth/p2p"
	"github.com/mmgeth/mmgeth/rpc"
)

// ClientName prefixes web3_clientVersion and the devp2p name.
const ClientName = "mmgeth"

// Version is the node's release.
const Version = "0.1.0"

// clientVersion is web3_clientVersion: "mmgeth/v<Version>", and on dev
// networks "anvil-compatible mmgeth/v<Version>". Hardhat's network helpers
// (@nomicfoundation/hardhat-network-helpers) refuse every call unless the
// client version starts with "hardhat", "zksync" or "anvil"; a dev node
// serves anvil's test-node methods, so it says so first.
func clientVersion(dev bool) string {
	v := fmt.Sprintf("%s/v%s", ClientName, Version)
	if dev {
		v = "anvil-compatible " + v
	}
	return v
}

// Node is a running mmgeth node.
type Node struct {
	cfg      Config
	stack    *gethnode.Node
	db       ethdb.Database
	chain    *core.BlockChain
	pool     *txPool
	engine   *consensus.Engine
	mmchain  *chain.Chain
	work     *miner.WorkServer
	builder  *miner.Builder
	dev      *miner.DevMiner
	devKeys  []*ecdsa.PrivateKey
	handler  *mmgp2p.Handler // the mmg protocol (p2p.go)
	chainSvc *chainService
	http     *httpRPC
	ws       *wsRPC
	metrics  *metricsService // nil without --metrics
	apis     []gethrpc.API   // every RPC service registered, whatever --http.api serves
}

// New assembles a node; Start opens its servers.
func New(cfg Config) (*Node, error) {
	if cfg.Spec == nil {
		return nil, fmt.Errorf("no network spec")
	}
	enableMetrics(&cfg)
	stack, err := gethnode.New(stackConfig(&cfg))
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, stack: stack}
	if err := n.setup(); err != nil {
		// The chain writes its state in the background (geth's path
		// database): it must stop before the database closes, or that write
		// fails and geth's log.Crit ends the process.
		switch {
		case n.chainSvc != nil:
			n.chainSvc.Stop()
		case n.mmchain != nil:
			n.mmchain.Stop()
		}
		stack.Close()
		return nil, err
	}
	return n, nil
}

func stackConfig(cfg *Config) *gethnode.Config {
	c := gethnode.DefaultConfig
	c.Name = ClientName
	c.Version = Version
	c.DataDir = cfg.DataDir
	c.IPCPath = ipcPath(cfg)
	// HTTP and WS are served by mmgeth's own servers (http.go, ws.go),
	// never geth's.
	c.P2P = p2p.Config{
		MaxPeers:        cfg.MaxPeers,
		MaxPendingPeers: cfg.MaxPendingPeers,
		NoDiscovery:     cfg.NoDiscover,
		ListenAddr:      net.JoinHostPort(listenHost(cfg), strconv.Itoa(max(cfg.ListenPort, 0))),
		Name:            ClientName + "/v" + Version,
	}
	if cfg.MaxPendingPeers == 0 {
		c.P2P.MaxPendingPeers = DefaultMaxPendingPeers
	}
	if cfg.ListenPort < 0 {
		c.P2P.ListenAddr = ""
	}
	c.P2P.PrivateKey = cfg.NodeKey
	c.P2P.NAT = cfg.NAT
	return &c
}

// ipcPath is the IPC socket geth's stack serves: --ipcpath, else
// mmgeth.ipc in the datadir; none when disabled, or when a chain kept in
// memory has no datadir to put a relative name in.
func ipcPath(cfg *Config) string {
	path := cfg.IPCPath
	if path == "" {
		path = ClientName + ".ipc"
	}
	if cfg.IPCDisable || (cfg.DataDir == "" && !filepath.IsAbs(path)) {
		return ""
	}
	return path
}

// caches splits --cache as geth does (cmd/utils/flags.go in v1.17.10:
// --cache.database 50%, --cache.trie 15%, --cache.gc 25%,
// --cache.snapshot 10%): the database cache in MB, and the chain config's
// trie and state caches set. Without --cache, the database has 512 MB and
// the chain chain.DefaultConfig's caches.
func caches(cacheMB int, bc *core.BlockChainConfig) (database int) {
	if cacheMB <= 0 {
		return 512
	}
	bc.TrieCleanLimit = cacheMB * 15 / 100
	bc.TrieDirtyLimit = cacheMB * 25 / 100
	bc.SnapshotLimit = cacheMB * 10 / 100
	return cacheMB * 50 / 100
}

// listenHost is the devp2p listening interface: --p2p.addr, else loopback
// for the networks whose spec says they are local (dev, regtest) and every
// interface for the others, which need inbound peers.
func listenHost(cfg *Config) string {
	switch {
	case cfg.ListenHost != "":
		return cfg.ListenHost
	case cfg.Spec.Local:
		return "127.0.0.1"
	}
	return ""
}

// httpModules are the namespaces served over HTTP (and, unless --ws.api
// says otherwise, WS): the chosen ones, plus evm, hardhat and personal in
// dev mode, and mnr.
func httpModules(cfg *Config) (modules, extra []string) {
	modules = cfg.HTTPModules
	switch {
	case len(modules) > 0:
	case cfg.Dev:
		modules = DevHTTPModules
	default:
		modules = DefaultHTTPModules
	}
	if cfg.Dev {
		extra = append(extra, "evm", "anvil", "hardhat", "personal")
	}
	// mnr is served on every node: by the work server when mining, else by
	// miningOffAPI, which tells a pool how to start a mining node.
	return modules, append(extra, "mnr")
}

func withModules(base, extra []string) []string {
	out := slices.Clone(base)
	for _, m := range extra {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func (n *Node) setup() error {
	spec := n.cfg.Spec
	bcCfg := chain.DefaultConfig()
	dbCache := caches(n.cfg.Cache, bcCfg)
	db, err := n.stack.OpenDatabaseWithOptions("chaindata", gethnode.DatabaseOptions{
		Cache: dbCache, Handles: 512, MetricsNamespace: "mmgeth/db/chaindata/",
	})
	if err != nil {
		return err
	}
	n.db = db
	gen, err := spec.Genesis()
	if err != nil {
		return err
	}
	bcCfg.SlowBlockThreshold = 2 * time.Second
	bcCfg.StateHistory = n.cfg.StateHistory
	// Trie-node histories serve eth_getProof at old blocks; only an archive
	// indexes them, so any other node does not write them.
	bcCfg.TrienodeHistory = -1
	if n.cfg.Archive {
		bcCfg.ArchiveMode = true
		bcCfg.TrienodeHistory = int64(n.cfg.StateHistory)
		bcCfg.NodeFullValueCheckpoint = pathdb.Defaults.FullValueCheckpoint // geth's; 0 would store every node in full
	}
	// anvil_dumpState walks the state trie, whose keys are hashes: a dev
	// node keeps the addresses behind them.
	bcCfg.Preimages = n.cfg.Dev
	if n.mmchain, err = chain.New(db, gen, spec.MergeMining, bcCfg, chain.FinalityConfig{
		Bitcoin: spec.Finality.Mode == genesis.FinalityBitcoin, K: spec.Finality.K,
		Confirmations: spec.Confirmations, Override: n.cfg.OverrideFinality,
	}); err != nil {
		return err
	}
	n.chain, n.engine = n.mmchain.BlockChain(), n.mmchain.Engine()
	n.logChain()

	poolCfg := legacypool.DefaultConfig
	if n.cfg.TxPool != nil {
		poolCfg = *n.cfg.TxPool
	}
	poolCfg.Journal = ""
	legacy := legacypool.New(poolCfg, n.chain)
	pool, err := txpool.New(poolCfg.PriceLimit, n.chain, []txpool.SubPool{legacy})
	if err != nil {
		return err
	}
	n.pool = &txPool{TxPool: pool}
	// First registered, last stopped: the chain must outlive everything
	// that reads it, and stop before the database closes.
	n.chainSvc = &chainService{chain: n.mmchain, pool: n.pool}
	if n.cfg.Offline {
		return nil // Start and Close stop the chain themselves
	}
	n.stack.RegisterLifecycle(n.chainSvc)

	if n.cfg.Dev {
		if n.devKeys, err = spec.DevKeys(); err != nil {
			return err
		}
		if n.cfg.Etherbase == (common.Address{}) {
			n.cfg.Etherbase = DevCoinbase
		}
	}
	if err := n.setupP2P(); err != nil {
		return err
	}
	if !spec.Local {
		n.stack.RegisterLifecycle(&peerWatch{n: n})
	}
	var devBackend rpc.Dev
	var coinbase func() (common.Address, error)
	if n.cfg.Mine || n.cfg.Dev {
		n.setupMining()
		coinbase = n.coinbase
		if n.cfg.Dev {
			devBackend = &devAPI{n: n}
		}
	}

	pb, err := n.pegBackend()
	if err != nil {
		return err
	}
	svc, err := rpc.New(rpc.Config{
		Chain:         n.chain,
		TxPool:        n.pool.TxPool,
		ChainID:       new(big.Int).SetUint64(spec.ChainID),
		NetworkID:     spec.NetworkID,
		Finality:      n.mmchain,
		MM:            &mmBackend{chain: n.mmchain},
		Peg:           pb,
		DecodeRevert:  decodeRevert,
		GasCap:        n.cfg.RPCGasCap,
		TxFeeCap:      n.cfg.RPCTxFeeCap,
		LogRangeLimit: 10_000,
		NoLogIndex:    n.cfg.Dev,
		Archive:       n.cfg.Archive,
		ClientVersion: clientVersion(n.cfg.Dev),
		BlockFields:   n.blockFields,
		Dev:           devBackend,
		Coinbase:      coinbase,
		PeerCount:     n.stack.Server().PeerCount,
		Syncing:       n.syncing,
		SyncActive:    n.syncActive,

		AllowUnprotectedTxs: n.cfg.AllowUnprotectedTxs,
		TraceLimit:          n.cfg.TraceLimit,
		MaxSubscriptions:    n.cfg.MaxSubscriptions,
		CacheSenders:        cacheSenders(spec.MergeMining),
	})
	if err != nil {
		return err
	}
	n.stack.RegisterLifecycle(svc)
	pb.logs = svc.Logs
	apis := svc.APIs()
	if n.work != nil {
		apis = append(apis, gethrpc.API{Namespace: "mnr", Service: miner.NewAPI(n.work)})
	} else {
		apis = append(apis, gethrpc.API{Namespace: "mnr", Service: miningOffAPI{}})
	}
	n.stack.RegisterAPIs(apis)
	n.apis = apis
	modules, extra := httpModules(&n.cfg)
	if n.cfg.HTTP {
		// geth's in-process server holds geth's node APIs (admin, ...) too,
		// registered when the stack starts, before the HTTP server does.
		all, err := n.stack.RPCHandler()
		if err != nil {
			return err
		}
		vhosts := n.cfg.HTTPVirtualHosts
		if len(vhosts) == 0 {
			vhosts = gethnode.DefaultConfig.HTTPVirtualHosts
		}
		addr := net.JoinHostPort(n.cfg.HTTPAddr, strconv.Itoa(n.cfg.HTTPPort))
		if n.http, err = newHTTPRPC(addr, apis, all, svc.HTTPHandler, withModules(modules, extra), n.cfg.HTTPCors, vhosts, orDefault(n.cfg.HTTPMaxConns, DefaultHTTPMaxConns)); err != nil {
			return err
		}
		n.stack.RegisterLifecycle(n.http)
	}
	if n.cfg.WS {
		wsModules := n.cfg.WSModules
		if len(wsModules) == 0 {
			wsModules = modules
		}
		addr := net.JoinHostPort(n.cfg.WSAddr, strconv.Itoa(n.cfg.WSPort))
		if n.ws, err = newWSRPC(addr, apis, withModules(wsModules, extra), n.cfg.WSOrigins, orDefault(n.cfg.WSMaxConns, DefaultWSMaxConns)); err != nil {
			return err
		}
		n.stack.RegisterLifecycle(n.ws)
	}
	return n.setupMetrics()
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// logChain is the start-up banner: what this chain is, in the place of
// geth's Ethereum one (QuietGethBanner).
func (n *Node) logChain() {
	spec := n.cfg.Spec
	mm := spec.MergeMining
	log.Info("Merge-mined EVM sidechain of Bitcoin, BTC as gas", "network", spec.Name, "chainid", spec.ChainID,
		"genesis", n.chain.Genesis().Hash(), "head", n.chain.CurrentBlock().Number)
	log.Info("Merged mining", "tag", mm.Tag, "spacing", time.Duration(mm.TargetSpacing)*time.Second,
		"difficulty", "ASERT", "halflife", time.Duration(mm.HalfLife)*time.Second, "bitcoin", spec.Bitcoin.Network)
	switch spec.Finality.Mode {
	case genesis.FinalityBitcoin:
		log.Info("Finality from Bitcoin", "mode", spec.Finality.Mode, "bitcoindepth", spec.Finality.K)
	default:
		log.Info("Finality by depth", "mode", spec.Finality.Mode, "confirmations", spec.Confirmations)
	}
	if n.cfg.Archive {
		history := "entire chain"
		if n.cfg.StateHistory > 0 {
			history = fmt.Sprintf("last %d blocks", n.cfg.StateHistory)
		}
		log.Info("State", "gcmode", "archive", "history", history)
	} else {
		log.Info("State", "gcmode", "full", "history", "last 128 blocks")
	}
}

func (n *Node) setupMining() {
	tag := []byte(n.cfg.Spec.MergeMining.Tag)
	gasCeil := n.cfg.GasCeil
	if gasCeil == 0 {
		gasCeil = n.cfg.Spec.GasLimit
	}
	n.builder = miner.NewBuilder(miner.BuilderConfig{
		Chain: n.chain, Engine: n.engine, Pool: n.pool, Coinbase: n.cfg.Etherbase, GasCeil: gasCeil,
	})
	n.work = miner.NewWorkServer(miner.WorkServerConfig{
		Chain: n.chain, Engine: n.engine, Builder: n.builder, Inserter: n.mmchain, Pool: n.pool,
		Tag: tag, Recommit: 10 * time.Second, Debounce: 100 * time.Millisecond,
		Announce: n.announce,
	})
	// A dev node without --mine seals its own blocks; its mnr work is built
	// on demand, so it skips the template refresh loop that would compete
	// with the dev miner for the CPU.
	if n.cfg.Mine {
		n.stack.RegisterLifecycle(n.work)
	}
	if n.cfg.Dev {
		n.dev = miner.NewDevMiner(miner.DevMinerConfig{Work: n.work, Pool: n.pool, Tag: tag, Period: n.cfg.DevPeriod})
		n.stack.RegisterLifecycle(n.dev)
	}
}

// cacheSenders is rpc.Config.CacheSenders: on dev networks (the spec says
// so, whether or not this node runs --dev), the senders of impersonated
// transactions.
func cacheSenders(p consensus.Params) func(types.Signer, []*types.Transaction) {
	if !p.Dev {
		return nil
	}
	return consensus.CacheSenders
}

// coinbase is the address the blocks this node builds pay, for
// eth_coinbase.
func (n *Node) coinbase() (common.Address, error) { return n.builder.Coinbase(), nil }

// blockFields adds the merged-mining fields to every block served over RPC,
// in the encodings `mmgeth proof verify` takes.
func (n *Node) blockFields(h *types.Header) map[string]any {
	fields := map[string]any{
		"hashForMergedMining":  consensus.SealHash(h),
		"cumulativeDifficulty": (*hexBig)(n.mmchain.WorkOf(h.Hash())),
	}
	seal, err := consensus.DecodeSeal(h.Extra)
	if err != nil {
		return fields
	}
	fields["mergedMiningDifficulty"] = (*hexBig)(seal.Difficulty)
	if seal.Proof != nil {
		fields["bitcoinMergedMiningHeader"] = hexutil.Bytes(seal.Proof.BitcoinHeader)
		fields["bitcoinMergedMiningMerkleProof"] = hexutil.Bytes(seal.Proof.MerkleProof)
		fields["bitcoinMergedMiningCoinbaseTransaction"] = hexutil.Bytes(seal.Proof.Coinbase)
	}
	return fields
}

// Start opens the servers and starts every service.
func (n *Node) Start() error {
	if n.cfg.Offline {
		return nil // nothing runs but the chain, opened by New
	}
	if err := n.stack.Start(); err != nil {
		return err
	}
	n.warnExposure()
	return nil
}

// Close stops every service and closes the database.
func (n *Node) Close() error {
	if n.cfg.Offline && n.chainSvc != nil {
		// geth's stack, never started, would not stop its lifecycles;
		// the chain must stop before the database closes to write its
		// state.
		n.chainSvc.Stop()
	}
	return n.stack.Close()
}

// Wait blocks until the node stops.
func (n *Node) Wait() { n.stack.Wait() }

// HTTPEndpoint is the HTTP-RPC URL, once started; empty without HTTP.
func (n *Node) HTTPEndpoint() string {
	if n.http == nil {
		return ""
	}
	return n.http.endpoint()
}

// WSEndpoint is the WebSocket-RPC URL, once started; empty without WS.
func (n *Node) WSEndpoint() string {
	if n.ws == nil {
		return ""
	}
	return n.ws.endpoint()
}

// Chain is the node's blockchain.
func (n *Node) Chain() *core.BlockChain { return n.chain }

// DevKeys are the prefunded dev accounts' keys (dev mode only).
func (n *Node) DevKeys() []*ecdsa.PrivateKey { return n.devKeys }

// IPCEndpoint is the path of the IPC socket (<datadir>/mmgeth.ipc); empty
// when IPC is off, as it is on a chain kept in memory.
func (n *Node) IPCEndpoint() string {
	if ipcPath(&n.cfg) == "" {
		return ""
	}
	return n.stack.IPCEndpoint()
}

// Enode is the node's devp2p URL, the one peers pass to --bootnodes, once
// started; empty when it does not listen for peers.
func (n *Node) Enode() string {
	// An unstarted server (an offline node's) makes up a Self at 0.0.0.0.
	if n.cfg.ListenPort < 0 || n.stack.Server().LocalNode() == nil {
		return ""
	}
	return n.stack.Server().Self().URLv4()
}

// Etherbase is the address the blocks this node builds pay.
func (n *Node) Etherbase() common.Address { return n.cfg.Etherbase }
