package tests

// Bitcoin-anchored finality and anchor proofs end to end (issue 10), on the
// processes of TestBtcdRelay: btcd in regtest, mmgeth --regtest --mine,
// mmminer and mmfed relay.
//
//	go test ./tests/ -run TestBtcdFinality -v

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
	mmrpc "github.com/mmgeth/mmgeth/rpc"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// finalityWatch reads `finalized` both ways (mm_getFinality and
// eth_getBlockByNumber("finalized")) and checks at every reading what
// PEG.md §6.1 promises; it also times each block from when the test first
// sees it at the head to when it is first seen finalized.
type finalityWatch struct {
	h       *relayHarness
	k       uint64
	genesis common.Hash
	last    mmrpc.FinalityInfo // the newest reading
	high    uint64             // the highest finalized number read
	// measure: time the blocks sealed from now on.
	measure  bool
	headSeen map[uint64]time.Time
	head     uint64
	lags     []finalityLag
}

type finalityLag struct {
	delay  time.Duration
	blocks uint64 // how far the head was above the block when it was finalized
}

func (w *finalityWatch) finality() mmrpc.FinalityInfo {
	w.h.t.Helper()
	var info mmrpc.FinalityInfo
	if err := w.h.eth.Client().Call(&info, "mm_getFinality"); err != nil {
		w.h.t.Fatalf("mm_getFinality: %v", err)
	}
	return info
}

// poll takes a reading and checks it.
func (w *finalityWatch) poll() mmrpc.FinalityInfo {
	t, ctx := w.h.t, context.Background()
	t.Helper()
	now := time.Now()
	before := w.finality()
	fin, err := w.h.eth.HeaderByNumber(ctx, big.NewInt(int64(gethrpc.FinalizedBlockNumber)))
	if err != nil {
		t.Fatalf("eth_getBlockByNumber(finalized): %v", err)
	}
	info := w.finality()
	head, err := w.h.eth.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The two methods read one value that may move between the calls.
	if n := fin.Number.Uint64(); n < uint64(before.Finalized.Number) || n > uint64(info.Finalized.Number) {
		t.Fatalf("eth_getBlockByNumber(finalized) is block %d, mm_getFinality said %d just before and %d just after",
			n, before.Finalized.Number, info.Finalized.Number)
	}
	if info.Mode != genesis.FinalityBitcoin || info.K != w.k {
		t.Fatalf("mm_getFinality: mode %q, K %d; want bitcoin, %d", info.Mode, info.K, w.k)
	}
	f := uint64(info.Finalized.Number)
	switch {
	case f < w.high:
		t.Fatalf("finalized went back from %d to %d", w.high, f)
	case f == 0 && (info.Finalized.Hash != w.genesis || info.Anchor != nil):
		t.Fatalf("finalized genesis %v with anchor %+v; want %v and no anchor", info.Finalized.Hash, info.Anchor, w.genesis)
	case f > 0 && info.Anchor == nil:
		t.Fatalf("finalized %d with no anchor behind it", f)
	case f > w.high:
		w.checkNewFinalized(info)
	}
	// An anchor short of K deep finalizes nothing: while the anchor
	// behind finalized is still in BtcRelay's best chain, finalized is
	// below the newest anchor when that one is less than K deep.
	if a := info.NewestAnchor; a != nil && a.Depth > 0 && uint64(a.Depth) < w.k && (info.Anchor == nil || info.Anchor.Depth > 0) && f >= uint64(a.Block.Number) {
		t.Fatalf("finalized %d at or above anchor %d, %d deep in BtcRelay; K is %d", f, a.Block.Number, a.Depth, w.k)
	}

	if w.measure {
		for n := w.head + 1; n <= head; n++ {
			w.headSeen[n] = now
		}
		for n := w.high + 1; n <= f; n++ {
			if seen, ok := w.headSeen[n]; ok {
				w.lags = append(w.lags, finalityLag{delay: now.Sub(seen), blocks: head - n})
			}
		}
	}
	w.head, w.high, w.last = max(w.head, head), max(w.high, f), info
	return info
}

