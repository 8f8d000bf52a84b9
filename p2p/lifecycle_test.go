package p2p

import (
	"testing"

	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// Stop disconnects every peer, and a stopped handler refuses new ones.
func TestStopDisconnectsPeers(t *testing.T) {
	a := newTestNode(t, newTestChain(t, nil), nodeOpts{})
	b := newTestNode(t, newTestChain(t, nil), nodeOpts{})
	c := newTestNode(t, newTestChain(t, nil), nodeOpts{})
	connect(t, a, b)
	drops := watchDrops(t, b.server)

	if err := a.handler.Stop(); err != nil {
		t.Fatal(err)
	}
	if reason := drops.wait(t, a.id()); reason != gethp2p.DiscQuitting.Error() {
		t.Errorf("dropped with %q, want %q", reason, gethp2p.DiscQuitting)
	}
	if n := a.handler.PeerCount(); n != 0 {
		t.Errorf("%d peers after Stop", n)
	}
	drops = watchDrops(t, c.server)
	c.server.AddPeer(a.server.Self())
	if reason := drops.wait(t, a.id()); reason != gethp2p.DiscQuitting.Error() {
		t.Errorf("stopped handler: new peer dropped with %q, want %q", reason, gethp2p.DiscQuitting)
	}
	if err := a.handler.Start(); err == nil {
		t.Error("a stopped handler restarted")
	}
}

func TestNewNeedsChain(t *testing.T) {
	if _, err := New(Config{NetworkID: 1}); err == nil {
		t.Error("handler without a chain")
	}
}
