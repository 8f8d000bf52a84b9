package btcspv

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// try submits one header, checks the error's rule, and checks our verdict
// against btcd's header rules.
func try(t *testing.T, c *Chain, h []byte, now uint32, rule error) {
	t.Helper()
	parentKnown := c.nodes[chainhash.Hash(h[4:36])] != nil
	_, err := c.ReceiveHeaders(h, now)
	wantRule(t, err, rule)
	// btcd reads only the parent's ancestry, so an accepted header can be
	// judged after it is stored.
	if parentKnown {
		agreeWithBtcd(t, c, h, now, err)
	}
}

func setField(h []byte, off int, v uint32) []byte {
	h = bytes.Clone(h)
	binary.LittleEndian.PutUint32(h[off:], v)
	return h
}

func TestBatchShape(t *testing.T) {
	c, _ := regtestChain(t)
	for _, n := range []int{0, 79, 81, 160 + 1} {
		_, err := c.ReceiveHeaders(make([]byte, n), 0)
		wantRule(t, err, ErrBadHeadersLength)
	}
	_, err := c.ReceiveHeaders(make([]byte, 201*HeaderSize), 0)
	wantRule(t, err, ErrTooManyHeaders)
	_, err = c.ReceiveHeaders(make([]byte, 200*HeaderSize), 0)
	wantRule(t, err, ErrUnknownParent)
}

// TestMainnetHeaderFaults mutates real mainnet headers.
func TestMainnetHeaderFaults(t *testing.T) {
	headers := loadMainnetHeaders(t)
	at := func(h int) []byte { return headers[h*HeaderSize : (h+1)*HeaderSize] }
	c := syncMainnet(t, headers, 10)
	h11 := at(11)
	now := headerTime(h11)

	try(t, c, setField(h11, 76, binary.LittleEndian.Uint32(h11[76:])+1), now, ErrInsufficientPoW)
	try(t, c, at(13), now, ErrUnknownParent)
	for _, bits := range []uint32{0, 0x1d01ffff, 0x1d80ffff, 0x01003456, 0xff7fffff} {
		try(t, c, setField(h11, 72, bits), now, ErrBadBits)
	}
	try(t, c, h11, headerTime(h11)-maxFutureTime-1, ErrTimeTooNew)

	// A batch fails as a whole, at its first bad header.
	bad := setField(at(13), 76, 0)
	_, err := c.ReceiveHeaders(concat(h11, at(12), bad), now)
	wantRule(t, err, ErrInsufficientPoW)
	if tip := c.BestChain(); tip.Height != 10 || c.Confirmations(chainhash.DoubleHashH(h11)) != 0 {
		t.Fatalf("a failed batch left the tip at %d", tip.Height)
	}
	if _, ok := c.HeaderInfo(chainhash.DoubleHashH(h11)); ok {
		t.Fatal("a failed batch left a header behind")
	}

	// Exactly two hours ahead is still accepted.
	try(t, c, h11, headerTime(h11)-maxFutureTime, nil)
}

// TestRegtestHeaderFaults: PEG.md §12's header rows on regtest, where proof
// of work is cheap to grind.
func TestRegtestHeaderFaults(t *testing.T) {
	c, genesis := regtestChain(t)
	b := &builder{t: t, c: c, version: regtestVersion}
	chain := b.extend(genesis, 12, 600)
	tip := chain[len(chain)-1]
	prev := chainhash.DoubleHashH(tip)
	mtp := c.medianTimePast(c.best)
	now := headerTime(tip) + 600
	next := hdr{version: regtestVersion, prev: prev, time: now, bits: RegTest.PowLimitBits}

	wrongBits := next
	wrongBits.bits = 0x207ffffe
	try(t, c, mine(t, wrongBits, wrongBits.bits), now, ErrUnexpectedBits)
	try(t, c, failPoW(t, next), now, ErrInsufficientPoW)
	try(t, c, mine(t, hdr{version: regtestVersion, prev: chainhash.Hash{1}, time: now, bits: next.bits}, next.bits), now, ErrUnknownParent)

	old := next
	old.time = mtp
	if mtp != headerTime(chain[6]) {
		t.Fatalf("median time past %d is not the 6th of the last 11 timestamps", mtp)
	}
	try(t, c, mine(t, old, old.bits), now, ErrTimeTooOld)

	// Regtest activates BIP-34, 66 and 65 at height 1: version 4 or more.
	for _, v := range []int32{0, 1, 2, 3, -1, -0x7fffffff} {
		h := next
		h.version = v
		try(t, c, mine(t, h, h.bits), now, ErrBadVersion)
	}
	old.time = mtp + 1
	old.version = 4
	try(t, c, mine(t, old, old.bits), now, nil)
}

