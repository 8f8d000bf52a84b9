package node

import (
	"errors"
	"fmt"

	"github.com/mmgeth/mmgeth/miner"
	"github.com/mmgeth/mmgeth/rpc"
)

// workAdapter serves the miner's work server to the mnr namespace, turning
// its errors into the ones mnr reports as Rootstock does.
type workAdapter struct {
	ws  *miner.WorkServer
	tag []byte
}

func (a *workAdapter) GetWork() (*rpc.Work, error) {
	w, err := a.ws.GetWork()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", rpc.ErrWorkUnavailable, err)
	}
	return &rpc.Work{
		SealHash: w.SealHash, Target: w.Target, FeesPaid: w.Fees,
		Notify: w.Notify, ParentHash: w.ParentHash, Tag: a.tag,
	}, nil
}

func (a *workAdapter) Submit(header80, coinbase, merkleProof []byte) (*rpc.SubmitResult, error) {
	res, err := a.ws.Submit(header80, coinbase, merkleProof)
	var unknown *miner.UnknownWorkError
	switch {
	case errors.As(err, &unknown):
		return nil, rpc.WorkUnknownError(unknown.SealHash)
	case errors.Is(err, miner.ErrInvalidBlock):
		return nil, fmt.Errorf("%w: %w", rpc.ErrWorkInvalid, err)
	case err != nil:
		return nil, err
	}
	return &rpc.SubmitResult{Status: res.Status, BlockHash: res.Block.Hash(), Height: res.Block.NumberU64()}, nil
}
