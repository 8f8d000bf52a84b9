package btcspv

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// sameAsBtcd checks a parsed transaction against btcd's decoding of it.
func sameAsBtcd(t testing.TB, raw []byte, tx Tx) {
	t.Helper()
	var m wire.MsgTx
	if err := m.DeserializeNoWitness(bytes.NewReader(raw)); err != nil {
		t.Fatalf("btcd refuses what we parse: %v", err)
	}
	if tx.TxID != m.TxHash() || len(tx.Inputs) != len(m.TxIn) || len(tx.Outputs) != len(m.TxOut) {
		t.Fatalf("parsed %v with %d in, %d out; btcd %v", tx.TxID, len(tx.Inputs), len(tx.Outputs), m.TxHash())
	}
	for i, in := range m.TxIn {
		if tx.Inputs[i] != in.PreviousOutPoint {
			t.Fatalf("input %d: %v, btcd %v", i, tx.Inputs[i], in.PreviousOutPoint)
		}
	}
	for i, out := range m.TxOut {
		if tx.Outputs[i].Value != uint64(out.Value) || !bytes.Equal(tx.Outputs[i].Script, out.PkScript) {
			t.Fatalf("output %d differs", i)
		}
	}
}

// TestParseRealTxs parses every transaction of the real blocks.
func TestParseRealTxs(t *testing.T) {
	blocks := []*wire.MsgBlock{load277647(t)}
	for _, b := range loadMainnetBlocks(t) {
		blocks = append(blocks, b)
	}
	n := 0
	for _, b := range blocks {
		for _, m := range b.Transactions {
			raw := serializeTx(t, m)
			tx, err := ParseTx(raw)
			if err != nil {
				t.Fatal(err)
			}
			sameAsBtcd(t, raw, tx)
			n++
		}
	}
	// 213 in 277647; 4, 6, 6, 4, 4, 4 in 546, 2812, 2813, 2817, 3309, 9006.
	if n != 241 {
		t.Fatalf("%d transactions", n)
	}
}

func TestMalformedTx(t *testing.T) {
	block := load277647(t)
	real := serializeTx(t, block.Transactions[5])
	// A witness serialization: marker 0x00, flag 0x01 after the version.
	segwit := block.Transactions[5].Copy()
	segwit.TxIn[0].Witness = wire.TxWitness{{1, 2, 3}}
	var w bytes.Buffer
	if err := segwit.Serialize(&w); err != nil {
		t.Fatal(err)
	}
	// Non-canonical: the input count written in three bytes.
	nonCanonical := append(bytes.Clone(real[:4]), 0xfd, real[4], 0)
	nonCanonical = append(nonCanonical, real[5:]...)
	huge := append(bytes.Clone(real), make([]byte, MaxTxSize)...)
	rows := []struct {
		name   string
		raw    []byte
		offset int
		reason string
	}{
		{"empty", nil, 0, "truncated"},
		{"truncated", real[:len(real)-1], len(real) - 4, "truncated"},
		{"truncated in the version", real[:3], 0, "truncated"},
		{"witness serialization", w.Bytes(), 4, "strip the witness"},
		{"trailing byte", append(bytes.Clone(real), 0), len(real), "trailing"},
		{"too long", huge, MaxTxSize, "100,000"},
		{"non-canonical compactSize", nonCanonical, 4, "non-canonical"},
		{"forged input count", append([]byte{1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x7f}, real[5:]...), 4, "count"},
	}
	for _, row := range rows {
		_, err := ParseTx(row.raw)
		var te *TxError
		if !errors.As(err, &te) || ruleOf(err) != ErrMalformedTx || te.Offset != row.offset || !strings.Contains(te.Reason, row.reason) {
			t.Fatalf("%s: %v, want offset %d (%s)", row.name, err, row.offset, row.reason)
		}
	}
	// The witness-free form of the same transaction parses.
	if tx, err := ParseTx(serializeTx(t, segwit)); err != nil || tx.TxID != segwit.TxHash() {
		t.Fatalf("stripped: %v", err)
	}
	_, err := ParseTx(make([]byte, 64))
	wantRule(t, err, ErrTx64Bytes)

	noOut := wire.NewMsgTx(1)
	noOut.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, 0), nil, nil))
	raw := serializeTx(t, noOut)
	_, err = ParseTx(raw)
	var te *TxError
	if !errors.As(err, &te) || te.Offset != len(raw)-5 || te.Reason != "zero outputs" {
		t.Fatalf("zero outputs: %v", err)
	}
}
