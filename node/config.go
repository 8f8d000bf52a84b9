package node

import (
	"crypto/ecdsa"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/p2p/nat"

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
	// HTTPVirtualHosts are the Host header names HTTP requests may carry
	// (geth's --http.vhosts); nil = geth's default, "localhost". Requests
	// to an IP address are always served.
	HTTPVirtualHosts []string
	HTTPMaxConns     int // open HTTP connections at most; 0 = DefaultHTTPMaxConns
	WS               bool
	WSAddr           string
	WSPort           int
	WSModules        []string
	// WSOrigins are the browser origins allowed to open a WebSocket (geth's
	// --ws.origins); nil = geth's default, localhost and this host's name.
	WSOrigins  []string
	WSMaxConns int // open WebSocket connections at most; 0 = DefaultWSMaxConns
	IPCDisable bool
	// IPCPath is the IPC socket (geth's --ipcpath): a bare name lives in
	// the datadir, an absolute path is used as is (and served even when
	// the chain is kept in memory); empty = mmgeth.ipc in the datadir.
	IPCPath string
	// MaxSubscriptions caps one WebSocket connection's subscriptions
	// (--ws.maxsubscriptions); 0 = rpc.DefaultMaxSubscriptions.
	MaxSubscriptions int
	// TraceLimit is how many debug_trace* calls run at once
	// (--rpc.tracelimit); 0 = rpc.DefaultTraceLimit.
	TraceLimit int
	// AllowUnprotectedTxs takes pre-EIP-155 transactions over RPC (geth's
	// --rpc.allow-unprotected-txs).
	AllowUnprotectedTxs bool
	// RPCGasCap caps eth_call, eth_estimateGas and eth_simulateV1 gas
	// (--rpc.gascap); 0 = rpc.DefaultGasCap.
	RPCGasCap uint64
	// RPCTxFeeCap refuses sends whose fee exceeds it, in BTC
	// (--rpc.txfeecap); 0 = rpc.DefaultTxFeeCap, < 0 = no cap.
	RPCTxFeeCap float64

	// TxPool configures the transaction pool (--txpool.*); nil = geth's
	// legacypool.DefaultConfig. The pool keeps no journal either way.
	TxPool *legacypool.Config

	// Cache is the memory, in MB, for the database and trie caches
	// (--cache), split as geth splits it (see caches); 0 = the database's
	// 512 MB and the chain's defaults (chain.DefaultConfig).
	Cache int

	// Offline opens the chain alone, for chain commands (import,
	// export): Start starts no P2P server, RPC, pool service or miner.
	Offline bool

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
	// MaxPendingPeers caps connections in their RLPx and devp2p handshakes,
	// inbound and outbound each (geth's --maxpendpeers); 0 means
	// DefaultMaxPendingPeers.
	MaxPendingPeers int
	NoDiscover      bool
	// NAT is how the node learns and maps its public address (geth's
	// --nat); nil = none.
	NAT       nat.Interface
	Bootnodes []string
	NodeKey   *ecdsa.PrivateKey // nil: geth's default, a key kept in the datadir

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

// DefaultMaxPendingPeers is the number of connections that may be in their
// handshakes at once. geth's 50 is what an attacker must outnumber: each idle
// connection holds its slot until geth's fixed 5 s RLPx handshake deadline
// (p2p/transport.go in v1.17.10), and 1,000 of them from LAN addresses, which
// geth's per-IP inbound throttle spares, kept a legitimate peer out for over
// 10 s (issue 15). A slot costs a goroutine, a socket and a few KiB of
// handshake state (TestIdleConnectionsDoNotBlockPeers reports the RSS), so
// the cap can be 40 times geth's before it matters next to the chain's caches.
const DefaultMaxPendingPeers = 2048

// DevCoinbase is where a dev node's blocks pay their fees unless
// --miner.etherbase says otherwise: Hardhat's default coinbase, an address
// no dev account uses. Fees (base fee included, DESIGN §5) then leave the
// sender as on anvil and Hardhat, so balance-after-gas assertions written
// for them hold, and the supply is still conserved.
var DevCoinbase = common.HexToAddress("0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e")

// Default HTTP/WS modules, geth's and mm (light client, finality, anchor
// proofs: read-only); mnr is added when mining. Dev nodes also serve
// txpool, debug (tracing, which Foundry and Hardhat use) and evm.
var (
	DefaultHTTPModules = []string{"eth", "net", "web3", "mm"}
	DevHTTPModules     = []string{"eth", "net", "web3", "txpool", "debug", "mm"}
)

// DevCORS are the browser origins a dev node's HTTP-RPC answers unless
// --http.corsdomain says otherwise: pages served from this machine (a
// dapp's dev server on any port). Not "*": a dev node serves unlocked
// accounts and debug tracing, and with "*" any web page the developer
// opens could use them.
var DevCORS = []string{"http://localhost", "http://localhost:*", "http://127.0.0.1", "http://127.0.0.1:*"}
