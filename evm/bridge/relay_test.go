package bridge

import (
	"bytes"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func regtestRelay(t testing.TB, maxForkDepth uint32) (*harness, *wire.BlockHeader) {
	net := &chaincfg.RegressionNetParams
	h := newHarness(t, NewRelayParams(net, maxForkDepth, 200), GenesisCheckpoint(net))
	genesis := net.GenesisBlock.Header
	h.now = uint64(genesis.Timestamp.Unix()) + 100*86400
	return h, &genesis
}

func TestDeployRegtest(t *testing.T) {
	h, genesis := regtestRelay(t, 100)
	// The regtest genesis, 0f9188f1…2206 in display order, internal order here.
	if got, want := h.best().Hash, common.HexToHash("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"); got != common.Hash(reverse(want[:])) {
		t.Fatalf("best = %x, want regtest genesis %v", got, want)
	}
	if hash, height, err := h.view.Checkpoint(); err != nil || hash != hashOf(genesis) || height != 0 {
		t.Fatalf("checkpoint() = %v %d %v", hash, height, err)
	}
	got, err := h.view.Params()
	if err != nil {
		t.Fatal(err)
	}
	want := NewRelayParams(&chaincfg.RegressionNetParams, 100, 200)
	if got.PowLimit.Cmp(want.PowLimit) != 0 {
		t.Fatalf("powLimit %x, want %x", got.PowLimit, want.PowLimit)
	}
	got.PowLimit = want.PowLimit
	if got != want {
		t.Fatalf("params() = %+v, want %+v", got, want)
	}
	info, err := h.view.HeaderInfo(hashOf(genesis))
	if err != nil || !info.Known || !info.InBestChain || info.Bits != 0x207fffff || info.Chainwork.Cmp(blockchain.CalcWork(0x207fffff)) != 0 {
		t.Fatalf("headerInfo(genesis) = %+v, %v", info, err)
	}
	if c, _ := h.view.Confirmations(hashOf(genesis)); c != 1 {
		t.Fatalf("confirmations(genesis) = %d, want 1", c)
	}
}

func TestDeployRejectsBadConfig(t *testing.T) {
	main := &chaincfg.MainNetParams
	good := GenesisCheckpoint(main)
	for name, mod := range map[string]func(*RelayParams, *Checkpoint){
		"header of 79 bytes":          func(_ *RelayParams, c *Checkpoint) { c.Header = c.Header[:79] },
		"checkpoint off a retarget":   func(_ *RelayParams, c *Checkpoint) { c.Height = 2015 },
		"11 previous timestamps":      func(_ *RelayParams, c *Checkpoint) { c.PrevTimes = make([]uint32, 11) },
		"zero chainwork":              func(_ *RelayParams, c *Checkpoint) { c.Chainwork = new(big.Int) },
		"checkpoint misses its PoW":   func(_ *RelayParams, c *Checkpoint) { c.Header = slices.Clone(c.Header); c.Header[79]++ },
		"retargeting could overflow":  func(p *RelayParams, _ *Checkpoint) { p.PowLimit = new(big.Int).Lsh(big.NewInt(1), 250) },
		"no headers per call allowed": func(p *RelayParams, _ *Checkpoint) { p.MaxHeadersPerCall = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			p := NewRelayParams(main, 2016, 200)
			cp := good
			mod(&p, &cp)
			_, err := DeployBtcRelay(p, cp)
			var re *RevertError
			if !errors.As(err, &re) || re.Name != "InvalidConfig" {
				t.Fatalf("got %v, want InvalidConfig", err)
			}
		})
	}
}

