package main

import (
	"crypto/sha256"
	"encoding"
	"hash"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// headerHasher double-SHA-256es headers that differ only after their first
// 64 bytes (the nonce, here), resuming from the midstate of those 64 bytes
// as mining hardware does: two compressions per hash instead of three.
type headerHasher struct {
	d     hash.Hash
	mid   []byte // marshaled SHA-256 state after the first 64 bytes
	first [sha256.Size]byte
}

func newHeaderHasher(header *[wire.MaxBlockHeaderPayload]byte) *headerHasher {
	d := sha256.New()
	d.Write(header[:64])
	// Marshaling a SHA-256 digest has no failure mode.
	mid, _ := d.(encoding.BinaryMarshaler).MarshalBinary()
	return &headerHasher{d: d, mid: mid}
}

// hash returns SHA256d(header); header must share its first 64 bytes with
// the one the hasher was made for.
func (h *headerHasher) hash(header *[wire.MaxBlockHeaderPayload]byte) chainhash.Hash {
	// Unmarshaling a state this digest marshaled cannot fail.
	_ = h.d.(encoding.BinaryUnmarshaler).UnmarshalBinary(h.mid)
	h.d.Write(header[64:])
	h.d.Sum(h.first[:0])
	return sha256.Sum256(h.first[:])
}
