package node

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethp2p "github.com/ethereum/go-ethereum/p2p"

	"github.com/mmgeth/mmgeth/consensus"
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
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Spec: spec, Dev: dev, DevPeriod: time.Hour, ListenPort: 0, MaxPeers: 10, NoDiscover: true, IPCDisable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestBadProofPeerIsDropped sends a node a block whose merged-mining proof
// does not verify: the real engine must refuse it, the node must drop the
// sender as useless, and the block must not reach the database. The same
// block with its proof intact, from an honest peer, is then accepted, so the
// refusal is about the proof.
func TestBadProofPeerIsDropped(t *testing.T) {
	miner := startPeerNode(t, true)
	good, err := miner.dev.Mine(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := breakProof(t, good)

	victim := startPeerNode(t, false)
	events := make(chan *gethp2p.PeerEvent, 16)
	sub := victim.stack.Server().SubscribeEvents(events)
	defer sub.Unsubscribe()

	genesisHash := victim.chain.Genesis().Hash()
	genesisWork := victim.mmchain.WorkOf(genesisHash)
	sent := make(chan error, 1)
	attacker := startRawPeer(t, func(p *gethp2p.Peer, rw gethp2p.MsgReadWriter) error {
		status := &wireStatus{ProtocolVersion: mmgp2p.ProtocolVersion, NetworkID: victim.cfg.Spec.NetworkID,
			Genesis: genesisHash, Head: genesisHash, Work: genesisWork}
		if err := gethp2p.Send(rw, wireStatusMsg, status); err != nil {
			return err
		}
		if msg, err := rw.ReadMsg(); err != nil || msg.Code != wireStatusMsg {
			return err
		}
		claimed := new(big.Int).Add(genesisWork, consensusWork(t, bad.Header()))
		sent <- gethp2p.Send(rw, wireNewBlockMsg, &wireNewBlock{Block: bad, Work: claimed})
		for {
			msg, err := rw.ReadMsg()
			if err != nil {
				return err
			}
			msg.Discard()
		}
	})
	attacker.AddPeer(victim.stack.Server().Self())

	if err := waitErr(t, sent, 20*time.Second); err != nil {
		t.Fatalf("sending the bad block: %v", err)
	}
	drop := waitDrop(t, events, attacker.Self().ID().String(), 20*time.Second)
	if !strings.Contains(drop.Error, gethp2p.DiscUselessPeer.String()) {
		t.Fatalf("peer dropped with %q, want %q", drop.Error, gethp2p.DiscUselessPeer)
	}
	if victim.handler.PeerCount() != 0 {
		t.Fatalf("%d peers after the drop", victim.handler.PeerCount())
	}
	if rawdb.ReadHeader(victim.db, bad.Hash(), 1) != nil || victim.chain.HasBlock(bad.Hash(), 1) {
		t.Fatal("the block with the broken proof was stored")
	}
	if w := victim.mmchain.WorkOf(bad.Hash()); w != nil {
		t.Fatalf("work %v stored for the block with the broken proof", w)
	}
	if head := victim.chain.CurrentBlock(); head.Number.Sign() != 0 {
		t.Fatalf("head moved to %d %x", head.Number, head.Hash())
	}

	miner.stack.Server().AddPeer(victim.stack.Server().Self())
	deadline := time.Now().Add(20 * time.Second)
	for victim.chain.CurrentBlock().Hash() != good.Hash() {
		if time.Now().After(deadline) {
			t.Fatalf("the valid block %x never became the head; head %d", good.Hash(), victim.chain.CurrentBlock().Number)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// breakProof returns block with the Bitcoin header of its proof committing to
// another merkle root: the coinbase no longer belongs to the header, so the
// proof fails however lucky the header hash is.
func breakProof(t *testing.T, block *types.Block) *types.Block {
	t.Helper()
	seal, err := consensus.DecodeSeal(block.Extra())
	if err != nil || seal.Proof == nil {
		t.Fatalf("block %d has no proof: %v", block.NumberU64(), err)
	}
	header80 := append([]byte(nil), seal.Proof.BitcoinHeader...)
	header80[36] ^= 0xff // first byte of the merkle root
	seal.Proof.BitcoinHeader = header80
	h := block.Header()
	h.Extra = seal.Bytes()
	bad := types.NewBlockWithHeader(h).WithBody(*block.Body())
	if bad.Hash() == block.Hash() {
		t.Fatal("tampering left the block hash unchanged")
	}
	return bad
}

func consensusWork(t *testing.T, h *types.Header) *big.Int {
	t.Helper()
	seal, err := consensus.DecodeSeal(h.Extra)
	if err != nil {
		t.Fatal(err)
	}
	return seal.Difficulty
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

func waitErr(t *testing.T, ch <-chan error, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(timeout):
		t.Fatalf("nothing happened in %v", timeout)
		return nil
	}
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
