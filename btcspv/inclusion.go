package btcspv

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// MaxMerkleDepth bounds a proof's branches: a 4M-weight-unit block holds
// fewer than 2^15 transactions, so 20 levels leave a wide margin.
const MaxMerkleDepth = 20

// Inclusion proves that a transaction is in a block of the best chain
// (PEG.md §3, the contract's BtcInclusion). Hashes are in internal (wire)
// byte order.
type Inclusion struct {
	// Header is the block's 80-byte header.
	Header []byte
	// Height is the claimed height, checked against the best-chain index.
	Height uint32
	// TxIndex is the transaction's position in the block; 0, the coinbase,
	// is refused.
	TxIndex uint32
	// TxBranch holds the transaction's sibling hashes, bottom up, 32 bytes
	// each.
	TxBranch []byte
	// CoinbasePreimage is ONE round of SHA-256 over the coinbase's
	// non-witness serialization; hashing it once more gives the coinbase
	// txid. Only someone who knows the real coinbase can give it.
	CoinbasePreimage [32]byte
	// CoinbaseBranch holds the coinbase's siblings, as long as TxBranch:
	// it pins the tree's depth.
	CoinbaseBranch []byte
}

// BestChainIndex is what VerifyInclusion reads of a header store: *Chain
// implements it, and so can a client of BtcRelay's views.
type BestChainIndex interface {
	BestHeight() uint32
	BlockHashAt(height uint32) (chainhash.Hash, bool)
}

// VerifyInclusion checks that txid is in the best chain's block at p.Height
// with at least minConfs confirmations, making PEG.md §3's checks in order,
// and returns the confirmations. Every failure matches exactly one of
// ErrBadHeaderLength, ErrBlockNotInBestChain, ErrInsufficientConfirmations
// and CheckProof's errors.
//
// An inner node of the block's tree also passes as a txid at a shallower
// depth; callers that prove a transaction's bytes must hash them themselves
// and refuse 64-byte ones (ParseTx does), see the package documentation.
func VerifyInclusion(idx BestChainIndex, txid chainhash.Hash, p Inclusion, minConfs uint32) (uint32, error) {
	if len(p.Header) != HeaderSize {
		return 0, ruleError(ErrBadHeaderLength, "%d bytes", len(p.Header))
	}
	hash := chainhash.DoubleHashH(p.Header)
	best := idx.BestHeight()
	if at, ok := idx.BlockHashAt(p.Height); !ok || at != hash || p.Height > best {
		return 0, ruleError(ErrBlockNotInBestChain, "block %v at height %d", hash, p.Height)
	}
	confs := best - p.Height + 1
	if confs < minConfs {
		return 0, ruleError(ErrInsufficientConfirmations, "%d, need %d", confs, minConfs)
	}
	return confs, checkBranches(txid, &p)
}

// CheckProof makes the checks of VerifyInclusion that need no header store:
// the header's length, the branches' shape, the tx fold and the coinbase
// depth pin, in that order.
func CheckProof(txid chainhash.Hash, p Inclusion) error {
	if len(p.Header) != HeaderSize {
		return ruleError(ErrBadHeaderLength, "%d bytes", len(p.Header))
	}
	return checkBranches(txid, &p)
}

// checkBranches is PEG.md §3 steps 4–6 on a proof with an 80-byte header.
func checkBranches(txid chainhash.Hash, p *Inclusion) error {
	if err := checkBranchShape(p.TxBranch); err != nil {
		return err
	}
	if len(p.CoinbaseBranch) != len(p.TxBranch) {
		return ruleError(ErrDepthMismatch, "coinbase branch %d bytes, tx branch %d", len(p.CoinbaseBranch), len(p.TxBranch))
	}
	if p.TxIndex == 0 {
		return ruleError(ErrBadTxIndex, "index 0 is the coinbase")
	}
	root, err := FoldBranch(txid, p.TxBranch, p.TxIndex)
	if err != nil {
		return err
	}
	if root != chainhash.Hash(p.Header[36:68]) {
		return ErrMerkleMismatch
	}
	coinbase, _ := FoldBranch(sha256.Sum256(p.CoinbasePreimage[:]), p.CoinbaseBranch, 0)
	if coinbase != root {
		return ErrCoinbaseProofMismatch
	}
	return nil
}

// FoldBranch climbs from leaf at position index to the root along branch
// (siblings bottom up, 32 bytes each): at each level the bit of index says
// whether the node is a right child. It fails with ErrMalformedProof for a
// branch that is not whole hashes or deeper than MaxMerkleDepth, and with
// ErrBadTxIndex for an index the branch cannot reach.
func FoldBranch(leaf chainhash.Hash, branch []byte, index uint32) (chainhash.Hash, error) {
	if err := checkBranchShape(branch); err != nil {
		return chainhash.Hash{}, err
	}
	depth := len(branch) / chainhash.HashSize
	if index>>depth != 0 {
		return chainhash.Hash{}, ruleError(ErrBadTxIndex, "index %d at depth %d", index, depth)
	}
	var pair [2 * chainhash.HashSize]byte
	cur := leaf
	for i := 0; i < depth; i++ {
		sibling := branch[i*chainhash.HashSize : (i+1)*chainhash.HashSize]
		if index>>i&1 == 0 {
			copy(pair[:], cur[:])
			copy(pair[chainhash.HashSize:], sibling)
		} else {
			copy(pair[:], sibling)
			copy(pair[chainhash.HashSize:], cur[:])
		}
		cur = chainhash.DoubleHashH(pair[:])
	}
	return cur, nil
}

func checkBranchShape(branch []byte) error {
	if len(branch)%chainhash.HashSize != 0 || len(branch) > MaxMerkleDepth*chainhash.HashSize {
		return ruleError(ErrMalformedProof, "branch of %d bytes", len(branch))
	}
	return nil
}
