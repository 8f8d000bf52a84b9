package p2p

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethp2p "github.com/ethereum/go-ethereum/p2p"

	"github.com/mmgeth/mmgeth/internal/rss"
)

// headerLatencies times n header requests of an honest peer to the node
// behind p, and returns them sorted. The requests are paced below
// serveRequestRate, as an honest peer's are, so that the figures measure the
// node and not the peer's own limit.
func headerLatencies(t *testing.T, p *peer, n int) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, n)
	tick := time.NewTicker(time.Second / (serveRequestRate / 2))
	defer tick.Stop()
	for i := range lat {
		<-tick.C
		start := time.Now()
		if _, err := p.requestHeaders(hashOrNumber{Number: uint64(i % 400)}, 64, 0, false); err != nil {
			t.Fatalf("honest header request %d: %v", i, err)
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	return lat
}

func percentile(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100]
}

// A peer asking for bodies without waiting for answers is dropped, one that
// waits for each answer and asks again at once is served within the serving
// limits, and an honest peer's requests are answered as fast during both
// floods as before them.
func TestRequestFlood(t *testing.T) {
	blocks := mainChain(t)
	b := newTestNode(t, newTestChain(t, blocks), nodeOpts{})
	a := newTestNode(t, newTestChain(t, blocks), nodeOpts{})
	connect(t, a, b)
	a.handler.peers.mu.RLock()
	toB := a.handler.peers.peers[b.id().String()]
	a.handler.peers.mu.RUnlock()
	drops := watchDrops(t, b.server)

	hashes := make([]common.Hash, len(blocks))
	for i, block := range blocks {
		hashes[i] = block.Hash()
	}
	ask := func(rw gethp2p.MsgWriter, id uint64) error {
		return gethp2p.Send(rw, getBlockBodiesMsg, &getBlockBodiesPacket{RequestID: id, Hashes: hashes})
	}

	rssBefore := rss.MB()
	quiet := headerLatencies(t, toB, 60)

	// The polite flooder: one request at a time, for floodTime.
	const floodTime = 3 * time.Second
	var answers, answered atomic.Int64
	politeDone := make(chan time.Duration, 1)
	polite := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
		if err := rawHandshake(rw, b.chain); err != nil {
			return err
		}
		start := time.Now()
		for id := uint64(1); time.Since(start) < floodTime; id++ {
			if err := ask(rw, id); err != nil {
				return err
			}
			for {
				msg, err := rw.ReadMsg()
				if err != nil {
					return err
				}
				msg.Discard()
				if msg.Code == blockBodiesMsg {
					answers.Add(1)
					answered.Add(int64(msg.Size))
					break
				}
			}
		}
		politeDone <- time.Since(start)
		return nil
	})
	// The greedy flooder: up to 100,000 requests without reading.
	var sent atomic.Int64
	greedy := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
		if err := rawHandshake(rw, b.chain); err != nil {
			return err
		}
		for id := uint64(1); id <= 100_000; id++ {
			if err := ask(rw, id); err != nil {
				return err
			}
			sent.Add(1)
		}
		return nil
	})
	polite.server.AddPeer(b.server.Self())
	greedy.server.AddPeer(b.server.Self())
	during := headerLatencies(t, toB, 60)
	if reason := drops.wait(t, greedy.id()); reason != gethp2p.DiscProtocolError.Error() {
		t.Errorf("greedy flooder dropped with %q, want %q", reason, gethp2p.DiscProtocolError)
	}
	elapsed := <-politeDone
	rssAfter := rss.MB()

	t.Logf("honest header requests (64 headers): quiet p50 %v p99 %v; during the floods p50 %v p99 %v",
		percentile(quiet, 50), percentile(quiet, 99), percentile(during, 50), percentile(during, 99))
	t.Logf("greedy flooder dropped after sending %d requests", sent.Load())
	t.Logf("polite flooder: %d answers, %.1f MB in %v (%.1f answers/s)", answers.Load(), float64(answered.Load())/1e6, elapsed, float64(answers.Load())/elapsed.Seconds())
	t.Logf("RSS before %d MB, after %d MB", rssBefore, rssAfter)

	if !b.hasPeer(polite.id()) || !b.hasPeer(a.id()) {
		t.Error("a peer that waits for its answers was dropped")
	}
	if max := serveRequestBurst + serveRequestRate*elapsed.Seconds() + 1; float64(answers.Load()) > max {
		t.Errorf("polite flooder got %d answers in %v, the limit allows %.0f", answers.Load(), elapsed, max)
	}
	if max := serveByteBurst + serveByteRate*elapsed.Seconds() + softResponseLimit; float64(answered.Load()) > max {
		t.Errorf("polite flooder got %d bytes in %v, the limit allows %.0f", answered.Load(), elapsed, max)
	}
	// The honest peer must never look stalled because of someone else's flood.
	if p99 := percentile(during, 99); p99 >= minStallTimeout {
		t.Errorf("honest requests took up to %v during the floods, its stall timeout is %v", p99, minStallTimeout)
	}
}