// checkNewFinalized checks a finalized block not read before: canonical,
// at or below its anchor, and that anchor's Bitcoin block K deep both in
// BtcRelay (as mmgeth reads it) and in btcd.
func (w *finalityWatch) checkNewFinalized(info mmrpc.FinalityInfo) {
	t, ctx := w.h.t, context.Background()
	t.Helper()
	a := info.Anchor
	if uint64(a.Depth) < w.k || a.Block.Number < info.Finalized.Number {
		t.Fatalf("finalized %d by anchor %d, %d deep in BtcRelay; want an anchor at or above it, %d deep", info.Finalized.Number, a.Block.Number, a.Depth, w.k)
	}
	if h, err := w.h.eth.HeaderByNumber(ctx, new(big.Int).SetUint64(uint64(info.Finalized.Number))); err != nil || h.Hash() != info.Finalized.Hash {
		t.Fatalf("finalized %d %v is not canonical (%v)", info.Finalized.Number, info.Finalized.Hash, err)
	}
	hash, err := chainhash.NewHashFromStr(a.BtcHash)
	if err != nil {
		t.Fatal(err)
	}
	if confs, err := w.h.btc.Confirmations(ctx, *hash); err != nil || confs < int64(w.k) {
		t.Fatalf("anchor %d's Bitcoin block %v has %d confirmations in btcd (%v), want %d", a.Block.Number, a.BtcHash, confs, err, w.k)
	}
}

// until polls every 200 ms until cond holds, failing after timeout.
func (w *finalityWatch) until(timeout time.Duration, what string, cond func(mmrpc.FinalityInfo) bool) {
	w.h.t.Helper()
	btcdWaitFor(w.h.t, w.h.mmgeth, timeout, what, func() bool {
		ok := cond(w.poll())
		if !ok {
			time.Sleep(100 * time.Millisecond)
		}
		return ok
	})
}

// hold polls for d and fails if finalized moves.
func (w *finalityWatch) hold(d time.Duration, what string) {
	w.h.t.Helper()
	f := uint64(w.poll().Finalized.Number)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if info := w.poll(); uint64(info.Finalized.Number) != f {
			w.h.t.Fatalf("%s: finalized moved from %d to %d", what, f, info.Finalized.Number)
		}
	}
}

// summary logs the finality lag of the blocks timed.
func (w *finalityWatch) summary() {
	t := w.h.t
	t.Helper()
	if len(w.lags) == 0 {
		t.Fatal("no block was timed from the head to finalized")
	}
	delays := make([]time.Duration, len(w.lags))
	blocks := make([]uint64, len(w.lags))
	for i, l := range w.lags {
		delays[i], blocks[i] = l.delay, l.blocks
	}
	slices.Sort(delays)
	slices.Sort(blocks)
	t.Logf("finality lag of %d sidechain blocks (K=%d, mmminer's Bitcoin blocks): p50 %v, p99 %v; head above the block when finalized: p50 %d, p99 %d, max %d",
		len(w.lags), w.k, percentile(delays, 50).Round(time.Millisecond), percentile(delays, 99).Round(time.Millisecond),
		percentile(blocks, 50), percentile(blocks, 99), blocks[len(blocks)-1])
	if p99 := percentile(delays, 99); p99 > 30*time.Second {
		t.Errorf("finality lag p99 %v with a relayer 250 ms behind btcd, want within 30 s", p99)
	}
}

