// Follows go-ethereum v1.17.10 internal/ethapi/api.go (BlockChainAPI: blocks, uncles, receipts by block), which geth keeps internal; ported
// because it cannot be imported. Differs: "pending" is "latest"; "safe" and "finalized" follow the chain's finality rule.

package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/forkid"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// Chain-level reads of the eth namespace: ids, blocks, receipts by block,
// sync status, accounts, fork configuration.

func (api *ethAPI) ChainId() *hexutil.Big {
	return (*hexutil.Big)(api.s.cfg.ChainID)
}

func (api *ethAPI) BlockNumber() hexutil.Uint64 {
	return hexutil.Uint64(api.s.b.CurrentHeader().Number.Uint64())
}

// blockJSON renders a block with the node's extra fields.
func (s *Service) blockJSON(b *types.Block, fullTx bool) map[string]any {
	var extra map[string]any
	if s.cfg.BlockFields != nil {
		extra = s.cfg.BlockFields(b.Header())
	}
	return marshalBlock(b, fullTx, s.b.ChainConfig(), extra)
}

// GetBlockByNumber returns the block, or null when there is none at that height.
func (api *ethAPI) GetBlockByNumber(ctx context.Context, number gethrpc.BlockNumber, fullTx bool) (map[string]any, error) {
	block, err := api.s.b.BlockByNumber(ctx, number)
	if block == nil || err != nil {
		return nil, err
	}
	return api.s.blockJSON(block, fullTx), nil
}

// GetBlockByHash returns the block, canonical or not, or null.
func (api *ethAPI) GetBlockByHash(ctx context.Context, hash common.Hash, fullTx bool) (map[string]any, error) {
	block, err := api.s.b.BlockByHash(ctx, hash)
	if block == nil || err != nil {
		return nil, err
	}
	return api.s.blockJSON(block, fullTx), nil
}

func (api *ethAPI) GetBlockTransactionCountByNumber(ctx context.Context, number gethrpc.BlockNumber) (*hexutil.Uint, error) {
	block, err := api.s.b.BlockByNumber(ctx, number)
	if block == nil || err != nil {
		return nil, err
	}
	n := hexutil.Uint(len(block.Transactions()))
	return &n, nil
}

func (api *ethAPI) GetBlockTransactionCountByHash(ctx context.Context, hash common.Hash) (*hexutil.Uint, error) {
	block, err := api.s.b.BlockByHash(ctx, hash)
	if block == nil || err != nil {
		return nil, err
	}
	n := hexutil.Uint(len(block.Transactions()))
	return &n, nil
}

// The uncle methods answer as for any chain; this one never has uncles.

func (api *ethAPI) GetUncleCountByBlockNumber(ctx context.Context, number gethrpc.BlockNumber) (*hexutil.Uint, error) {
	block, err := api.s.b.BlockByNumber(ctx, number)
	if block == nil || err != nil {
		return nil, err
	}
	n := hexutil.Uint(len(block.Uncles()))
	return &n, nil
}

func (api *ethAPI) GetUncleCountByBlockHash(ctx context.Context, hash common.Hash) (*hexutil.Uint, error) {
	block, err := api.s.b.BlockByHash(ctx, hash)
	if block == nil || err != nil {
		return nil, err
	}
	n := hexutil.Uint(len(block.Uncles()))
	return &n, nil
}

func (api *ethAPI) GetUncleByBlockNumberAndIndex(ctx context.Context, number gethrpc.BlockNumber, index hexutil.Uint) (map[string]any, error) {
	block, err := api.s.b.BlockByNumber(ctx, number)
	if block == nil || err != nil {
		return nil, err
	}
	return uncleJSON(block, index), nil
}

func (api *ethAPI) GetUncleByBlockHashAndIndex(ctx context.Context, hash common.Hash, index hexutil.Uint) (map[string]any, error) {
	block, err := api.s.b.BlockByHash(ctx, hash)
	if block == nil || err != nil {
		return nil, err
	}
	return uncleJSON(block, index), nil
}

func uncleJSON(block *types.Block, index hexutil.Uint) map[string]any {
	uncles := block.Uncles()
	if int(index) >= len(uncles) {
		return nil
	}
	u := types.NewBlockWithHeader(uncles[index])
	m := marshalHeader(u.Header())
	m["size"] = hexutil.Uint64(u.Size())
	m["uncles"] = []common.Hash{}
	return m
}

// GetBlockReceipts returns the receipts of a block, or null if there is no
// such block.
func (api *ethAPI) GetBlockReceipts(ctx context.Context, sel gethrpc.BlockNumberOrHash) ([]*rpcReceipt, error) {
	block, err := api.s.b.blockByNumberOrHash(ctx, sel)
	if block == nil || err != nil {
		return nil, err
	}
	receipts := api.s.b.chain.GetReceiptsByHash(block.Hash())
	txs := block.Transactions()
	if len(txs) != len(receipts) {
		return nil, fmt.Errorf("block %x: %d receipts for %d transactions", block.Hash(), len(receipts), len(txs))
	}
	signer := types.MakeSigner(api.s.b.ChainConfig(), block.Number(), block.Time())
	out := make([]*rpcReceipt, len(receipts))
	for i, r := range receipts {
		out[i] = marshalReceipt(r, block.Hash(), block.NumberU64(), signer, txs[i], i)
	}
	return out, nil
}

