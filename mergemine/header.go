package mergemine

import (
	"bytes"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// HeaderSize is the size of a serialized Bitcoin block header.
const HeaderSize = 80

// merkleRootOffset is where the merkle root sits in a serialized header,
// after the version and the previous block's hash.
const merkleRootOffset = 36

// HeaderHash is the double SHA-256 of a serialized Bitcoin header, in wire
// order (reverse it for the display form explorers show).
func HeaderHash(header80 []byte) chainhash.Hash {
	return chainhash.DoubleHashH(header80)
}

// ParseHeader decodes an 80-byte Bitcoin header, for example to read the
// timestamp a consensus engine compares with its own.
func ParseHeader(header80 []byte) (*wire.BlockHeader, error) {
	if len(header80) != HeaderSize {
		return nil, ruleError(ErrHeaderSize, "got %d bytes", len(header80))
	}
	h := new(wire.BlockHeader)
	// 80 bytes always decode: every field has a fixed size.
	if err := h.Deserialize(bytes.NewReader(header80)); err != nil {
		return nil, err
	}
	return h, nil
}
