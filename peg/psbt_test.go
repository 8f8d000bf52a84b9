package peg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// The PSBT of a two-input batch carries each input's witness UTXO,
// witness script, sighash type and the signatures made so far; once t
// members signed, FinalizePSBT and btcd's psbt.Extract give exactly the
// transaction WitnessFromRSV assembles, which btcd's script engine
// accepts. btcd's own finalizer refuses the script, and fewer
// than t signatures or a stranger's do not finalize.
func TestPSBT(t *testing.T) {
	d := newDevPeg(t)
	b, hashes := d.twoInputBatch(t)
	members := make([][]byte, len(d.fed.Members))
	for m, k := range d.fed.Members {
		members[m] = k
	}
	rsv := make([][]byte, 3)
	signAs := func(m int) {
		for _, h := range hashes {
			s := SignRSV(d.keys.Members[m], h)
			rsv[m] = append(rsv[m], s[:]...)
		}
	}
	// encoded is the PSBT of the batch with rsv, through base64 and back.
	encoded := func() *psbt.Packet {
		t.Helper()
		p, err := b.PSBT(rsv, members)
		if err != nil {
			t.Fatal(err)
		}
		b64, err := p.B64Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := psbt.NewFromRawBytes(strings.NewReader(b64), true)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}

	signAs(2)
	one := encoded()
	for i, in := range one.Inputs {
		s := b.Spent[i]
		if in.WitnessUtxo == nil || in.WitnessUtxo.Value != s.ValueSat || !bytes.Equal(in.WitnessUtxo.PkScript, PkScript(s.WitnessScript)) ||
			!bytes.Equal(in.WitnessScript, s.WitnessScript) || in.SighashType != txscript.SigHashAll {
			t.Fatalf("input %d: %+v", i, in)
		}
		if len(in.PartialSigs) != 1 || !bytes.Equal(in.PartialSigs[0].PubKey, members[2]) {
			t.Fatalf("input %d: partial signatures %+v", i, in.PartialSigs)
		}
	}
	if _, err := FinalizePSBT(one, members, 2); !errors.Is(err, ErrNotEnoughSignatures) {
		t.Fatalf("one signature of two finalized: %v", err)
	}

	signAs(0)
	two := encoded()
	stranger := encoded()
	tx, err := FinalizePSBT(two, members, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WitnessFromRSV(rsv, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.VerifySpend(); err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	b.Tx.Serialize(&want)
	tx.Serialize(&got)
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("the finalized PSBT gives\n%x\nthe assembled transaction is\n%x", got.Bytes(), want.Bytes())
	}

	// btcd's finalizer does not know the federation script.
	b.Tx.TxIn[0].Witness, b.Tx.TxIn[1].Witness = nil, nil
	if err := psbt.MaybeFinalizeAll(encoded()); err == nil {
		t.Fatal("btcd's psbt finalizer took the federation script")
	}

	// A signature filed under the emergency key, which is no member's.
	stranger.Inputs[1].PartialSigs[0].PubKey = d.keys.Emergency[0].PubKey().SerializeCompressed()
	if _, err := FinalizePSBT(stranger, members, 2); err == nil || !strings.Contains(err.Error(), "no member's key") {
		t.Fatalf("a stranger's signature: %v", err)
	}
}
