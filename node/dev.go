package node

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// devAPI serves the dev accounts and the evm_* controls.
type devAPI struct {
	n *Node

	mu        sync.Mutex
	snapshots []common.Hash // id-1 -> head at evm_snapshot
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

func (d *devAPI) SignTx(from common.Address, tx *types.Transaction) (*types.Transaction, error) {
	k, err := d.key(from)
	if err != nil {
		return nil, err
	}
	return types.SignTx(tx, types.LatestSignerForChainID(d.n.chain.Config().ChainID), k)
}

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

// hardhatAPI answers the Hardhat methods tools call on a dev node:
// hardhat_getAutomine, which tells Hardhat Ignition that the node mines on
// each transaction (without it, Ignition waits for confirmations that an
// automine chain only produces when more transactions come), and
// hardhat_metadata, which Ignition calls on chain id 31337, Hardhat's local
// chain id and the dev chain's: it deploys there without asking for
// confirmation, and uses instanceId to discard the deployment journal of a
// previous, different chain with the same id (hardhat-ignition
// internal/tasks/deploy.js).
type hardhatAPI struct {
	n          *Node
	automine   bool
	instanceID common.Hash // random per start, as Hardhat's and anvil's
}

// GetAutomine serves hardhat_getAutomine.
func (h *hardhatAPI) GetAutomine() bool { return h.automine }

// hardhatMetadata is Hardhat's HardhatMetadata: the node's client, chain and
// instance, and its head.
type hardhatMetadata struct {
	ClientVersion     string      `json:"clientVersion"`
	ChainID           uint64      `json:"chainId"`
	InstanceID        common.Hash `json:"instanceId"`
	LatestBlockNumber uint64      `json:"latestBlockNumber"`
	LatestBlockHash   common.Hash `json:"latestBlockHash"`
}

// Metadata serves hardhat_metadata.
func (h *hardhatAPI) Metadata() hardhatMetadata {
	head := h.n.chain.CurrentBlock()
	return hardhatMetadata{
		ClientVersion:     fmt.Sprintf("%s/v%s", ClientName, Version),
		ChainID:           h.n.chain.Config().ChainID.Uint64(),
		InstanceID:        h.instanceID,
		LatestBlockNumber: head.Number.Uint64(),
		LatestBlockHash:   head.Hash(),
	}
}
