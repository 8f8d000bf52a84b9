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
	compressed, err := CompressCoinbase(stripped.Bytes(), tag)
	if err != nil {
		return nil, err
	}
	return &Proof{
		BitcoinHeader: bytes.Clone(header80),
		MerkleProof:   bytes.Clone(merkleProof),
		Coinbase:      compressed,
	}, nil
}
