package miner

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/txorder"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// TxSource is the part of the transaction pool the builder reads.
type TxSource interface {
	Pending(filter txpool.PendingFilter) (map[common.Address][]*txpool.LazyTransaction, int)
	// Sync waits for the pool to catch up with the chain head: the pool
	// resets asynchronously after a new head, and a builder reading it
	// earlier would pick up just-included transactions.
	Sync() error
}

// BuilderConfig configures a Builder.
type BuilderConfig struct {
	Chain    *core.BlockChain
	Engine   *consensus.Engine
	Pool     TxSource
	Coinbase common.Address
	GasCeil  uint64 // gas limit the builder steers towards, within EIP-1559's bounds
	MinTip   *big.Int
}

// Builder assembles block templates.
type Builder struct {
	cfg BuilderConfig
	// mu serializes builds. Besides saving duplicate work on one head, it
	// keeps TxPool.Sync single-caller: geth's pool remembers only one
	// waiter, and a second concurrent Sync would block forever.
	mu sync.Mutex
}

// NewBuilder returns a builder.
func NewBuilder(cfg BuilderConfig) *Builder {
	if cfg.MinTip == nil {
		cfg.MinTip = new(big.Int)
	}
	return &Builder{cfg: cfg}
}

// Template is an executed block waiting for its merged-mining proof.
type Template struct {
	block      *types.Block    // Extra holds the seal without its proof
	seal       *consensus.Seal // block's seal, decoded once
	SealHash   common.Hash
	Difficulty *big.Int
	// Fees is what the block pays its coinbase: tips plus the base fee,
	// which this chain credits instead of burning.
	Fees *big.Int

	// The builder's execution, which the block sealed from this template
	// is imported with instead of being executed again (WorkServer.Submit,
	// chain.InsertBuilt); nil once used.
	state    *state.StateDB
	receipts []*types.Receipt
}

// Block returns the unsealed block.
func (t *Template) Block() *types.Block { return t.block }

// Seal attaches a proof and returns the block miners made.
func (t *Template) Seal(proof *mergemine.Proof) *types.Block {
	seal := *t.seal
	seal.Proof = proof
	header := t.block.Header()
	header.Extra = seal.Bytes()
	return t.block.WithSeal(header)
}

// BuildOptions shape a dev block (dev networks only).
type BuildOptions struct {
	// Ops are dev operations for the seal, applied by the engine's Finalize
	// after the transactions; a declared base fee or gas limit becomes the
	// header's.
	Ops []consensus.DevOp
	// NoTxs leaves the pool's transactions out: a block made to carry a
	// state change applies it to the state the caller saw.
	NoTxs bool
	// Automine builds on the pool's new-transaction event, which the pool
	// sends once it has promoted them: the pool is not synced first (a
	// forced pool reset and five goroutine hand-offs per dev block);
	// transactions a pool that has not caught up with the head still lists
	// fail as nonce-too-low and are skipped. A build that would include no
	// transaction returns ErrNothingPending, so that an event for
	// transactions an earlier block took seals no empty block.
	Automine bool
}

// ErrNothingPending: an Automine build found no transaction to include.
var ErrNothingPending = errors.New("no pending transaction to include")

// SetCoinbase changes the address later blocks pay (anvil_setCoinbase).
func (b *Builder) SetCoinbase(addr common.Address) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Coinbase = addr
}

// Coinbase is the address blocks built now pay.
func (b *Builder) Coinbase() common.Address {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg.Coinbase
}

// SetGasCeil changes the gas limit later blocks steer towards.
func (b *Builder) SetGasCeil(limit uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.GasCeil = limit
}

// Build executes the pool's pending transactions, in price-and-nonce order,
// on top of parent. A transaction that fails is skipped with its sender's
// later ones, as geth's miner does: one bad transaction never stalls a block.
func (b *Builder) Build(parent *types.Header, timestamp uint64) (*Template, error) {
	return b.BuildWith(parent, timestamp, BuildOptions{})
}

