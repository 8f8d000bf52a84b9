package bridge

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/btcspv"
)

// diffNet is a parameter set the differential tests run on: the reference's
// parameters, a checkpoint, and the headers every run starts from.
type diffNet struct {
	name    string
	p       btcspv.Params
	cp      btcspv.Checkpoint
	version int32 // of generated headers
	spacing int64 // seconds between generated headers
	// real maps a parent's hash to its real successor (mainnet data), which
	// stands for the generated child: real proof of work cannot be ground.
	real map[chainhash.Hash][]byte
	// base: headers after the checkpoint, accepted by pair.
	base [][]byte
	pair *diffPair
}

// grindable says whether a target can be met in about 2^16 tries.
func grindable(target *big.Int) bool { return target.Sign() > 0 && target.BitLen() >= 240 }

// easyPowLimit is 2^251-1 (bits 0x2007ffff): about 32 tries a header. The
// relay refuses a powLimit that a ×4T retarget could overflow, hence the 8 s
// timespan of the easy networks.
var easyPowLimit = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 251), big.NewInt(1))

// easyParams is a retargeting network whose headers tests can grind: a
// 4-block period of 8 s, with the testnet rules asked for. The BIP-34/66/65
// heights are low so that the version rule bites, and the fork depth and
// batch size are small so that ForkTooDeep and TooManyHeaders are reachable.
func easyParams(name string, reduceMin, bip94 bool) btcspv.Params {
	return btcspv.Params{
		Name: name, PowLimit: easyPowLimit, PowLimitBits: 0x2007ffff,
		ReduceMinDifficulty: reduceMin, EnforceBIP94: bip94,
		TargetTimespan: 8, RetargetInterval: 4,
		BIP34Height: 2, BIP66Height: 3, BIP65Height: 4,
		MaxForkDepth: 6, MaxHeadersPerCall: 32,
	}
}

// easyCheckpoint is a header at height 8 with real bits below the limit
// (0x2003ffff: a min-difficulty header is then distinguishable), eight
// previous timestamps out of order, and some earlier chainwork.
func easyCheckpoint() btcspv.Checkpoint {
	const t0 = 1_700_000_000
	h := &wire.BlockHeader{Version: 4, Timestamp: time.Unix(t0, 0), Bits: 0x2003ffff}
	grind(h)
	cp := btcspv.Checkpoint{
		Height:    8,
		Chainwork: new(big.Int).Mul(blockchain.CalcWork(0x2003ffff), big.NewInt(9)),
		PrevTimes: []uint32{t0 - 30, t0 - 2, t0 - 26, t0 - 20, t0 - 16, t0 - 9, t0 - 11, t0 - 3},
	}
	copy(cp.Header80[:], headerBytes(h))
	return cp
}

var (
	diffNetsOnce sync.Once
	diffNets     []*diffNet
)

// nets returns the fuzz networks, each with a base chain of 12 headers
// already in its pair: regtest (no retargeting), three easy networks (plain
// retargeting, the testnet 20-minute rule, and that rule with BIP-94 as on
// testnet4) and mainnet from a checkpoint at 12,096 synced to 14,100, whose
// real headers cross the retarget at 14,112.
func nets(t testing.TB) []*diffNet {
	diffNetsOnce.Do(func() {
		regtest := btcspv.RegTest
		regtest.MaxForkDepth, regtest.MaxHeadersPerCall = 6, 32
		diffNets = []*diffNet{
			{name: "regtest", p: regtest, cp: btcspv.GenesisCheckpoint(&chaincfg.RegressionNetParams), version: 4, spacing: 600},
			{name: "easy", p: easyParams("easy", false, false), cp: easyCheckpoint(), version: 4, spacing: 3},
			{name: "easy-mindiff", p: easyParams("easy-mindiff", true, false), cp: easyCheckpoint(), version: 4, spacing: 3},
			{name: "easy-testnet4", p: easyParams("easy-testnet4", true, true), cp: easyCheckpoint(), version: 4, spacing: 3},
			mainnetNet(t, 12096, 14100),
		}
		for _, n := range diffNets[:4] {
			n.pair = newDiffPair(t, n.p, n.cp)
			g := n.gen(t)
			cur := n.cp.Header80[:]
			for range 12 {
				cur = g.child(cur)
				n.base = append(n.base, cur)
			}
			n.pair.receive(bytes.Join(n.base, nil), g.now)
		}
	})
	return diffNets
}

