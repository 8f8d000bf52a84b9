package chain_test

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/ethdb/pebble"

	"github.com/mmgeth/mmgeth/chain"
)

// fork mines blocks on a chain of its own (a peer) from genesis at the
// given offsets from the genesis time, each with one log transaction from
// key, and returns them without importing them anywhere else.
func fork(t *testing.T, key *ecdsa.PrivateKey, offsets ...uint64) []*types.Block {
	t.Helper()
	peer := newTestChain(t, nil)
	parent := peer.bc.Genesis()
	blocks := make([]*types.Block, len(offsets))
	for i, off := range offsets {
		blocks[i] = peer.mine(parent, blockSpec{Time: testGenesisTime + off, Txs: []*types.Transaction{logTx(t, key, uint64(i))}})
		peer.insert(blocks[i])
		parent = blocks[i]
	}
	return blocks
}

func assertHead(t *testing.T, c *testChain, want *types.Block) {
	t.Helper()
	if got := c.bc.CurrentBlock(); got.Hash() != want.Hash() {
		t.Fatalf("head is #%d %x, want #%d %x", got.Number, got.Hash(), want.NumberU64(), want.Hash())
	}
}

func assertWork(t *testing.T, c *testChain, b *types.Block, want int64) {
	t.Helper()
	if got := c.fc.WorkOf(b.Hash()); got == nil || got.Cmp(big.NewInt(want)) != 0 {
		t.Fatalf("work of #%d is %v, want %d", b.NumberU64(), got, want)
	}
}

// TestForkChoiceByWork follows one node through a contest of two forks.
// With 10 s spacing and a 60 s half-life, a block 2 minutes late makes its
// child's difficulty a quarter: chain A (on schedule) weighs 4000 per
// block, chain B (2 minutes late) 4000 then 1000 per block.
func TestForkChoiceByWork(t *testing.T) {
	c := newTestChain(t, nil)
	a := fork(t, keyA, 10, 20)
	b := fork(t, keyB, 130, 140, 150, 160, 170, 180, 190)
	c.insert(a...)
	assertHead(t, c, a[1])
	assertWork(t, c, a[1], 12000)

	// Longer but lighter: stored, not the head.
	c.insert(b[:4]...)
	assertHead(t, c, a[1])
	assertWork(t, c, b[3], 11000)
	// Side blocks are stored unexecuted: executing them is what let one
	// deep side block roll the head's state back.
	for _, blk := range b[:4] {
		if !c.bc.HasBlock(blk.Hash(), blk.NumberU64()) || c.bc.HasBlockAndState(blk.Hash(), blk.NumberU64()) {
			t.Fatalf("side block #%d: stored %v, executed %v; want stored and not executed", blk.NumberU64(),
				c.bc.HasBlock(blk.Hash(), blk.NumberU64()), c.bc.HasBlockAndState(blk.Hash(), blk.NumberU64()))
		}
	}

	// As heavy: the head seen first stays.
	c.insert(b[4])
	assertWork(t, c, b[4], 12000)
	assertHead(t, c, a[1])

	// Heavier: B takes over, and A's logs are reported removed.
	removed := make(chan core.RemovedLogsEvent, 16)
	added := make(chan []*types.Log, 16)
	defer c.bc.SubscribeRemovedLogsEvent(removed).Unsubscribe()
	defer c.bc.SubscribeLogsEvent(added).Unsubscribe()
	c.insert(b[5])
	assertHead(t, c, b[5])
	assertWork(t, c, b[5], 13000)

	// The feeds deliver before SetCanonical returns; the channels are buffered.
	var gone, came []*types.Log
	for len(removed) > 0 {
		gone = append(gone, (<-removed).Logs...)
	}
	for len(added) > 0 {
		came = append(came, <-added...)
	}
	checkLogs(t, "removed", gone, a[:2], addrA, true)
	checkLogs(t, "added", came, b[:6], addrB, false)

	st, err := c.bc.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNonce(addrA) != 0 || st.GetNonce(addrB) != 6 {
		t.Errorf("head state nonces A=%d B=%d, want 0 and 6", st.GetNonce(addrA), st.GetNonce(addrB))
	}

	// Blocks extending the new head go straight in.
	c.insert(b[6])
	assertHead(t, c, b[6])
}

// checkLogs checks that logs are exactly one log-contract log per block of
// blocks, emitted by sender's transaction.
func checkLogs(t *testing.T, what string, logs []*types.Log, blocks []*types.Block, sender common.Address, removed bool) {
	t.Helper()
	want := make(map[common.Hash]bool)
	for _, b := range blocks {
		want[b.Hash()] = true
	}
	if len(logs) != len(blocks) {
		t.Fatalf("%s logs: got %d, want %d", what, len(logs), len(blocks))
	}
	for _, l := range logs {
		if l.Address != logContract || !bytes.Equal(l.Data, common.LeftPadBytes(sender[:], 32)) || l.Removed != removed || !want[l.BlockHash] {
			t.Errorf("%s log %+v: want one from %x in %d blocks, removed=%v", what, l, sender, len(blocks), removed)
		}
		delete(want, l.BlockHash)
	}
}

// TestForkChoiceShorterHeavierChainWins: work decides, not length. B has
// two blocks on schedule (12000), A three blocks whose first is late
// (10000); B arrives last in one batch that first stays aside, then
// overtakes, then extends its own new head.
func TestForkChoiceShorterHeavierChainWins(t *testing.T) {
	c := newTestChain(t, nil)
	a := fork(t, keyA, 130, 140, 150)
	b := fork(t, keyB, 10, 20, 30)
	c.insert(a...)
	assertWork(t, c, a[2], 10000)
	c.insert(b...)
	assertWork(t, c, b[1], 12000)
	assertHead(t, c, b[2])
}

