package peg

import "testing"

// What mm_getDepositAddress costs per call: one script and one SHA-256.
func BenchmarkDeposit(b *testing.B) {
	p := regtestPolicy(b)
	r := mustRecipient(b, hardhat0)
	for b.Loop() {
		if _, err := p.Deposit(r); err != nil {
			b.Fatal(err)
		}
	}
}

// What mmfed pays to check a signed 2-input, 2-of-3 peg-out before
// broadcasting it.
func BenchmarkVerifySpend(b *testing.B) {
	d := newDevPeg(b)
	batch, err := BuildPegOut([]Request{{ID: 1, PkScript: p2wpkh, AmountSat: 1_000_000}},
		[]UTXO{utxo(1, 0, 700_000, [20]byte{1}), utxo(2, 0, 700_000, [20]byte{2})}, d.params)
	if err != nil {
		b.Fatal(err)
	}
	assemble(b, batch, sign(b, batch, d.keys.Members, 0, 2), 2)
	for b.Loop() {
		if err := batch.VerifySpend(); err != nil {
			b.Fatal(err)
		}
	}
}
