package chain_test

import (
	"fmt"
	"github.com/mmgeth/mmgeth/chain"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
)

// crashDirEnv makes the test binary, run as a child by
// TestReplayAfterCrash, build a chain in that directory and die without
// shutting it down.
const crashDirEnv = "MMGETH_CHAIN_CRASH_DIR"

var crashRecipient = common.HexToAddress("0x00000000000000000000000000000000000cafe1")

// TestReplayAfterCrash kills a node (a child process exiting without
// stopping its chain, as with kill -9) after it imported blocks, reopens its
// database and checks that Replay brings back the head and its state.
func TestReplayAfterCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashingNode(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplayAfterCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crashing node: %v\n%s", err, out)
	}
	expected, err := os.ReadFile(filepath.Join(dir, "expected"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		headHex string
		balance = new(big.Int)
	)
	if _, err := fmt.Sscan(string(expected), &headHex, balance); err != nil {
		t.Fatalf("expected %q: %v", expected, err)
	}
	wantHead := common.HexToHash(headHex)

	db := openPebble(t, dir)
	defer db.Close()
	// The state on disk is older than the head: what New must replay.
	if id := rawdb.ReadPersistentStateID(db); id >= 5 {
		t.Fatalf("crash not reproduced: state of block %d on disk", id)
	}
	c := newTestChain(t, db)
	defer c.bc.Stop()
	if head := c.bc.CurrentBlock(); head.Hash() != wantHead {
		t.Fatalf("head after replay #%d %x, want %x", head.Number, head.Hash(), wantHead)
	}
	st, err := c.bc.State()
	if err != nil {
		t.Fatalf("head state: %v", err)
	}
	if got := st.GetBalance(crashRecipient).ToBig(); got.Cmp(balance) != 0 {
		t.Errorf("recipient balance %v, want %v", got, balance)
	}
}

