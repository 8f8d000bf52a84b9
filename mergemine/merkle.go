package mergemine

import (
	"encoding/binary"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// maxMerkleProof is RSKIP-180's cap on an RSKIP-92 proof: 30 levels, enough
// for any Bitcoin block.
const maxMerkleProof = 30 * chainhash.HashSize

// MerkleProofFromBranch turns a stratum-style coinbase branch (wire order,
// bottom to top) into an RSKIP-92 proof by byte-reversing each hash.
func MerkleProofFromBranch(branch []chainhash.Hash) []byte {
	proof := make([]byte, 0, len(branch)*chainhash.HashSize)
	for _, h := range branch {
		for i := len(h) - 1; i >= 0; i-- {
			proof = append(proof, h[i])
		}
	}
	return proof
}

// MerkleProofFromTxids returns the RSKIP-92 proof of the coinbase of a block
// whose transactions have the given txids (wire order, coinbase first). A
// block of one transaction, or none, has an empty proof.
func MerkleProofFromTxids(txids []chainhash.Hash) []byte {
	var branch []chainhash.Hash
	level := append([]chainhash.Hash(nil), txids...)
	for len(level) > 1 {
		branch = append(branch, level[1])
		for i := 0; i < len(level); i += 2 {
			// An odd level pairs its last node with itself.
			right := level[min(i+1, len(level)-1)]
			level[i/2] = hashPair(&level[i], &right)
		}
		level = level[:(len(level)+1)/2]
	}
	return MerkleProofFromBranch(branch)
}

// MerkleBranch decodes an RSKIP-92 proof into the coinbase branch, wire order,
// bottom to top.
func MerkleBranch(proof []byte) ([]chainhash.Hash, error) {
	if err := checkMerkleProofSize(proof); err != nil {
		return nil, err
	}
	branch := make([]chainhash.Hash, len(proof)/chainhash.HashSize)
	for i := range branch {
		s := proof[i*chainhash.HashSize:]
		for j := range branch[i] {
			branch[i][j] = s[chainhash.HashSize-1-j]
		}
	}
	return branch, nil
}

// checkMerkleProofSize applies the size rules in Rootstock's order.
func checkMerkleProofSize(proof []byte) error {
	if len(proof) > maxMerkleProof {
		return ruleError(ErrMerkleProofTooLong, "got %d bytes", len(proof))
	}
	if len(proof)%chainhash.HashSize != 0 {
		return ruleError(ErrMerkleProofLength, "got %d bytes", len(proof))
	}
	return nil
}

// hashPair is an inner node of Bitcoin's merkle tree.
func hashPair(left, right *chainhash.Hash) chainhash.Hash {
	var pair [2 * chainhash.HashSize]byte
	copy(pair[:], left[:])
	copy(pair[chainhash.HashSize:], right[:])
	return chainhash.DoubleHashH(pair[:])
}

// foldMerkleProof climbs from the coinbase txid to the root along an RSKIP-92
// proof whose size has been checked. Like Rootstock's
// MerkleTreeUtils.combineLeftRight, it refuses a step whose two nodes look
// like a 64-byte transaction.
func foldMerkleProof(txid chainhash.Hash, proof []byte) (chainhash.Hash, error) {
	cur := txid
	var pair [2 * chainhash.HashSize]byte
	for level := 0; len(proof) > 0; level++ {
		sibling := proof[:chainhash.HashSize]
		proof = proof[chainhash.HashSize:]
		// Rootstock inspects the pair as bitcoinj holds the two hashes, in
		// display order, not the SHA-256 input; follow it byte for byte.
		for i := range cur {
			pair[i] = cur[chainhash.HashSize-1-i]
		}
		copy(pair[chainhash.HashSize:], sibling)
		if parsesAsSmallTx(&pair) {
			return chainhash.Hash{}, ruleError(ErrMerkleNodeIsTx, "at level %d", level)
		}
		copy(pair[:], cur[:])
		for i := range sibling {
			pair[2*chainhash.HashSize-1-i] = sibling[i]
		}
		cur = chainhash.DoubleHashH(pair[:])
	}
	return cur, nil
}

// parsesAsSmallTx is the leaf-node weakness test of Rootstock's
// MerkleTreeUtils.checkNotAValid64ByteTransaction
// (https://bitslog.wordpress.com/2018/06/09/leaf-node-weakness-in-bitcoin-merkle-tree-design/):
// a 64-byte transaction has one input and one output whose scripts share 4
// bytes, a previous-output index that a block can hold (or a coinbase's) and
// an amount within the supply. Rootstock reads the script lengths as signed
// bytes, so 0x80 and above are negative and never fit.
func parsesAsSmallTx(b *[64]byte) bool {
	const (
		maxPrevIndex  = 1_000_000 // more outputs than fit in a block
		coinbaseIndex = 0xffffffff
		maxScripts    = 4 // 64 bytes leave 4 for both scripts together
		maxSatoshis   = 21_000_000 * 100_000_000
	)
	off := 4 // version
	if b[off] != 1 {
		return false // input count
	}
	off += 1 + 32 // input count, previous txid
	if idx := binary.LittleEndian.Uint32(b[off:]); idx > maxPrevIndex && idx != coinbaseIndex {
		return false
	}
	off += 4
	inScript := int(b[off])
	if inScript > maxScripts {
		return false
	}
	off += 1 + inScript + 4 // script length, script, sequence
	if b[off] != 1 {
		return false // output count
	}
	off++
	if v := int64(binary.LittleEndian.Uint64(b[off:])); v < 1 || v > maxSatoshis {
		return false
	}
	off += 8
	outScript := int(b[off])
	return outScript <= maxScripts && inScript+outScript == maxScripts
}