// TestMedianTimePastEarly: with fewer than 11 ancestors, an even count of
// timestamps takes the upper middle one, as btcd does.
func TestMedianTimePastEarly(t *testing.T) {
	c, genesis := regtestChain(t)
	b := &builder{t: t, c: c, version: regtestVersion}
	parent := genesis
	ts := []uint32{headerTime(genesis)}
	for i := range 5 {
		sorted := slices.Sorted(slices.Values(ts))
		mtp := sorted[len(sorted)/2]
		now := mtp + 10_000
		try(t, c, b.child(parent, mtp, RegTest.PowLimitBits), now, ErrTimeTooOld)
		// Timestamps go back and forth so that the median is not the
		// parent's.
		next := mtp + 1 + uint32(i%2)*5000
		h := b.child(parent, next, RegTest.PowLimitBits)
		try(t, c, h, now, nil)
		parent = h
		ts = append(ts, next)
	}
}

func TestForkTooDeep(t *testing.T) {
	c, genesis := regtestChain(t)
	b := &builder{t: t, c: c, version: regtestVersion}
	main := append([][]byte{genesis}, b.extend(genesis, 110, 600)...)
	// The best tip is at 110 and forks may leave it at 110 − 100 = 10.
	side := func(parent []byte) []byte {
		return b.child(parent, headerTime(parent)+1, RegTest.PowLimitBits)
	}
	now := headerTime(main[110])
	try(t, c, side(main[9]), now, ErrForkTooDeep)
	s := side(main[10])
	try(t, c, s, now, nil)
	// The side branch grows on; its fork point stays at 10.
	try(t, c, side(s), now, nil)
	// Near the checkpoint the bound must not wrap below height 0.
	c2, genesis2 := regtestChain(t)
	b2 := &builder{t: t, c: c2, version: regtestVersion}
	b2.extend(genesis2, 5, 600)
	try(t, c2, b2.child(genesis2, headerTime(genesis2)+1, RegTest.PowLimitBits), now, nil)
}

func TestChainworkOverflow(t *testing.T) {
	cp := GenesisCheckpoint(&chaincfg.RegressionNetParams)
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	if w := blockchain.CalcWork(RegTest.PowLimitBits); w.Cmp(big.NewInt(2)) != 0 {
		t.Fatalf("regtest work per block is %v", w)
	}
	cp.Chainwork = new(big.Int).Sub(limit, big.NewInt(3))
	c, err := NewChain(RegTest, cp)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{t: t, c: c, version: regtestVersion}
	h1 := b.extend(cp.Header80[:], 1, 600)[0]
	if w := c.BestChain().Chainwork; w.Cmp(new(big.Int).Sub(limit, big.NewInt(1))) != 0 {
		t.Fatalf("chainwork %v", w)
	}
	h2 := b.child(h1, headerTime(h1)+600, RegTest.PowLimitBits)
	try(t, c, h2, headerTime(h2), ErrChainworkOverflow)

	cp.Chainwork = limit
	if _, err := NewChain(RegTest, cp); ruleOf(err) != ErrBadCheckpoint {
		t.Fatalf("a 2^128 chainwork checkpoint: %v", err)
	}
}

