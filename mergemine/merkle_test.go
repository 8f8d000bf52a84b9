package mergemine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// smallTx lays out a 64-byte transaction the way the leaf-node check reads
// one: one input with an inScript-byte script, one output with an
// outScript-byte script.
type smallTx struct {
	inputs, outputs     byte
	prevIndex           uint32
	inScript, outScript byte
	value               int64
}

func (s smallTx) bytes() *[64]byte {
	var b [64]byte
	b[4] = s.inputs
	binary.LittleEndian.PutUint32(b[37:], s.prevIndex)
	b[41] = s.inScript
	off := 42 + int(min(s.inScript, 4)) + 4
	b[off] = s.outputs
	binary.LittleEndian.PutUint64(b[off+1:], uint64(s.value))
	b[off+9] = s.outScript
	return &b
}

func TestParsesAsSmallTx(t *testing.T) {
	valid := smallTx{inputs: 1, outputs: 1, inScript: 4, value: 1}
	tests := []struct {
		name string
		edit func(*smallTx)
		want bool
	}{
		{"valid", func(*smallTx) {}, true},
		{"no input", func(s *smallTx) { s.inputs = 0 }, false},
		{"two inputs", func(s *smallTx) { s.inputs = 2 }, false},
		{"two outputs", func(s *smallTx) { s.outputs = 2 }, false},
		{"index 1000000", func(s *smallTx) { s.prevIndex = 1_000_000 }, true},
		{"index 1000001", func(s *smallTx) { s.prevIndex = 1_000_001 }, false},
		{"coinbase index", func(s *smallTx) { s.prevIndex = 0xffffffff }, true},
		{"index 0xfffffffe", func(s *smallTx) { s.prevIndex = 0xfffffffe }, false},
		{"scripts 0+4", func(s *smallTx) { s.inScript, s.outScript = 0, 4 }, true},
		{"scripts 2+2", func(s *smallTx) { s.inScript, s.outScript = 2, 2 }, true},
		{"scripts 2+3", func(s *smallTx) { s.inScript, s.outScript = 2, 3 }, false},
		{"scripts 1+2", func(s *smallTx) { s.inScript, s.outScript = 1, 2 }, false},
		{"input script 5", func(s *smallTx) { s.inScript = 5 }, false},
		{"input script length negative as a Java byte", func(s *smallTx) { s.inScript = 0x80 }, false},
		{"output script length negative as a Java byte", func(s *smallTx) { s.inScript, s.outScript = 0, 0xfc }, false},
		{"zero value", func(s *smallTx) { s.value = 0 }, false},
		{"whole supply", func(s *smallTx) { s.value = 21_000_000 * 100_000_000 }, true},
		{"more than the supply", func(s *smallTx) { s.value = 21_000_000*100_000_000 + 1 }, false},
		{"negative value", func(s *smallTx) { s.value = -1 }, false},
	}
	for _, tt := range tests {
		s := valid
		tt.edit(&s)
		if got := parsesAsSmallTx(s.bytes()); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFoldStep checks single fold steps against the display-order vectors of
// rskj's MerkleTreeUtilsTest.combineLeftRight.
func TestFoldStep(t *testing.T) {
	for _, v := range []struct{ left, right, parent string }{
		{
			"083eafdf670bb1bbc83b63262887e3cf519c3e252fac29adfb92c1e857b37f91",
			"5740915e973a211c71655d10e4c672301c27c287843dcfa97b7aafc04992ec5e",
			"107857d7233c41d4c37ecaa9ad9d9ab15371f643074866cd23d657e6e99676be",
		},
		{
			"c960ed36a67318cd562d384bfbf41499db1312835e2bfe86805d9465afe9736f",
			"120196be3b0ca6ba07d3cfee53f8dc883781e82afdfba11181184f41a67b9898",
			"71a12c9bd54735864dd6e12640e6d00d60a42a2e92e4cd0bde3f9f268b7d4345",
		},
	} {
		got, err := foldMerkleProof(displayHash(t, v.left), unhex(t, v.right))
		if err != nil || got != displayHash(t, v.parent) {
			t.Errorf("fold %s %s = %v (%v), want %s", v.left, v.right, got, err, v.parent)
		}
	}
}

func TestMerkleProofFromTxids(t *testing.T) {
	var txids []chainhash.Hash
	for n := 1; n <= 33; n++ {
		txids = append(txids, chainhash.HashH([]byte{byte(n)}))
		before := append([]chainhash.Hash(nil), txids...)
		proof := MerkleProofFromTxids(txids)
		for i := range txids {
			if txids[i] != before[i] {
				t.Fatal("MerkleProofFromTxids changed its input")
			}
		}
		if got := refFold(txids[0], proof); got != refRoot(txids) {
			t.Fatalf("%d txids: fold %v, want %v", n, got, refRoot(txids))
		}
		branch, err := MerkleBranch(proof)
		if err != nil || !bytes.Equal(MerkleProofFromBranch(branch), proof) {
			t.Fatalf("%d txids: branch round trip: %v", n, err)
		}
	}
	if got := MerkleProofFromTxids(txids[:1]); len(got) != 0 {
		t.Fatalf("one txid gives a proof of %d bytes", len(got))
	}
	if got := MerkleProofFromTxids(nil); len(got) != 0 {
		t.Fatalf("no txid gives a proof of %d bytes", len(got))
	}
}

func TestMerkleBranchSizes(t *testing.T) {
	for _, tt := range []struct {
		size int
		want error
	}{
		{0, nil}, {32, nil}, {960, nil}, {31, ErrMerkleProofLength}, {33, ErrMerkleProofLength},
		{961, ErrMerkleProofTooLong}, {992, ErrMerkleProofTooLong},
	} {
		branch, err := MerkleBranch(make([]byte, tt.size))
		if !errors.Is(err, tt.want) || (err == nil && len(branch) != tt.size/32) {
			t.Errorf("%d bytes: got %d hashes, %v; want %v", tt.size, len(branch), err, tt.want)
		}
	}
}