func TestMainnetHeaders(t *testing.T) {
	blocks := mainnetBlocks(t)
	net := &chaincfg.MainNetParams
	h := newHarness(t, NewRelayParams(net, 2016, 200), GenesisCheckpoint(net))
	last := blocks[len(blocks)-1]
	h.now = uint64(last.Header.Timestamp.Unix())

	work := blockchain.CalcWork(blocks[0].Header.Bits)
	for i := 1; i < len(blocks); i += 200 {
		end := min(i+200, len(blocks))
		var batch [][]byte
		for _, b := range blocks[i:end] {
			batch = append(batch, headerBytes(&b.Header))
			work.Add(work, blockchain.CalcWork(b.Header.Bits))
		}
		r := h.submit(batch...)
		accepted, height, err := UnpackReceiveHeaders(r.ret)
		if err != nil || int(accepted) != end-i || int(height) != end-1 {
			t.Fatalf("batch at %d: accepted %d, height %d, %v", i, accepted, height, err)
		}
		if len(r.logs) != 1 || r.logs[0].Topics[0] != BtcRelayABI.Events["BtcHeadersAccepted"].ID {
			t.Fatalf("batch at %d: logs %v, want one BtcHeadersAccepted", i, r.logs)
		}
	}
	best := h.best()
	if best.Hash != hashOf(&last.Header) || best.Height != 14131 || best.Chainwork.Cmp(work) != 0 {
		t.Fatalf("best = %v/%d/%v, want %v/14131/%v", best.Hash, best.Height, best.Chainwork, hashOf(&last.Header), work)
	}
	for _, height := range []uint32{0, 1, 2016, 4032, 14130, 14131} {
		if got := h.hashAt(height); got != hashOf(&blocks[height].Header) {
			t.Fatalf("blockHashAt(%d) = %v", height, got)
		}
	}
	if got := h.hashAt(14132); got != (common.Hash{}) {
		t.Fatalf("blockHashAt above the tip = %v", got)
	}

	t.Run("known headers are skipped", func(t *testing.T) {
		r := h.submit(headerBytes(&blocks[100].Header), headerBytes(&blocks[101].Header))
		if accepted, height, _ := UnpackReceiveHeaders(r.ret); accepted != 0 || height != 14131 || len(r.logs) != 0 {
			t.Fatalf("accepted %d, height %d, %d logs", accepted, height, len(r.logs))
		}
	})

	t.Run("inclusion", func(t *testing.T) { testInclusion(t, h, blocks) })
}

// testInclusion proves transactions of the real blocks with the most
// transactions, then each malformed-proof case of PEG.md §12.
func testInclusion(t *testing.T, h *harness, blocks []*wire.MsgBlock) {
	var heights []uint32
	for height, b := range blocks {
		if len(b.Transactions) >= 4 {
			heights = append(heights, uint32(height))
		}
	}
	if len(heights) < 3 {
		t.Fatalf("only %d blocks with 4+ txs", len(heights))
	}
	for _, height := range heights {
		b := blocks[height]
		for idx := 1; idx < len(b.Transactions); idx++ {
			txid, p := inclusion(b, height, idx)
			if txid != common.Hash(b.Transactions[idx].TxHash()) {
				t.Fatalf("block %d tx %d: tree leaf is not the txid", height, idx)
			}
			confs, err := h.view.VerifyInclusion(txid, p, 1)
			if want := 14131 - height + 1; err != nil || confs != want {
				t.Fatalf("block %d tx %d: confs %d, %v; want %d", height, idx, confs, err, want)
			}
		}
	}

	height := heights[len(heights)-1]
	b := blocks[height]
	txid, good := inclusion(b, height, 2)
	clone := func(mod func(*BtcInclusion)) BtcInclusion {
		p := good
		p.Header, p.TxBranch, p.CoinbaseBranch = slices.Clone(p.Header), slices.Clone(p.TxBranch), slices.Clone(p.CoinbaseBranch)
		mod(&p)
		return p
	}
	fork := clone(func(p *BtcInclusion) {})
	fork.Header[0] ^= 1
	for _, c := range []struct {
		name     string
		txid     common.Hash
		p        BtcInclusion
		minConfs uint32
		want     string
	}{
		{"header of 79 bytes", txid, clone(func(p *BtcInclusion) { p.Header = p.Header[:79] }), 1, "BadHeaderLength"},
		{"unknown block", txid, fork, 1, "BlockNotInBestChain"},
		{"wrong height", txid, clone(func(p *BtcInclusion) { p.Height++ }), 1, "BlockNotInBestChain"},
		{"too few confirmations", txid, good, 14131 - height + 2, "InsufficientConfirmations"},
		{"branch of 33 bytes", txid, clone(func(p *BtcInclusion) { p.TxBranch = append(p.TxBranch, 0) }), 1, "MalformedProof"},
		{"branch deeper than 20", txid, clone(func(p *BtcInclusion) {
			p.TxBranch = make([]byte, 21*32)
			p.CoinbaseBranch = make([]byte, 21*32)
		}), 1, "MalformedProof"},
		{"coinbase branch shorter", txid, clone(func(p *BtcInclusion) { p.CoinbaseBranch = p.CoinbaseBranch[32:] }), 1, "DepthMismatch"},
		{"txIndex 0", txid, clone(func(p *BtcInclusion) { p.TxIndex = 0 }), 1, "BadTxIndex"},
		{"txIndex past the tree", txid, clone(func(p *BtcInclusion) { p.TxIndex = 1 << (len(p.TxBranch) / 32) }), 1, "BadTxIndex"},
		{"flipped branch bit", txid, clone(func(p *BtcInclusion) { p.TxIndex ^= 1 }), 1, "MerkleMismatch"},
		{"flipped branch byte", txid, clone(func(p *BtcInclusion) { p.TxBranch[5] ^= 1 }), 1, "MerkleMismatch"},
		{"other txid", common.Hash{1}, good, 1, "MerkleMismatch"},
		{"wrong coinbase preimage", txid, clone(func(p *BtcInclusion) { p.CoinbasePreimage[0] ^= 1 }), 1, "CoinbaseProofMismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.view.VerifyInclusion(c.txid, c.p, c.minConfs)
			var re *RevertError
			if !errors.As(err, &re) || re.Name != c.want {
				t.Fatalf("got %v, want %s", err, c.want)
			}
			if c.want == "InsufficientConfirmations" && (arg(t, re, "have") != 14131-height+1 || arg(t, re, "need") != c.minConfs) {
				t.Fatalf("args %v", re)
			}
		})
	}

	// A 64-byte "transaction" that is really an inner node: its branch is one
	// level shorter than the coinbase's, so the depth pin refuses it.
	t.Run("inner node as a transaction", func(t *testing.T) {
		p := clone(func(p *BtcInclusion) {
			p.TxBranch = p.TxBranch[32:]
			p.TxIndex >>= 1
		})
		inner := common.Hash(innerNode(b, 2))
		_, err := h.view.VerifyInclusion(inner, p, 1)
		var re *RevertError
		if !errors.As(err, &re) || re.Name != "DepthMismatch" {
			t.Fatalf("got %v, want DepthMismatch", err)
		}
	})
}

