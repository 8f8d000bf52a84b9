package p2p

import (
	"testing"

	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// Peers on another network or with another genesis are refused at the
// handshake.
func TestHandshakeRejectsOtherNetworks(t *testing.T) {
	gspec := testGenesis("")
	tests := []struct {
		name    string
		network uint64
		genesis string // Extra of the other node's genesis
	}{
		{name: "network id", network: testNetwork + 1},
		{name: "genesis", network: testNetwork, genesis: "another chain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestNode(t, newTestChain(t, gspec, nil), nodeOpts{})
			other := newTestNode(t, newTestChain(t, testGenesis(tt.genesis), nil), nodeOpts{network: tt.network})
			drops := watchDrops(t, a.server)
			a.server.AddPeer(other.server.Self())
			if reason := drops.wait(t, other.id()); reason != gethp2p.DiscUselessPeer.Error() {
				t.Errorf("dropped with %q, want %q", reason, gethp2p.DiscUselessPeer)
			}
			if n := a.handler.PeerCount(); n != 0 {
				t.Errorf("%d peers after a failed handshake", n)
			}
		})
	}
}

// A peer that never sends its status is dropped once the handshake times out.
func TestHandshakeTimeout(t *testing.T) {
	gspec := testGenesis("")
	a := newTestNode(t, newTestChain(t, gspec, nil), nodeOpts{})
	silent := newRawPeer(t, func(gethp2p.MsgReadWriter) error { return nil })
	drops := watchDrops(t, a.server)
	a.server.AddPeer(silent.server.Self())
	if reason := drops.wait(t, silent.id()); reason != gethp2p.DiscReadTimeout.Error() {
		t.Errorf("dropped with %q, want %q", reason, gethp2p.DiscReadTimeout)
	}
}