// Syncing is false in sync, else the node's progress object.
func (api *ethAPI) Syncing() any {
	if api.s.cfg.Syncing == nil {
		return false
	}
	return api.s.cfg.Syncing()
}

// Accounts lists the dev accounts; a non-dev node holds no keys.
func (api *ethAPI) Accounts() []common.Address {
	if api.s.cfg.Dev == nil {
		return []common.Address{}
	}
	return api.s.cfg.Dev.Accounts()
}

func (api *ethAPI) Coinbase() (common.Address, error) {
	if api.s.cfg.Coinbase == nil {
		return common.Address{}, errors.New("this node does not build blocks: no coinbase")
	}
	return api.s.cfg.Coinbase()
}

// forkConfig is one entry of the EIP-7910 eth_config answer.
type forkConfig struct {
	ActivationTime  uint64                    `json:"activationTime"`
	BlobSchedule    *params.BlobConfig        `json:"blobSchedule"`
	ChainID         *hexutil.Big              `json:"chainId"`
	ForkID          hexutil.Bytes             `json:"forkId"`
	Precompiles     map[string]common.Address `json:"precompiles"`
	SystemContracts map[string]common.Address `json:"systemContracts"`
}

type configResult struct {
	Current *forkConfig `json:"current"`
	Next    *forkConfig `json:"next"`
	Last    *forkConfig `json:"last"`
}

// Config implements EIP-7910: the fork in force now, the next scheduled one
// and the last scheduled one (null when none is scheduled).
func (api *ethAPI) Config(ctx context.Context) (*configResult, error) {
	cfg := api.s.b.ChainConfig()
	genesis := api.s.b.chain.Genesis()
	describe := func(at *uint64) *forkConfig {
		if at == nil {
			return nil
		}
		rules := cfg.Rules(cfg.LondonBlock, true, *at)
		precompiles := make(map[string]common.Address)
		for addr, p := range vm.ActivePrecompiledContracts(rules) {
			precompiles[p.Name()] = addr
		}
		activation := *at
		if genesis.Time() >= activation {
			activation = 0 // active since genesis
		}
		id := forkid.NewID(cfg, genesis, ^uint64(0), *at).Hash
		return &forkConfig{
			ActivationTime:  activation,
			BlobSchedule:    cfg.BlobConfig(cfg.LatestFork(*at)),
			ChainID:         (*hexutil.Big)(cfg.ChainID),
			ForkID:          id[:],
			Precompiles:     precompiles,
			SystemContracts: cfg.ActiveSystemContracts(*at),
		}
	}
	now := api.s.b.CurrentHeader().Time
	current, last := cfg.LatestFork(now), cfg.LatestFork(^uint64(0))
	var next *uint64
	for f := current + 1; f <= last; f++ {
		if at := cfg.Timestamp(f); at != nil {
			next = at
			break
		}
	}
	res := &configResult{Current: describe(cfg.Timestamp(current)), Next: describe(next)}
	if res.Next != nil {
		res.Last = describe(cfg.Timestamp(last))
	}
	return res, nil
}

// capability is one resource of eth_capabilities.
type capability struct {
	Disabled       bool            `json:"disabled"`
	OldestBlock    *hexutil.Uint64 `json:"oldestBlock,omitempty"`
	DeleteStrategy *deleteStrategy `json:"deleteStrategy,omitempty"`
}

type deleteStrategy struct {
	Type            string         `json:"type"`
	RetentionBlocks hexutil.Uint64 `json:"retentionBlocks"`
}

type capabilityHead struct {
	Number hexutil.Uint64 `json:"number"`
	Hash   common.Hash    `json:"hash"`
}

type capabilities struct {
	Head        capabilityHead `json:"head"`
	State       capability     `json:"state"`
	Tx          capability     `json:"tx"`
	Logs        capability     `json:"logs"`
	Receipts    capability     `json:"receipts"`
	Blocks      capability     `json:"blocks"`
	StateProofs capability     `json:"stateproofs"`
}

// Capabilities says which history this node serves: every block, receipt,
// transaction and log since the pruning cutoff (the node indexes them all),
// and state for the most recent blocks only unless it runs as an archive.
func (api *ethAPI) Capabilities() *capabilities {
	head := api.s.b.CurrentHeader()
	num := head.Number.Uint64()
	cutoff := hexutil.Uint64(api.s.b.HistoryPruningCutoff())
	all := capability{OldestBlock: &cutoff}
	oldestState := hexutil.Uint64(0)
	if num+1 > state.TriesInMemory {
		oldestState = hexutil.Uint64(num + 1 - state.TriesInMemory)
	}
	recent := capability{
		OldestBlock:    &oldestState,
		DeleteStrategy: &deleteStrategy{Type: "window", RetentionBlocks: state.TriesInMemory},
	}
	return &capabilities{
		Head:        capabilityHead{Number: hexutil.Uint64(num), Hash: head.Hash()},
		State:       recent,
		Tx:          all,
		Logs:        all,
		Receipts:    all,
		Blocks:      all,
		StateProofs: recent,
	}
}