// TestBtcdFinality is finality's must-show of issue 10: finalized stays at
// genesis while no anchor is K deep in BtcRelay, moves once one is, never
// moves back across a kill -9 of mmgeth nor when a Bitcoin reorg orphans the
// anchor behind it; and mm_getAnchorProof for a block 100 below its anchor
// verifies with `mmgeth proof verify-anchor` against btcd, and fails with a
// byte of it flipped.
func TestBtcdFinality(t *testing.T) {
	if testing.Short() {
		t.Skip("runs btcd, mmgeth, mmminer and mmfed")
	}
	ctx := context.Background()
	spec, err := genesis.Load("regtest")
	if err != nil {
		t.Fatal(err)
	}
	// mmminer sends btcd only Bitcoin blocks that seal a sidechain block,
	// as merged mining does on mainnet: each is an anchor.
	h := startRelayHarness(t, nil, "--btc.anchors-only")
	genesisHeader, err := h.eth.HeaderByNumber(ctx, big.NewInt(0))
	if err != nil {
		t.Fatal(err)
	}
	w := &finalityWatch{h: h, k: spec.Finality.K, genesis: genesisHeader.Hash(), headSeen: map[uint64]time.Time{}}
	if w.k != 2 {
		t.Fatalf("regtest K is %d; the test reasons about K = 2", w.k)
	}

	// 1. Anchors without a light client: three in btcd, but BtcRelay holds
	// only its checkpoint. Then mmminer loses btcd and seals, on its last
	// template, sidechain blocks whose Bitcoin blocks btcd never sees: a
	// run of blocks no anchor covers until mmminer is back.
	btcdWaitFor(t, h.miner, 60*time.Second, "3 anchors in btcd", func() bool { return btcdHeight(t, h.node) >= 104 })
	h.minerProxy.Down()
	time.Sleep(500 * time.Millisecond) // a block mmminer was submitting lands
	w.poll()
	gapStart := w.head + 1
	w.until(4*time.Minute, "105 sidechain blocks sealed without btcd", func(info mmrpc.FinalityInfo) bool {
		if info.Finalized.Number != 0 || info.LightClientHeight != 0 {
			t.Fatalf("finalized %d, light client at %d, before any relayer", info.Finalized.Number, info.LightClientHeight)
		}
		return w.head >= gapStart+105
	})
	t.Logf("no relayer: finalized stayed at genesis up to head %d, with %d anchors in btcd (%d blocks sealed without btcd from %d)",
		w.head, btcdHeight(t, h.node)-101, w.head-gapStart+1, gapStart)

	// 2. The relayer brings BtcRelay to btcd's tip, mmminer's last block:
	// the anchors below it are K deep and finalized moves to the newest of
	// them, not to the tip's anchor, 1 deep.
	fed := h.startRelayer()
	h.waitInStep(fed, 60*time.Second, "BtcRelay at btcd's tip")
	// The catch-up may take several transactions: finalized is final for
	// this BtcRelay once a block has been imported on top of the last.
	time.Sleep(1500 * time.Millisecond)
	w.until(30*time.Second, "finalized above genesis", func(info mmrpc.FinalityInfo) bool { return info.Finalized.Number > 0 })
	w.hold(3*time.Second, "with no new Bitcoin block")
	tipAnchor := w.last.NewestAnchor
	if tipAnchor == nil || tipAnchor.Depth != 1 || uint64(tipAnchor.BtcHeight) != uint64(btcdHeight(t, h.node)) {
		t.Fatalf("newest anchor %+v; want mmminer's last Bitcoin block, btcd's tip, 1 deep", tipAnchor)
	}
	t.Logf("relayer in step: finalized %d by anchor %d (Bitcoin %d, %d deep); anchor %d at btcd's tip, 1 deep, not final",
		w.high, w.last.Anchor.Block.Number, w.last.Anchor.BtcHeight, w.last.Anchor.Depth, tipAnchor.Block.Number)

	// 3. One Bitcoin block more: that anchor is K deep and finalized moves
	// to it, still below the run.
	if _, err := h.btc.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	h.waitInStep(fed, 30*time.Second, "BtcRelay at btcd's tip")
	w.until(30*time.Second, "finalized at the anchor now 2 deep", func(info mmrpc.FinalityInfo) bool {
		return info.Finalized.Number >= tipAnchor.Block.Number
	})
	if w.high != uint64(tipAnchor.Block.Number) || w.last.Anchor.BtcHash != tipAnchor.BtcHash || w.high >= gapStart {
		t.Fatalf("finalized %d by Bitcoin block %s; want %d by %s, below the run from %d", w.high, w.last.Anchor.BtcHash,
			tipAnchor.Block.Number, tipAnchor.BtcHash, gapStart)
	}

	// 4. mmminer has btcd again: its next sidechain block is an anchor, K
	// deep once another is relayed, and finalized jumps over the run. Then
	// blocks are timed from the head to finalized, in the steady state.
	gapEnd := w.head
	h.minerProxy.Up(t)
	w.until(60*time.Second, "finalized past the unanchored run", func(info mmrpc.FinalityInfo) bool {
		return uint64(info.Finalized.Number) > gapEnd
	})
	w.measure = true
	w.until(60*time.Second, "20 blocks timed to finalized", func(mmrpc.FinalityInfo) bool {
		return len(w.lags) >= 20
	})
	w.summary()
	w.measure = false

	// 5. The anchor proof of the block 100 below the first anchor after
	// the run.
	first := anchorProof(t, h, gapEnd)
	anchor := uint64(first.Anchor.Number)
	target := anchor - 100
	if target < gapStart {
		t.Fatalf("the first anchor after the run is block %d: fewer than 100 unanchored blocks below it (run from %d)", anchor, gapStart)
	}
	proof := anchorProof(t, h, target)
	if uint64(proof.Target.Number) != target || uint64(proof.Anchor.Number) != anchor || proof.History == nil {
		t.Fatalf("proof of block %d from anchor %d (history %v); want %d from %d", proof.Target.Number, proof.Anchor.Number, proof.History != nil, target, anchor)
	}
	checkAnchorProofCLI(t, h, proof.raw, target)

	// 6. kill -9 and a restart on the same datadir: finalized comes back
	// no lower, and goes on moving.
	before := w.poll().Finalized
	syscall.Kill(-h.mmgeth.cmd.Process.Pid, syscall.SIGKILL)
	<-h.mmgeth.exited
	h.startMmgeth()
	after := w.poll().Finalized
	if after.Number < before.Number {
		t.Fatalf("finalized %d before kill -9, %d after the restart", before.Number, after.Number)
	}
	w.until(60*time.Second, "finalized moving after the restart", func(info mmrpc.FinalityInfo) bool {
		return info.Finalized.Number > after.Number
	})
	t.Logf("kill -9: finalized %d before, %d after the restart, then %d", before.Number, after.Number, w.high)

	// 7. A Bitcoin reorg orphans the anchor behind finalized: a heavier
	// branch from just below its Bitcoin block. BtcRelay follows, the
	// anchor leaves its best chain, and finalized stays where it is.
	h.minerProxy.Down()
	time.Sleep(500 * time.Millisecond)
	h.waitInStep(fed, 30*time.Second, "BtcRelay in step before the reorg")
	time.Sleep(1500 * time.Millisecond) // a block imported on the last BtcRelay state
	w.hold(2*time.Second, "with BtcRelay in step and no new Bitcoin block")
	orphan := *w.last.Anchor
	finalized := w.high
	forkHeight := int64(orphan.BtcHeight) - 1
	forkHash, err := h.btc.BlockHash(ctx, forkHeight)
	if err != nil {
		t.Fatal(err)
	}
	forkHeader, err := h.btc.BlockHeader(ctx, forkHash)
	if err != nil {
		t.Fatal(err)
	}
	tip := btcdHeight(t, h.node)
	branch, err := btcd.Branch(forkHeader, int32(forkHeight), int(tip-forkHeight)+1, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range branch {
		if err := h.btc.SubmitBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	h.waitInStep(fed, 30*time.Second, "BtcRelay on the heavier branch")
	w.until(10*time.Second, "the anchor behind finalized out of BtcRelay's best chain", func(info mmrpc.FinalityInfo) bool {
		return info.Anchor != nil && info.Anchor.Depth == 0
	})
	w.hold(3*time.Second, "after the reorg")
	if w.high != finalized || w.last.Anchor.BtcHash != orphan.BtcHash {
		t.Fatalf("after the reorg: finalized %d by Bitcoin block %s; want %d by the orphaned %s", w.high, w.last.Anchor.BtcHash, finalized, orphan.BtcHash)
	}
	t.Logf("reorg: Bitcoin blocks from %d replaced by %d heavier ones; finalized stays %d, its anchor's Bitcoin block %s orphaned",
		forkHeight+1, len(branch), finalized, orphan.BtcHash)

	// mmminer back: new anchors on the new branch finalize on.
	h.minerProxy.Up(t)
	w.until(60*time.Second, "finalized moving after the reorg", func(info mmrpc.FinalityInfo) bool {
		return uint64(info.Finalized.Number) > finalized
	})
}

// anchorJSON is mm_getAnchorProof's answer as the test reads it, and as it
// came.
type anchorJSON struct {
	Target, Anchor struct {
		Number hexutil.Uint64 `json:"number"`
	}
	History *json.RawMessage `json:"history"`
	raw     json.RawMessage
}

func anchorProof(t *testing.T, h *relayHarness, number uint64) anchorJSON {
	t.Helper()
	var p anchorJSON
	if err := h.eth.Client().Call(&p.raw, "mm_getAnchorProof", hexutil.Uint64(number)); err != nil {
		t.Fatalf("mm_getAnchorProof(%d): %v", number, err)
	}
	if err := json.Unmarshal(p.raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkAnchorProofCLI runs the built `mmgeth proof verify-anchor` against
// btcd on the proof (exit 0), then on copies with one byte flipped in each
// of its byte fields, each trie node included (exit 1). anchorproof's unit
// test flips every byte; this samples one per field through the CLI.
func checkAnchorProofCLI(t *testing.T, h *relayHarness, raw json.RawMessage, target uint64) {
	t.Helper()
	bin := binary(t, "./cmd/mmgeth")
	dir := t.TempDir()
	verify := func(name string, proof []byte) (int, string) {
		file := filepath.Join(dir, name+".json")
		if err := os.WriteFile(file, proof, 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := proofVerify(t, bin, "verify-anchor", map[string]string{"--network": "regtest", "--proof": file,
			"--btc.rpc": h.node.RPCURL(), "--btc.user": h.node.User, "--btc.pass": h.node.Pass})
		return code, out
	}
	t.Logf("anchor proof of block %d, 100 below its anchor: %d bytes of JSON", target, len(raw))
	if len(raw) > 10*1024 {
		t.Errorf("anchor proof of %d bytes, goal at most 10 KB", len(raw))
	}
	if code, out := verify("proof", raw); code != 0 || !strings.HasPrefix(out, "valid\n") || !strings.Contains(out, fmt.Sprintf("block %d ", target)) {
		t.Fatalf("proof verify-anchor: exit %d: %s", code, out)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	fields := 0
	for path, flip := range byteFieldFlips(doc, "") {
		undo := flip()
		flipped, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		undo()
		if code, out := verify("flipped", flipped); code != 1 || !strings.HasPrefix(out, "invalid: ") {
			t.Errorf("proof with a byte of %s flipped: exit %d: %s", path, code, out)
		}
		fields++
	}
	if fields < 8 {
		t.Fatalf("only %d byte fields found in the proof", fields)
	}
	t.Logf("one byte flipped in each of %d byte fields: all refused with exit 1", fields)
}

// byteFieldFlips finds the proof's byte fields in its decoded JSON: every
// hex string but the block numbers (quantities, whose altered forms may not
// even parse), and the Bitcoin hash, hex without 0x. Each comes as a
// function that flips the low bit of its middle byte in place and returns
// the undo.
func byteFieldFlips(v any, path string) map[string]func() (undo func()) {
	flips := map[string]func() func(){}
	set := func(path string, s string, put func(string)) {
		prefix := ""
		if strings.HasPrefix(s, "0x") {
			prefix, s = "0x", s[2:]
		}
		b, err := hex.DecodeString(s)
		if err != nil || len(b) == 0 {
			return
		}
		flips[path] = func() func() {
			b[len(b)/2] ^= 1
			put(prefix + hex.EncodeToString(b))
			b[len(b)/2] ^= 1
			return func() { put(prefix + hex.EncodeToString(b)) }
		}
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := path + "." + k
			if s, ok := e.(string); ok {
				if k != "number" && (strings.HasPrefix(s, "0x") || p == ".bitcoin.hash") {
					set(p, s, func(s string) { v[k] = s })
				}
				continue
			}
			for q, f := range byteFieldFlips(e, p) {
				flips[q] = f
			}
		}
	case []any:
		for i, e := range v {
			p := fmt.Sprintf("%s[%d]", path, i)
			if s, ok := e.(string); ok {
				set(p, s, func(s string) { v[i] = s })
				continue
			}
			for q, f := range byteFieldFlips(e, p) {
				flips[q] = f
			}
		}
	}
	return flips
}
