package bridge

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/mmgeth/mmgeth/btcspv"
)

// TestDiffMainnetMutations syncs both sides over btcd's real mainnet headers
// 1..14,131 (seven retarget boundaries) in batches of changing sizes, and at
// heights around the boundaries sends the real header and every systematic
// mutation of it: each byte of the header flipped two ways, each field set
// to telling values, truncated batches, reordered and duplicated headers.
// Each mutation starts from the synced state.
func TestDiffMainnetMutations(t *testing.T) {
	blocks := cachedMainnetBlocks(t)
	hdr := func(i int) []byte { return headerBytes(&blocks[i].Header) }
	last := len(blocks) - 1
	d := newDiffPair(t, btcspv.MainNet, btcspv.GenesisCheckpoint(&chaincfg.MainNetParams))
	sizes := []int{200, 1, 199, 37, 2, 200, 200}
	synced := 0
	for _, height := range []int{1, 2015, 2016, 2017, 4032, 6048, 14111, 14112, last} {
		for k := 0; synced < height-1; k++ {
			end := min(synced+sizes[k%len(sizes)], height-1)
			var batch [][]byte
			for i := synced + 1; i <= end; i++ {
				batch = append(batch, hdr(i))
			}
			if !d.receive(bytes.Join(batch, nil), headerTime(batch[len(batch)-1])) {
				t.Fatalf("real headers %d..%d refused", synced+1, end)
			}
			synced = end
		}
		t.Run(fmt.Sprint(height), func(t *testing.T) {
			next := [][]byte{}
			if height < last {
				next = append(next, hdr(height+1))
			}
			now := headerTime(hdr(min(height+1, last)))
			realHeaders := map[string]bool{string(hdr(height - 1)): true, string(hdr(height)): true}
			for _, h := range next {
				realHeaders[string(h)] = true
			}
			var work *diffPair
			accepted := 0
			for i, c := range mutations(hdr, height, next, now) {
				if work == nil {
					work = d.clone(t)
				}
				if !work.receive(c, now) {
					continue
				}
				// Both sides accepting a header that is not mainnet's
				// would be a shared bug.
				for j := 0; j < len(c); j += btcspv.HeaderSize {
					if !realHeaders[string(c[j:j+btcspv.HeaderSize])] {
						t.Fatalf("case %d: a mutated header was accepted", i)
					}
				}
				accepted++
				work = nil // the next case starts from the synced state again
			}
			// At least the real batch, the duplicated one and the one with
			// a known header first.
			if accepted < 3 {
				t.Fatalf("%d of the batches accepted, want at least 3", accepted)
			}
		})
	}
}

// mutations are the systematic variants of real header height followed by
// next (its successor, if any).
func mutations(hdr func(int) []byte, height int, next [][]byte, now uint32) [][]byte {
	real := hdr(height)
	with := func(h []byte) []byte { return bytes.Join(append([][]byte{h}, next...), nil) }
	set := func(off int, v uint32) []byte {
		h := bytes.Clone(real)
		binary.LittleEndian.PutUint32(h[off:], v)
		return with(h)
	}
	out := [][]byte{
		with(real),
		bytes.Join(append([][]byte{real, real}, next...), nil),
		bytes.Join(append([][]byte{hdr(height - 1), real}, next...), nil),
	}
	for i := range btcspv.HeaderSize {
		for _, x := range []byte{0x01, 0x80} {
			h := bytes.Clone(real)
			h[i] ^= x
			out = append(out, with(h))
		}
	}
	t := headerTime(real)
	for _, v := range []uint32{0, 1, 2, 0xffffffff, 0x7fffffff} {
		out = append(out, set(0, v))
	}
	for _, v := range []uint32{t + 1, t - 1, t + 600, t - 600, now + 7200, now + 7201, 0} {
		out = append(out, set(68, v))
	}
	for _, v := range []uint32{0x1d00fffe, 0x1d010000, 0x1c7fffff, 0x1e00ffff, 0x1d80ffff, 0} {
		out = append(out, set(72, v))
	}
	if height >= 2 {
		h := bytes.Clone(real)
		prev := chainhash.DoubleHashH(hdr(height - 2))
		copy(h[4:36], prev[:])
		out = append(out, with(h))
	}
	h := bytes.Clone(real)
	clear(h[36:68])
	out = append(out, with(h))
	out = append(out,
		nil,
		real[:79],
		append(bytes.Clone(real), 0),
		with(real)[:len(with(real))-1],
		bytes.Repeat(real, 201),
	)
	if len(next) > 0 {
		out = append(out, bytes.Join(append(slices.Clone(next), real), nil))
	}
	return out
}

