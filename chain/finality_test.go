package chain_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/testchain"
	"github.com/mmgeth/mmgeth/mergemine"
)

// anchorK is the Bitcoin depth of the test network's finality (regtest's).
const anchorK = 2

// newAnchorChain is the test network in Bitcoin finality mode with K = 2,
// on the dev spec (whose BtcRelay follows regtest and whose dev keys pay
// for receiveHeaders); confirmations stay the dev network's 2.
func newAnchorChain(t *testing.T, db ethdb.Database, override bool) *testchain.Chain {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	spec.MergeMining = testParams
	spec.Timestamp = testGenesisTime
	spec.Finality = genesis.FinalitySpec{Mode: genesis.FinalityBitcoin, K: anchorK}
	return testchain.New(t, testchain.Options{Spec: spec, DB: db, OverrideFinality: override})
}

// regtestGenesis is BtcRelay's checkpoint on the dev and regtest networks.
var regtestGenesis = *chaincfg.RegressionNetParams.GenesisHash

// relayBest reads BtcRelay's tip at the head.
func relayBest(t *testing.T, c *testchain.Chain) (chainhash.Hash, uint32) {
	t.Helper()
	view, _, err := c.HeadView()
	if err != nil {
		t.Fatal(err)
	}
	best, err := view.BestChain()
	if err != nil {
		t.Fatal(err)
	}
	return chainhash.Hash(best.Hash), best.Height
}

func assertFinality(t *testing.T, c *testchain.Chain, what string, finalized, safe uint64) {
	t.Helper()
	if got := c.Finalized().Number.Uint64(); got != finalized {
		t.Errorf("%s: finalized %d, want %d", what, got, finalized)
	}
	if got := c.Safe().Number.Uint64(); got != safe {
		t.Errorf("%s: safe %d, want %d", what, got, safe)
	}
	// geth's marker trails at the last state flush (syncFinalizedMarker).
	if got := c.BlockChain().CurrentFinalBlock(); got != nil && (got.Number.Uint64() > finalized || c.BlockChain().GetCanonicalHash(got.Number.Uint64()) != got.Hash()) {
		t.Errorf("%s: geth's finalized marker at %d, above finalized %d or not canonical", what, got.Number, finalized)
	}
	if got := c.BlockChain().CurrentSafeBlock(); got == nil || got.Hash() != c.Safe().Hash() {
		t.Errorf("%s: geth's safe marker %v, want block %d", what, got, safe)
	}
}

