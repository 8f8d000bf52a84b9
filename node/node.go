package node

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	gethnode "github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/miner"
	mmgp2p "github.com/mmgeth/mmgeth/p2p"
	"github.com/mmgeth/mmgeth/rpc"
)

// ClientName prefixes web3_clientVersion and the devp2p name.
const ClientName = "mmgeth"

// Version is the node's release.
const Version = "0.1.0"

// Node is a running mmgeth node.
type Node struct {
	cfg     Config
	stack   *gethnode.Node
	db      ethdb.Database
	chain   *core.BlockChain
	pool    *txpool.TxPool
	engine  *consensus.Engine
	mmchain *chain.Chain
	work    *miner.WorkServer
	builder *miner.Builder
	dev     *miner.DevMiner
	devKeys []*ecdsa.PrivateKey
	handler *mmgp2p.Handler // the mmg protocol (p2p.go)
	http    *httpRPC
	apis    []gethrpc.API // every RPC service registered, whatever --http.api serves
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
	c.IPCPath = ClientName + ".ipc"
	if cfg.DataDir == "" || cfg.IPCDisable {
		c.IPCPath = ""
	}
	// HTTP is served by mmgeth's own server (http.go), never geth's.
	if cfg.WS {
		modules, extra := httpModules(cfg)
		wsModules := cfg.WSModules
		if len(wsModules) == 0 {
			wsModules = modules
		}
		c.WSHost, c.WSPort = cfg.WSAddr, cfg.WSPort
		c.WSModules = withModules(wsModules, extra)
		c.WSOrigins = cfg.HTTPCors
	}
	c.P2P = p2p.Config{
		MaxPeers:    cfg.MaxPeers,
		NoDiscovery: cfg.NoDiscover,
		ListenAddr:  net.JoinHostPort(listenHost(cfg), strconv.Itoa(max(cfg.ListenPort, 0))),
		Name:        ClientName + "/v" + Version,
	}
	if cfg.ListenPort < 0 {
		c.P2P.ListenAddr = ""
	}
	c.P2P.PrivateKey = cfg.NodeKey
	return &c
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
// dev mode and mnr when mining.
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
	if cfg.Mine || cfg.Dev {
		extra = append(extra, "mnr")
	}
	return modules, extra
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
	db, err := n.stack.OpenDatabaseWithOptions("chaindata", gethnode.DatabaseOptions{
		Cache: 512, Handles: 512, MetricsNamespace: "mmgeth/db/chaindata/",
	})
	if err != nil {
		return err
	}
	n.db = db
	gen, err := spec.Genesis()
	if err != nil {
		return err
	}
	bcCfg := chain.DefaultConfig()
	bcCfg.SlowBlockThreshold = 2 * time.Second
	// anvil_dumpState walks the state trie, whose keys are hashes: a dev
	// node keeps the addresses behind them.
	bcCfg.Preimages = n.cfg.Dev
	if n.mmchain, err = chain.New(db, gen, spec.MergeMining, bcCfg); err != nil {
		return err
	}
	n.chain, n.engine = n.mmchain.BlockChain(), n.mmchain.Engine()

	poolCfg := legacypool.DefaultConfig
	poolCfg.Journal = ""
	legacy := legacypool.New(poolCfg, n.chain)
	if n.pool, err = txpool.New(poolCfg.PriceLimit, n.chain, []txpool.SubPool{legacy}); err != nil {
		return err
	}
	// First registered, last stopped: the chain must outlive everything
	// that reads it, and stop before the database closes.
	n.stack.RegisterLifecycle(&chainService{chain: n.mmchain, pool: n.pool})

	if n.cfg.Dev {
		if n.devKeys, err = spec.DevKeys(); err != nil {
			return err
		}
		if n.cfg.Etherbase == (common.Address{}) && len(n.devKeys) > 0 {
			n.cfg.Etherbase = crypto.PubkeyToAddress(n.devKeys[0].PublicKey)
		}
	}
	if err := n.setupP2P(); err != nil {
		return err
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

	svc, err := rpc.New(rpc.Config{
		Chain:         n.chain,
		TxPool:        n.pool,
		ChainID:       new(big.Int).SetUint64(spec.ChainID),
		NetworkID:     spec.NetworkID,
		Confirmations: spec.Confirmations,
		GasCap:        50_000_000,
		TxFeeCap:      1,
		LogRangeLimit: 10_000,
		NoLogIndex:    n.cfg.Dev,
		ClientVersion: fmt.Sprintf("%s/v%s", ClientName, Version),
		BlockFields:   n.blockFields,
		Dev:           devBackend,
		Coinbase:      coinbase,
		PeerCount:     n.stack.Server().PeerCount,
		Syncing:       n.syncing,

		AllowUnprotectedTxs: n.cfg.AllowUnprotectedTxs,
		CacheSenders:        cacheSenders(spec.MergeMining),
	})
	if err != nil {
		return err
	}
	n.stack.RegisterLifecycle(svc)
	apis := svc.APIs()
	if n.work != nil {
		apis = append(apis, gethrpc.API{Namespace: "mnr", Service: miner.NewAPI(n.work)})
	}
	n.stack.RegisterAPIs(apis)
	n.apis = apis
	if n.cfg.HTTP {
		modules, extra := httpModules(&n.cfg)
		// geth's in-process server holds geth's node APIs (admin, ...) too,
		// registered when the stack starts, before the HTTP server does.
		all, err := n.stack.RPCHandler()
		if err != nil {
			return err
		}
		vhosts := gethnode.DefaultConfig.HTTPVirtualHosts
		addr := net.JoinHostPort(n.cfg.HTTPAddr, strconv.Itoa(n.cfg.HTTPPort))
		if n.http, err = newHTTPRPC(addr, apis, all, withModules(modules, extra), n.cfg.HTTPCors, vhosts); err != nil {
			return err
		}
		n.stack.RegisterLifecycle(n.http)
	}
	return n.setupMetrics()
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
func (n *Node) Start() error { return n.stack.Start() }

// Close stops every service and closes the database.
func (n *Node) Close() error { return n.stack.Close() }

// Wait blocks until the node stops.
func (n *Node) Wait() { n.stack.Wait() }

// HTTPEndpoint is the HTTP-RPC URL, once started; empty without HTTP.
func (n *Node) HTTPEndpoint() string {
	if n.http == nil {
		return ""
	}
	return n.http.endpoint()
}

// WSEndpoint is the WebSocket-RPC URL, once started.
func (n *Node) WSEndpoint() string { return n.stack.WSEndpoint() }

// Chain is the node's blockchain.
func (n *Node) Chain() *core.BlockChain { return n.chain }

// DevKeys are the prefunded dev accounts' keys (dev mode only).
func (n *Node) DevKeys() []*ecdsa.PrivateKey { return n.devKeys }
