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
	// A dev node's blocks pay DevCoinbase unless Etherbase is set.
	Mine      bool
	Etherbase common.Address
	GasCeil   uint64

	// Archive keeps the state of every block within StateHistory blocks of
	// the head readable (geth's --gcmode archive: path-scheme state
	// histories, indexed); otherwise only the newest 128 states are.
	// StateHistory 0 keeps the histories of the entire chain.
	Archive      bool
	StateHistory uint64

	// P2P; ListenPort 0 picks a free port, -1 disables listening;
	// ListenHost empty: see listenHost.
	ListenPort int
	ListenHost string
	MaxPeers   int
	NoDiscover bool
	Bootnodes  []string
	NodeKey    *ecdsa.PrivateKey // nil: geth's default, a key kept in the datadir

	Metrics     bool
	MetricsAddr string
	MetricsPort int

	// Verbosity follows geth: 0 silent ... 5 trace.
	Verbosity int
}

// DevCoinbase is where a dev node's blocks pay their fees unless
// --miner.etherbase says otherwise: Hardhat's default coinbase, an address
// no dev account uses. Fees (base fee included, DESIGN §5) then leave the
// sender as on anvil and Hardhat, so balance-after-gas assertions written
// for them hold, and the supply is still conserved.
var DevCoinbase = common.HexToAddress("0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e")

// Default HTTP/WS modules, as geth's; mnr is added when mining. Dev nodes
// also serve txpool, debug (tracing, which Foundry and Hardhat use) and evm.
var (
	DefaultHTTPModules = []string{"eth", "net", "web3"}
	DevHTTPModules     = []string{"eth", "net", "web3", "txpool", "debug"}
)
