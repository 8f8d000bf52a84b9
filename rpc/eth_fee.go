// Follows go-ethereum v1.17.10 internal/ethapi/api.go (EthereumAPI: GasPrice, MaxPriorityFeePerGas, FeeHistory), which geth keeps internal; ported
// because it cannot be imported. Differs: no blob fees: eth_blobBaseFee answers for a chain without blobs.

package rpc

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// Fee suggestions come from geth's gas price oracle over recent blocks.

// GasPrice is a legacy-transaction price: suggested tip plus the head's base fee.
func (api *ethAPI) GasPrice(ctx context.Context) (*hexutil.Big, error) {
	tip, err := api.s.gpo.SuggestTipCap(ctx)
	if err != nil {
		return nil, err
	}
	if head := api.s.b.CurrentHeader(); head.BaseFee != nil {
		tip.Add(tip, head.BaseFee)
	}
	return (*hexutil.Big)(tip), nil
}

func (api *ethAPI) MaxPriorityFeePerGas(ctx context.Context) (*hexutil.Big, error) {
	tip, err := api.s.gpo.SuggestTipCap(ctx)
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(tip), nil
}

// BaseFee is the base fee of the next block.
func (api *ethAPI) BaseFee() *hexutil.Big {
	return (*hexutil.Big)(eip1559.CalcBaseFee(api.s.b.ChainConfig(), api.s.b.CurrentHeader()))
}

// BlobBaseFee is the blob base fee at the head. Blob transactions are refused
// here, but the header fields and the BLOBBASEFEE opcode exist.
func (api *ethAPI) BlobBaseFee() *hexutil.Big {
	head := api.s.b.CurrentHeader()
	if head.ExcessBlobGas == nil {
		return (*hexutil.Big)(new(big.Int))
	}
	return (*hexutil.Big)(eip4844.CalcBlobFee(api.s.b.ChainConfig(), head))
}

type feeHistoryResult struct {
	OldestBlock      *hexutil.Big     `json:"oldestBlock"`
	Reward           [][]*hexutil.Big `json:"reward,omitempty"`
	BaseFee          []*hexutil.Big   `json:"baseFeePerGas"`
	GasUsedRatio     []float64        `json:"gasUsedRatio"`
	BlobBaseFee      []*hexutil.Big   `json:"baseFeePerBlobGas,omitempty"`
	BlobGasUsedRatio []float64        `json:"blobGasUsedRatio,omitempty"`
}

func hexBigs(v []*big.Int) []*hexutil.Big {
	out := make([]*hexutil.Big, len(v))
	for i, x := range v {
		out[i] = (*hexutil.Big)(x)
	}
	return out
}

// FeeHistory returns base fees, gas use and tip percentiles of up to
// blockCount blocks ending at lastBlock.
func (api *ethAPI) FeeHistory(ctx context.Context, blockCount math.HexOrDecimal64, lastBlock gethrpc.BlockNumber, rewardPercentiles []float64) (*feeHistoryResult, error) {
	if lastBlock == gethrpc.PendingBlockNumber {
		lastBlock = gethrpc.LatestBlockNumber // no pending block here
	}
	oldest, reward, baseFee, gasUsed, blobBaseFee, blobGasUsed, err := api.s.gpo.FeeHistory(ctx, uint64(blockCount), lastBlock, rewardPercentiles)
	if err != nil {
		return nil, err
	}
	if oldest == nil {
		oldest = new(big.Int)
	}
	res := &feeHistoryResult{
		OldestBlock:      (*hexutil.Big)(oldest),
		BaseFee:          hexBigs(baseFee),
		GasUsedRatio:     gasUsed,
		BlobBaseFee:      hexBigs(blobBaseFee),
		BlobGasUsedRatio: blobGasUsed,
	}
	if res.GasUsedRatio == nil {
		res.GasUsedRatio = []float64{}
	}
	if reward != nil {
		res.Reward = make([][]*hexutil.Big, len(reward))
		for i, r := range reward {
			res.Reward[i] = hexBigs(r)
		}
	}
	return res, nil
}
