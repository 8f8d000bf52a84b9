package mergemine

import (
	"testing"
)

// BenchmarkVerify verifies a real Rootstock mainnet proof with a 12-level
// merkle path, the longest among the vectors.
func BenchmarkVerify(b *testing.B) {
	var f rskBlocks
	loadJSON(b, "rsk_mainnet_blocks.json", &f)
	v := f.Vectors[len(f.Vectors)-1]
	p := &Proof{unhex(b, v.Header), unhex(b, v.MerkleProof), unhex(b, v.Coinbase)}
	if len(p.MerkleProof) != 12*32 {
		b.Fatalf("vector %s has %d levels", v.Name, len(p.MerkleProof)/32)
	}
	committed := hash32(b, v.Derived.HashForMergedMining)
	difficulty := decimal(b, v.Derived.Difficulty)
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(p, committed, difficulty, rskTag); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyConcurrent verifies from several goroutines at once, as parallel
// header verification does; run with -race it checks the pooled digests.
func TestVerifyConcurrent(t *testing.T) {
	var f rskBlocks
	loadJSON(t, "rsk_mainnet_blocks.json", &f)
	errs := make(chan error, len(f.Vectors))
	for _, v := range f.Vectors {
		p := &Proof{unhex(t, v.Header), unhex(t, v.MerkleProof), unhex(t, v.Coinbase)}
		committed := hash32(t, v.Derived.HashForMergedMining)
		difficulty := decimal(t, v.Derived.Difficulty)
		go func() {
			var err error
			for range 50 {
				if err = Verify(p, committed, difficulty, rskTag); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range f.Vectors {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
