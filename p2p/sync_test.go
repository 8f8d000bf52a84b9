package p2p

import (
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// A fresh node syncs a 500-block chain from one peer.
func TestSyncFromScratch(t *testing.T) {
	blocks := mainChain(t)[:500]
	a := newTestNode(t, newTestChain(t, blocks), nodeOpts{})
	b := newTestNode(t, newTestChain(t, nil), nodeOpts{})

	connect(t, b, a)
	waitFor(t, "sync", func() bool { return b.chain.headHash() == a.chain.headHash() })
	waitFor(t, "sync end", func() bool { syncing, _ := b.handler.Syncing(); return !syncing })
	if got, want := b.chain.Work(b.chain.headHash()), a.chain.Work(a.chain.headHash()); got.Cmp(want) != 0 {
		t.Errorf("synced head weighs %v, the peer's %v", got, want)
	}

	_, progress := b.handler.Syncing()
	if want := (Progress{StartingBlock: 0, CurrentBlock: 500, HighestBlock: 500}); progress != want {
		t.Errorf("progress %+v, want %+v", progress, want)
	}
	if _, progress := a.handler.Syncing(); progress != (Progress{CurrentBlock: 500, HighestBlock: 500}) {
		t.Errorf("node that never synced reports %+v", progress)
	}
}

// A late node syncs from three peers and fetches bodies from all of them.
func TestSyncBodiesFromSeveralPeers(t *testing.T) {
	blocks := mainChain(t)[:500]
	var servers []*testNode
	for range 3 {
		servers = append(servers, newTestNode(t, newTestChain(t, blocks), nodeOpts{}))
	}
	late := newTestNode(t, newTestChain(t, nil), nodeOpts{noStart: true})
	for _, s := range servers {
		connect(t, late, s)
	}
	// All three are peers before the first batch is planned.
	if err := late.handler.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sync", func() bool { return late.chain.headHash() == servers[0].chain.headHash() })
	for i, s := range servers {
		if n := s.chain.bodiesServed.Load(); n == 0 {
			t.Errorf("peer %d served no bodies", i)
		}
	}
}

// A node on a lighter fork finds the common ancestor and reorganises onto the
// heavier chain; the fork point is below the first probe, so the binary search
// finds it.
func TestSyncReorgsOntoHeavierChain(t *testing.T) {
	main := mainChain(t)[:300]
	for _, fork := range []int{0, 150} {
		side := append(slices.Clone(main[:fork]), buildBlocks(t, main[:fork], 40, sideCoinbase)...)
		a := newTestNode(t, newTestChain(t, main), nodeOpts{})
		b := newTestNode(t, newTestChain(t, side), nodeOpts{})
		if side[fork].Hash() == main[fork].Hash() {
			t.Fatalf("fork %d: chains agree above the fork point", fork)
		}
		if mainWork, sideWork := a.chain.Work(a.chain.headHash()), b.chain.Work(b.chain.headHash()); mainWork.Cmp(sideWork) <= 0 {
			t.Fatalf("fork %d: main chain's work %v is not above the side chain's %v", fork, mainWork, sideWork)
		}
		connect(t, b, a)
		waitFor(t, "reorg", func() bool { return b.chain.headHash() == a.chain.headHash() })
		if got := b.chain.GetHeaderByNumber(uint64(fork + 1)).Hash(); got != main[fork].Hash() {
			t.Errorf("fork %d: canonical block %d is %x, want the main chain's %x", fork, fork+1, got, main[fork].Hash())
		}
	}
}

// A peer that claims more work than it can show is not synced from again
// until it announces more, and is not dropped: it may simply have reorged.
func TestSyncPeerWithoutChain(t *testing.T) {
	b := newTestNode(t, newTestChain(t, nil), nodeOpts{})
	ourWork := b.chain.Work(b.chain.headHash())
	liar := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
		// The work of 50 blocks on the genesis, at the genesis difficulty.
		status := b.chain.genesisStatus()
		status.Head, status.Number, status.Work = common.Hash{1}, 50, new(big.Int).Mul(ourWork, big.NewInt(51))
		if err := gethp2p.Send(rw, statusMsg, status); err != nil {
			return err
		}
		for {
			msg, err := rw.ReadMsg()
			if err != nil {
				return err
			}
			var req getBlockHeadersPacket
			if msg.Code != getBlockHeadersMsg || msg.Decode(&req) != nil {
				msg.Discard()
				continue
			}
			if err := gethp2p.Send(rw, blockHeadersMsg, &blockHeadersPacket{RequestID: req.RequestID}); err != nil {
				return err
			}
		}
	})
	liar.server.AddPeer(b.server.Self())
	waitFor(t, "claim lowered", func() bool {
		b.handler.peers.mu.RLock()
		p := b.handler.peers.peers[liar.id().String()]
		b.handler.peers.mu.RUnlock()
		if p == nil {
			return false
		}
		_, _, work := p.headInfo()
		return work.Cmp(ourWork) == 0
	})
	if syncing, _ := b.handler.Syncing(); syncing {
		t.Error("still syncing")
	}
	if !b.hasPeer(liar.id()) {
		t.Error("peer dropped")
	}
}
