package mergemine

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// poolCoinbase builds a coinbase the way a segwit pool does: height and
// extranonce in the script sig, a payout, the merged-mining commitment, the
// witness commitment, and the witness reserved value.
func poolCoinbase(seal [32]byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	sig := append([]byte{0x03, 0xa0, 0xbb, 0x0d, 0x08}, []byte("extranon/mmgeth pool/")...)
	in := wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), sig, wire.TxWitness{make([]byte, 32)})
	tx.AddTxIn(in)
	payout := append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0x11}, 20)...)
	tx.AddTxOut(wire.NewTxOut(312_500_000, payout))
	AddCommitment(tx, devTag, seal)
	witnessCommitment := append([]byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}, bytes.Repeat([]byte{0x22}, 32)...)
	tx.AddTxOut(wire.NewTxOut(0, witnessCommitment))
	return tx
}

// TestMinerRoundTrip mines a proof with the miner-side helpers and checks
// that it verifies and that changing any one byte of it does not.
func TestMinerRoundTrip(t *testing.T) {
	seal := chainhash.HashH([]byte("a sidechain block"))
	difficulty := big.NewInt(1 << 20)
	tx := poolCoinbase(seal)
	txids := []chainhash.Hash{tx.TxHash()}
	for i := range 6 {
		txids = append(txids, chainhash.DoubleHashH([]byte{byte(i)}))
	}
	merkleProof := MerkleProofFromTxids(txids)
	header := mineHeader(t, refRoot(txids), difficulty)

	full := serialize(t, tx) // witness serialization, as a pool may send it
	p, err := BuildProof(header, full, merkleProof, devTag)
	if err != nil {
		t.Fatal(err)
	}
	var stripped bytes.Buffer
	if err := tx.SerializeNoWitness(&stripped); err != nil {
		t.Fatal(err)
	}
	if got, err := CommittedHash(stripped.Bytes(), devTag); err != nil || got != seal {
		t.Fatalf("CommittedHash %x (%v)", got, err)
	}
	if err := Verify(p, seal, difficulty, devTag); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The stratum path gives the same proof.
	branch, err := MerkleBranch(merkleProof)
	if err != nil || !bytes.Equal(MerkleProofFromBranch(branch), merkleProof) {
		t.Fatalf("branch round trip: %v", err)
	}
	q, err := DecodeProof(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(q, seal, difficulty, devTag); err != nil {
		t.Fatalf("Verify after RLP: %v", err)
	}

	parts := []struct {
		name string
		get  func(*Proof) *[]byte
	}{
		{"header", func(p *Proof) *[]byte { return &p.BitcoinHeader }},
		{"merkle proof", func(p *Proof) *[]byte { return &p.MerkleProof }},
		{"coinbase", func(p *Proof) *[]byte { return &p.Coinbase }},
	}
	checked := 0
	for _, part := range parts {
		for i := range *part.get(p) {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				q := *p
				field := part.get(&q)
				*field = flip(*field, i, mask)
				err := Verify(&q, seal, difficulty, devTag)
				if err == nil || ruleOf(err) == nil {
					t.Fatalf("%s byte %d ^ %#x: got %v", part.name, i, mask, err)
				}
				checked++
			}
		}
	}
	if want := 3 * (len(p.BitcoinHeader) + len(p.MerkleProof) + len(p.Coinbase)); checked != want {
		t.Fatalf("checked %d mutations, want %d", checked, want)
	}
	// Nor does any other seal hash or a higher difficulty.
	other := seal
	other[0] ^= 1
	if err := Verify(p, other, difficulty, devTag); ruleOf(err) != ErrCommitmentMismatch {
		t.Fatalf("other seal: %v", err)
	}
	if err := Verify(p, seal, new(big.Int).Add(DifficultyFromTarget(hashValue(p.BitcoinHeader)), big.NewInt(1)), devTag); ruleOf(err) != ErrPoW {
		t.Fatalf("higher difficulty: %v", err)
	}
}
