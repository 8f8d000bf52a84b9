package node

import (
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
)

// noPeersInterval is how often a node of a public network with no peers
// says so.
var noPeersInterval = time.Minute

// peerWatch warns, at start and every noPeersInterval while it lasts, that
// a node of a public network (one whose spec is not Local) has no peers: it
// cannot sync, and its head, block 0 on a new testnet, says nothing about
// the network's. On dev and regtest a lone node is the whole network.
type peerWatch struct {
	n    *Node
	quit chan struct{}
	done chan struct{}
}

func (w *peerWatch) Start() error {
	w.quit, w.done = make(chan struct{}), make(chan struct{})
	if len(w.n.cfg.Bootnodes) == 0 {
		log.Warn("No bootnodes: this node finds no peers unless others dial it; pass --bootnodes enode://...",
			"network", w.n.cfg.Spec.Name)
	}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(noPeersInterval)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
				if w.n.stack.Server().PeerCount() == 0 {
					w.warn()
				}
			}
		}
	}()
	return nil
}

func (w *peerWatch) warn() {
	log.Warn("No peers: not syncing, the head is only what this node has", "network", w.n.cfg.Spec.Name,
		"head", w.n.chain.CurrentBlock().Number, "bootnodes", len(w.n.cfg.Bootnodes))
}

func (w *peerWatch) Stop() error {
	close(w.quit)
	<-w.done
	return nil
}

// noPeersProgress is eth_syncing's answer on a public network's node with
// no peers. It is an object, not false: tools read any object as "not in
// sync yet", which is true of a node that cannot see the network (a health
// check or deploy script waiting for false must not go ahead on a testnet
// node stuck at block 0). It keeps the fields of geth's progress object,
// all at the head, so tools that read them still work, and adds peers (0)
// and status, which say why.
type noPeersProgress struct {
	syncProgress
	Peers  hexutil.Uint64 `json:"peers"`
	Status string         `json:"status"`
}

// noPeersStatus is noPeersProgress's status, documented in the README.
const noPeersStatus = "no peers"
