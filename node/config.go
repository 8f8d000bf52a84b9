package node

import (
	"crypto/ecdsa"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mmgeth/mmgeth/genesis"
)

// Config is everything a node is started with.
type Config struct {
	Spec    *genesis.Spec
	DataDir string // empty: everything in memory

	HTTP        bool
	HTTPAddr    string
	HTTPPort    int
	HTTPModules []string
	HTTPCors    []string
	WS          bool
	WSAddr      string
	WSPort      int
	WSModules   []string
	IPCDisable  bool
	// AllowUnprotectedTxs takes pre-EIP-155 transactions over RPC (geth's
	// --rpc.allow-unprotected-txs).
	AllowUnprotectedTxs bool

	// Dev seals blocks with the built-in merge-miner and serves the dev
	// accounts; DevPeriod 0 seals a block for each batch of transactions.
	Dev       bool
	DevPeriod time.Duration

	// Mine serves merge-mining work (mnr_*) for blocks paying Etherbase.
	Mine      bool
	Etherbase common.Address
	GasCeil   uint64

	// P2P; ListenPort 0 picks a free port, -1 disables listening;
	// ListenHost empty: see listenHost.
	ListenPort int
	ListenHost string
	MaxPeers   int
	NoDiscover bool
	Bootnodes  []string
	NodeKey    *ecdsa.PrivateKey // nil: geth's default, a key kept in the datadir

	// BtcRPC is the node's own Bitcoin node (btcd or bitcoind JSON-RPC,
	// host:port or URL) with its credentials: mm_getPegInProof and the
	// unconfirmed/confirming states of mm_getPegInStatus read it. Empty:
	// those methods say they need one.
	BtcRPC, BtcUser, BtcPass string
	// PegWatch keeps the recipients of every mm_getDepositAddress in the
	// database and lists them for relayers (mm_watchedDeposits; see
	// depositWatch).
	PegWatch bool

	// OverrideFinality lets fork choice adopt a heavier chain that forks
	// below the Bitcoin-finalized block (--override.finality), which it
	// otherwise refuses.
	OverrideFinality bool

	Metrics     bool
	MetricsAddr string
	MetricsPort int

	// Verbosity follows geth: 0 silent ... 5 trace.
	Verbosity int
}

// Default HTTP/WS modules, geth's and mm (light client, finality, anchor
// proofs: read-only); mnr is added when mining. Dev nodes also serve
// txpool, debug (tracing, which Foundry and Hardhat use) and evm.
var (
	DefaultHTTPModules = []string{"eth", "net", "web3", "mm"}
	DevHTTPModules     = []string{"eth", "net", "web3", "txpool", "debug", "mm"}
)
