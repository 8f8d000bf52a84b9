package chain_test

import (
	"errors"
	"github.com/mmgeth/mmgeth/chain"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestDeepSideBlocksLeaveStateAlone: valid side blocks whose parents are
// 150, 500 and 1,000 blocks below the head neither move the head nor touch
// its state (geth's post-merge side path rolled the state back to such a
// parent), the state of recent blocks stays readable, and the chain keeps
// extending. A side block within chain.MaxSideDepth is stored unexecuted; deeper
// ones are refused as the sender's fault.
func TestDeepSideBlocksLeaveStateAlone(t *testing.T) {
	const length = 1010
	c := newTestChain(t, nil)
	depths := map[int]bool{150: true, 500: true, 1000: true} // parent depth below the final head
	side := map[int]*types.Block{}
	parent := c.bc.Genesis()
	blocks := make([]*types.Block, 0, length)
	for n := 1; n <= length; n++ {
		if depths[length-int(parent.NumberU64())] {
			// A sibling of block n, a second later than it: valid, same work.
			side[length-int(parent.NumberU64())] = c.mine(parent, blockSpec{Time: parent.Time() + testParams.TargetSpacing + 1, Coinbase: common.Address{1}})
		}
		var txs []*types.Transaction
		if n%10 == 0 {
			txs = []*types.Transaction{transferTx(t, keyA, uint64(n/10-1), addrB, 1)}
		}
		b := c.mine(parent, blockSpec{Txs: txs})
		c.insert(b)
		blocks = append(blocks, b)
		parent = b
	}
	head := c.bc.CurrentBlock()
	recent := blocks[length-100]
	st, err := c.bc.State()
	if err != nil {
		t.Fatal(err)
	}
	balanceB := st.GetBalance(addrB)

	for _, depth := range []int{150, 500, 1000} {
		b := side[depth]
		n, err := c.fc.Insert([]*types.Block{b})
		stored := c.bc.HasBlock(b.Hash(), b.NumberU64())
		if depth < chain.MaxSideDepth {
			if err != nil || n != 1 || !stored || c.bc.HasBlockAndState(b.Hash(), b.NumberU64()) {
				t.Errorf("depth %d: Insert = %d, %v; stored %v; want stored unexecuted", depth, n, err, stored)
			}
		} else {
			var fault *chain.RuleError
			if !errors.Is(err, chain.ErrSideTooDeep) || !errors.As(err, &fault) || stored || c.fc.WorkOf(b.Hash()) != nil {
				t.Errorf("depth %d: Insert = %v, stored %v; want a refused chain.RuleError and nothing stored", depth, err, stored)
			}
		}
		if got := c.bc.CurrentBlock(); got.Hash() != head.Hash() {
			t.Fatalf("depth %d: head moved to #%d", depth, got.Number)
		}
		st, err := c.bc.State()
		if err != nil {
			t.Fatalf("depth %d: head state gone: %v", depth, err)
		}
		if got := st.GetBalance(addrB); !got.Eq(balanceB) {
			t.Fatalf("depth %d: balance %v, want %v", depth, got, balanceB)
		}
		if _, err := c.bc.StateAt(recent.Root(), recent.Number(), recent.Time()); err != nil {
			t.Fatalf("depth %d: state of block %d, 100 below the head, gone: %v", depth, recent.NumberU64(), err)
		}
	}
	next := c.mine(blocks[length-1], blockSpec{})
	c.insert(next)
	assertHead(t, c, next)
}

// TestSiblingFloodBounded: of 200 valid siblings at one height only
// chain.MaxPerHeight blocks are stored; the rest are refused as a flood.
func TestSiblingFloodBounded(t *testing.T) {
	c := newTestChain(t, nil)
	blocks := c.extend(c.bc.Genesis(), 3, testParams.TargetSpacing)
	siblings := make([]*types.Block, 200)
	for i := range siblings {
		siblings[i] = c.mine(blocks[0], blockSpec{Time: blocks[0].Time() + testParams.TargetSpacing + 1 + uint64(i)})
	}
	refused := 0
	for i, b := range siblings {
		_, err := c.fc.Insert([]*types.Block{b})
		var fault *chain.RuleError
		switch {
		case err == nil:
		case errors.Is(err, chain.ErrTooManySiblings) && errors.As(err, &fault):
			refused++
		default:
			t.Fatalf("sibling %d: %v", i, err)
		}
	}
	if n := len(rawdb.ReadAllHashes(c.db, 2)); n != chain.MaxPerHeight {
		t.Errorf("%d blocks stored at height 2, want %d", n, chain.MaxPerHeight)
	}
	if want := len(siblings) - (chain.MaxPerHeight - 1); refused != want {
		t.Errorf("%d siblings refused, want %d", refused, want)
	}
	assertHead(t, c, blocks[2])
}

// TestHeavierSideChainExecutedOnAdoption: a side chain is stored unexecuted
// until a block makes it the heaviest; then its blocks are executed in order
// and it becomes the head with their state.
func TestHeavierSideChainExecutedOnAdoption(t *testing.T) {
	a := fork(t, keyA, 10, 20)                       // 4000 + 4000
	b := fork(t, keyB, 130, 140, 150, 160, 170, 180) // 4000, then 1000 each: heavier at the sixth
	c := newTestChain(t, nil)
	c.insert(a...)
	c.insert(b[:5]...)
	for _, blk := range b[:5] {
		if c.bc.HasBlockAndState(blk.Hash(), blk.NumberU64()) {
			t.Fatalf("side block #%d executed before its chain was the heaviest", blk.NumberU64())
		}
	}
	c.insert(b[5])
	assertHead(t, c, b[5])
	for _, blk := range b {
		if !c.bc.HasBlockAndState(blk.Hash(), blk.NumberU64()) || c.bc.GetCanonicalHash(blk.NumberU64()) != blk.Hash() {
			t.Fatalf("block #%d of the adopted chain not canonical with state", blk.NumberU64())
		}
	}
	if hash, ok := chain.ReadHeaviest(c.db); !ok || hash != b[5].Hash() {
		t.Errorf("heaviest-block record %x, want the head %x", hash, b[5].Hash())
	}
}

// TestRewindWhileInserting runs 1,000 dev rewinds against a concurrent
// stream of inserts (run with -race): they serialise on the chain's lock and
// the head stays a block with its state, work and a canonical ancestry.
func TestRewindWhileInserting(t *testing.T) {
	peer := newTestChain(t, nil)
	blocks := peer.extend(peer.bc.Genesis(), 60, testParams.TargetSpacing)
	c := newTestChain(t, nil)
	const rounds = 1000
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range rounds {
			next := c.bc.CurrentBlock().Number.Uint64()
			if next >= uint64(len(blocks)) {
				next = 0
			}
			// A rewind may remove the parent meanwhile: the error is expected.
			c.fc.Insert(blocks[next : next+1])
		}
	}()
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for range rounds {
			head := c.bc.CurrentBlock().Number.Uint64()
			if err := c.fc.Rewind(head - min(head, rng.Uint64N(4))); err != nil {
				t.Errorf("rewind: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	head := c.bc.CurrentBlock()
	if !c.bc.HasBlockAndState(head.Hash(), head.Number.Uint64()) || c.fc.WorkOf(head.Hash()) == nil {
		t.Fatalf("head #%d without state or work", head.Number)
	}
	for n := head.Number.Uint64(); n > 0; n-- {
		h := c.bc.GetHeaderByNumber(n)
		if h == nil || h.Hash() != blocks[n-1].Hash() || c.bc.GetCanonicalHash(n-1) != h.ParentHash {
			t.Fatalf("canonical chain broken at #%d", n)
		}
	}
	if hash, _ := chain.ReadHeaviest(c.db); hash != head.Hash() {
		t.Errorf("heaviest-block record %x, head %x", hash, head.Hash())
	}
}
