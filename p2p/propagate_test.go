package p2p

import (
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
)

// A block mined by A reaches its two peers, one as a whole block and one as an
// announcement it fetches, and a node two hops away through the relay.
func TestPropagation(t *testing.T) {
	blocks := mainChain(t)[:12]
	base, mined := blocks[:10], blocks[10:]

	a := newTestNode(t, newTestChain(t, base), nodeOpts{})
	b := newTestNode(t, newTestChain(t, base), nodeOpts{})
	c := newTestNode(t, newTestChain(t, base), nodeOpts{})
	d := newTestNode(t, newTestChain(t, base), nodeOpts{})
	connect(t, a, b)
	connect(t, a, c)
	connect(t, b, d)

	for _, block := range mined {
		if _, err := a.chain.InsertBlocks([]*types.Block{block}); err != nil {
			t.Fatal(err)
		}
		a.handler.BroadcastBlock(block)
		for name, n := range map[string]*testNode{"B": b, "C": c, "D": d} {
			waitFor(t, name+" importing block "+block.Number().String(), func() bool {
				return n.chain.headHash() == block.Hash()
			})
		}
	}
	for name, n := range map[string]*testNode{"B": b, "C": c, "D": d} {
		if syncing, progress := n.handler.Syncing(); syncing || progress.StartingBlock != 0 || progress.HighestBlock != 12 {
			t.Errorf("%s got the blocks by sync, not propagation: syncing=%v %+v", name, syncing, progress)
		}
	}
}

// A propagated block whose parent is unknown is not imported but wakes the
// sync loop: the sender is ahead of us.
func TestUnknownParentRequestsSync(t *testing.T) {
	blocks := mainChain(t)[:3]
	chain := newTestChain(t, blocks[:1])
	h, err := New(Config{NetworkID: chain.network(), Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	h.importBlock(nil, blocks[2])
	select {
	case <-h.syncReq:
	default:
		t.Error("no sync requested")
	}
	if chain.HasBlock(blocks[2].Hash(), 3) {
		t.Error("orphan block imported")
	}
}
