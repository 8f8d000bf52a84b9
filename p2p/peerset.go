package p2p

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"sync"
)

var errAlreadyRegistered = errors.New("peer already registered")

// peerSet is the set of peers past their handshake.
type peerSet struct {
	mu    sync.RWMutex
	peers map[string]*peer
}

func newPeerSet() *peerSet {
	return &peerSet{peers: make(map[string]*peer)}
}

func (ps *peerSet) register(p *peer) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if _, ok := ps.peers[p.id]; ok {
		return errAlreadyRegistered
	}
	ps.peers[p.id] = p
	return nil
}

func (ps *peerSet) unregister(p *peer) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.peers[p.id] == p {
		delete(ps.peers, p.id)
	}
}

func (ps *peerSet) len() int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return len(ps.peers)
}

// all returns the peers in random order, so that whoever takes the first few
// does not always favour the same ones.
func (ps *peerSet) all() []*peer {
	ps.mu.RLock()
	list := make([]*peer, 0, len(ps.peers))
	for _, p := range ps.peers {
		list = append(list, p)
	}
	ps.mu.RUnlock()
	rand.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list
}

// heaviest returns the peer claiming the most cumulative work, or nil.
// Stalled peers are passed over: they get another turn once they answer.
func (ps *peerSet) heaviest() *peer {
	var (
		best     *peer
		bestWork = new(big.Int)
	)
	for _, p := range ps.all() {
		if p.stalled() {
			continue
		}
		if _, _, work := p.headInfo(); best == nil || work.Cmp(bestWork) > 0 {
			best, bestWork = p, work
		}
	}
	return best
}
