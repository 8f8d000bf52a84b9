package p2p

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// request is an outstanding request waiting for the response with its id.
type request struct {
	respCode uint64   // the message code that answers it
	max      int      // most items the answer may hold
	resp     chan any // receives the answer's items; buffered
}

// roundTrip sends a request and waits for its answer, at most requestTimeout.
// build makes the request packet for the id chosen here.
func (p *peer) roundTrip(code, respCode uint64, max int, build func(id uint64) any) (any, error) {
	id := p.nextID.Add(1)
	req := &request{respCode: respCode, max: max, resp: make(chan any, 1)}
	data, err := rlp.EncodeToBytes(build(id))
	if err != nil {
		return nil, err
	}
	p.reqMu.Lock()
	p.pending[id] = req
	p.reqMu.Unlock()
	defer func() {
		p.reqMu.Lock()
		delete(p.pending, id)
		p.reqMu.Unlock()
	}()

	timer := time.NewTimer(requestTimeout)
	defer timer.Stop()
	select {
	case p.requests <- outMsg{code, data}:
	case <-p.closed:
		return nil, errPeerGone
	case <-timer.C:
		return nil, errTimeout
	}
	select {
	case res := <-req.resp:
		return res, nil
	case <-p.closed:
		return nil, errPeerGone
	case <-timer.C:
		return nil, errTimeout
	}
}

// deliver hands a response to the request waiting for it. An answer nobody
// waits for is most likely late, after a timeout, and is ignored; an answer of
// the wrong kind or with more items than asked is a protocol breach.
func (p *peer) deliver(code, id uint64, items any, n int) error {
	p.reqMu.Lock()
	req := p.pending[id]
	if req != nil && req.respCode == code && n <= req.max {
		delete(p.pending, id)
	}
	p.reqMu.Unlock()
	switch {
	case req == nil:
		return nil
	case req.respCode != code:
		return protocolError("%w: message %#x answers request %d", errBadResponse, code, id)
	case n > req.max:
		return protocolError("%w: %d items for at most %d", errBadResponse, n, req.max)
	}
	req.resp <- items
	return nil
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
