package btcspv

import (
	"encoding/binary"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

func hashes(hs ...[]byte) []chainhash.Hash {
	out := make([]chainhash.Hash, len(hs))
	for i, h := range hs {
		out[i] = chainhash.DoubleHashH(h)
	}
	return out
}

// indexOf returns the best-chain index from height 0 until its first gap.
func indexOf(c *Chain) []chainhash.Hash {
	var out []chainhash.Hash
	for h := uint32(0); ; h++ {
		hash, ok := c.BlockHashAt(h)
		if !ok {
			return out
		}
		out = append(out, hash)
	}
}

func sameIndex(t *testing.T, c *Chain, want []chainhash.Hash) {
	t.Helper()
	got := indexOf(c)
	if len(got) != len(want) {
		t.Fatalf("index of %d blocks, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("height %d: %v, want %v", i, got[i], want[i])
		}
	}
	if tip := c.BestChain(); tip.Hash != want[len(want)-1] || tip.Height != uint32(len(want)-1) {
		t.Fatalf("tip %v at %d", tip.Hash, tip.Height)
	}
}

// TestRegtestReorg: a longer regtest branch takes over; at equal work the
// first seen tip stays.
func TestRegtestReorg(t *testing.T) {
	c, g := regtestChain(t)
	b := &builder{t: t, c: c, version: regtestVersion}
	a := b.extend(g, 5, 600)
	// The branch forks at a[1] (height 2) with other timestamps.
	var side [][]byte
	parent := a[1]
	for range 4 {
		parent = b.child(parent, headerTime(parent)+700, RegTest.PowLimitBits)
		side = append(side, parent)
	}
	r, err := c.ReceiveHeaders(concat(side[:3]...), headerTime(side[3]))
	if err != nil || r.Accepted != 3 || len(r.Reorgs) != 0 {
		t.Fatalf("equal-work branch: %+v, %v", r, err)
	}
	sameIndex(t, c, hashes(append([][]byte{g}, a...)...))

	// Known headers are skipped; the fourth side header is heavier.
	r, err = c.ReceiveHeaders(concat(a[4], side[2], side[3]), headerTime(side[3]))
	if err != nil || r.Accepted != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
	want := Reorg{OldBest: chainhash.DoubleHashH(a[4]), NewBest: chainhash.DoubleHashH(side[3]), ForkHeight: 2, Depth: 3}
	if len(r.Reorgs) != 1 || r.Reorgs[0] != want {
		t.Fatalf("reorgs %+v, want %+v", r.Reorgs, want)
	}
	sameIndex(t, c, hashes(g, a[0], a[1], side[0], side[1], side[2], side[3]))
	if info, _ := c.HeaderInfo(chainhash.DoubleHashH(side[0])); info.Prev != chainhash.DoubleHashH(a[1]) || info.Height != 3 {
		t.Fatalf("side[0]: %+v", info)
	}
	a4 := chainhash.DoubleHashH(a[3])
	if info, ok := c.HeaderInfo(a4); !ok || info.InBestChain || c.Confirmations(a4) != 0 {
		t.Fatalf("the old branch is still best: %+v", info)
	}
	if got := c.Confirmations(chainhash.DoubleHashH(side[0])); got != 4 {
		t.Fatalf("%d confirmations", got)
	}
	// The old branch can still grow and win back.
	back := b.child(a[4], headerTime(a[4])+600, RegTest.PowLimitBits)
	back2 := b.child(back, headerTime(back)+600, RegTest.PowLimitBits)
	r, err = c.ReceiveHeaders(concat(back, back2), headerTime(back2))
	if err != nil || len(r.Reorgs) != 1 || r.Reorgs[0].ForkHeight != 2 || r.Reorgs[0].Depth != 4 {
		t.Fatalf("%+v, %v", r, err)
	}
	sameIndex(t, c, hashes(append(append([][]byte{g}, a...), back, back2)...))
}

// TestShorterHeavierReorg: on a retargeting network a shorter branch can be
// heavier; the index is rewritten and the entries above its tip deleted.
// The batch that carries it is atomic.
func TestShorterHeavierReorg(t *testing.T) {
	p := easyParams(false, false)
	// Build both branches on a scratch chain, which computes their bits.
	scratch, g := easyChain(t, p, p.PowLimitBits)
	b := &builder{t: t, c: scratch, version: regtestVersion}
	slow := b.extend(g, 8, 2000) // clamped: stays at the limit
	fast := b.extend(g, 6, 1)    // retargets at height 4 to a quarter of the target
	if binary.LittleEndian.Uint32(fast[3][72:]) == p.PowLimitBits {
		t.Fatal("the fast branch did not retarget")
	}

	c, g2 := easyChain(t, p, p.PowLimitBits)
	if string(g2) != string(g) {
		t.Fatal("the two chains start apart")
	}
	if _, err := c.ReceiveHeaders(concat(slow...), headerTime(slow[7])); err != nil {
		t.Fatal(err)
	}
	before := indexOf(c)
	beforeTip := c.BestChain()
	now := headerTime(slow[7])

	bad := b.child(fast[5], headerTime(fast[5])+1, p.PowLimitBits)
	_, err := c.ReceiveHeaders(concat(append(fast[:6:6], bad)...), now)
	wantRule(t, err, ErrUnexpectedBits)
	sameIndex(t, c, before)
	if tip := c.BestChain(); tip.Chainwork.Cmp(beforeTip.Chainwork) != 0 || len(c.nodes) != 9 {
		t.Fatalf("a failed batch changed the chain: %d nodes", len(c.nodes))
	}

	r, err := c.ReceiveHeaders(concat(fast...), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Reorgs) != 1 || r.Reorgs[0].ForkHeight != 0 || r.Reorgs[0].Depth != 8 {
		t.Fatalf("reorgs %+v", r.Reorgs)
	}
	tip := c.BestChain()
	if tip.Height >= 8 || tip.Chainwork.Cmp(beforeTip.Chainwork) <= 0 {
		t.Fatalf("tip at %d with work %v", tip.Height, tip.Chainwork)
	}
	sameIndex(t, c, hashes(append([][]byte{g}, fast[:tip.Height]...)...))
	if _, ok := c.BlockHashAt(8); ok {
		t.Fatal("the index keeps an entry above the new tip")
	}
}