// bitcoinBranch grinds n regtest Bitcoin headers on prev that commit to no
// sidechain block: a competing Bitcoin chain.
func bitcoinBranch(t *testing.T, prev chainhash.Hash, n int, time uint32) [][]byte {
	t.Helper()
	var headers [][]byte
	for i := range n {
		h, _, err := mergemine.SyntheticShare([32]byte{byte(i), 0xbb}, testParams.MinDifficulty, []byte("OTHER:"), prev, time+uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		headers = append(headers, h)
		prev = mergemine.HeaderHash(h)
	}
	return headers
}

// TestFinalityFollowsBitcoinAnchors: on a network in Bitcoin mode with K =
// 2, every block's proof is a regtest Bitcoin block (their headers chain
// from regtest's genesis), fed to BtcRelay by receiveHeaders transactions.
// finalized stays at genesis while no anchor is 2 deep, though safe follows
// the depth rule; it moves to the newest block whose Bitcoin block is 2
// deep; a Bitcoin reorg that takes every anchor out of BtcRelay's best chain
// does not lower it, nor does a restart of the node on its database.
func TestFinalityFollowsBitcoinAnchors(t *testing.T) {
	dir := t.TempDir()
	db := openPebble(t, dir)
	c := newAnchorChain(t, db, false)
	genesisHeader := c.BlockChain().Genesis()

	b1 := c.Build(genesisHeader, testchain.Block{BitcoinPrev: &regtestGenesis})
	c.MustInsert(b1)
	blocks := append([]*types.Block{b1}, c.Extend(b1, 3, 0)...) // blocks 1-4; Bitcoin heights 1-4
	assertFinality(t, c, "no header relayed", 0, 2)

	feed := func(headers ...[]byte) *types.Block {
		t.Helper()
		head := c.HeadBlock()
		b := c.Build(head, testchain.Block{Txs: []*types.Transaction{c.RelayTx(head, headers...)}})
		c.MustInsert(b)
		blocks = append(blocks, b)
		return b
	}
	hdr := func(n int) []byte { return c.BitcoinHeader(blocks[n-1]) }

	feed(hdr(1)) // block 5: BtcRelay at height 1, block 1's anchor 1 deep
	if _, height := relayBest(t, c); height != 1 {
		t.Fatalf("BtcRelay at height %d after one header, want 1", height)
	}
	assertFinality(t, c, "anchor 1 deep", 0, 3)

	feed(hdr(2)) // block 6: block 1's anchor 2 deep
	assertFinality(t, c, "anchor 2 deep", 1, 4)
	if c.Finalized().Hash() != b1.Hash() {
		t.Fatalf("finalized %x, want block 1 %x", c.Finalized().Hash(), b1.Hash())
	}

	feed(hdr(3), hdr(4), hdr(5)) // block 7: BtcRelay at 5, anchors up to block 4 are 2 deep
	assertFinality(t, c, "five headers", 4, 5)
	status, err := c.FinalityStatus()
	if err != nil {
		t.Fatal(err)
	}
	if by := status.FinalizedBy; by == nil || by.Number != 4 || by.BtcHeight != 4 || by.Depth != 2 || by.BtcHash != mergemine.HeaderHash(hdr(4)) {
		t.Errorf("finalized by %+v, want block 4's Bitcoin block at height 4, depth 2", by)
	}
	if nw := status.Newest; nw == nil || nw.Number != 5 || nw.Depth != 1 {
		t.Errorf("newest anchor %+v, want block 5 at depth 1", nw)
	}
	finalized := c.Finalized()

	// A heavier Bitcoin branch from regtest's genesis: BtcRelay reorgs to it
	// and no anchor is in its best chain any more.
	other := bitcoinBranch(t, regtestGenesis, 7, uint32(c.HeadBlock().Time()))
	feed(other...)
	if tip, height := relayBest(t, c); height != 7 || tip != mergemine.HeaderHash(other[6]) {
		t.Fatalf("BtcRelay at %d %v, want the other branch's tip at 7", height, tip)
	}
	assertFinality(t, c, "after a Bitcoin reorg", 4, 6)
	// Once the head's state is flushed, geth's marker catches up.
	c.Extend(c.HeadBlock(), chain.FlushBlocks, 0)
	if got := c.BlockChain().CurrentFinalBlock(); got == nil || got.Hash() != finalized.Hash() {
		t.Fatalf("geth's finalized marker %v after a state flush, want block 4", got)
	}
	head := c.HeadBlock().NumberU64()

	c.Stop()
	db.Close()
	db = openPebble(t, dir)
	defer db.Close()
	c = newAnchorChain(t, db, false)
	defer c.Stop()
	if got := c.Finalized(); got.Hash() != finalized.Hash() {
		t.Fatalf("finalized after restart %d %x, want %d %x", got.Number, got.Hash(), finalized.Number, finalized.Hash())
	}
	assertFinality(t, c, "after restart", 4, head-2)
	if got := c.BlockChain().CurrentFinalBlock(); got == nil || got.Hash() != finalized.Hash() {
		t.Errorf("geth's finalized marker %v after restart, want block 4", got)
	}
	if status, err := c.FinalityStatus(); err != nil || status.FinalizedBy == nil || status.FinalizedBy.Number != 4 || status.FinalizedBy.Depth != 0 {
		t.Errorf("after restart: finalized by %+v (%v), want block 4's anchor, out of the best chain", status.FinalizedBy, err)
	}
}

// anchoredChain builds blocks 1-6 on c with block 4 finalized: Bitcoin
// heights 1-5 relayed in blocks 5 and 6.
func anchoredChain(t *testing.T, c *testchain.Chain) []*types.Block {
	t.Helper()
	b1 := c.Build(c.BlockChain().Genesis(), testchain.Block{BitcoinPrev: &regtestGenesis})
	c.MustInsert(b1)
	blocks := append([]*types.Block{b1}, c.Extend(b1, 4, 0)...)
	var headers [][]byte
	for _, b := range blocks {
		headers = append(headers, c.BitcoinHeader(b))
	}
	b6 := c.Build(blocks[4], testchain.Block{Txs: []*types.Transaction{c.RelayTx(blocks[4], headers...)}})
	c.MustInsert(b6)
	if got := c.Finalized().Number.Uint64(); got != 4 {
		t.Fatalf("finalized %d, want 4", got)
	}
	return append(blocks, b6)
}

// TestReorgGuard: a valid side branch forking at block 2, below the
// finalized block 4, and heavier than the canonical chain is stored but not
// made canonical; the refusal is counted, logged at CRIT and is no error (no
// peer is blamed). With the operator's override the same branch is adopted
// and finalized drops to the fork point.
func TestReorgGuard(t *testing.T) {
	var logs bytes.Buffer
	defer log.SetDefault(log.Root())
	log.SetDefault(log.NewLogger(log.NewTerminalHandler(&logs, false)))

	c := newAnchorChain(t, nil, false)
	canonical := anchoredChain(t, c)
	head := c.HeadBlock()
	// Eight blocks on block 2 against the canonical four above it, built
	// by a peer on which they are canonical.
	peer := newAnchorChain(t, nil, false)
	peer.MustInsert(canonical[:2]...)
	side := make([]*types.Block, 8)
	parent := canonical[1]
	for i := range side {
		side[i] = peer.Build(parent, testchain.Block{Coinbase: common.Address{0x5e}})
		peer.MustInsert(side[i])
		parent = side[i]
	}
	if n, err := c.Insert(side); err != nil || n != len(side) {
		t.Fatalf("insert side branch: %d, %v; want all stored without error", n, err)
	}
	if got := c.HeadBlock(); got.Hash() != head.Hash() {
		t.Fatalf("head moved to %d %x: the guard let a reorg below finalized through", got.NumberU64(), got.Hash())
	}
	for _, b := range side {
		if !c.BlockChain().HasBlock(b.Hash(), b.NumberU64()) {
			t.Fatalf("side block %d not stored", b.NumberU64())
		}
	}
	sideWork, headWork := c.WorkOf(side[7].Hash()), c.WorkOf(head.Hash())
	if sideWork.Cmp(headWork) <= 0 {
		t.Fatalf("side branch work %v not above the head's %v: the test proves nothing", sideWork, headWork)
	}
	if n := c.FinalityConflicts(); n == 0 {
		t.Error("no conflict counted")
	}
	if !strings.Contains(logs.String(), "CRIT") || !strings.Contains(logs.String(), "Refused a heavier chain") {
		t.Errorf("no CRIT line logged; log:\n%s", logs.String())
	}
	assertFinality(t, c, "after the refused reorg", 4, 4)

	// The operator accepts the reorg.
	o := newAnchorChain(t, nil, true)
	o.MustInsert(canonical...)
	o.MustInsert(side...)
	if got := o.HeadBlock(); got.Hash() != side[7].Hash() {
		t.Fatalf("with the override: head %d %x, want the side branch's tip", got.NumberU64(), got.Hash())
	}
	if got := o.Finalized(); got.Hash() != canonical[1].Hash() {
		t.Errorf("with the override: finalized %d, want the fork point 2", got.Number)
	}
	if n := o.FinalityConflicts(); n != 0 {
		t.Errorf("with the override: %d conflicts counted", n)
	}
}
