package main

import (
	"fmt"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
)

// bitsTarget expands a header's compact nBits into a 32-byte big-endian
// target.
func bitsTarget(bits uint32) ([32]byte, error) {
	var t [32]byte
	n := blockchain.CompactToBig(bits)
	if n.Sign() <= 0 || n.BitLen() > 256 {
		return t, fmt.Errorf("invalid bits %08x", bits)
	}
	n.FillBytes(t[:])
	return t, nil
}

// meetsTarget reports whether a header hash, read as the little-endian
// number Bitcoin reads it as, is at most target (big-endian). It compares
// bytes so that the hot loop allocates nothing.
func meetsTarget(hash *chainhash.Hash, target *[32]byte) bool {
	for i := range 32 {
		h, t := hash[31-i], target[i]
		if h != t {
			return h < t
		}
	}
	return true
}
