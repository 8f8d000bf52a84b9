package mergemine

import (
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"
)

// Proof is the merged-mining proof a sidechain block carries. Its RLP form is
// the list [BitcoinHeader, MerkleProof, Coinbase], plain struct encoding, so
// it can sit inside other RLP structures as is.
type Proof struct {
	BitcoinHeader []byte // 80-byte Bitcoin header, wire order
	MerkleProof   []byte // RSKIP-92: sibling hashes bottom to top, each byte-reversed
	Coinbase      []byte // compressed coinbase: u64be byteCount ‖ 8×u32be SHA-256 state ‖ tail
}

// DecodeProof parses the RLP form of a proof. Only the canonical encoding of
// exactly one list of three byte strings is accepted; the parts' own rules
// are left to Verify, so that a block breaking them is refused with the
// rule's error.
func DecodeProof(b []byte) (*Proof, error) {
	p := new(Proof)
	if err := rlp.DecodeBytes(b, p); err != nil {
		return nil, fmt.Errorf("mergemine: malformed proof encoding: %w", err)
	}
	return p, nil
}

// Bytes returns the RLP form of the proof.
func (p *Proof) Bytes() []byte {
	// Encoding three byte strings has no failure mode.
	b, _ := rlp.EncodeToBytes(p)
	return b
}
