package p2p

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"

	"github.com/mmgeth/mmgeth/internal/testchain"
)

// Peers on another network or with another genesis are refused at the
// handshake.
func TestHandshakeRejectsOtherNetworks(t *testing.T) {
	tests := []struct {
		name    string
		network uint64             // added to the dev network's id
		alloc   types.GenesisAlloc // added to the dev genesis
	}{
		{name: "network id", network: 1},
		// The same network with one more genesis account: another chain.
		{name: "genesis", alloc: types.GenesisAlloc{{0x0e}: {Balance: common.Big1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestNode(t, newTestChain(t, nil), nodeOpts{})
			otherChain := adaptChain(testchain.New(t, testchain.Options{Alloc: tt.alloc}))
			other := newTestNode(t, otherChain, nodeOpts{network: a.chain.network() + tt.network})
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
	a := newTestNode(t, newTestChain(t, nil), nodeOpts{})
	silent := newRawPeer(t, func(gethp2p.MsgReadWriter) error { return nil })
	drops := watchDrops(t, a.server)
	a.server.AddPeer(silent.server.Self())
	if reason := drops.wait(t, silent.id()); reason != gethp2p.DiscReadTimeout.Error() {
		t.Errorf("dropped with %q, want %q", reason, gethp2p.DiscReadTimeout)
	}
}
