package p2p

import (
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"
)

// request is an outstanding request waiting for the response with its id.
type request struct {
	respCode uint64    // the message code that answers it
	max      int       // most items the answer may hold
	sent     time.Time // when it was queued, for the round-trip estimate
	resp     chan any  // receives the answer's items; buffered

	// Guarded by the peer's reqMu. A stalled request outlived its stall
	// timeout: its caller gave up on it and the peer is passed over until
	// it answers; expire drops the peer at the drop timeout.
	stalled bool
	expire  *time.Timer
}

// rtt is the peer's round-trip estimate: it rises at once to a slower answer
// and decays slowly (by an eighth of the gap per answer) after faster ones,
// so a peer is judged by its slowest recent answer. The first estimate is
// the time its status took to arrive during the handshake.
func (p *peer) rtt() time.Duration { return time.Duration(p.rttEstimate.Load()) }

func (p *peer) observeRTT(sample time.Duration) {
	for {
		old := p.rttEstimate.Load()
		next := old + (int64(sample)-old)/8
		if int64(sample) > old {
			next = int64(sample)
		}
		if p.rttEstimate.CompareAndSwap(old, next) {
			return
		}
	}
}

// timeouts returns the peer's stall and drop timeouts (see the constants).
func (p *peer) timeouts() (stall, drop time.Duration) {
	rtt := p.rtt()
	return min(max(stallScale*rtt, minStallTimeout), maxStallTimeout),
		min(max(dropScale*rtt, minDropTimeout), maxDropTimeout)
}

// stalled reports whether the peer has a request past its stall timeout, in
// which case nothing more should be asked of it.
func (p *peer) stalled() bool { return p.stalls.Load() > 0 }

// roundTrip sends a request and waits for its answer. build makes the request
// packet for the id chosen here. If no answer comes within the peer's stall
// timeout it returns errTimeout at once, so that the caller can ask someone
// else; the request stays outstanding, the peer is passed over until it
// answers, and dropped if it has not by its drop timeout.
func (p *peer) roundTrip(code, respCode uint64, max int, build func(id uint64) any) (any, error) {
	id := p.nextID.Add(1)
	data, err := rlp.EncodeToBytes(build(id))
	if err != nil {
		return nil, err
	}
	stall, drop := p.timeouts()
	req := &request{respCode: respCode, max: max, sent: time.Now(), resp: make(chan any, 1)}
	p.reqMu.Lock()
	p.pending[id] = req
	p.reqMu.Unlock()

	timer := time.NewTimer(stall)
	defer timer.Stop()
	select {
	case p.requests <- outMsg{code, data}:
	case <-p.closed:
		p.forget(id)
		return nil, errPeerGone
	case <-timer.C:
		// Our own queue to the peer is full (large replies on a slow
		// link, say): ask someone else, but hold nothing against a peer
		// that never got the request. One that does not read at all is
		// caught by geth's ping and read deadlines.
		p.forget(id)
		return nil, errTimeout
	}
	select {
	case res := <-req.resp:
		return res, nil
	case <-p.closed:
		p.forget(id)
		return nil, errPeerGone
	case <-timer.C:
		if p.stall(id, req, drop-stall) {
			return nil, errTimeout
		}
		return <-req.resp, nil // answered just as the timer fired
	}
}

// stall marks a request its caller gives up on and arms the drop at its drop
// timeout. It reports false if the request was answered meanwhile.
func (p *peer) stall(id uint64, req *request, untilDrop time.Duration) bool {
	p.reqMu.Lock()
	defer p.reqMu.Unlock()
	if p.pending[id] != req {
		return false
	}
	req.stalled = true
	p.stalls.Add(1)
	req.expire = time.AfterFunc(untilDrop, func() {
		p.reqMu.Lock()
		expired := p.pending[id] == req
		if expired {
			delete(p.pending, id)
		}
		p.reqMu.Unlock()
		if expired {
			p.drop(gethp2p.DiscReadTimeout, fmt.Errorf("%w: no answer to request %d in %v", errTimeout, id, time.Since(req.sent)))
		}
	})
	p.Log().Debug("Peer stalled", "id", id, "rtt", p.rtt(), "after", time.Since(req.sent))
	return true
}

// forget removes a request whose peer is gone.
func (p *peer) forget(id uint64) {
	p.reqMu.Lock()
	delete(p.pending, id)
	p.reqMu.Unlock()
}

// expect tells the decoder how many items the response with the given code
// and id may hold, before it decodes any: a response that answers no
// outstanding request is refused unread, as is one of the wrong kind. Every
// request we send stays outstanding until answered or until its peer is
// dropped, so an unknown id is never a late answer but a made-up one.
func (p *peer) expect(code, id uint64) (int, error) {
	p.reqMu.Lock()
	req := p.pending[id]
	p.reqMu.Unlock()
	switch {
	case req == nil:
		return 0, fmt.Errorf("%w: message %#x, id %d", errUnsolicited, code, id)
	case req.respCode != code:
		return 0, fmt.Errorf("%w: message %#x answers request %d", errBadResponse, code, id)
	}
	return req.max, nil
}

// deliver hands a response, decoded within expect's bounds, to the request
// waiting for it and updates the round-trip estimate. It reports whether the
// answer ended the peer's stall, so that work passed over can resume.
func (p *peer) deliver(code, id uint64, items any) (resumed bool, err error) {
	p.reqMu.Lock()
	req := p.pending[id]
	if req == nil || req.respCode != code {
		p.reqMu.Unlock()
		return false, protocolError("%w: message %#x, id %d", errUnsolicited, code, id)
	}
	delete(p.pending, id)
	if req.stalled {
		req.expire.Stop()
		resumed = p.stalls.Add(-1) == 0
	}
	p.reqMu.Unlock()
	p.observeRTT(time.Since(req.sent))
	req.resp <- items
	return resumed, nil
}

// requestHeaders asks for amount headers from origin, skip apart.
func (p *peer) requestHeaders(origin hashOrNumber, amount, skip uint64, reverse bool) ([]*types.Header, error) {
	res, err := p.roundTrip(getBlockHeadersMsg, blockHeadersMsg, int(amount), func(id uint64) any {
		return &getBlockHeadersPacket{RequestID: id, Origin: origin, Amount: amount, Skip: skip, Reverse: reverse}
	})
	if err != nil {
		return nil, err
	}
	return res.([]*types.Header), nil
}

// requestBodies asks for the bodies of the given blocks; the answer is a
// prefix of the request.
func (p *peer) requestBodies(hashes []common.Hash) ([]*types.Body, error) {
	res, err := p.roundTrip(getBlockBodiesMsg, blockBodiesMsg, len(hashes), func(id uint64) any {
		return &getBlockBodiesPacket{RequestID: id, Hashes: hashes}
	})
	if err != nil {
		return nil, err
	}
	return res.([]*types.Body), nil
}
