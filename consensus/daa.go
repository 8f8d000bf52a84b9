package consensus

import (
	"math/big"
)

// The difficulty adjustment is aserti3-2d, the ASERT algorithm specified
// for Bitcoin Cash's November 2020 upgrade, computed exactly as specified
// (integer only, 16-bit fixed-point exponent, the cubic approximation of
// 2^x, all in target space) with two differences of form, not of math:
//
//   - The anchor is our genesis block: its seal difficulty and its own
//     timestamp. BCH anchors at a block inside an existing chain and uses the
//     timestamp of the anchor's parent, so the anchor itself needs one
//     spacing more: exponent = (t - T_anchorParent - spacing*(h - h_anchor + 1)).
//     Our anchor's time is known (genesis has no parent), so the ideal time of
//     block n is simply genesis.Time + spacing*n, and there is no +1:
//     exponent = ((P.Time - G.Time) - spacing*P.Number) * 65536 / halfLife
//     for the block after P. The two are the same formula with
//     G.Time = T_anchorParent + spacing; daa_test.go checks that against
//     BCHN's reference vectors.
//   - The result is a difficulty, not compact nBits: target space is only
//     the arithmetic, the header carries floor(2^256/target) exactly, with no
//     24-bit mantissa rounding.
//
// Anchor at block 1 (Params.Anchor = AnchorFirstBlock). Anchored at genesis,
// the schedule is genesis.Time + spacing*n. Dev and regtest fix their
// genesis time at 0 (everyone must build the same genesis, long before
// anyone runs it), so by that schedule their chains are decades behind:
// the target saturates at MinDifficulty, a CPU miner finds blocks as fast
// as timestamps may increase (one a second), and the chain runs ahead of
// the clock until the work server withholds work. These networks anchor at
// block 1 instead: it keeps the genesis difficulty, and its own time T1
// starts the schedule, T1 + spacing*(n-1) for block n. The child of P >= 1
// gets ASERT with exponent ((P.Time - T1) - spacing*(P.Number-1)) *
// 65536 / halfLife: the formula above with the anchor at height 1.
//
// T1 must be known from P alone for the rule to stay O(1) per header and
// to hold on every branch (a lookup of the canonical block 1 would be wrong
// for a branch forking at genesis, and a walk to height 1 is O(n)). So
// every header carries it in its nonce, free on this chain: block 1's
// nonce is its own time and every later block's is its parent's
// (anchorNonce, ErrAnchorTime). A header is checked against its parent
// only, as before. The anchor time is chosen by whoever mines block 1; on
// a local network that is the operator, and a network with a real launch
// sets a genesis time and keeps the genesis anchor, where nothing is left
// to a miner's choice. The genesis-anchored DAA and its reference vectors
// are unchanged.
//
// The difficulty of a block depends on its parent only, not on its own
// timestamp, so a miner cannot choose an easier difficulty by choosing a
// later time, and a template's difficulty is fixed once its parent is.

// asertRadixBits is the number of fractional bits of the exponent.
const asertRadixBits = 16

var (
	// two256 is 2^256: targets are floor(2^256/difficulty), so no difficulty
	// above it can be met by any hash.
	two256     = new(big.Int).Lsh(big.NewInt(1), 256)
	asertRadix = big.NewInt(1 << asertRadixBits)
	// Coefficients of the cubic approximation of 2^x - 1 for x in [0, 1),
	// scaled by 2^48, as in the specification.
	asertC1   = big.NewInt(195766423245049)
	asertC2   = big.NewInt(971821376)
	asertC3   = big.NewInt(5127)
	asertHalf = new(big.Int).Lsh(big.NewInt(1), 47)
	// Shifts beyond these bounds saturate: a target below 2^-512 of the anchor
	// is 0, above 2^512 of it beyond any 256-bit limit.
	asertMaxShift = big.NewInt(512)
	asertMinShift = big.NewInt(-512)
)

// asertTarget returns the target of the block whose parent is at height
// parentNumber above the anchor with time parentTime, clamped to
// [1, maxTarget]. Every quantity is a big.Int, so no input overflows.
func asertTarget(anchorTarget *big.Int, anchorTime, parentNumber, parentTime, spacing, halfLife uint64, maxTarget *big.Int) *big.Int {
	// exponent = ((parentTime - anchorTime) - spacing*parentNumber) * 2^16 / halfLife,
	// truncated toward zero as the specification's C++ (and big.Int.Quo) does.
	exponent := new(big.Int).SetUint64(parentTime)
	exponent.Sub(exponent, new(big.Int).SetUint64(anchorTime))
	exponent.Sub(exponent, new(big.Int).Mul(new(big.Int).SetUint64(spacing), new(big.Int).SetUint64(parentNumber)))
	exponent.Lsh(exponent, asertRadixBits)
	exponent.Quo(exponent, new(big.Int).SetUint64(halfLife))

	// Split into an integer part (floor: Rsh is arithmetic) and a fraction
	// in [0, 2^16).
	shifts := new(big.Int).Rsh(exponent, asertRadixBits)
	frac := new(big.Int).Sub(exponent, new(big.Int).Lsh(shifts, asertRadixBits))
	switch {
	case shifts.Cmp(asertMaxShift) > 0:
		return new(big.Int).Set(maxTarget)
	case shifts.Cmp(asertMinShift) < 0:
		return big.NewInt(1)
	}

	// factor = 2^16 + (c1*f + c2*f^2 + c3*f^3 + 2^47) >> 48, i.e. 2^16 * 2^(f/2^16).
	f2 := new(big.Int).Mul(frac, frac)
	f3 := new(big.Int).Mul(f2, frac)
	poly := new(big.Int).Mul(asertC1, frac)
	poly.Add(poly, f2.Mul(f2, asertC2))
	poly.Add(poly, f3.Mul(f3, asertC3))
	poly.Add(poly, asertHalf)
	poly.Rsh(poly, 3*asertRadixBits)
	factor := poly.Add(poly, asertRadix)

	target := new(big.Int).Mul(anchorTarget, factor)
	if n := shifts.Int64(); n < 0 {
		target.Rsh(target, uint(-n))
	} else {
		target.Lsh(target, uint(n))
	}
	target.Rsh(target, asertRadixBits)

	switch {
	case target.Sign() == 0:
		return big.NewInt(1)
	case target.Cmp(maxTarget) > 0:
		return new(big.Int).Set(maxTarget)
	}
	return target
}

// targetOf is floor(2^256 / difficulty) for difficulty in (0, 2^256].
func targetOf(difficulty *big.Int) *big.Int {
	return new(big.Int).Quo(two256, difficulty)
}

// asertDifficulty is the DAA in difficulty space: the anchor difficulty
// and MinDifficulty become targets, the result becomes a difficulty again,
// never below MinDifficulty. anchorDifficulty must be in (0, 2^256] (a
// decoded seal's is).
func (p *Params) asertDifficulty(anchorDifficulty *big.Int, anchorTime, parentNumber, parentTime uint64) *big.Int {
	maxTarget := targetOf(p.MinDifficulty)
	target := asertTarget(targetOf(anchorDifficulty), anchorTime, parentNumber, parentTime, p.TargetSpacing, p.HalfLife, maxTarget)
	d := new(big.Int).Quo(two256, target)
	if d.Cmp(p.MinDifficulty) < 0 {
		d.Set(p.MinDifficulty)
	}
	return d
}
