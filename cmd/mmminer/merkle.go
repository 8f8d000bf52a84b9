package main

import (
	"github.com/btcsuite/btcd/chainhash/v2"
)

// merkleBranch returns the coinbase's merkle branch, bottom to top, in wire
// order (Stratum's merkle_branch), for a block whose other transactions have
// the given txids. The coinbase is always the leftmost leaf, so its
// siblings do not depend on it and the branch serves every extranonce.
func merkleBranch(txids []chainhash.Hash) []chainhash.Hash {
	var branch []chainhash.Hash
	// level[0] stands for the coinbase's ancestor, never read.
	level := append([]chainhash.Hash{{}}, txids...)
	for len(level) > 1 {
		branch = append(branch, level[1])
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := make([]chainhash.Hash, 1, len(level)/2)
		for i := 2; i < len(level); i += 2 {
			next = append(next, hashPair(&level[i], &level[i+1]))
		}
		level = next
	}
	return branch
}

// merkleRoot folds a coinbase txid with its branch.
func merkleRoot(txid chainhash.Hash, branch []chainhash.Hash) chainhash.Hash {
	for i := range branch {
		txid = hashPair(&txid, &branch[i])
	}
	return txid
}

func hashPair(l, r *chainhash.Hash) chainhash.Hash {
	var buf [2 * chainhash.HashSize]byte
	copy(buf[:], l[:])
	copy(buf[chainhash.HashSize:], r[:])
	return chainhash.DoubleHashH(buf[:])
}