// TestForkChoiceEqualWorkKeepsFirst: two children of genesis have the same
// difficulty; whichever arrives first stays the head.
func TestForkChoiceEqualWorkKeepsFirst(t *testing.T) {
	a := fork(t, keyA, 10)[0]
	b := fork(t, keyB, 5)[0]
	for _, order := range [][]*types.Block{{a, b}, {b, a}} {
		c := newTestChain(t, nil)
		c.insert(order[0])
		c.insert(order[1])
		assertHead(t, c, order[0])
		if !c.bc.HasBlock(order[1].Hash(), 1) || c.fc.WorkOf(order[1].Hash()).Cmp(c.fc.WorkOf(order[0].Hash())) != 0 {
			t.Fatal("the second block is not stored with equal work")
		}
	}
}

// TestForkChoiceConcurrentInsert has a miner and a peer insert competing
// chains at the same time: whatever the interleaving, the heavier wins.
func TestForkChoiceConcurrentInsert(t *testing.T) {
	a := fork(t, keyA, 130, 140, 150) // 10000
	b := fork(t, keyB, 10, 20)        // 12000
	for range 4 {
		c := newTestChain(t, nil)
		var wg sync.WaitGroup
		for _, chain := range [][]*types.Block{a, b} {
			wg.Go(func() {
				for _, blk := range chain {
					if _, err := c.fc.Insert([]*types.Block{blk}); err != nil {
						t.Errorf("insert #%d: %v", blk.NumberU64(), err)
					}
				}
			})
		}
		wg.Wait()
		assertHead(t, c, b[1])
		head, work := c.fc.Head()
		if head.Hash() != b[1].Hash() || work.Cmp(big.NewInt(12000)) != 0 {
			t.Fatalf("Head() = #%d, %v", head.Number, work)
		}
	}
}

// TestForkChoiceUnknownParent refuses a block whose parent was never seen.
func TestForkChoiceUnknownParent(t *testing.T) {
	b := fork(t, keyB, 10, 20)
	c := newTestChain(t, nil)
	n, err := c.fc.Insert(b[1:])
	if n != 0 || err == nil || c.bc.HasBlock(b[1].Hash(), 2) || c.fc.WorkOf(b[1].Hash()) != nil {
		t.Fatalf("Insert of an orphan: %d, %v", n, err)
	}
}

func openPebble(t *testing.T, dir string) ethdb.Database {
	t.Helper()
	kv, err := pebble.New(dir, 16, 16, "", false)
	if err != nil {
		t.Fatal(err)
	}
	db, err := rawdb.Open(kv, rawdb.OpenOptions{Ancient: filepath.Join(dir, "ancient")})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestWorkSurvivesRestart: cumulative work and the head read back the same
// from a reopened on-disk database.
func TestWorkSurvivesRestart(t *testing.T) {
	a := fork(t, keyA, 10, 20, 30)
	side := fork(t, keyB, 130)
	dir := t.TempDir()

	db := openPebble(t, dir)
	c := newTestChain(t, db)
	c.insert(a...)
	c.insert(side...)
	works := make(map[common.Hash]*big.Int)
	for _, blk := range append(append([]*types.Block{c.bc.Genesis()}, a...), side...) {
		works[blk.Hash()] = c.fc.WorkOf(blk.Hash())
	}
	c.bc.Stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openPebble(t, dir)
	defer db.Close()
	c = newTestChain(t, db)
	defer c.bc.Stop()
	assertHead(t, c, a[2])
	for hash, want := range works {
		if got := chain.ReadWork(db, hash); got == nil || got.Cmp(want) != 0 {
			t.Errorf("work of %x: %v after restart, %v before", hash, got, want)
		}
	}
	assertWork(t, c, a[2], 16000)
}

// VerifyHeadersOn verifies headers whose parent is verified but not stored
// (sync's next batch while the one before is imported), and Insert later
// finds them verified: no proof is checked twice.
func TestVerifyHeadersOnUnstoredParent(t *testing.T) {
	src := newTestChain(t, nil)
	blocks := src.extend(src.bc.Genesis(), 4, testParams.TargetSpacing)
	headers := make([]*types.Header, len(blocks))
	for i, b := range blocks {
		headers[i] = b.Header()
	}

	c := newTestChain(t, nil)
	if n, err := c.fc.VerifyHeaders(headers[2:]); n != 0 || !errors.Is(err, gethconsensus.ErrUnknownAncestor) {
		t.Fatalf("VerifyHeaders without the parent: %d, %v; want 0 and an unknown ancestor", n, err)
	}
	if n, err := c.fc.VerifyHeadersOn(c.bc.Genesis().Header(), headers[:2]); n != 2 || err != nil {
		t.Fatalf("VerifyHeadersOn the genesis: %d, %v", n, err)
	}
	if n, err := c.fc.VerifyHeadersOn(headers[1], headers[2:]); n != 2 || err != nil {
		t.Fatalf("VerifyHeadersOn an unstored verified parent: %d, %v", n, err)
	}
	if c.bc.HasHeader(headers[1].Hash(), 2) {
		t.Fatal("verification stored a header")
	}
	checks := c.engine.ProofChecks()
	c.insert(blocks...)
	if got := c.engine.ProofChecks(); got != checks {
		t.Errorf("Insert checked %d proofs again", got-checks)
	}

	bad := types.CopyHeader(headers[3])
	bad.GasUsed = bad.GasLimit + 1
	if n, err := c.fc.VerifyHeadersOn(headers[2], []*types.Header{bad}); n != 0 || !errors.As(err, new(*chain.RuleError)) {
		t.Errorf("VerifyHeadersOn a bad header: %d, %v; want 0 and a rule error", n, err)
	}
}
