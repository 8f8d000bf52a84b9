package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
)

// devAPI serves the dev accounts, the evm_* controls and the anvil/hardhat
// test-node methods (rpc.Dev). State changes go through the dev miner as
// dev operations in blocks of their own (consensus, devops.go).
type devAPI struct {
	n *Node

	mu          sync.Mutex
	snapshots   []common.Hash // id-1 -> head at evm_snapshot
	impersonate map[common.Address]bool
	autoImp     bool
}

func (d *devAPI) Accounts() []common.Address {
	out := make([]common.Address, len(d.n.devKeys))
	for i, k := range d.n.devKeys {
		out[i] = crypto.PubkeyToAddress(k.PublicKey)
	}
	return out
}

// key is from's private key, if from is a dev account.
func (d *devAPI) key(from common.Address) (*ecdsa.PrivateKey, error) {
	for _, k := range d.n.devKeys {
		if crypto.PubkeyToAddress(k.PublicKey) == from {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown account %s", from)
}

// SignTx signs with from's dev key or, if from is impersonated and has no
// key here, gives tx the impersonation signature naming from.
func (d *devAPI) SignTx(from common.Address, tx *types.Transaction) (*types.Transaction, error) {
	signer := types.LatestSignerForChainID(d.n.chain.Config().ChainID)
	k, err := d.key(from)
	if err != nil {
		if d.Impersonating(from) {
			return consensus.Impersonate(tx, from, signer)
		}
		return nil, err
	}
	return types.SignTx(tx, signer, k)
}

func (d *devAPI) Impersonating(addr common.Address) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.autoImp || d.impersonate[addr]
}

func (d *devAPI) Impersonate(addr common.Address, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.impersonate == nil {
		d.impersonate = make(map[common.Address]bool)
	}
	if on {
		d.impersonate[addr] = true
	} else {
		delete(d.impersonate, addr)
	}
}

func (d *devAPI) AutoImpersonate(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.autoImp = on
}

// mineOps seals the dev operations into a block of their own now.
func (d *devAPI) mineOps(ops ...consensus.DevOp) error {
	_, err := d.n.dev.MineOps(context.Background(), ops)
	return err
}

func (d *devAPI) SetBalance(addr common.Address, balance *big.Int) error {
	b, overflow := uint256.FromBig(balance)
	if overflow || balance.Sign() < 0 {
		return fmt.Errorf("balance %v out of range [0, 2^256)", balance)
	}
	return d.mineOps(consensus.SetBalanceOp(addr, b))
}

func (d *devAPI) SetCode(addr common.Address, code []byte) error {
	return d.mineOps(consensus.SetCodeOp(addr, code))
}

func (d *devAPI) SetStorageAt(addr common.Address, slot, value common.Hash) error {
	return d.mineOps(consensus.SetStorageOp(addr, slot, value))
}

func (d *devAPI) SetNonce(addr common.Address, nonce uint64) error {
	if nonce == ^uint64(0) {
		return errors.New("nonce 2^64-1 is not allowed (EIP-2681)")
	}
	return d.mineOps(consensus.SetNonceOp(addr, nonce))
}

func (d *devAPI) MineBlocks(ctx context.Context, n, interval uint64) error {
	return d.n.dev.MineBlocks(ctx, n, interval)
}

func (d *devAPI) SetAutomine(on bool) { d.n.dev.SetAutomine(on) }

func (d *devAPI) Automine() bool { return d.n.dev.Automine() }

func (d *devAPI) SetIntervalMining(seconds uint64) {
	d.n.dev.SetInterval(time.Duration(seconds) * time.Second)
}

// DropTransaction removes one transaction from the pool. geth's pool has
// no removal by hash, so the pool is emptied and every other transaction
// added back (impersonated ones keep their cached senders).
func (d *devAPI) DropTransaction(hash common.Hash) bool {
	if d.n.pool.Get(hash) == nil {
		return false
	}
	pending, queued := d.n.pool.Content()
	d.n.pool.Clear()
	var keep []*types.Transaction
	for _, txs := range []map[common.Address][]*types.Transaction{pending, queued} {
		for _, list := range txs {
			for _, tx := range list {
				if tx.Hash() != hash {
					keep = append(keep, tx)
				}
			}
		}
	}
	for i, err := range d.n.pool.Add(keep, true) {
		if err != nil {
			log.Debug("Transaction not restored after a drop", "hash", keep[i].Hash(), "err", err)
		}
	}
	return true
}

func (d *devAPI) DropAllTransactions() { d.n.pool.Clear() }

// Reset returns the chain to genesis, empties the pool and forgets
// snapshots, impersonations and time settings, as anvil_reset does.
// Followers keep their longer chain: fork choice is by work.
func (d *devAPI) Reset() error {
	d.mu.Lock()
	d.snapshots, d.impersonate, d.autoImp = nil, nil, false
	d.mu.Unlock()
	d.n.pool.Clear()
	d.n.dev.Reset()
	return d.n.mmchain.Rewind(0)
}

func (d *devAPI) SetCoinbase(addr common.Address) { d.n.builder.SetCoinbase(addr) }

func (d *devAPI) SetNextBlockBaseFee(fee *big.Int) error {
	f, overflow := uint256.FromBig(fee)
	if overflow || fee.Sign() < 0 {
		return fmt.Errorf("base fee %v out of range [0, 2^256)", fee)
	}
	d.n.dev.SetNextBlockBaseFee(f)
	return nil
}

// SetBlockGasLimit makes the next block declare limit and later blocks keep
// it.
func (d *devAPI) SetBlockGasLimit(limit uint64) error {
	if limit < params.MinGasLimit || limit > params.MaxGasLimit {
		return fmt.Errorf("gas limit %d outside [%d, %d]", limit, params.MinGasLimit, params.MaxGasLimit)
	}
	d.n.dev.SetNextGasLimit(limit)
	d.n.builder.SetGasCeil(limit)
	return nil
}

func (d *devAPI) TimeOffset() uint64 { return d.n.dev.TimeOffset() }

func (d *devAPI) SignHash(from common.Address, hash []byte) ([]byte, error) {
	k, err := d.key(from)
	if err != nil {
		return nil, err
	}
	return crypto.Sign(hash, k)
}

func (d *devAPI) Mine(ctx context.Context, timestamp uint64) (*types.Block, error) {
	return d.n.dev.Mine(ctx, timestamp)
}

func (d *devAPI) Snapshot() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.snapshots = append(d.snapshots, d.n.chain.CurrentBlock().Hash())
	return uint64(len(d.snapshots))
}

// Revert rewinds the chain to the head recorded by snapshot id; like
// Hardhat and anvil, it drops that snapshot and every later one.
func (d *devAPI) Revert(id uint64) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id == 0 || id > uint64(len(d.snapshots)) {
		return false, nil
	}
	target := d.n.chain.GetHeaderByHash(d.snapshots[id-1])
	d.snapshots = d.snapshots[:id-1]
	if target == nil {
		return false, nil
	}
	if err := d.n.mmchain.Rewind(target.Number.Uint64()); err != nil {
		return false, err
	}
	// The pool resets to the new head in the background; a client that asks
	// for its pending nonce right after the revert must get the rewound one,
	// or its next transaction waits behind a nonce gap forever.
	if err := d.n.pool.Sync(); err != nil {
		return false, err
	}
	return true, nil
}

func (d *devAPI) IncreaseTime(seconds uint64) uint64 { return d.n.dev.IncreaseTime(seconds) }

func (d *devAPI) SetNextBlockTimestamp(t uint64) error { return d.n.dev.SetNextBlockTimestamp(t) }