// TestDiffForks sends, on each synthetic network, a branch forking at every
// depth from 0 to one past the limit and of every length around it, in one
// batch and one header per call: no reorg, equal work, reorgs to longer
// branches, ForkTooDeep. On regtest, where all headers weigh the same, the
// outcome is also checked against the rules.
func TestDiffForks(t *testing.T) {
	for _, n := range nets(t)[:4] {
		maxDepth := int(n.p.MaxForkDepth)
		for depth := 0; depth <= maxDepth+1; depth++ {
			for length := max(depth-1, 1); length <= depth+2; length++ {
				for _, single := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/depth %d/length %d/single %v", n.name, depth, length, single), func(t *testing.T) {
						d, g := n.pair.clone(t), n.gen(t)
						parent := g.known[len(g.known)-1-depth]
						var branch [][]byte
						for range length {
							parent = g.child(parent)
							branch = append(branch, parent)
						}
						ok := true
						if single {
							for _, h := range branch {
								ok = d.receive(h, g.now) && ok
							}
						} else {
							ok = d.receive(bytes.Join(branch, nil), g.now)
						}
						if n.name != "regtest" {
							return
						}
						tipNow := d.ref.BestChain().Hash == chainhash.DoubleHashH(branch[len(branch)-1])
						switch {
						case depth > maxDepth && ok:
							t.Fatal("a fork below the limit was accepted")
						case depth <= maxDepth && (!ok || tipNow != (length > depth)):
							t.Fatalf("accepted %v, branch is the tip %v", ok, tipNow)
						}
					})
				}
			}
		}
	}
}

// diffScenario builds and sends batches on a network through g and d.
type diffScenario struct {
	name string
	run  func(g *gen, d *diffPair)
}

// extendN sends n children of the best tip, one call each, with
// mods on every one, and returns whether all were accepted.
func extendN(g *gen, d *diffPair, n int, mods ...hmod) bool {
	ok := true
	for range n {
		ok = d.receive(g.child(g.best(d), mods...), g.now) && ok
	}
	return ok
}

// alignTo extends the best chain until the next child's height is r modulo
// the retarget interval.
func alignTo(g *gen, d *diffPair, r uint32) {
	for !d.p.NoRetargeting && (d.ref.BestHeight()+1)%d.p.RetargetInterval != r {
		if !extendN(g, d, 1) {
			g.t.Fatal("a valid child of the tip was refused")
		}
	}
}