// innerNode is the parent of leaf idx and its sibling in the block's tree.
func innerNode(b *wire.MsgBlock, idx int) [32]byte {
	_, p := inclusion(b, 0, idx)
	leaf := b.Transactions[idx].TxHash()
	var buf []byte
	if idx&1 == 0 {
		buf = append(append(buf, leaf[:]...), p.TxBranch[:32]...)
	} else {
		buf = append(append(buf, p.TxBranch[:32]...), leaf[:]...)
	}
	return sha256d(buf)
}

func TestHeaderFaults(t *testing.T) {
	h, genesis := regtestRelay(t, 3)
	var c regtestChain
	a1 := c.next(genesis, nil)
	a2 := c.next(a1, nil)
	h.submit(headerBytes(a1), headerBytes(a2))

	tooMany := make([][]byte, 201)
	parent := a2
	for i := range tooMany {
		next := c.next(parent, nil)
		tooMany[i], parent = headerBytes(next), next
	}
	for _, tc := range []struct {
		name    string
		headers [][]byte
		want    string
		check   func(*RevertError)
	}{
		{"empty", [][]byte{{}}, "BadHeadersLength", nil},
		{"79 bytes", [][]byte{headerBytes(c.next(a2, nil))[:79]}, "BadHeadersLength", nil},
		{"201 headers", tooMany, "TooManyHeaders", func(e *RevertError) {
			if arg(t, e, "n").(*big.Int).Int64() != 201 || arg(t, e, "max").(*big.Int).Int64() != 200 {
				t.Errorf("args %v", e)
			}
		}},
		{"unknown parent", [][]byte{headerBytes(c.next(&wire.BlockHeader{Timestamp: a2.Timestamp}, nil))}, "UnknownParent", nil},
		{"zero bits", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Bits = 0 }))}, "BadBits", nil},
		{"negative bits", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Bits = 0x20800001 }))}, "BadBits", nil},
		{"bits above powLimit", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Bits = 0x2100ffff }))}, "BadBits", nil},
		{"bits past 2^256", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Bits = 0xff7fffff }))}, "BadBits", nil},
		{"bad nonce", [][]byte{headerBytes(func() *wire.BlockHeader { x := c.next(a2, nil); failPoW(x); return x }())}, "InsufficientPoW", nil},
		{"bits other than 0x207fffff", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Bits = 0x207ffffe }))}, "UnexpectedBits", func(e *RevertError) {
			if arg(t, e, "have") != uint32(0x207ffffe) || arg(t, e, "want") != uint32(0x207fffff) {
				t.Errorf("args %v", e)
			}
		}},
		{"time at the median", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Timestamp = a1.Timestamp }))}, "TimeTooOld", func(e *RevertError) {
			if arg(t, e, "mtp") != uint32(a1.Timestamp.Unix()) {
				t.Errorf("args %v", e)
			}
		}},
		{"time past now+2h", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Timestamp = time.Unix(int64(h.now)+7201, 0) }))}, "TimeTooNew", nil},
		{"version 3 after BIP-65", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Version = 3 }))}, "BadVersion", func(e *RevertError) {
			if arg(t, e, "version") != int32(3) {
				t.Errorf("args %v", e)
			}
		}},
		{"negative version", [][]byte{headerBytes(c.next(a2, func(x *wire.BlockHeader) { x.Version = -1 }))}, "BadVersion", nil},
		// A batch is atomic: the good first header is not kept.
		{"bad second header", [][]byte{headerBytes(c.next(a2, nil)), headerBytes(c.next(a1, func(x *wire.BlockHeader) { x.Bits = 1 }))}, "BadBits", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := h.reject(tc.want, tc.headers...)
			if tc.check != nil {
				tc.check(e)
			}
			if best := h.best(); best.Hash != hashOf(a2) {
				t.Fatalf("best moved to %v", best.Hash)
			}
		})
	}

	t.Run("time just after the median", func(t *testing.T) {
		ok := c.next(a2, func(x *wire.BlockHeader) { x.Timestamp = a1.Timestamp.Add(time.Second) })
		h.submit(headerBytes(ok))
		if h.best().Hash != hashOf(ok) {
			t.Fatal("not the tip")
		}
	})

	t.Run("fork deeper than maxForkDepth", func(t *testing.T) {
		chain := []*wire.BlockHeader{genesis, a1, a2}
		for range 4 {
			next := c.next(chain[len(chain)-1], nil)
			h.submit(headerBytes(next))
			chain = append(chain, next)
		}
		// Best is at height 6 and maxForkDepth is 3: a fork from height 2
		// is refused, one from height 3 is accepted (as a side branch).
		e := h.reject("ForkTooDeep", headerBytes(c.next(chain[2], nil)))
		if arg(t, e, "forkHeight") != uint32(2) || arg(t, e, "best") != uint32(6) {
			t.Fatalf("args %v", e)
		}
		side := c.next(chain[3], nil)
		h.submit(headerBytes(side))
		// A child of that side block is judged by where its branch leaves
		// the best chain, found by walking back.
		h.submit(headerBytes(c.next(side, nil)))
		if h.best().Hash != hashOf(chain[6]) {
			t.Fatal("side branch became best")
		}
	})
}

