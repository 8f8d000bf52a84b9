package p2p

import (
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"
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
	orphan := blocks[2]
	h.importBlock(blockImport{header: orphan.Header(), block: func() (*types.Block, error) {
		t.Error("the body of a block with an unknown parent was decoded")
		return orphan, nil
	}})
	select {
	case <-h.syncReq:
	default:
		t.Error("no sync requested")
	}
	if chain.HasBlock(orphan.Hash(), 3) {
		t.Error("orphan block imported")
	}
}

// A relaying node sends a block on once the block has passed every check
// that needs no state, before executing it: with B's imports held back, D,
// which hears only from B, imports the block while B has not.
func TestRelayBeforeExecution(t *testing.T) {
	blocks := mainChain(t)[:11]
	base, next := blocks[:10], blocks[10]
	a := newTestNode(t, newTestChain(t, base), nodeOpts{})
	held := newTestChain(t, base)
	held.insertGate = make(chan struct{})
	b := newTestNode(t, held, nodeOpts{})
	d := newTestNode(t, newTestChain(t, base), nodeOpts{})
	release := func() {
		select {
		case <-held.insertGate:
		default:
			close(held.insertGate)
		}
	}
	defer release()
	connect(t, a, b)
	connect(t, b, d)

	if _, err := a.chain.InsertBlocks([]*types.Block{next}); err != nil {
		t.Fatal(err)
	}
	a.handler.BroadcastBlock(next)
	waitFor(t, "D importing the block through B", func() bool { return d.chain.headHash() == next.Hash() })
	if b.chain.HasBlock(next.Hash(), next.NumberU64()) {
		t.Fatal("B imported the block although its imports were held")
	}
	release()
	waitFor(t, "B importing the block", func() bool { return b.chain.headHash() == next.Hash() })
}

// junkBodyBlock encodes a NewBlock with block's header and a transaction
// list holding an item no transaction decodes from.
func junkBodyBlock(t *testing.T, block *types.Block, c *testChain) []byte {
	t.Helper()
	var pkt blockInbound
	pkt.Block.Header = block.Header()
	if err := pkt.Block.Txs.AppendRaw([]byte{0x82, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	pkt.Block.Withdrawals = new(rlp.RawList[*types.Withdrawal])
	pkt.Work = c.Work(c.headHash())
	return mustEncode(t, &pkt)
}

// A propagated block's body is decoded only after its header has passed the
// engine: a block with a broken proof costs its sender the connection as
// useless, whatever its body holds, while a valid header with a body that
// does not decode is a breach of protocol. A known block's body, or that of
// a block whose parent we lack, is never decoded.
func TestNewBlockBodyDecodedLast(t *testing.T) {
	blocks := mainChain(t)[:6]
	base := blocks[:5]
	honest := newTestNode(t, newTestChain(t, base), nodeOpts{})
	b := newTestNode(t, newTestChain(t, base), nodeOpts{})
	connect(t, honest, b)
	drops := watchDrops(t, b.server)
	badProof := proofForAnotherBlock(t, honest.chain, base[4])

	for _, tt := range []struct {
		name  string
		block *types.Block
		want  gethp2p.DiscReason
	}{
		{"broken proof", badProof, gethp2p.DiscUselessPeer},
		{"valid header", blocks[5], gethp2p.DiscProtocolError},
	} {
		payload := junkBodyBlock(t, tt.block, b.chain)
		raw := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
			if err := rawHandshake(rw, b.chain); err != nil {
				return err
			}
			return sendRaw(rw, newBlockMsg, payload)
		})
		raw.server.AddPeer(b.server.Self())
		if reason := drops.wait(t, raw.id()); reason != tt.want.Error() {
			t.Errorf("%s: dropped with %q, want %q", tt.name, reason, tt.want)
		}
		raw.server.Stop()
	}
	if !b.hasPeer(honest.id()) || b.chain.headHash() != base[4].Hash() {
		t.Fatal("honest peer lost or head moved")
	}

	h := b.handler
	for name, header := range map[string]*types.Header{"known": base[3].Header(), "orphan": mainChain(t)[7].Header()} {
		h.importBlock(blockImport{header: header, block: func() (*types.Block, error) {
			t.Errorf("%s: body decoded", name)
			return nil, nil
		}})
	}
}
