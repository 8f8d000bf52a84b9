package mergemine

import (
	"encoding/binary"
	"math/big"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/holiman/uint256"
)

// minDifficulty is the smallest difficulty the target formula uses: Rootstock
// raises 0, 1 and 2 to 3 so that the target fits in 256 bits.
const minDifficulty = 3

var (
	two256           = new(big.Int).Lsh(big.NewInt(1), 256)
	bigMinDifficulty = big.NewInt(minDifficulty)
)

// Target returns floor(2^256 / max(difficulty, 3)): the largest Bitcoin
// header hash, read as a little-endian number, that meets the difficulty. A
// nil difficulty counts as 0.
func Target(difficulty *big.Int) *big.Int {
	d := bigMinDifficulty
	if difficulty != nil && difficulty.Cmp(d) > 0 {
		d = difficulty
	}
	return new(big.Int).Div(two256, d)
}

// DifficultyFromTarget returns floor(2^256 / target), the largest difficulty
// whose Target is not below target; for any positive t that Target returns,
// Target(DifficultyFromTarget(t)) == t. A target below 1 counts as 1.
func DifficultyFromTarget(target *big.Int) *big.Int {
	if target == nil || target.Sign() <= 0 {
		return new(big.Int).Set(two256)
	}
	return new(big.Int).Div(two256, target)
}

// setTarget sets z to Target(difficulty) without allocating, keeping big.Int
// arithmetic out of Verify's hot path.
func setTarget(z *uint256.Int, difficulty *big.Int) {
	var d uint256.Int
	switch {
	case difficulty == nil || difficulty.Cmp(bigMinDifficulty) < 0:
		d.SetUint64(minDifficulty)
	case d.SetFromBig(difficulty):
		// difficulty >= 2^256: the quotient is 1 for exactly 2^256, else 0.
		z.Clear()
		if difficulty.BitLen() == 257 && difficulty.TrailingZeroBits() == 256 {
			z.SetOne()
		}
		return
	}
	// 2^256 itself does not fit, so divide 2^256-1. The quotients differ,
	// by one, only when d divides 2^256, i.e. when d is a power of two.
	z.SetAllOne()
	z.Div(z, &d)
	var m uint256.Int
	if m.SubUint64(&d, 1).And(&m, &d).IsZero() {
		z.AddUint64(z, 1)
	}
}

// meetsTarget reports whether LE256(SHA256d(header)) <= target.
func meetsTarget(header []byte, target *uint256.Int) bool {
	h := HeaderHash(header)
	var be [32]byte
	for i := range h {
		be[31-i] = h[i]
	}
	var v uint256.Int
	v.SetBytes32(be[:])
	return !v.Gt(target)
}

// MeetsTarget reports whether header80's hash, read as Bitcoin reads it (a
// little-endian number), is at most target: what a miner grinds for.
func MeetsTarget(header80 []byte, target *big.Int) bool {
	t, overflow := uint256.FromBig(target)
	if overflow || target.Sign() < 0 {
		return target.Sign() > 0
	}
	return meetsTarget(header80, t)
}

// IsBitcoinBlock reports whether a proof's 80-byte Bitcoin header also meets
// its own nBits target, which makes it a block of that Bitcoin chain (an
// anchor candidate) rather than a pool share. A header whose bits encode no
// positive target is never a block.
func IsBitcoinBlock(header80 []byte) bool {
	if len(header80) != HeaderSize {
		return false
	}
	target := blockchain.CompactToBig(binary.LittleEndian.Uint32(header80[72:76]))
	return target.Sign() > 0 && MeetsTarget(header80, target)
}
