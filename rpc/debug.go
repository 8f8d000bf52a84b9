// Follows go-ethereum v1.17.10 internal/ethapi/api.go (DebugAPI: GetRawHeader, GetRawBlock, GetRawReceipts, GetRawTransaction), which geth keeps internal; ported
// because it cannot be imported. Differs: only the raw-data methods; tracing comes from eth/tracers.

package rpc

import (
	"context"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// debugAPI holds the raw-data debug methods; the debug_trace* methods are
// geth's tracers API on the same namespace.
type debugAPI struct{ s *Service }

var errBlockNotFound = &codedError{codeResourceNotFound, "block not found"}

// block resolves sel or fails with "block not found": the raw methods return
// hex strings, which null would not be.
func (api *debugAPI) block(ctx context.Context, sel gethrpc.BlockNumberOrHash) (*types.Block, error) {
	b, err := api.s.b.blockByNumberOrHash(ctx, sel)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errBlockNotFound
	}
	return b, nil
}

// GetRawHeader returns the RLP of a header.
func (api *debugAPI) GetRawHeader(ctx context.Context, sel gethrpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	h, err := api.s.b.headerByNumberOrHash(ctx, sel)
	if err != nil {
		return nil, err
	}
	return rlp.EncodeToBytes(h)
}

// GetRawBlock returns the RLP of a block.
func (api *debugAPI) GetRawBlock(ctx context.Context, sel gethrpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	b, err := api.block(ctx, sel)
	if err != nil {
		return nil, err
	}
	return rlp.EncodeToBytes(b)
}

// GetRawReceipts returns the consensus (EIP-2718) encoding of a block's receipts.
func (api *debugAPI) GetRawReceipts(ctx context.Context, sel gethrpc.BlockNumberOrHash) ([]hexutil.Bytes, error) {
	b, err := api.block(ctx, sel)
	if err != nil {
		return nil, err
	}
	receipts := api.s.b.chain.GetReceiptsByHash(b.Hash())
	out := make([]hexutil.Bytes, len(receipts))
	for i, r := range receipts {
		if out[i], err = r.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetRawTransaction returns the EIP-2718 encoding of a canonical or pooled
// transaction, or null.
func (api *debugAPI) GetRawTransaction(ctx context.Context, hash common.Hash) (hexutil.Bytes, error) {
	found, tx, _, _, _ := api.s.b.GetCanonicalTransaction(hash)
	if !found {
		if tx = api.s.b.pool.Get(hash); tx == nil {
			if api.s.b.txIndexPending() {
				return nil, errTxIndexing
			}
			return nil, nil
		}
	}
	return tx.MarshalBinary()
}

type badBlock struct {
	Hash  common.Hash    `json:"hash"`
	Block map[string]any `json:"block"`
	RLP   hexutil.Bytes  `json:"rlp"`
}

// GetBadBlocks lists the blocks this node refused on import (geth keeps the
// last few in the database).
func (api *debugAPI) GetBadBlocks(ctx context.Context) ([]badBlock, error) {
	blocks := rawdb.ReadAllBadBlocks(api.s.b.db)
	out := make([]badBlock, 0, len(blocks))
	for _, b := range blocks {
		enc, err := rlp.EncodeToBytes(b)
		if err != nil {
			return nil, err
		}
		out = append(out, badBlock{Hash: b.Hash(), Block: marshalBlock(b, true, api.s.b.ChainConfig(), nil), RLP: enc})
	}
	return out, nil
}