func TestChainworkOverflow(t *testing.T) {
	net := &chaincfg.RegressionNetParams
	cp := GenesisCheckpoint(net)
	cp.Chainwork = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	h := newHarness(t, NewRelayParams(net, 100, 200), cp)
	genesis := net.GenesisBlock.Header
	var c regtestChain
	h.reject("ChainworkOverflow", headerBytes(c.next(&genesis, nil)))
}

func TestReorg(t *testing.T) {
	h, genesis := regtestRelay(t, 100)
	var c regtestChain
	a1 := c.next(genesis, nil)
	a2 := c.next(a1, nil)
	a3 := c.next(a2, nil)
	h.submit(headerBytes(a1), headerBytes(a2), headerBytes(a3))

	// b2, b3: equal work at height 3, so the first seen (a3) stays best.
	b2 := c.next(a1, nil)
	b3 := c.next(b2, nil)
	r := h.submit(headerBytes(b2), headerBytes(b3))
	if h.best().Hash != hashOf(a3) || len(r.logs) != 1 {
		t.Fatalf("equal work moved the tip to %v", h.best().Hash)
	}
	if c, _ := h.view.Confirmations(hashOf(b2)); c != 0 {
		t.Fatalf("side block confirmations %d", c)
	}

	// b4 makes the b branch heavier: mainChain 2..4 rewritten.
	b4 := c.next(b3, nil)
	r = h.submit(headerBytes(b4))
	if best := h.best(); best.Hash != hashOf(b4) || best.Height != 4 {
		t.Fatalf("best %v/%d, want b4/4", best.Hash, best.Height)
	}
	for height, want := range map[uint32]*wire.BlockHeader{0: genesis, 1: a1, 2: b2, 3: b3, 4: b4} {
		if got := h.hashAt(height); got != hashOf(want) {
			t.Fatalf("blockHashAt(%d) = %v, want %v", height, got, hashOf(want))
		}
	}
	var reorg BtcReorg
	for _, l := range r.logs {
		if ev, ok := ParseBtcReorg(l); ok {
			reorg = ev
		}
	}
	if want := (BtcReorg{OldBest: hashOf(a3), NewBest: hashOf(b4), ForkHeight: 1, Depth: 2}); reorg != want {
		t.Fatalf("BtcReorg %+v, want %+v", reorg, want)
	}
	for hdr, want := range map[*wire.BlockHeader]uint32{a2: 0, a3: 0, b2: 3, b4: 1, a1: 4} {
		if got, _ := h.view.Confirmations(hashOf(hdr)); got != want {
			t.Fatalf("confirmations(%v) = %d, want %d", hashOf(hdr), got, want)
		}
	}
	// The median-time-past ring follows the new branch: a child of b4 timed
	// at the median of b-branch times is refused, one second later passes.
	e := h.reject("TimeTooOld", headerBytes(c.next(b4, func(x *wire.BlockHeader) { x.Timestamp = b2.Timestamp })))
	if arg(t, e, "mtp") != uint32(b2.Timestamp.Unix()) {
		t.Fatalf("mtp %v, want b2's time", e)
	}
	h.submit(headerBytes(c.next(b4, nil)))

	// The old branch can come back: a4, a5 on a3 (a5 at height 5 ties the
	// tip, a6 wins), in one batch whose middle header is already known.
	a4 := c.next(a3, nil)
	a5 := c.next(a4, nil)
	a6 := c.next(a5, nil)
	h.submit(headerBytes(a4))
	r = h.submit(headerBytes(a4), headerBytes(a5), headerBytes(a6))
	if accepted, height, _ := UnpackReceiveHeaders(r.ret); accepted != 2 || height != 6 || h.best().Hash != hashOf(a6) {
		t.Fatalf("accepted %d, height %d, best %v", accepted, height, h.best().Hash)
	}
	if h.hashAt(2) != hashOf(a2) {
		t.Fatal("mainChain[2] not restored")
	}
}

