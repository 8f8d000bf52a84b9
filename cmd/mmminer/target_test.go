package main

import (
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
)

func TestBitsTarget(t *testing.T) {
	tests := []struct {
		bits uint32
		want string
	}{
		{0x1d00ffff, "00000000ffff0000000000000000000000000000000000000000000000000000"}, // Bitcoin's genesis
		{0x207fffff, "7fffff0000000000000000000000000000000000000000000000000000000000"}, // regtest
		{0x17034219, "0000000000000000000342190000000000000000000000000000000000000000"}, // mainnet block 849134
		{0x03000001, "0000000000000000000000000000000000000000000000000000000000000001"},
	}
	for _, tt := range tests {
		got, err := bitsTarget(tt.bits)
		if err != nil || hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("bitsTarget(%08x) = %x, %v; want %s", tt.bits, got, err, tt.want)
		}
	}
	for _, bits := range []uint32{0, 0x1d800001, 0x21010000, 0xff7fffff} {
		if got, err := bitsTarget(bits); err == nil {
			t.Errorf("bitsTarget(%08x) = %x, want an error", bits, got)
		}
	}
}

// TestMeetsTarget compares the byte comparison with btcd's big-number
// reading of a hash, on edges and random values.
func TestMeetsTarget(t *testing.T) {
	check := func(h chainhash.Hash, target [32]byte) {
		t.Helper()
		want := blockchain.HashToBig(&h).Cmp(new(big.Int).SetBytes(target[:])) <= 0
		if got := meetsTarget(&h, &target); got != want {
			t.Errorf("meetsTarget(%v, %x) = %v, want %v", h, target, got, want)
		}
	}
	var zero, ones [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	var hashOfTarget chainhash.Hash // a hash equal to a target: LE bytes of the BE target
	target := [32]byte{0, 0, 0x12, 0x34}
	for i := range target {
		hashOfTarget[31-i] = target[i]
	}
	if !meetsTarget(&hashOfTarget, &target) {
		t.Error("a hash equal to the target must meet it")
	}
	check(hashOfTarget, target)
	check(chainhash.Hash{}, zero)
	check(chainhash.Hash(ones), zero)
	check(chainhash.Hash(ones), ones)
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var h chainhash.Hash
		var tg [32]byte
		for i := range h {
			h[i], tg[i] = byte(r.UintN(256)), byte(r.UintN(256))
		}
		// Share a random number of leading bytes so that the comparison
		// reaches deep into the arrays.
		n := r.IntN(33)
		for i := range n {
			tg[i] = h[31-i]
		}
		check(h, tg)
	}
}