func TestBadCheckpoints(t *testing.T) {
	cp := GenesisCheckpoint(&chaincfg.MainNetParams)
	cp.Height = 2016
	if _, err := NewChain(MainNet, cp); ruleOf(err) != ErrBadCheckpoint {
		t.Fatalf("no previous timestamps: %v", err)
	}
	cp.PrevTimes = make([]uint32, 10)
	if _, err := NewChain(MainNet, cp); err != nil {
		t.Fatal(err)
	}
	cp.Height = 2017
	if _, err := NewChain(MainNet, cp); ruleOf(err) != ErrBadCheckpoint {
		t.Fatalf("off a retarget boundary: %v", err)
	}
	if _, err := NewChain(RegTest, cp); err != nil {
		t.Fatalf("regtest does not retarget: %v", err)
	}
	cp.Chainwork = nil
	if _, err := NewChain(RegTest, cp); ruleOf(err) != ErrBadCheckpoint {
		t.Fatalf("no chainwork: %v", err)
	}
}

// easyChain starts an easyParams network at a checkpoint with real bits.
func easyChain(t *testing.T, p Params, bits uint32) (*Chain, []byte) {
	t.Helper()
	g := mine(t, hdr{version: regtestVersion, time: 1_700_000_000, bits: bits}, bits)
	cp := Checkpoint{Height: 0, Chainwork: blockchain.CalcWork(bits)}
	copy(cp.Header80[:], g)
	c, err := NewChain(p, cp)
	if err != nil {
		t.Fatal(err)
	}
	return c, g
}

// realBits is a difficulty 16 times regtest's limit: still cheap to grind.
const realBits = 0x2007ffff

// TestTestnetMinDifficulty: the testnet 20-minute rule and the return to
// the last real bits after it.
func TestTestnetMinDifficulty(t *testing.T) {
	p := easyParams(true, false)
	c, g := easyChain(t, p, realBits)
	b := &builder{t: t, c: c, version: regtestVersion}
	t0 := headerTime(g)
	limit := p.PowLimitBits

	try(t, c, b.child(g, t0+1200, limit), t0+1200, ErrUnexpectedBits)
	h1 := b.child(g, t0+1201, limit)
	try(t, c, h1, t0+1201, nil)
	if info, _ := c.HeaderInfo(chainhash.DoubleHashH(h1)); info.Bits != limit || c.nodes[chainhash.DoubleHashH(h1)].lastRealBits != realBits {
		t.Fatal("a minimum-difficulty block must keep the last real bits")
	}
	// Within 20 minutes of a minimum-difficulty block the real bits return.
	try(t, c, b.child(h1, t0+1300, limit), t0+1300, ErrUnexpectedBits)
	try(t, c, b.child(h1, t0+1300, realBits), t0+1300, nil)
}

// TestBIP94 covers testnet4's two rules: the time-warp bound on a
// retarget's first block, and retargeting from the period's first bits
// rather than from a possibly minimum-difficulty parent.
func TestBIP94(t *testing.T) {
	for _, bip94 := range []bool{false, true} {
		p := easyParams(true, bip94)
		c, g := easyChain(t, p, realBits)
		b := &builder{t: t, c: c, version: regtestVersion}
		t0 := headerTime(g)
		h1 := b.child(g, t0+600, realBits)
		h2 := b.child(h1, t0+1200, realBits)
		// h3 uses the 20-minute rule, far ahead in time.
		h3 := b.child(h2, t0+100_000, p.PowLimitBits)
		for _, h := range [][]byte{h1, h2, h3} {
			try(t, c, h, t0+100_000, nil)
		}
		n3 := c.nodes[chainhash.DoubleHashH(h3)]
		warp := t0 + 100_000 - maxTimeWarp
		want := c.expectedBits(n3, 4, warp)
		// Span clamps to 4T: the target grows 4 times from the old bits,
		// which BIP-94 takes from the period's first block.
		old := p.PowLimitBits
		if bip94 {
			old = realBits
		}
		wantTarget := new(big.Int).Mul(blockchain.CompactToBig(old), big.NewInt(4))
		if wantTarget.Cmp(p.PowLimit) > 0 {
			wantTarget = p.PowLimit
		}
		if want != blockchain.BigToCompact(wantTarget) {
			t.Fatalf("bip94=%v: retarget bits %08x", bip94, want)
		}
		wrong := blockchain.BigToCompact(new(big.Int).Rsh(blockchain.CompactToBig(want), 1))
		try(t, c, b.child(h3, warp, wrong), warp, ErrUnexpectedBits)
		early := b.child(h3, warp-1, want)
		if bip94 {
			try(t, c, early, warp, ErrTimeWarp)
			try(t, c, b.child(h3, warp, want), warp, nil)
		} else {
			try(t, c, early, warp, nil)
		}
	}
}

