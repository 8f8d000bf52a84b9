package mergemine

import (
	"encoding/hex"
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

func TestIsBitcoinBlock(t *testing.T) {
	// Mainnet headers (wire order), from testdata/bitcoin_mainnet.json.
	const (
		block100000 = "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710"
		block849134 = "0080b92c24f123130ae29e899f0cab72653722e54cdf3b30445202000000000000000000c72ead65a3b78ab637d1876c00414a77e47bcc5b52667ac1e573633563bea5a695aa7766255d031728d182a8"
	)
	mutate := func(h string, offset int, b ...byte) []byte {
		out, _ := hex.DecodeString(h)
		copy(out[offset:], b)
		return out
	}
	raw := func(h string) []byte { out, _ := hex.DecodeString(h); return out }
	cases := []struct {
		name    string
		header  []byte
		isBlock bool
	}{
		{"mainnet block 100000", raw(block100000), true},
		{"mainnet block 849134", raw(block849134), true},
		// Another nonce: a share at best, nowhere near mainnet's target.
		{"849134 with another nonce", mutate(block849134, 76, 0, 0, 0, 0), false},
		// The header's own bits decide: at regtest's limit nearly any hash
		// is a block of that chain.
		{"849134 claiming regtest bits", mutate(block849134, 72, 0xff, 0xff, 0x7f, 0x20), true},
		{"bits of a zero target", mutate(block849134, 72, 0, 0, 0, 0), false},
		{"79 bytes", raw(block849134)[:79], false},
	}
	for _, c := range cases {
		if got := IsBitcoinBlock(c.header); got != c.isBlock {
			t.Errorf("%s: IsBitcoinBlock = %v, want %v", c.name, got, c.isBlock)
		}
	}
}