// mainnetBlocksOnce caches btcd's 14,132 mainnet blocks for the process.
var (
	mainnetOnce   sync.Once
	mainnetCached []*wire.MsgBlock
)

func cachedMainnetBlocks(t testing.TB) []*wire.MsgBlock {
	mainnetOnce.Do(func() { mainnetCached = mainnetBlocks(t) })
	return mainnetCached
}

// mainnetNet starts at the real retarget boundary cp with its real
// chainwork and previous timestamps, synced to height to.
func mainnetNet(t testing.TB, cp, to int) *diffNet {
	blocks := cachedMainnetBlocks(t)
	work := new(big.Int)
	for _, b := range blocks[:cp+1] {
		work.Add(work, blockchain.CalcWork(b.Header.Bits))
	}
	n := &diffNet{name: "mainnet", p: btcspv.MainNet, version: 1, spacing: 600, real: map[chainhash.Hash][]byte{}}
	n.cp = btcspv.Checkpoint{Height: uint32(cp), Chainwork: work}
	copy(n.cp.Header80[:], headerBytes(&blocks[cp].Header))
	for _, b := range blocks[cp-10 : cp] {
		n.cp.PrevTimes = append(n.cp.PrevTimes, uint32(b.Header.Timestamp.Unix()))
	}
	for i := cp + 1; i < len(blocks); i++ {
		n.real[blocks[i].Header.PrevBlock] = headerBytes(&blocks[i].Header)
	}
	n.pair = newDiffPair(t, n.p, n.cp)
	for i := cp + 1; i <= to; i += 200 {
		var batch [][]byte
		for _, b := range blocks[i:min(i+200, to+1)] {
			batch = append(batch, headerBytes(&b.Header))
		}
		n.base = append(n.base, batch...)
		n.pair.receive(bytes.Join(batch, nil), headerTime(batch[len(batch)-1]))
	}
	return n
}

func headerTime(h []byte) uint32 { return binary.LittleEndian.Uint32(h[68:]) }
func headerBits(h []byte) uint32 { return binary.LittleEndian.Uint32(h[72:]) }

// gen builds headers on a network: children of any known header, valid by
// default and changed by modifiers before they are mined, so that most
// inputs get past proof of work and reach the later rules.
type gen struct {
	t   testing.TB
	net *diffNet
	// oracle is a reference chain holding every generated header it
	// accepts; it tells which bits a child needs (see wantBits). Nil where
	// the proof of work cannot be ground.
	oracle *btcspv.Chain
	known  [][]byte // the checkpoint, the base and every generated header
	byHash map[chainhash.Hash][]byte
	seq    uint32 // makes every generated header distinct
	now    uint32 // the time of the next submission
}

// oracleNow lets the oracle accept any timestamp.
const oracleNow = math.MaxUint32 - 7200