// TestRetargetAgainstBtcd grows a synthetic network through many retargets
// at varied speeds; each header is mined with our expected bits, accepted,
// and accepted by btcd, and the bits next to it are refused by both.
func TestRetargetAgainstBtcd(t *testing.T) {
	c, g := easyChain(t, easyParams(false, false), realBits)
	b := &builder{t: t, c: c, version: regtestVersion}
	parent := g
	seen := map[uint32]bool{}
	// Each period of 1 s blocks makes the next four times harder; the slow
	// ones bring it back, keeping the grind cheap.
	for _, step := range []uint32{1, 1, 5000, 1, 600, 2000, 100, 700, 3, 5000, 601, 599, 900, 4000} {
		for range 4 {
			n := c.best
			time := headerTime(parent) + step
			want := c.expectedBits(n, n.height+1, time)
			if (n.height+1)%4 == 0 {
				seen[want] = true
				try(t, c, b.child(parent, time, want+1), time, ErrUnexpectedBits)
			}
			h := b.child(parent, time, want)
			try(t, c, h, time, nil)
			parent = h
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d distinct retarget results", len(seen))
	}
}

// TestMainnetRetargetArithmetic checks expectedBits at mainnet difficulty,
// which cannot be ground, against btcd's calcNextRequiredDifficulty: a
// chain of stored headers is laid out by hand, and btcd must accept the
// bits we expect and refuse their neighbours.
func TestMainnetRetargetArithmetic(t *testing.T) {
	const start = 2016 * 400
	for _, bits := range []uint32{0x1d00ffff, 0x1b0404cb, 0x17053894} {
		for _, span := range []int64{-5000, 1, 302_400, 600_000, 1_209_600, 1_209_601, 3_000_000, 4_838_400, 9_000_000} {
			cp := Checkpoint{Height: start, Chainwork: big.NewInt(1), PrevTimes: make([]uint32, 10)}
			binary.LittleEndian.PutUint32(cp.Header80[0:], 4)
			binary.LittleEndian.PutUint32(cp.Header80[68:], 1_600_000_000)
			binary.LittleEndian.PutUint32(cp.Header80[72:], bits)
			c, err := NewChain(MainNet, cp)
			if err != nil {
				t.Fatal(err)
			}
			n := c.best
			for h := uint32(1); h < 2016; h++ {
				// Spread the span over the period; the last header
				// carries it exactly.
				ts := int64(1_600_000_000) + span*int64(h)/2015
				m := &node{hash: chainhash.Hash{byte(h), byte(h >> 8), 1}, parent: n, height: start + h, time: uint32(ts), bits: bits, lastRealBits: bits}
				c.nodes[m.hash] = m
				c.main = append(c.main, m)
				c.best, n = m, m
			}
			want := c.expectedBits(n, start+2016, n.time+600)
			for _, have := range []uint32{want, want + 1, want - 1} {
				var buf bytes.Buffer
				wh := wire.BlockHeader{Version: 4, PrevBlock: n.hash, Bits: have}
				if err := wh.Serialize(&buf); err != nil {
					t.Fatal(err)
				}
				h := buf.Bytes()
				// Later than every timestamp of the period, whatever its span.
				binary.LittleEndian.PutUint32(h[68:], max(n.time, 1_600_000_000)+600)
				err := blockchainContext(t, c, h)
				if (have == want) != (err == nil) {
					t.Fatalf("bits %08x span %d: ours %08x, btcd on %08x: %v", bits, span, want, have, err)
				}
			}
		}
	}
}

// blockchainContext is btcd's contextual verdict alone (no proof of work).
func blockchainContext(t *testing.T, c *Chain, h []byte) error {
	t.Helper()
	var wh wire.BlockHeader
	if err := wh.Deserialize(bytes.NewReader(h)); err != nil {
		t.Fatal(err)
	}
	return blockchain.CheckBlockHeaderContext(&wh, ctxNode{c: c, n: c.nodes[wh.PrevBlock]}, blockchain.BFNone, chainCtx{btcdParams(c.params)}, true)
}