// BuildWith is Build with dev options.
func (b *Builder) BuildWith(parent *types.Header, timestamp uint64, opts BuildOptions) (*Template, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	chain, cfg := b.cfg.Chain, b.cfg.Chain.Config()
	if timestamp <= parent.Time {
		timestamp = parent.Time + 1
	}
	header := &types.Header{
		ParentHash: parent.Hash(),
		Number:     new(big.Int).Add(parent.Number, common.Big1),
		GasLimit:   core.CalcGasLimit(parent.GasLimit, b.cfg.GasCeil),
		Time:       timestamp,
		Coinbase:   b.cfg.Coinbase,
		BaseFee:    eip1559.CalcBaseFee(cfg, parent),
		// No blobs, and no beacon chain: the Cancun fields are present, as
		// the active forks require, and zero.
		BlobGasUsed:      new(uint64),
		ExcessBlobGas:    new(uint64),
		ParentBeaconRoot: new(common.Hash),
	}
	for _, op := range opts.Ops {
		switch op.Kind {
		case consensus.OpBaseFee:
			header.BaseFee = new(big.Int).SetBytes(op.Value)
		case consensus.OpGasLimit:
			header.GasLimit = new(big.Int).SetBytes(op.Value).Uint64()
		}
	}
	if !opts.Automine {
		if err := b.cfg.Pool.Sync(); err != nil {
			log.Debug("Txpool sync before building failed", "err", err)
		}
	}
	var pending map[common.Address][]*txpool.LazyTransaction
	if !opts.NoTxs {
		pending, _ = b.cfg.Pool.Pending(txpool.PendingFilter{
			MinTip:      uint256.MustFromBig(b.cfg.MinTip),
			BaseFee:     uint256.MustFromBig(header.BaseFee),
			GasLimitCap: params.MaxTxGas,
		})
	}
	if opts.Automine && len(pending) == 0 {
		return nil, ErrNothingPending
	}
	if err := b.cfg.Engine.Prepare(chain, header); err != nil {
		return nil, fmt.Errorf("prepare header: %w", err)
	}
	if len(opts.Ops) > 0 {
		seal, err := consensus.DecodeSeal(header.Extra)
		if err != nil {
			return nil, err
		}
		seal.Ops = opts.Ops
		header.Extra = seal.Bytes()
	}
	statedb, err := chain.StateAtForkBoundary(parent, header)
	if err != nil {
		return nil, fmt.Errorf("parent state: %w", err)
	}
	ctx := context.Background()
	evm := vm.NewEVM(core.NewEVMBlockContext(header, chain, &header.Coinbase), statedb, cfg, vm.Config{})
	core.PreExecution(ctx, header.ParentBeaconRoot, parent, cfg, evm, header.Number, header.Time)

	signer := types.MakeSigner(cfg, header.Number, header.Time)
	txs := txorder.NewTransactionsByPriceAndNonce(signer, pending, header.BaseFee)

	var (
		gp       = core.NewGasPool(header.GasLimit)
		included []*types.Transaction
		receipts []*types.Receipt
		logs     []*types.Log
		fees     = new(big.Int)
	)
	for {
		ltx, _ := txs.Peek()
		if ltx == nil || gp.Available(false) < params.TxGas {
			break
		}
		if gp.Available(false) < ltx.Gas {
			txs.Pop()
			continue
		}
		tx := ltx.Resolve()
		if tx == nil {
			txs.Pop()
			continue
		}
		statedb.SetTxContext(tx.Hash(), len(included), uint32(len(included)+1))
		snap, gpSnap := statedb.Snapshot(), gp.Snapshot()
		receipt, _, err := core.ApplyTransaction(ctx, evm, gp, statedb, header, tx)
		switch {
		case err == nil:
			included = append(included, tx)
			receipts = append(receipts, receipt)
			logs = append(logs, receipt.Logs...)
			tip, _ := tx.EffectiveGasTip(header.BaseFee) // the pool only hands out txs paying the base fee
			price := tip.Add(tip, header.BaseFee)
			fees.Add(fees, price.Mul(price, new(big.Int).SetUint64(receipt.GasUsed)))
			txs.Shift()
		case errors.Is(err, core.ErrNonceTooLow):
			statedb.RevertToSnapshot(snap)
			gp.Set(gpSnap)
			txs.Shift()
		default:
			log.Debug("Transaction skipped", "hash", tx.Hash(), "err", err)
			statedb.RevertToSnapshot(snap)
			gp.Set(gpSnap)
			txs.Pop()
		}
	}
	if opts.Automine && len(included) == 0 {
		return nil, ErrNothingPending
	}
	header.GasUsed = gp.Used()

	body := &types.Body{Transactions: included, Withdrawals: []*types.Withdrawal{}}
	requests, _, err := core.PostExecution(ctx, cfg, header.Number, header.Time, logs, body.Withdrawals, evm, uint32(len(included)+1))
	if err != nil {
		return nil, fmt.Errorf("post-execution: %w", err)
	}
	if requests != nil {
		reqHash := types.CalcRequestsHash(requests)
		header.RequestsHash = &reqHash
	}
	b.cfg.Engine.Finalize(chain, header, statedb, body)
	block := core.AssembleBlock(chain, header, statedb, body, receipts, nil)
	if err := statedb.Error(); err != nil {
		return nil, fmt.Errorf("state read failure: %w", err)
	}
	seal, err := consensus.DecodeSeal(block.Extra())
	if err != nil {
		return nil, err
	}
	return &Template{
		block:      block,
		seal:       seal,
		SealHash:   consensus.SealHash(block.Header()),
		Difficulty: seal.Difficulty,
		Fees:       fees,
		state:      statedb,
		receipts:   receipts,
	}, nil
}
