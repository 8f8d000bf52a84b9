// Follows go-ethereum v1.17.10 eth/state_accessor.go (StateAtBlock, StateAtTransaction), which hangs off *eth.Ethereum;
// rebuilt from public APIs. Differs: path-scheme state only; states older than the live layers come from
// geth's historic reader on archive nodes and are never rebuilt by re-executing blocks.

package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/eth/tracers"
)

// The tracers' state accessors. geth's own (eth/state_accessor.go) hang off
// *eth.Ethereum; these rebuild the path-scheme half from public APIs. The
// state comes from stateAt: live for the newest 128 blocks, from geth's
// historic reader (a read-only StateDB the transactions before txIndex are
// replayed on in memory) for older blocks on an archive. Elsewhere an older
// block is not re-executed (the path scheme keeps no older base state to
// start from): tracing it fails with a clear error instead.

func noRelease() {}

// StateAtBlock returns the state after block. base, readOnly and preferDisk
// only matter to hash-scheme re-execution, which this node does not do.
func (b *backend) StateAtBlock(ctx context.Context, block *types.Block, base *state.StateDB, readOnly bool, preferDisk bool) (*state.StateDB, tracers.StateReleaseFunc, error) {
	st, err := b.stateAt(block.Header())
	if err != nil {
		return nil, nil, err
	}
	return st, noRelease, nil
}

// StateAtTransaction returns the state and block context in which transaction
// txIndex of block starts: the parent's state, the block's system calls, then
// every earlier transaction applied.
func (b *backend) StateAtTransaction(ctx context.Context, block *types.Block, txIndex int) (*types.Transaction, vm.BlockContext, *state.StateDB, tracers.StateReleaseFunc, error) {
	if block.NumberU64() == 0 {
		return nil, vm.BlockContext{}, nil, nil, errors.New("no transaction in genesis")
	}
	parent := b.chain.GetHeader(block.ParentHash(), block.NumberU64()-1)
	if parent == nil {
		return nil, vm.BlockContext{}, nil, nil, fmt.Errorf("parent %#x not found", block.ParentHash())
	}
	statedb, err := b.stateAt(parent)
	if err != nil {
		return nil, vm.BlockContext{}, nil, nil, err
	}
	cfg := b.chain.Config()
	blockCtx := core.NewEVMBlockContext(block.Header(), b.chain, nil)
	evm := vm.NewEVM(blockCtx, statedb, cfg, vm.Config{})
	defer evm.Release()
	core.PreExecution(ctx, block.BeaconRoot(), parent, cfg, evm, block.Number(), block.Time())

	txs := block.Transactions()
	if txIndex == 0 && len(txs) == 0 {
		return nil, blockCtx, statedb, noRelease, nil
	}
	signer := types.MakeSigner(cfg, block.Number(), block.Time())
	for i, tx := range txs {
		if i == txIndex {
			return tx, blockCtx, statedb, noRelease, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, vm.BlockContext{}, nil, nil, err
		}
		msg, err := core.TransactionToMessage(tx, signer, block.BaseFee())
		if err != nil {
			return nil, vm.BlockContext{}, nil, nil, fmt.Errorf("transaction %#x: %v", tx.Hash(), err)
		}
		statedb.SetTxContext(tx.Hash(), i, uint32(i+1))
		if _, err := core.ApplyMessage(evm, msg, nil); err != nil {
			return nil, vm.BlockContext{}, nil, nil, fmt.Errorf("transaction %#x failed: %v", tx.Hash(), err)
		}
		statedb.Finalise(evm.GetRules())
	}
	return nil, vm.BlockContext{}, nil, nil, fmt.Errorf("transaction index %d out of range for block %#x", txIndex, block.Hash())
}
