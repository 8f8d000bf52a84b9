package p2p

import (
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/trie"
)

// emptyBody returns the body of a header that commits to no transactions,
// uncles or withdrawals, so that it need not be fetched.
func emptyBody(h *types.Header) (*types.Body, bool) {
	if !h.EmptyBody() {
		return nil, false
	}
	body := new(types.Body)
	if h.WithdrawalsHash != nil {
		body.Withdrawals = []*types.Withdrawal{}
	}
	return body, true
}

// checkBody verifies that a body is the one its header commits to. It is what
// makes a body from any peer as good as one from the peer that sent the header.
func checkBody(h *types.Header, b *types.Body) error {
	if hash := types.DeriveSha(types.Transactions(b.Transactions), trie.NewStackTrie(nil)); hash != h.TxHash {
		return fmt.Errorf("%w: transaction root %x, header has %x", errBodyMismatch, hash, h.TxHash)
	}
	if hash := types.CalcUncleHash(b.Uncles); hash != h.UncleHash {
		return fmt.Errorf("%w: uncle hash %x, header has %x", errBodyMismatch, hash, h.UncleHash)
	}
	switch {
	case h.WithdrawalsHash == nil && b.Withdrawals != nil:
		return fmt.Errorf("%w: withdrawals in a block without withdrawals", errBodyMismatch)
	case h.WithdrawalsHash != nil && b.Withdrawals == nil:
		return fmt.Errorf("%w: missing withdrawals", errBodyMismatch)
	case h.WithdrawalsHash != nil:
		if hash := types.DeriveSha(types.Withdrawals(b.Withdrawals), trie.NewStackTrie(nil)); hash != *h.WithdrawalsHash {
			return fmt.Errorf("%w: withdrawals root %x, header has %x", errBodyMismatch, hash, *h.WithdrawalsHash)
		}
	}
	return nil
}
