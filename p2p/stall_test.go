package p2p

import (
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// catchUpLength is the chain a late node catches up in the silent-peer test,
// the length issue 15 measured (5.4 s, and 22 times that with a silent peer).
const catchUpLength = 2000

var (
	longOnce   sync.Once
	longBlocks []*types.Block
)

// longChain extends the shared chain to catchUpLength blocks, built once.
func longChain(t testing.TB) []*types.Block {
	t.Helper()
	main := mainChain(t)
	longOnce.Do(func() {
		longBlocks = append(main[:len(main):len(main)], buildBlocks(t, main, catchUpLength-len(main), common.Address{})...)
	})
	if len(longBlocks) != catchUpLength {
		t.Fatal("the long chain could not be built (see the first test that failed)")
	}
	return longBlocks
}

// silentPeer completes the handshake claiming c's head, then never answers.
func silentPeer(t testing.TB, c *testChain) *rawPeer {
	return newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
		status := c.genesisStatus()
		head := c.CurrentBlock()
		status.Head, status.Number, status.Work = head.Hash(), head.Number.Uint64(), c.Work(head.Hash())
		if err := gethp2p.Send(rw, statusMsg, status); err != nil {
			return err
		}
		msg, err := rw.ReadMsg()
		if err != nil {
			return err
		}
		return msg.Discard()
	})
}

// catchUp times a fresh node catching up with peers, from the start of its
// handler to the import of their head. If silent is one of the peers, it
// also waits for the node to drop it and checks why.
func catchUp(t *testing.T, peers []*gethp2p.Server, head common.Hash, silent *rawPeer) time.Duration {
	late := newTestNode(t, newTestChain(t, nil), nodeOpts{noStart: true})
	defer late.server.Stop()
	defer late.handler.Stop()
	for _, p := range peers {
		late.server.AddPeer(p.Self())
		waitFor(t, "handshake", func() bool { return late.hasPeer(p.Self().ID()) })
	}
	drops := watchDrops(t, late.server)
	start := time.Now()
	if err := late.handler.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "catch-up", func() bool { return late.chain.headHash() == head })
	took := time.Since(start)
	if silent != nil {
		if reason := drops.wait(t, silent.id()); reason != gethp2p.DiscReadTimeout.Error() {
			t.Errorf("silent peer dropped with %q, want %q", reason, gethp2p.DiscReadTimeout)
		}
	}
	return took
}

// A node catching up 2,000 blocks from three peers, one of which never
// answers, passes the silent peer over after its stall timeout, re-sends its
// request to the others at once and drops it at its drop timeout: the silent
// peer costs about one stall timeout, not one request timeout per batch.
// Issue 15's figure (within 1.5x of the time without the silent peer) is
// logged, not asserted:
//
//	go test ./p2p/ -run TestSilentPeerCatchUp -count=1 -v
func TestSilentPeerCatchUp(t *testing.T) {
	blocks := longChain(t)
	head := blocks[len(blocks)-1].Hash()
	var honest []*gethp2p.Server
	for range 3 {
		honest = append(honest, newTestNode(t, newTestChain(t, blocks), nodeOpts{}).server)
	}
	silent := silentPeer(t, newTestChain(t, blocks))
	withSilent := []*gethp2p.Server{honest[0], honest[1], silent.server}

	// Alternate the two cases and keep the best of each, so that a hiccup
	// of a loaded machine in one run does not decide the comparison.
	var quiet, withOne time.Duration
	for round := range 3 {
		q := catchUp(t, honest, head, nil)
		s := catchUp(t, withSilent, head, silent)
		t.Logf("round %d: %v from three honest peers, %v with one silent", round, q, s)
		if round == 0 || q < quiet {
			quiet = q
		}
		if round == 0 || s < withOne {
			withOne = s
		}
	}
	// The times are the figure, logged for the note: on two shared
	// cores they swing too much to assert (the silent peer is dropped and
	// the catch-up completes in every round, which catchUp checks).
	t.Logf("catching up %d blocks, best of 3: %v from three honest peers, %v with one silent (%.2fx)",
		len(blocks), quiet, withOne, float64(withOne)/float64(quiet))
}
