package node

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethp2p "github.com/ethereum/go-ethereum/p2p"

	"github.com/mmgeth/mmgeth/genesis"
	mmgp2p "github.com/mmgeth/mmgeth/p2p"
)

// The mmg wire format as p2p/doc.go specifies it, spoken by hand so that the
// test peer can send what an honest node never would.
type wireStatus struct {
	ProtocolVersion uint64
	NetworkID       uint64
	Genesis         common.Hash
	Head            common.Hash
	Number          uint64
	Work            *big.Int
}

type wireNewBlock struct {
	Block *types.Block
	Work  *big.Int
}

const (
	wireStatusMsg   = 0x00
	wireNewBlockMsg = 0x07
)

// startPeerNode starts an in-memory node on the dev network that listens for
// peers on 127.0.0.1; with dev it seals blocks on demand, else it only
// follows.
func startPeerNode(t *testing.T, dev bool) *Node {
	t.Helper()
	return startPeerNodeWith(t, func(c *Config) { c.Dev = dev })
}

// startPeerNodeWith is startPeerNode with the config changed by set.
func startPeerNodeWith(t *testing.T, set func(*Config)) *Node {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Spec: spec, DevPeriod: time.Hour, ListenPort: 0, MaxPeers: 10, NoDiscover: true, IPCDisable: true}
	set(&cfg)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// startRawPeer runs a geth p2p server whose only protocol is run, named mmg.
func startRawPeer(t *testing.T, run func(*gethp2p.Peer, gethp2p.MsgReadWriter) error) *gethp2p.Server {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	srv := &gethp2p.Server{Config: gethp2p.Config{
		PrivateKey: key, MaxPeers: 1, NoDiscovery: true, Name: "raw-mmg-peer",
		Protocols: []gethp2p.Protocol{{Name: mmgp2p.ProtocolName, Version: mmgp2p.ProtocolVersion, Length: 8, Run: run}},
	}}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// waitDrop waits for the node to drop the peer with id.
func waitDrop(t *testing.T, events <-chan *gethp2p.PeerEvent, id string, timeout time.Duration) *gethp2p.PeerEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			if ev.Type == gethp2p.PeerEventTypeDrop && ev.Peer.String() == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("peer %s not dropped in %v", id, timeout)
		}
	}
}

// startRawPeerSending connects a hand-driven mmg peer to n, completes the
// handshake claiming work, runs send, then reads until dropped.
func startRawPeerSending(t *testing.T, n *Node, send func(gethp2p.MsgReadWriter) error, work *big.Int) *gethp2p.Server {
	t.Helper()
	genesisHash := n.chain.Genesis().Hash()
	srv := startRawPeer(t, func(p *gethp2p.Peer, rw gethp2p.MsgReadWriter) error {
		status := &wireStatus{ProtocolVersion: mmgp2p.ProtocolVersion, NetworkID: n.cfg.Spec.NetworkID,
			Genesis: genesisHash, Head: genesisHash, Work: work}
		if err := gethp2p.Send(rw, wireStatusMsg, status); err != nil {
			return err
		}
		if msg, err := rw.ReadMsg(); err != nil || msg.Code != wireStatusMsg {
			return err
		}
		if err := send(rw); err != nil {
			return err
		}
		for {
			msg, err := rw.ReadMsg()
			if err != nil {
				return err
			}
			msg.Discard()
		}
	})
	srv.AddPeer(n.stack.Server().Self())
	return srv
}

func waitHead(t *testing.T, n *Node, hash common.Hash) {
	t.Helper()
	waitFor(t, "head "+hash.Hex(), func() bool { return n.chain.CurrentBlock().Hash() == hash })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
