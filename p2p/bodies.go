package p2p

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// bodyTask is a run of blocks whose bodies are still to be fetched.
type bodyTask struct {
	idx   []int          // positions in the header batch
	tried map[*peer]bool // peers that failed to deliver them
}

type bodyResult struct {
	peer   *peer
	task   *bodyTask
	bodies []*types.Body
	err    error
}

// fetchBodies completes a verified header batch into blocks. Bodies are asked
// from all peers in parallel, maxBodyFetch at a time, at most one request per
// peer, spreading the tasks evenly; whatever a peer does not deliver goes back
// to the queue for another peer, at once if it stalled (see roundTrip). Each
// body is checked against its header, so
// any peer's body is as good as the sync peer's, and a peer that sends a body
// that does not match is dropped.
func (h *Handler) fetchBodies(syncPeer *peer, headers []*types.Header) ([]*types.Block, error) {
	blocks := make([]*types.Block, len(headers))
	var missing []int
	for i, header := range headers {
		if body, ok := emptyBody(header); ok {
			blocks[i] = types.NewBlockWithHeader(header).WithBody(*body)
		} else {
			missing = append(missing, i)
		}
	}
	var queue []*bodyTask
	for len(missing) > 0 {
		n := min(len(missing), maxBodyFetch)
		queue = append(queue, &bodyTask{idx: missing[:n], tried: make(map[*peer]bool)})
		missing = missing[n:]
	}
	var (
		results  = make(chan bodyResult)
		busy     = make(map[*peer]bool)
		assigned = make(map[*peer]int)
		inflight int
		failure  error
	)
	for len(queue) > 0 || inflight > 0 {
		if failure == nil && h.closing() {
			failure = errQuitting
		}
		for failure == nil && len(queue) > 0 {
			task := queue[0]
			last := headers[task.idx[len(task.idx)-1]].Number.Uint64()
			p := pickBodyPeer(h.peers.all(), task, busy, assigned, syncPeer, last)
			if p == nil {
				break
			}
			queue = queue[1:]
			busy[p] = true
			assigned[p]++
			inflight++
			hashes := make([]common.Hash, len(task.idx))
			for j, i := range task.idx {
				hashes[j] = headers[i].Hash()
			}
			go func() {
				bodies, err := p.requestBodies(hashes)
				results <- bodyResult{peer: p, task: task, bodies: bodies, err: err}
			}()
		}
		if inflight == 0 {
			if failure == nil {
				failure = errNoBodies
			}
			break
		}
		r := <-results
		inflight--
		delete(busy, r.peer)
		if r.err != nil || len(r.bodies) == 0 {
			r.peer.Log().Trace("Bodies not delivered", "count", len(r.task.idx), "err", r.err)
			r.task.tried[r.peer] = true
			queue = append(queue, r.task)
			continue
		}
		for j, body := range r.bodies {
			i := r.task.idx[j]
			if err := checkBody(headers[i], body); err != nil {
				r.peer.drop(gethp2p.DiscUselessPeer, err)
				r.task.tried[r.peer] = true
				break
			}
			blocks[i] = types.NewBlockWithHeader(headers[i]).WithBody(*body)
		}
		var rest []int
		for _, i := range r.task.idx {
			if blocks[i] == nil {
				rest = append(rest, i)
			}
		}
		if len(rest) > 0 {
			queue = append(queue, &bodyTask{idx: rest, tried: r.task.tried})
		}
	}
	if failure != nil {
		return nil, failure
	}
	return blocks, nil
}

// pickBodyPeer picks the idle peer with the fewest tasks so far among those
// that have not failed this task, are not stalled and may hold its blocks.
func pickBodyPeer(peers []*peer, task *bodyTask, busy map[*peer]bool, assigned map[*peer]int, syncPeer *peer, last uint64) *peer {
	var best *peer
	for _, p := range peers {
		if busy[p] || task.tried[p] || p.stalled() {
			continue
		}
		if _, number, _ := p.headInfo(); p != syncPeer && number < last {
			continue
		}
		if best == nil || assigned[p] < assigned[best] {
			best = p
		}
	}
	return best
}
