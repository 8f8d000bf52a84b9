package consensus_test

import (
	"testing"

	"github.com/mmgeth/mmgeth/internal/testchain"
)

// BenchmarkVerifyHeader measures the full header check of one block: seal
// decoding, the DAA, the structural rules and the merged-mining proof.
func BenchmarkVerifyHeader(b *testing.B) {
	c := testchain.NewEngineNet(b, nil)
	bc := c.BlockChain()
	b1 := c.Build(bc.Genesis(), testchain.Block{})
	c.MustInsert(b1)
	h := c.Build(b1, testchain.Block{}).Header()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Engine().VerifyHeader(bc, h); err != nil {
			b.Fatal(err)
		}
	}
}
