package rpc

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// Defaults applied by New to zero-valued Config fields. They are geth's, so
// that tools tuned against geth behave the same here.
const (
	DefaultGasCap        = 50_000_000
	DefaultTxFeeCap      = 1.0 // BTC
	DefaultLogRangeLimit = 10_000
	DefaultEVMTimeout    = 5 * time.Second
	// DefaultMaxSubscriptions caps a connection's subscriptions. geth has
	// no cap (100,000 subscriptions on one connection cost 1.7 GB); this is
	// reth's default (--rpc.max-subscriptions-per-connection), far above
	// what a dapp or an indexer opens.
	DefaultMaxSubscriptions = 1024
)

// DefaultTraceLimit is how many debug_trace* calls run at once: half the
// cores, at least one. A trace can hold a core for its whole timeout, and
// the other half is left to the chain and the other clients.
var DefaultTraceLimit = max(1, runtime.NumCPU()/2)

// DefaultMinTip is the tip the fee oracle starts from before it has seen any
// block (geth's miner default, 0.001 gwei).
var DefaultMinTip = big.NewInt(params.GWei / 1000)

// Config is what the node hands to New.
type Config struct {
	Chain     *core.BlockChain
	TxPool    *txpool.TxPool
	ChainID   *big.Int // must match Chain.Config().ChainID; nil takes it from there
	NetworkID uint64

	// Finality gives the "safe" and "finalized" blocks of every method that
	// takes a block tag (the chain's Bitcoin-anchored finality). nil means
	// the depth rule: both are head - Confirmations, clamped at genesis.
	Finality      Finality
	Confirmations uint64

	// MM serves the mm namespace (light client, finality, anchor proofs);
	// nil leaves the namespace out.
	MM MMBackend
	// Peg serves the peg methods of the mm namespace (PEG.md §9); nil
	// leaves them out.
	Peg PegBackend
	// DecodeRevert names a revert's custom error and its arguments for the
	// message of error 3 (eth_call, eth_estimateGas, eth_simulateV1), e.g.
	// "InsufficientConfirmations(have=1, need=3)"; "" when it knows none of
	// them. nil: only Solidity's Error(string) is decoded. The data field
	// keeps the raw revert bytes either way.
	DecodeRevert func(revert []byte) string

	GasCap        uint64  // eth_call/eth_estimateGas/eth_simulateV1 gas cap; 0 = DefaultGasCap
	TxFeeCap      float64 // BTC; sends whose gasPrice*gas exceed it are refused; 0 = DefaultTxFeeCap, < 0 = no cap
	LogRangeLimit uint64  // widest eth_getLogs block range and most logs returned; 0 = DefaultLogRangeLimit
	// NoLogIndex turns geth's log index off for the recent-logs index
	// (recentlogs.go), which holds the newest blocks' logs in memory;
	// eth_getLogs over older blocks scans their blooms and receipts. Dev
	// chains want it so: geth's index copies a whole filter map per block,
	// which at hundreds of blocks per second costs more than it saves.
	NoLogIndex bool
	EVMTimeout time.Duration // wall-clock limit of one eth_call; 0 = DefaultEVMTimeout
	MinTip     *big.Int      // fee oracle's starting tip; nil = DefaultMinTip
	// TraceLimit is how many debug_trace* calls run at once; the others
	// wait for a slot. 0 = DefaultTraceLimit.
	TraceLimit int
	// MaxSubscriptions caps the subscriptions of one WebSocket connection;
	// 0 = DefaultMaxSubscriptions.
	MaxSubscriptions int
	ClientVersion    string

	// AllowUnprotectedTxs lets pre-EIP-155 transactions (no chain id in the
	// signature) through eth_sendRawTransaction (geth's
	// --rpc.allow-unprotected-txs).
	AllowUnprotectedTxs bool

	// BlockFields returns the node's extra per-block JSON fields
	// (hashForMergedMining, bitcoinMergedMining*, cumulativeDifficulty...).
	// They are merged into every block object; nil adds nothing.
	BlockFields func(h *types.Header) map[string]any

	// Syncing returns sync progress for eth_syncing: false when in sync, or an
	// object with startingBlock/currentBlock/highestBlock. nil means false.
	Syncing func() any
	// SyncActive reports whether a chain sync is importing a peer's blocks;
	// the log indexer holds its target meanwhile (see logIndexer.loop).
	// nil means never.
	SyncActive func() bool
	// PeerCount returns the number of connected peers for net_peerCount; nil means 0.
	PeerCount func() int
	// Coinbase returns the address blocks built by this node pay, for
	// eth_coinbase; nil means the node builds no blocks.
	Coinbase func() (common.Address, error)

	// Archive says the chain keeps indexed state histories (geth's
	// ArchiveMode): states older than the live 128 are read through
	// core.BlockChain.HistoricState.
	Archive bool

	Dev Dev // nil unless --dev

	// CacheSenders, on dev networks, tells geth the senders of impersonated
	// transactions before it recovers them from their signatures
	// (consensus.CacheSenders); every block and transaction served is
	// passed through it. nil elsewhere.
	CacheSenders func(types.Signer, []*types.Transaction)
}