// custom retargeting network with an easy powLimit, so that tests can grind
// headers: 2^251-1 (bits 0x2007ffff) is only allowed with a short timespan,
// since the relay refuses a powLimit that a ×4T retarget could overflow.
func customParams(interval uint16, bip94, minDiff bool) RelayParams {
	return RelayParams{
		PowLimit:            new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 251), big.NewInt(1)),
		PowLimitBits:        0x2007ffff,
		ReduceMinDifficulty: minDiff,
		EnforceBIP94:        bip94,
		TargetTimespan:      8,
		RetargetInterval:    interval,
		MaxForkDepth:        100,
		MaxHeadersPerCall:   200,
	}
}

func customCheckpoint(bits uint32) (*wire.BlockHeader, Checkpoint) {
	g := &wire.BlockHeader{Version: 4, Timestamp: time.Unix(1_700_000_000, 0), Bits: bits}
	grind(g)
	cp, err := NewCheckpoint(g, 0, blockchain.CalcWork(bits), nil)
	if err != nil {
		panic(err)
	}
	return g, cp
}

func mine(parent *wire.BlockHeader, bits uint32, dt time.Duration, seq *uint32) *wire.BlockHeader {
	*seq++
	x := &wire.BlockHeader{Version: 4, PrevBlock: parent.BlockHash(), Timestamp: parent.Timestamp.Add(dt), Bits: bits}
	x.MerkleRoot[0], x.MerkleRoot[1] = byte(*seq), byte(*seq>>8)
	grind(x)
	return x
}

