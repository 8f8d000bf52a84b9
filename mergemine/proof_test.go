package mergemine

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
)

func TestProofRLP(t *testing.T) {
	_, p, _, _ := loadSynthetic(t)
	enc := p.Bytes()
	// A list of the three byte strings, nothing else.
	var parts [][]byte
	if err := rlp.DecodeBytes(enc, &parts); err != nil || len(parts) != 3 ||
		!bytes.Equal(parts[0], p.BitcoinHeader) || !bytes.Equal(parts[1], p.MerkleProof) || !bytes.Equal(parts[2], p.Coinbase) {
		t.Fatalf("RLP form is not [header, merkle proof, coinbase]: %v", err)
	}
	q, err := DecodeProof(enc)
	if err != nil || !bytes.Equal(q.Bytes(), enc) {
		t.Fatalf("round trip: %v", err)
	}
	empty, err := DecodeProof([]byte{0xc3, 0x80, 0x80, 0x80})
	if err != nil || len(empty.BitcoinHeader)+len(empty.MerkleProof)+len(empty.Coinbase) != 0 {
		t.Fatalf("three empty strings: %+v, %v", empty, err)
	}
}

func TestDecodeProofMalformed(t *testing.T) {
	_, p, _, _ := loadSynthetic(t)
	enc := p.Bytes()
	list := func(items ...[]byte) []byte {
		b, err := rlp.EncodeToBytes(items)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, b := range map[string][]byte{
		"empty input":         nil,
		"empty list":          {0xc0},
		"byte string":         {0x83, 1, 2, 3},
		"two items":           list(p.BitcoinHeader, p.MerkleProof),
		"four items":          list(p.BitcoinHeader, p.MerkleProof, p.Coinbase, nil),
		"trailing byte":       append(bytes.Clone(enc), 0),
		"truncated":           enc[:len(enc)-1],
		"nested list":         {0xc4, 0xc1, 0x80, 0x80, 0x80},
		"non-canonical byte":  {0xc4, 0x81, 0x01, 0x80, 0x80},
		"non-canonical size":  {0xf8, 0x03, 0x80, 0x80, 0x80},
		"length beyond input": {0xc3, 0x80, 0x80, 0x85},
	} {
		if q, err := DecodeProof(b); err == nil {
			t.Errorf("%s: decoded %+v", name, q)
		}
	}
}
