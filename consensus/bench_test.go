package consensus

import (
	"math/big"
	"testing"
)

// BenchmarkVerifyHeader measures the full header check of one block: seal
// decoding, the DAA, the structural rules and the merged-mining proof.
func BenchmarkVerifyHeader(b *testing.B) {
	c := newTestChain(b, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	c.insert(b1)
	h := c.mine(b1, blockSpec{}).Header()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.engine.VerifyHeader(c.bc, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkASERT measures one difficulty computation.
func BenchmarkASERT(b *testing.B) {
	p := testParams
	anchor := big.NewInt(1 << 40)
	b.ReportAllocs()
	for b.Loop() {
		p.asertDifficulty(anchor, testGenesisTime, 123_456, testGenesisTime+1_234_567)
	}
}
