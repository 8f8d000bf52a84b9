package p2p

import (
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func TestExpectAndDeliver(t *testing.T) {
	p := newPeer(gethp2p.NewPeer(enode.ID{1}, "test", nil), nil, time.Millisecond)
	pending := func(id uint64) chan any {
		ch := make(chan any, 1)
		p.pending[id] = &request{respCode: blockHeadersMsg, max: 2, sent: time.Now(), resp: ch}
		return ch
	}

	// Nobody asked for id 9: refused before any item is decoded.
	if _, err := p.expect(blockHeadersMsg, 9); !errors.Is(err, errUnsolicited) {
		t.Errorf("unknown id: %v", err)
	}
	pending(1)
	if n, err := p.expect(blockHeadersMsg, 1); err != nil || n != 2 {
		t.Errorf("outstanding request: %d items, %v", n, err)
	}
	if _, err := p.expect(blockBodiesMsg, 1); !errors.Is(err, errBadResponse) {
		t.Errorf("wrong kind of answer: %v", err)
	}
	ch := pending(2)
	if _, err := p.deliver(blockHeadersMsg, 2, []*types.Header{{}, {}}); err != nil {
		t.Fatalf("valid answer: %v", err)
	}
	if got := (<-ch).([]*types.Header); len(got) != 2 {
		t.Errorf("delivered %d headers", len(got))
	}
	// The same id again was not asked for any more: a protocol error.
	_, err := p.deliver(blockHeadersMsg, 2, []*types.Header{})
	if pe, ok := err.(*peerError); !ok || pe.reason != gethp2p.DiscProtocolError || !errors.Is(err, errUnsolicited) {
		t.Errorf("second answer: %v", err)
	}
}

// The round-trip estimate rises at once and decays slowly, and the timeouts
// follow it within their floors and ceilings.
func TestAdaptiveTimeouts(t *testing.T) {
	p := newPeer(gethp2p.NewPeer(enode.ID{1}, "test", nil), nil, time.Millisecond)
	if stall, drop := p.timeouts(); stall != minStallTimeout || drop != minDropTimeout {
		t.Errorf("fast peer: stall %v drop %v, want the floors", stall, drop)
	}
	p.observeRTT(time.Second)
	if p.rtt() != time.Second {
		t.Errorf("rtt %v after a 1 s answer", p.rtt())
	}
	if stall, drop := p.timeouts(); stall != stallScale*time.Second || drop != dropScale*time.Second {
		t.Errorf("1 s peer: stall %v drop %v", stall, drop)
	}
	p.observeRTT(0)
	if want := time.Second - time.Second/8; p.rtt() != want {
		t.Errorf("rtt %v after a fast answer, want %v", p.rtt(), want)
	}
	p.observeRTT(time.Minute)
	if stall, drop := p.timeouts(); stall != maxStallTimeout || drop != maxDropTimeout {
		t.Errorf("slow peer: stall %v drop %v, want the ceilings", stall, drop)
	}
}

// A stalled request stays outstanding: its late answer is accepted and ends
// the stall; one never answered has its peer dropped at the drop timeout.
func TestStalledRequest(t *testing.T) {
	p := newPeer(gethp2p.NewPeer(enode.ID{1}, "test", nil), nil, time.Millisecond)
	req := &request{respCode: blockBodiesMsg, max: 1, sent: time.Now(), resp: make(chan any, 1)}
	p.pending[7] = req
	if !p.stall(7, req, time.Hour) || !p.stalled() {
		t.Fatal("request not stalled")
	}
	resumed, err := p.deliver(blockBodiesMsg, 7, []*types.Body{})
	if err != nil || !resumed || p.stalled() {
		t.Fatalf("late answer: resumed %v, err %v, still stalled %v", resumed, err, p.stalled())
	}
	if p.stall(7, req, time.Hour) {
		t.Error("an answered request stalled")
	}

	req = &request{respCode: blockBodiesMsg, max: 1, sent: time.Now(), resp: make(chan any, 1)}
	p.pending[8] = req
	p.stall(8, req, time.Millisecond)
	waitFor(t, "expiry", func() bool {
		p.reqMu.Lock()
		defer p.reqMu.Unlock()
		return p.pending[8] == nil
	})
	if _, err := p.deliver(blockBodiesMsg, 8, []*types.Body{}); !errors.Is(err, errUnsolicited) {
		t.Errorf("answer after the drop timeout: %v", err)
	}
}