// TestDiffRules runs the rule scenarios on every synthetic network: retarget
// boundaries at several block speeds with right and wrong bits, a negative
// retarget span, the 20-minute rule and its last-real-bits memory across a
// boundary, BIP-94's time warp, the median time past including the
// checkpoint's own history, the future limit, versions, and reorgs to a
// shorter but heavier branch. Which rules bite depends on the network; the
// two sides must agree on each.
func TestDiffRules(t *testing.T) {
	scenarios := []diffScenario{
		{"boundaries at various speeds", func(g *gen, d *diffPair) {
			for _, dt := range []int64{1, 2, 3, 5, 9, 40, 1000} {
				for range 4 {
					d.receive(g.child(g.best(d), at(dt), bitsOff(-1)), g.now)
					d.receive(g.child(g.best(d), at(dt), bitsOff(1)), g.now)
					d.receive(g.child(g.best(d), at(dt)), g.now)
				}
			}
		}},
		{"first block of a period far ahead", func(g *gen, d *diffPair) {
			alignTo(g, d, 0) // the next child starts a period
			extendN(g, d, 1, at(7000))
			extendN(g, d, 8, at(-100))
		}},
		{"20-minute rule", func(g *gen, d *diffPair) {
			d.receive(g.child(g.best(d), at(1200), powLimitBits), g.now)
			for range 6 {
				d.receive(g.child(g.best(d), at(1201), powLimitBits), g.now)
			}
			d.receive(g.child(g.best(d), parentBits), g.now)
			extendN(g, d, 6)
		}},
		{"minimum difficulty up to a boundary", func(g *gen, d *diffPair) {
			alignTo(g, d, 3)
			extendN(g, d, 1, at(1201), powLimitBits)
			d.receive(g.child(g.best(d), parentBits), g.now)
			extendN(g, d, 5)
		}},
		{"time warp at a boundary", func(g *gen, d *diffPair) {
			// A header far ahead, then its child at a boundary going back
			// 601 and 600 s: past the median, but a time warp under BIP-94.
			alignTo(g, d, 3)
			extendN(g, d, 1, at(7000))
			d.receive(g.child(g.best(d), at(-601)), g.now)
			d.receive(g.child(g.best(d), at(-600)), g.now)
		}},
		{"median time past", func(g *gen, d *diffPair) {
			d.receive(g.child(g.best(d), atMedian(5, 0)), g.now)
			d.receive(g.child(g.best(d), atMedian(5, 1)), g.now)
		}},
		{"fresh: median time past from the checkpoint's history", func(g *gen, d *diffPair) {
			// The checkpoint's previous times are out of order: the
			// median of the nine is 11 s before it.
			cp := g.known[0]
			for _, dt := range []int64{-30, -12, -11, -10, -9, 0} {
				d.receive(g.child(cp, at(dt)), g.now)
			}
			// Side branches off the checkpoint read their times back
			// through it into its history.
			a := g.child(cp, at(-10))
			for _, dt := range []int64{-3, -2, -1, 0, 1} {
				d.receive(bytes.Join([][]byte{a, g.child(a, at(dt))}, nil), g.now)
			}
			extendN(g, d, 3, at(-1))
		}},
		{"future limit", func(g *gen, d *diffPair) {
			d.receive(g.child(g.best(d), afterNow(7201)), g.now)
			d.receive(g.child(g.best(d), afterNow(7200)), g.now)
		}},
		{"versions", func(g *gen, d *diffPair) {
			for _, v := range []int32{-1, 0, 1, 2, 3, 4, 0x20000000} {
				d.receive(g.child(g.best(d), version(v)), g.now)
			}
		}},
		{"reorg to a shorter, heavier branch", func(g *gen, d *diffPair) {
			// Three minimum-difficulty headers where the rule allows them
			// (half the work of a real one each), then two real ones
			// beside them.
			fork := g.best(d)
			extendN(g, d, 3, at(1201), powLimitBits)
			a := g.child(fork)
			b := g.child(a)
			d.receive(bytes.Join([][]byte{a, b}, nil), g.now)
			d.receive(g.child(g.best(d)), g.now)
		}},
	}
	for _, n := range nets(t)[:4] {
		for _, s := range scenarios {
			t.Run(n.name+"/"+s.name, func(t *testing.T) {
				d, g := n.pair.clone(t), n.gen(t)
				if strings.HasPrefix(s.name, "fresh") { // from the checkpoint alone
					m := *n
					m.base = nil
					d, g = newDiffPair(t, n.p, n.cp), m.gen(t)
				}
				s.run(g, d)
				// Every scenario ends on state both sides agree on; the
				// whole best-chain index must still match.
				for h := n.cp.Height; h <= d.ref.BestHeight()+1; h++ {
					d.sameHashAt(s.name, h)
				}
			})
		}
	}
}

// diffSeeds are FuzzDiffReceiveHeaders programs: the first byte picks the
// network (0 regtest, 1 easy, 2 easy-mindiff, 3 easy-testnet4, 4 mainnet),
// then operations (op byte modulo numOps) with their arguments.
var diffSeeds = [][]byte{
	{0, opRun, 10, opSubmit, opFork, 3, 0, opRun, 5},
	{1, opRun, 23, opSubmit, opExtend, 0x12, opExtend, 0x13, opExtend, 0},
	{2, opExtend, 7 | 0x80, 16, opExtend, 0, opExtend, 17, opRun, 8},
	{3, opRun, 2, opExtend, 10, opRun, 2, opExtend, 9, opSubmit},
	{4, opRun, 23, opSubmit, opRun, 12},
	{4, opExtend, 37, opExtend, 0, opFork, 1, 0},
	{0, opRun, 4, opSwap, 0, 3, opDuplicate, 1, opSubmitCut, 40},
	{1, opExtend, 4, opExtend, 5, opExtend, 11 | 0x80, 30, opNow, 2},
	{2, opFork, 12, 0, opFork, 7, 0, opRun, 8, opSubmit, opFork, 20, 0},
	{3, opExtend, 38, 79, 0x40, opExtend, 29, 0xff, 0xff, 0x03, 0x20},
}

// FuzzDiffReceiveHeaders interprets its input as a program building header
// batches on one of the networks (diffSeeds) and requires BtcRelay and
// btcspv to agree on every call: verdict, error class and values, best
// chain, reorgs, index and stored headers. Each input starts from a copy of
// the network's deployed and synced state.
func FuzzDiffReceiveHeaders(f *testing.F) {
	ns := nets(f)
	for _, s := range diffSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		n := ns[int(prog[0])%len(ns)]
		n.gen(t).run(n.pair.clone(t), prog[1:])
	})
}
