package rpc

import (
	"context"
	"errors"
	"fmt"
	"math/big"
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
)

// DefaultMinTip is the tip the fee oracle starts from before it has seen any
// block (geth's miner default, 0.001 gwei).
var DefaultMinTip = big.NewInt(params.GWei / 1000)

// Config is what the node hands to New.
type Config struct {
	Chain     *core.BlockChain
	TxPool    *txpool.TxPool
	ChainID   *big.Int // must match Chain.Config().ChainID; nil takes it from there
	NetworkID uint64

	// Confirmations is the depth at which a block counts as "safe" and
	// "finalized": head - Confirmations, clamped at genesis. Finality comes
	// from the Bitcoin work piled on top of a block, not from a beacon chain.
	Confirmations uint64

	GasCap        uint64  // eth_call/eth_estimateGas/eth_simulateV1 gas cap; 0 = DefaultGasCap
	TxFeeCap      float64 // BTC; sends whose gasPrice*gas exceed it are refused; 0 = DefaultTxFeeCap, < 0 = no cap
	LogRangeLimit uint64  // widest eth_getLogs block range and most logs returned; 0 = DefaultLogRangeLimit
	// NoLogIndex turns geth's log index off: eth_getLogs then scans block
	// blooms and receipts. Dev chains want it so: the index copies a whole
	// filter map per block, which at hundreds of blocks per second costs
	// more than the scans it saves on a short chain.
	NoLogIndex    bool
	EVMTimeout    time.Duration // wall-clock limit of one eth_call; 0 = DefaultEVMTimeout
	MinTip        *big.Int      // fee oracle's starting tip; nil = DefaultMinTip
	ClientVersion string

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
	// PeerCount returns the number of connected peers for net_peerCount; nil means 0.
	PeerCount func() int
	// Coinbase returns the address blocks built by this node pay, for
	// eth_coinbase; nil means the node builds no blocks.
	Coinbase func() (common.Address, error)

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
	if cfg.MinTip == nil {
		cfg.MinTip = DefaultMinTip
	}
	return cfg, nil
}