// Dev is the dev-mode node: unlocked accounts and manual block production.
// The evm namespace, the signing methods (eth_sendTransaction,
// eth_signTransaction, eth_sign, personal_sign, eth_signTypedData_v3/_v4)
// use it.
type Dev interface {
	Accounts() []common.Address
	SignTx(from common.Address, tx *types.Transaction) (*types.Transaction, error)
	// SignHash signs a 32-byte digest with from's key and returns the
	// 65-byte [R || S || V] signature with V in {0, 1}, as crypto.Sign does;
	// the RPC methods choose the digest (EIP-191, EIP-712).
	SignHash(from common.Address, hash []byte) ([]byte, error)
	Mine(ctx context.Context, timestamp uint64) (*types.Block, error) // seal one block now; timestamp 0 = default
	Snapshot() uint64
	Revert(id uint64) (bool, error)
	IncreaseTime(seconds uint64) uint64 // returns the total offset
	SetNextBlockTimestamp(t uint64) error
	// Impersonating reports whether eth_sendTransaction may send from addr
	// without its key (anvil_impersonateAccount, auto-impersonation);
	// SignTx then gives it an impersonation signature.
	Impersonating(addr common.Address) bool
	TestNode
}

// withDefaults checks cfg and fills its zero values.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Chain == nil {
		return cfg, errors.New("rpc: Config.Chain is required")
	}
	if cfg.TxPool == nil {
		return cfg, errors.New("rpc: Config.TxPool is required")
	}
	chainID := cfg.Chain.Config().ChainID
	if chainID == nil {
		return cfg, errors.New("rpc: chain config has no chain id")
	}
	if cfg.ChainID == nil {
		cfg.ChainID = new(big.Int).Set(chainID)
	} else if cfg.ChainID.Cmp(chainID) != 0 {
		return cfg, fmt.Errorf("rpc: Config.ChainID %v differs from the chain config's %v", cfg.ChainID, chainID)
	}
	if cfg.GasCap == 0 {
		cfg.GasCap = DefaultGasCap
	}
	if cfg.TxFeeCap == 0 {
		cfg.TxFeeCap = DefaultTxFeeCap
	}
	if cfg.LogRangeLimit == 0 {
		cfg.LogRangeLimit = DefaultLogRangeLimit
	}
	if cfg.EVMTimeout == 0 {
		cfg.EVMTimeout = DefaultEVMTimeout
	}
	if cfg.TraceLimit <= 0 {
		cfg.TraceLimit = DefaultTraceLimit
	}
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if cfg.MinTip == nil {
		cfg.MinTip = DefaultMinTip
	}
	if cfg.Finality == nil {
		cfg.Finality = depthFinality{chain: cfg.Chain, confirmations: cfg.Confirmations}
	}
	return cfg, nil
}