func (n *diffNet) gen(t testing.TB) *gen {
	g := &gen{t: t, net: n, byHash: map[chainhash.Hash][]byte{}}
	for _, h := range append([][]byte{n.cp.Header80[:]}, n.base...) {
		g.add(h)
	}
	tip := g.known[len(g.known)-1]
	g.now = headerTime(tip) + 3600
	if grindable(n.p.PowLimit) {
		var err error
		if g.oracle, err = btcspv.NewChain(n.p, n.cp); err != nil {
			t.Fatal(err)
		}
		if len(n.base) > 0 {
			if _, err := g.oracle.ReceiveHeaders(bytes.Join(n.base, nil), oracleNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	return g
}

// hspec is a header about to be mined.
type hspec struct {
	h     wire.BlockHeader
	bits  bool // bits set by a modifier or the real header: do not ask
	spoil bool // miss the target on purpose
	flips [][2]byte
}

// hmod changes a header before it is mined; parent is its parent.
type hmod func(g *gen, s *hspec, parent []byte)

// child mines a child of parent: parent's real successor on mainnet, else a
// header spaced net.spacing after it with the bits the rules want; mods
// apply before mining, flips after.
func (g *gen) child(parent []byte, mods ...hmod) []byte {
	g.seq++
	s := hspec{h: wire.BlockHeader{
		Version:   g.net.version,
		PrevBlock: chainhash.DoubleHashH(parent),
		Timestamp: time.Unix(int64(headerTime(parent))+g.net.spacing, 0),
	}}
	binary.LittleEndian.PutUint32(s.h.MerkleRoot[:], g.seq)
	real := g.net.real[s.h.PrevBlock]
	if real != nil {
		if err := s.h.Deserialize(bytes.NewReader(real)); err != nil {
			g.t.Fatal(err)
		}
		s.bits = true
	}
	for _, m := range mods {
		if m != nil {
			m(g, &s, parent)
		}
	}
	if !s.bits {
		s.h.Bits = g.wantBits(parent, uint32(s.h.Timestamp.Unix()))
	}
	if real == nil || len(mods) > 0 {
		mineWithin(&s.h, s.spoil)
	}
	raw := headerBytes(&s.h)
	if len(mods) == 0 {
		// Keep the clock ahead of the headers that follow the rules, so
		// that only modifiers make a header too new.
		g.now = max(g.now, headerTime(raw)+3600)
	}
	for _, f := range s.flips {
		raw[int(f[0])%80] ^= f[1] | 1
	}
	if g.oracle != nil {
		_, _ = g.oracle.ReceiveHeaders(raw, oracleNow) // a refused header only stays unknown
	}
	g.add(raw)
	return raw
}

func (g *gen) add(h []byte) {
	g.known = append(g.known, h)
	g.byHash[chainhash.DoubleHashH(h)] = h
}

// best is the header at the tip of d's best chain.
func (g *gen) best(d *diffPair) []byte { return g.ancestor(d, 0) }

// ancestor is the best chain's header k blocks below the tip.
func (g *gen) ancestor(d *diffPair, k uint32) []byte {
	hash, ok := d.ref.BlockHashAt(d.ref.BestHeight() - k)
	h := g.byHash[hash]
	if !ok || h == nil {
		g.t.Fatalf("the best chain's header %d below the tip is no header of this generator", k)
	}
	return h
}

// mineWithin grinds a nonce for the header's bits, or one that misses them
// with spoil; it gives up (leaving the header as it is) where that would
// take more than about 2^17 tries, as for real mainnet difficulty.
func mineWithin(h *wire.BlockHeader, spoil bool) {
	target := blockchain.CompactToBig(h.Bits)
	if !spoil && !grindable(target) || spoil && target.Sign() > 0 && target.BitLen() > 255 {
		return
	}
	for range 1 << 17 {
		hash := h.BlockHash()
		if (blockchain.HashToBig(&hash).Cmp(target) <= 0) != spoil {
			return
		}
		h.Nonce++
	}
}

// wantsBits reads the bits the reference wanted out of its UnexpectedBits
// error.
var wantsBits = regexp.MustCompile(`want ([0-9a-f]{8})$`)

// wantBits asks the oracle which bits a child of parent at time t needs: it
// submits a probe with the limit's bits and reads the wanted ones from the
// refusal. This keeps the retarget rules in the reference only; a parent the
// oracle does not know gets its own bits.
func (g *gen) wantBits(parent []byte, t uint32) uint32 {
	p := g.net.p
	if p.NoRetargeting {
		return p.PowLimitBits
	}
	if g.oracle == nil {
		return headerBits(parent)
	}
	if _, ok := g.oracle.HeaderInfo(chainhash.DoubleHashH(parent)); !ok {
		return headerBits(parent)
	}
	probe := wire.BlockHeader{
		Version: g.net.version, PrevBlock: chainhash.DoubleHashH(parent),
		Timestamp: time.Unix(int64(t), 0), Bits: p.PowLimitBits, MerkleRoot: chainhash.Hash{0xff},
	}
	binary.LittleEndian.PutUint32(probe.MerkleRoot[1:], g.seq)
	mineWithin(&probe, false)
	_, err := g.oracle.ReceiveHeaders(headerBytes(&probe), oracleNow)
	if err == nil {
		return p.PowLimitBits
	}
	if m := wantsBits.FindStringSubmatch(err.Error()); m != nil {
		want, _ := strconv.ParseUint(m[1], 16, 32) // eight hex digits always parse
		return uint32(want)
	}
	// Refused for a later rule: the limit's bits were right.
	return p.PowLimitBits
}

// Modifiers, by what they change.

// at sets the time relative to the parent's.
func at(dt int64) hmod {
	return func(_ *gen, s *hspec, parent []byte) {
		s.h.Timestamp = time.Unix(int64(headerTime(parent))+dt, 0)
	}
}

// atMedian sets the time to the parent's minus k spacings: with evenly
// spaced headers, k = 5 is the median time past itself.
func atMedian(k, plus int64) hmod {
	return func(g *gen, s *hspec, parent []byte) {
		s.h.Timestamp = time.Unix(int64(headerTime(parent))-k*g.net.spacing+plus, 0)
	}
}

// afterNow sets the time to the next submission's time plus dt.
func afterNow(dt int64) hmod {
	return func(g *gen, s *hspec, _ []byte) { s.h.Timestamp = time.Unix(int64(g.now)+dt, 0) }
}

func absTime(t uint32) hmod {
	return func(_ *gen, s *hspec, _ []byte) { s.h.Timestamp = time.Unix(int64(t), 0) }
}

func bits(b uint32) hmod {
	return func(_ *gen, s *hspec, _ []byte) { s.h.Bits, s.bits = b, true }
}

// bitsOff sets the bits the rules want, plus delta (on the whole compact
// word: the mantissa's last digit, mostly).
func bitsOff(delta int32) hmod {
	return func(g *gen, s *hspec, parent []byte) {
		s.h.Bits, s.bits = uint32(int32(g.wantBits(parent, uint32(s.h.Timestamp.Unix())))+delta), true
	}
}

func parentBits(_ *gen, s *hspec, parent []byte) { s.h.Bits, s.bits = headerBits(parent), true }
func powLimitBits(g *gen, s *hspec, _ []byte)    { s.h.Bits, s.bits = g.net.p.PowLimitBits, true }

func version(v int32) hmod {
	return func(_ *gen, s *hspec, _ []byte) { s.h.Version = v }
}

func spoil(_ *gen, s *hspec, _ []byte) { s.spoil = true }

func flip(off, x byte) hmod {
	return func(_ *gen, s *hspec, _ []byte) { s.flips = append(s.flips, [2]byte{off, x}) }
}

// progReader hands out a fuzz program's bytes, zeros past its end.
type progReader struct {
	b []byte
	i int
}

func (r *progReader) more() bool { return r.i < len(r.b) }

func (r *progReader) next() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *progReader) u32() uint32 {
	return uint32(r.next()) | uint32(r.next())<<8 | uint32(r.next())<<16 | uint32(r.next())<<24
}

// progMods are the modifiers a program can name, each reading its
// arguments from the program.
var progMods = []func(r *progReader) hmod{
	func(*progReader) hmod { return nil },
	func(*progReader) hmod { return at(0) },
	func(*progReader) hmod { return at(1) },
	func(*progReader) hmod { return at(-1) },
	func(*progReader) hmod { return atMedian(5, 0) },
	func(*progReader) hmod { return atMedian(5, 1) },
	func(*progReader) hmod { return at(1200) },
	func(*progReader) hmod { return at(1201) },
	func(*progReader) hmod { return at(-600) },
	func(*progReader) hmod { return at(-601) },
	func(*progReader) hmod { return at(7000) },
	func(*progReader) hmod { return afterNow(7200) },
	func(*progReader) hmod { return afterNow(7201) },
	func(*progReader) hmod { return absTime(0) },
	func(*progReader) hmod { return absTime(math.MaxUint32) },
	func(r *progReader) hmod { return at(int64(int16(uint16(r.next()) | uint16(r.next())<<8))) },
	func(*progReader) hmod { return powLimitBits },
	func(*progReader) hmod { return parentBits },
	func(*progReader) hmod { return bitsOff(-1) },
	func(*progReader) hmod { return bitsOff(1) },
	func(*progReader) hmod { return bits(0) },
	func(*progReader) hmod { return bits(0x00800000) }, // sign bit, zero mantissa
	func(*progReader) hmod { return bits(0x01003456) }, // exponent below 3
	func(*progReader) hmod { return bits(0x04923456) }, // negative
	func(*progReader) hmod { return bits(0xff123456) }, // past 2^256
	func(*progReader) hmod { return bits(0x2100ffff) }, // above every limit here
	func(*progReader) hmod { return bits(0x207fffff) },
	func(*progReader) hmod { return bits(0x2003ffff) },
	func(*progReader) hmod { return bits(0x1d00ffff) },
	func(r *progReader) hmod { return bits(r.u32()) },
	func(*progReader) hmod { return version(0) },
	func(*progReader) hmod { return version(1) },
	func(*progReader) hmod { return version(2) },
	func(*progReader) hmod { return version(3) },
	func(*progReader) hmod { return version(-1) },
	func(*progReader) hmod { return version(0x20000000) },
	func(r *progReader) hmod { return version(int32(r.u32())) },
	func(*progReader) hmod { return spoil },
	func(r *progReader) hmod { return flip(r.next(), r.next()) },
}

// mods reads a chain of modifiers: each byte names one, and its top bit says
// that another follows.
func (r *progReader) mods() []hmod {
	var out []hmod
	for len(out) < 8 {
		b := r.next()
		out = append(out, progMods[int(b&0x7f)%len(progMods)](r))
		if b&0x80 == 0 {
			break
		}
	}
	return out
}

// Program limits, so that one input stays in the milliseconds.
const (
	progMaxHeaders = 160
	progMaxCalls   = 12
)

// Program operations (op byte modulo numOps).
const (
	opExtend    = iota // child of the cursor, then modifiers
	opFork             // child of the k-th newest known header, then modifiers
	opRun              // 1..24 valid children of the cursor
	opSwap             // swap two headers of the pending batch
	opDuplicate        // append a copy of a header of the pending batch
	opSubmit           // send the pending batch
	opSubmitCut        // send it without its last 0..80 bytes
	opNow              // move the submission time around the cursor's
	opBest             // move the cursor to the best tip
	numOps
)

var nowOffsets = []int64{0, 3600, -7200, -7201, 86400, 1 << 20}

// run interprets prog on d: it builds batches and sends each through
// d.receive, which compares the two sides.
func (g *gen) run(d *diffPair, prog []byte) {
	r := &progReader{b: prog}
	cur := g.known[len(g.known)-1]
	var batch [][]byte
	calls := 0
	send := func(cut int) {
		raw := bytes.Join(batch, nil)
		raw = raw[:len(raw)-min(cut, len(raw))]
		d.receive(raw, g.now)
		batch = nil
		calls++
	}
	for r.more() && len(g.known) < progMaxHeaders && calls < progMaxCalls {
		switch r.next() % numOps {
		case opExtend:
			cur = g.child(cur, r.mods()...)
			batch = append(batch, cur)
		case opFork:
			parent := g.known[len(g.known)-1-int(r.next())%len(g.known)]
			cur = g.child(parent, r.mods()...)
			batch = append(batch, cur)
		case opRun:
			for range int(r.next())%24 + 1 {
				cur = g.child(cur)
				batch = append(batch, cur)
			}
		case opSwap:
			if len(batch) > 1 {
				i, j := int(r.next())%len(batch), int(r.next())%len(batch)
				batch[i], batch[j] = batch[j], batch[i]
			}
		case opDuplicate:
			if len(batch) > 0 {
				batch = append(batch, batch[int(r.next())%len(batch)])
			}
		case opSubmit:
			send(0)
		case opSubmitCut:
			send(int(r.next()) % 81)
		case opNow:
			g.now = uint32(int64(headerTime(cur)) + nowOffsets[int(r.next())%len(nowOffsets)])
		case opBest:
			cur = g.best(d)
		}
	}
	if len(batch) > 0 {
		send(0)
	}
}