// crashingNode imports five blocks of transfers into a chain on disk,
// records the head, makes the written blocks durable as the page cache
// would, and exits without stopping the chain: the state geth keeps in
// memory is lost.
func crashingNode(t *testing.T, dir string) {
	db := openPebble(t, dir)
	c := newTestChain(t, db)
	parent := c.bc.Genesis()
	for i := range 5 {
		b := c.mine(parent, blockSpec{Txs: []*types.Transaction{transferTx(t, keyA, uint64(i), crashRecipient, 1000)}})
		c.insert(b)
		parent = b
	}
	st, err := c.bc.State()
	if err != nil {
		t.Fatal(err)
	}
	record := fmt.Sprintf("%s %s", parent.Hash().Hex(), st.GetBalance(crashRecipient).ToBig())
	if err := os.WriteFile(filepath.Join(dir, "expected"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.(ethdb.KeyValueSyncer).SyncKeyValue(); err != nil {
		t.Fatal(err)
	}
	os.Exit(0)
}

// TestReplayAdoptsHeaviestStoredBlock: a crash between storing a heavier
// block and moving the head to it leaves the head on the lighter chain;
// Replay finds the heavier block among the stored work and adopts it.
func TestReplayAdoptsHeaviestStoredBlock(t *testing.T) {
	a := fork(t, keyA, 10, 20) // 12000
	b := fork(t, keyB, 1, 2)   // 4000 + 4000 + 4437
	c := newTestChain(t, nil)
	c.insert(a...)
	if err := c.fc.Replay(); err != nil {
		t.Fatalf("replay with nothing to do: %v", err)
	}
	assertHead(t, c, a[1])

	// What Insert stores before InsertChain executes a heavier side chain:
	// the blocks unexecuted, their work and the heaviest-block record.
	work := c.fc.WorkOf(c.bc.Genesis().Hash())
	for _, blk := range b {
		var err error
		if work, err = chain.CumulativeWork(work, blk.Header()); err != nil {
			t.Fatal(err)
		}
		if err := chain.WriteWork(c.db, blk.Hash(), work); err != nil {
			t.Fatal(err)
		}
		rawdb.WriteBlock(c.db, blk)
	}
	if err := chain.WriteHeaviest(c.db, b[1].Hash()); err != nil {
		t.Fatal(err)
	}
	assertHead(t, c, a[1])
	if work.Cmp(c.fc.WorkOf(a[1].Hash())) <= 0 {
		t.Fatalf("fork B (%v) is not heavier than A (%v)", work, c.fc.WorkOf(a[1].Hash()))
	}
	if err := c.fc.Replay(); err != nil {
		t.Fatalf("replay: %v", err)
	}
	assertHead(t, c, b[1])
}

// TestReplayStopsAtMissingBody: a head header without its block (as header
// sync leaves it) ends the replay instead of failing it.
func TestReplayStopsAtMissingBody(t *testing.T) {
	a := fork(t, keyA, 10, 20, 30)
	c := newTestChain(t, nil)
	c.insert(a[0])
	if _, err := c.bc.InsertHeaderChain([]*types.Header{a[1].Header(), a[2].Header()}); err != nil {
		t.Fatalf("insert headers: %v", err)
	}
	if c.bc.CurrentHeader().Number.Uint64() != 3 {
		t.Fatalf("head header #%d, want #3", c.bc.CurrentHeader().Number)
	}
	if err := c.fc.Replay(); err != nil {
		t.Fatalf("replay: %v", err)
	}
	assertHead(t, c, a[0])
}

// TestCrashReplaysAtMostFlushBlocks: a node killed after 600 blocks finds
// the state of a block at most FlushBlocks below its head on disk, so the
// start-up replay is bounded by FlushBlocks whatever the chain's length.
func TestCrashReplaysAtMostFlushBlocks(t *testing.T) {
	if dir := os.Getenv(flushDirEnv); dir != "" {
		db := openPebble(t, dir)
		c := newTestChain(t, db)
		c.extend(c.bc.Genesis(), 600, testParams.TargetSpacing)
		if err := db.(ethdb.KeyValueSyncer).SyncKeyValue(); err != nil {
			t.Fatal(err)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashReplaysAtMostFlushBlocks$", "-test.count=1")
	cmd.Env = append(os.Environ(), flushDirEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crashing node: %v\n%s", err, out)
	}
	db := openPebble(t, dir)
	defer db.Close()
	if id := rawdb.ReadPersistentStateID(db); id+chain.FlushBlocks < 600 || id >= 600 {
		t.Fatalf("state of block %d on disk after a crash at block 600, want %d or later and the crash to lose some", id, 600-chain.FlushBlocks)
	}
	c := newTestChain(t, db)
	defer c.bc.Stop()
	if head := c.bc.CurrentBlock(); head.Number.Uint64() != 600 || !c.bc.HasState(head.Root) {
		t.Fatalf("head after replay #%d", head.Number)
	}
}

const flushDirEnv = "MMGETH_CHAIN_FLUSH_DIR"

// TestBusyChainFlushesItself: on a chain whose blocks fill geth's state
// write buffer within FlushBlocks, geth writes the state to disk by itself
// and flushState never commits the head's state, which would write the 128
// in-memory layers one by one and drop the states below the head from
// memory; the state on disk stays within FlushBlocks of the head all the
// same.
func TestBusyChainFlushesItself(t *testing.T) {
	c := newTestChain(t, nil)
	parent := c.bc.Genesis()
	nonce := uint64(0)
	for i := range chain.FlushBlocks + 20 {
		txs := make([]*types.Transaction, 40) // each to a new account
		for j := range txs {
			txs[j] = transferTx(t, keyA, nonce, common.Address{0xbb, byte(i >> 8), byte(i), byte(j)}, 1)
			nonce++
		}
		parent = c.mine(parent, blockSpec{Txs: txs})
		c.insert(parent)
	}
	head := parent.NumberU64()
	if id := rawdb.ReadPersistentStateID(c.db); id == 0 || id+chain.FlushBlocks < head {
		t.Fatalf("state of block %d on disk at head %d, want one within %d", id, head, chain.FlushBlocks)
	}
	if below := c.bc.GetHeaderByNumber(chain.FlushBlocks - 1); !c.bc.HasState(below.Root) {
		t.Fatalf("the state of block %d left memory: the head's state was committed", below.Number)
	}
}
