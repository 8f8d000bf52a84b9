package node

import (
	"net"
	"testing"
	"time"
)

// idleConns is how many idle TCP connections the test opens, issue 15's
// figure.
const idleConns = 1000

// Idle TCP connections to the p2p port each hold a pending-handshake slot
// until geth's 5 s RLPx handshake deadline. With geth's 50 slots, 1,000 of
// them keep a legitimate peer out for 100 s; with the node's default they do
// not keep it out at all.
func TestIdleConnectionsDoNotBlockPeers(t *testing.T) {
	for _, tt := range []struct {
		pending int
		wantIn  bool
	}{
		{pending: 50}, // geth's default
		{pending: 0, wantIn: true},
	} {
		n := startPeerNodeWith(t, func(c *Config) {
			c.MaxPendingPeers = tt.pending
			c.HTTP, c.HTTPAddr = true, "127.0.0.1"
		})
		addr := n.stack.Server().ListenAddr
		conns := make([]net.Conn, 0, idleConns)
		var took time.Duration
		var in bool
		var legit *Node
		callsDuring(t, n.HTTPEndpoint(), func() {
			for range idleConns {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatalf("idle connection %d: %v", len(conns), err)
				}
				conns = append(conns, c)
			}
			// Let the node accept what it will before the legitimate peer dials.
			time.Sleep(500 * time.Millisecond)

			legit = startPeerNode(t, false)
			start := time.Now()
			legit.stack.Server().AddPeer(n.stack.Server().Self())
			deadline := start.Add(3 * time.Second)
			for n.handler.PeerCount() == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			took, in = time.Since(start), n.handler.PeerCount() > 0
		})
		t.Logf("%d pending slots, %d idle connections: legitimate peer in %v after %v",
			n.stack.Server().MaxPendingPeers, idleConns, in, took.Round(time.Millisecond))
		if in != tt.wantIn {
			t.Errorf("%d pending slots: legitimate peer in %v within 3 s, want %v", n.stack.Server().MaxPendingPeers, in, tt.wantIn)
		}
		for _, c := range conns {
			c.Close()
		}
		legit.Close()
		n.Close()
	}
}
