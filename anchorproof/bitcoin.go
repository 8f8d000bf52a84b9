package anchorproof

import (
	"context"
	"fmt"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

// ErrNotDeep is the verdict, wrapping ErrInvalid, on a valid proof whose
// Bitcoin block the verifier's own node does not have at least K deep in
// its best chain: unknown, off the best chain, or too shallow.
var ErrNotDeep = fmt.Errorf("%w: the Bitcoin block is not K deep in the Bitcoin node's best chain", ErrInvalid)

// VerifyOnBitcoin is Verify and then the check Verify leaves to its caller:
// btc, the verifier's own Bitcoin node, has the proof's Bitcoin block at
// least k deep in its best chain. It returns the block's confirmations. An
// error that is not ErrInvalid is the Bitcoin node's failure and says
// nothing of the proof.
func VerifyOnBitcoin(ctx context.Context, p *Proof, tag []byte, k uint64, btc *btcrpc.Client) (*Result, int64, error) {
	res, err := Verify(p, tag)
	if err != nil {
		return nil, 0, err
	}
	confs, err := btc.Confirmations(ctx, res.BitcoinHash)
	switch {
	case btcrpc.IsBlockNotFound(err):
		return nil, 0, fmt.Errorf("%w: block %v unknown to it", ErrNotDeep, res.BitcoinHash)
	case err != nil:
		return nil, 0, fmt.Errorf("Bitcoin node: %w", err)
	case confs < 0 || uint64(confs) < k:
		// -1: the node has the block off its best chain.
		return nil, confs, fmt.Errorf("%w: block %v has %d confirmations, want %d", ErrNotDeep, res.BitcoinHash, confs, k)
	}
	return res, confs, nil
}
