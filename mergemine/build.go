package mergemine

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"
)

// BuildProof assembles a proof from what a miner submits: the Bitcoin header,
// the full coinbase and the RSKIP-92 proof of its branch. The coinbase may
// come in witness serialization; the proof keeps the non-witness one, the
// bytes whose hash is the txid. BuildProof does not verify the result.
func BuildProof(header80, coinbase, merkleProof, tag []byte) (*Proof, error) {
	var tx wire.MsgTx
	r := bytes.NewReader(coinbase)
	if err := tx.Deserialize(r); err != nil {
		return nil, fmt.Errorf("mergemine: coinbase is not a Bitcoin transaction: %w", err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("mergemine: %d bytes follow the coinbase transaction", r.Len())
	}
	var stripped bytes.Buffer
	stripped.Grow(tx.SerializeSizeStripped())
	if err := tx.SerializeNoWitness(&stripped); err != nil {
		return nil, err
	}
	p, _, err := NewProof(header80, stripped.Bytes(), merkleProof, tag)
	return p, err
}

// NewProof assembles a proof from a submission whose coinbase is already in
// non-witness serialization, and returns the hash the coinbase commits to
// (the 32 bytes after its last tag, as Rootstock's
// MnrModuleImpl.extractBlockHashForMergedMining reads it). The coinbase is
// scanned for the tag once: the same position gives the commitment and the
// point where compression keeps the tail. NewProof does not verify the
// result; Verify does.
func NewProof(header80, coinbase, merkleProof, tag []byte) (*Proof, [32]byte, error) {
	committed, p, err := lastCommitment(coinbase, tag)
	if err != nil {
		return nil, committed, err
	}
	return &Proof{
		BitcoinHeader: bytes.Clone(header80),
		MerkleProof:   bytes.Clone(merkleProof),
		Coinbase:      compressAt(coinbase, p-p%sha256Block),
	}, committed, nil
}