// TestRetarget crosses two retarget boundaries: the new bits must be btcd's
// formula, old × clamp(span, T/4, 4T) / T capped at powLimit, and a
// timewarp at a boundary is refused (BIP-94).
func TestRetarget(t *testing.T) {
	const interval, timespan = 4, 8
	p := customParams(interval, true, false)
	g, cp := customCheckpoint(0x2003ffff)
	h := newHarness(t, p, cp)
	h.now = uint64(g.Timestamp.Unix()) + 86400
	var seq uint32
	wantBits := func(old uint32, first, last *wire.BlockHeader) uint32 {
		span := min(max(last.Timestamp.Unix()-first.Timestamp.Unix(), timespan/4), timespan*4)
		next := new(big.Int).Mul(blockchain.CompactToBig(old), big.NewInt(span))
		next.Div(next, big.NewInt(timespan))
		if next.Cmp(p.PowLimit) > 0 {
			next.Set(p.PowLimit)
		}
		return blockchain.BigToCompact(next)
	}

	// Heights 1..3 two seconds apart: span 6 s, so the target shrinks.
	x := g
	for range interval - 1 {
		x = mine(x, 0x2003ffff, 2*time.Second, &seq)
		h.submit(headerBytes(x))
	}
	want := wantBits(0x2003ffff, g, x)
	if want == 0x2003ffff {
		t.Fatal("test chain does not change the bits")
	}
	e := h.reject("UnexpectedBits", headerBytes(mine(x, 0x2003ffff, 2*time.Second, &seq)))
	if arg(t, e, "want") != want {
		t.Fatalf("retarget at 4: want %08x, btcd formula %08x", arg(t, e, "want"), want)
	}
	first := mine(x, want, 2*time.Second, &seq)
	h.submit(headerBytes(first))

	// Heights 5..7, the last 2000 s late: the span clamps at 4T and the
	// target is capped at powLimit.
	x = first
	for i := range interval - 1 {
		dt := 2 * time.Second
		if i == interval-2 {
			dt = 2000 * time.Second
		}
		x = mine(x, want, dt, &seq)
		h.submit(headerBytes(x))
	}
	want2 := wantBits(want, first, x)
	if want2 != p.PowLimitBits {
		t.Fatalf("second retarget %08x, expected the powLimit cap", want2)
	}
	e = h.reject("UnexpectedBits", headerBytes(mine(x, want, time.Second, &seq)))
	if arg(t, e, "want") != want2 {
		t.Fatalf("retarget at 8: want %08x, btcd formula %08x", arg(t, e, "want"), want2)
	}
	// After the median of the last 11 times, but 601 s before the parent.
	h.reject("TimeWarp", headerBytes(mine(x, want2, -601*time.Second, &seq)))
	ok := mine(x, want2, -600*time.Second, &seq)
	h.submit(headerBytes(ok))
	if h.best().Hash != hashOf(ok) {
		t.Fatal("boundary block 600 s before its parent is not the tip")
	}
}

