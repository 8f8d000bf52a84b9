package mergemine

import (
	"math/big"
	"slices"
	"testing"

	"github.com/holiman/uint256"
)

func TestTarget(t *testing.T) {
	max := new(big.Int).Sub(two256, big.NewInt(1))
	for _, tt := range []struct {
		difficulty *big.Int
		want       *big.Int
	}{
		{nil, new(big.Int).Div(two256, big.NewInt(3))},
		{big.NewInt(-1), new(big.Int).Div(two256, big.NewInt(3))},
		{big.NewInt(2), new(big.Int).Div(two256, big.NewInt(3))},
		{big.NewInt(4), new(big.Int).Lsh(big.NewInt(1), 254)},
		{big.NewInt(20000), new(big.Int).SetBytes(unhex(t, "000346dc5d63886594af4f0d844d013a92a305532617c1bda5119ce075f6fd21"))},
		{max, big.NewInt(1)},
		{two256, big.NewInt(1)},
		{new(big.Int).Add(two256, big.NewInt(1)), big.NewInt(0)},
	} {
		if got := Target(tt.difficulty); got.Cmp(tt.want) != 0 {
			t.Errorf("Target(%v) = %x, want %x", tt.difficulty, got, tt.want)
		}
	}
}

// TestSetTarget compares the allocation-free target with Target at the
// edges: small values, powers of two and their neighbours, and beyond 2^256.
func TestSetTarget(t *testing.T) {
	var ds []*big.Int
	for i := int64(-2); i < 70; i++ {
		ds = append(ds, big.NewInt(i))
	}
	for k := uint(1); k <= 258; k++ {
		p := new(big.Int).Lsh(big.NewInt(1), k)
		ds = append(ds, new(big.Int).Sub(p, big.NewInt(1)), p, new(big.Int).Add(p, big.NewInt(1)))
	}
	ds = append(ds, nil, new(big.Int).Lsh(big.NewInt(3), 255), new(big.Int).Lsh(big.NewInt(1), 1000))
	for _, d := range ds {
		var z uint256.Int
		setTarget(&z, d)
		if want := Target(d); z.ToBig().Cmp(want) != 0 {
			t.Errorf("difficulty %v: got %x, want %x", d, z.ToBig(), want)
		}
	}
}

func TestDifficultyFromTarget(t *testing.T) {
	for _, d := range []*big.Int{
		big.NewInt(3), big.NewInt(4), big.NewInt(1000), big.NewInt(20000),
		new(big.Int).SetBytes(unhex(t, "07d5e8d6f6e1c81aa6")), // about mainnet's
		new(big.Int).Lsh(big.NewInt(1), 255), two256,
	} {
		target := Target(d)
		back := DifficultyFromTarget(target)
		if back.Cmp(d) < 0 || Target(back).Cmp(target) != 0 {
			t.Errorf("difficulty %v: back %v, target %x", d, back, target)
		}
		// It is the largest difficulty whose target is not below target.
		if Target(new(big.Int).Add(back, big.NewInt(1))).Cmp(target) >= 0 {
			t.Errorf("difficulty %v: %v+1 still meets the target", d, back)
		}
	}
	for _, target := range []*big.Int{nil, big.NewInt(0), big.NewInt(-7), big.NewInt(1)} {
		if got := DifficultyFromTarget(target); got.Cmp(two256) != 0 {
			t.Errorf("DifficultyFromTarget(%v) = %v, want 2^256", target, got)
		}
	}
}

func TestMeetsTarget(t *testing.T) {
	header := make([]byte, HeaderSize)
	h := HeaderHash(header)
	slices.Reverse(h[:])
	value := new(big.Int).SetBytes(h[:]) // the hash as Bitcoin reads it
	for _, c := range []struct {
		name   string
		target *big.Int
		want   bool
	}{
		{"equal", new(big.Int).Set(value), true},
		{"one below", new(big.Int).Sub(value, big.NewInt(1)), false},
		{"one above", new(big.Int).Add(value, big.NewInt(1)), true},
		{"zero", new(big.Int), false},
		{"negative", big.NewInt(-1), false},
		{"2^256", new(big.Int).Lsh(big.NewInt(1), 256), true},
	} {
		if got := MeetsTarget(header, c.target); got != c.want {
			t.Errorf("%s: MeetsTarget = %v, want %v", c.name, got, c.want)
		}
	}
}
