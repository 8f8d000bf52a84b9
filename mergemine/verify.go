package mergemine

import (
	"bytes"
	"encoding/binary"
	"math/big"

	"github.com/holiman/uint256"
)

// minCoinbase is the smallest coinbase length allowed: a 64-byte one could
// pose as an inner merkle node.
const minCoinbase = sha256Block + 1

// Verify checks that p proves Bitcoin work of the given difficulty committed
// to the 32-byte hash under the network's tag. It returns nil or an error
// matching one of the Err* rules with errors.Is, checking in the order of
// Rootstock's ProofOfWorkRule.isValid: merkle proof size, header size, proof
// of work, the tag rules on the coinbase tail, the coinbase length, the
// midstate's byte count, and finally the merkle path from the coinbase txid
// to the header's root.
// Verify does not allocate when the proof is valid. A nil proof is checked as
// an empty one.
func Verify(p *Proof, committed [32]byte, difficulty *big.Int, tag []byte) error {
	if p == nil {
		p = new(Proof)
	}
	if len(tag) == 0 {
		return ErrEmptyTag
	}
	if err := checkMerkleProofSize(p.MerkleProof); err != nil {
		return err
	}
	if len(p.BitcoinHeader) != HeaderSize {
		return ruleError(ErrHeaderSize, "got %d bytes", len(p.BitcoinHeader))
	}
	var target uint256.Int
	setTarget(&target, difficulty)
	if !meetsTarget(p.BitcoinHeader, &target) {
		return ruleError(ErrPoW, "hash %v, target %x", HeaderHash(p.BitcoinHeader), target.Bytes32())
	}

	cb := p.Coinbase
	if len(cb) < midstateSize {
		return ruleError(ErrCoinbaseMalformed, "got %d bytes", len(cb))
	}
	tail := cb[midstateSize:]
	if err := checkCommitment(tail, tag, &committed); err != nil {
		return err
	}
	byteCount := binary.BigEndian.Uint64(cb)
	// Rootstock adds the two as Java longs, so a byte count of 2^63 or more
	// wraps negative and fails here; Go's int64 wraps the same way.
	if length := int64(byteCount) + int64(len(tail)); length < minCoinbase {
		return ruleError(ErrCoinbaseTooShort, "it is %d bytes long", length)
	}
	if byteCount%sha256Block != 0 {
		return ruleError(ErrByteCountAlignment, "got %d", byteCount)
	}
	txid, err := resumeTxID(byteCount, cb[8:midstateSize], tail)
	if err != nil {
		return err
	}
	root, err := foldMerkleProof(txid, p.MerkleProof)
	if err != nil {
		return err
	}
	if want := p.BitcoinHeader[merkleRootOffset : merkleRootOffset+len(root)]; !bytes.Equal(root[:], want) {
		return ruleError(ErrMerkleRootMismatch, "coinbase txid %v leads to %v", txid, root)
	}
	return nil
}