// TestMinDifficultyReorgToShorterChain covers the testnet 20-minute rule and
// a reorg onto a heavier but shorter branch, which must clear mainChain
// above the new tip.
func TestMinDifficultyReorgToShorterChain(t *testing.T) {
	p := customParams(2016, false, true)
	const real = 0x2003ffff // target 2^250: twice the work of a powLimit block
	g, cp := customCheckpoint(real)
	h := newHarness(t, p, cp)
	h.now = uint64(g.Timestamp.Unix()) + 86400
	var seq uint32

	// Three minimum-difficulty blocks, each more than 20 minutes after its parent.
	a1 := mine(g, p.PowLimitBits, 1201*time.Second, &seq)
	a2 := mine(a1, p.PowLimitBits, 1201*time.Second, &seq)
	a3 := mine(a2, p.PowLimitBits, 1201*time.Second, &seq)
	h.submit(headerBytes(a1), headerBytes(a2), headerBytes(a3))

	// Within 20 minutes the bits must go back to the last real bits, not
	// the parent's minimum.
	e := h.reject("UnexpectedBits", headerBytes(mine(a3, p.PowLimitBits, 600*time.Second, &seq)))
	if arg(t, e, "want") != uint32(real) {
		t.Fatalf("want %08x, the last real bits %08x", arg(t, e, "want"), real)
	}

	b1 := mine(g, real, 600*time.Second, &seq)
	b2 := mine(b1, real, 600*time.Second, &seq)
	r := h.submit(headerBytes(b1), headerBytes(b2))
	if best := h.best(); best.Hash != hashOf(b2) || best.Height != 2 {
		t.Fatalf("best %v/%d, want b2/2", best.Hash, best.Height)
	}
	if got := h.hashAt(3); got != (common.Hash{}) {
		t.Fatalf("blockHashAt(3) = %v after reorg to height 2", got)
	}
	var found bool
	for _, l := range r.logs {
		if ev, ok := ParseBtcReorg(l); ok {
			found = ev.ForkHeight == 0 && ev.Depth == 3
		}
	}
	if !found {
		t.Fatal("no BtcReorg(forkHeight 0, depth 3)")
	}
}

// TestLayoutSlot: each contract's ERC-7201 base slot is the one its
// namespace names, so that a hard-fork replacement finds its storage.
func TestLayoutSlot(t *testing.T) {
	for file, ns := range map[string]string{"BtcRelay.sol": "mmgeth.btcrelay.v1", "BridgeBase.sol": "mmgeth.bridge.v1"} {
		inner := new(big.Int).SetBytes(crypto.Keccak256([]byte(ns)))
		inner.Sub(inner, big.NewInt(1))
		slot := crypto.Keccak256(common.BigToHash(inner).Bytes())
		slot[31] = 0
		if want := "LAYOUT = " + common.BytesToHash(slot).Hex() + ";"; !bytes.Contains(readSource(t, file), []byte(want)) {
			t.Errorf("%s lacks %q (ERC-7201 slot of %s)", file, want, ns)
		}
	}
}

func reverse(b []byte) []byte {
	out := slices.Clone(b)
	slices.Reverse(out)
	return out
}

// TestCheckpointPrevTimes: the timestamps below a checkpoint join its
// median-time-past window, both for the tip's children (mtpRing) and for a
// fork from the checkpoint once it is no longer the tip (checkpointRing).
func TestCheckpointPrevTimes(t *testing.T) {
	net := &chaincfg.RegressionNetParams
	base := time.Unix(1_700_000_000, 0)
	cpHeader := &wire.BlockHeader{Version: 4, Timestamp: base, Bits: net.PowLimitBits}
	grind(cpHeader)
	prev := make([]uint32, 10)
	for i := range prev {
		prev[i] = uint32(base.Unix()) + 1000 // odd but legal: the median is base+1000
	}
	cp, err := NewCheckpoint(cpHeader, 500, big.NewInt(1_000_000), prev)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, NewRelayParams(net, 100, 200), cp)
	mtp := uint32(base.Unix()) + 1000
	var c regtestChain
	at := func(d time.Duration) func(*wire.BlockHeader) {
		return func(x *wire.BlockHeader) { x.Timestamp = base.Add(d) }
	}
	e := h.reject("TimeTooOld", headerBytes(c.next(cpHeader, at(1000*time.Second))))
	if arg(t, e, "mtp") != mtp {
		t.Fatalf("mtp %v, want %d", arg(t, e, "mtp"), mtp)
	}
	child := c.next(cpHeader, at(1001*time.Second))
	h.submit(headerBytes(child))
	if best := h.best(); best.Hash != hashOf(child) || best.Height != 501 {
		t.Fatalf("best %v/%d", best.Hash, best.Height)
	}
	e = h.reject("TimeTooOld", headerBytes(c.next(cpHeader, at(1000*time.Second))))
	if arg(t, e, "mtp") != mtp {
		t.Fatalf("fork from the checkpoint: mtp %v, want %d", arg(t, e, "mtp"), mtp)
	}
	h.submit(headerBytes(c.next(cpHeader, at(1002*time.Second))))
}
