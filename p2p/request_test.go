package p2p

import (
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func TestDeliver(t *testing.T) {
	p := newPeer(gethp2p.NewPeer(enode.ID{1}, "test", nil), nil)
	pending := func(id uint64) chan any {
		ch := make(chan any, 1)
		p.pending[id] = &request{respCode: blockHeadersMsg, max: 2, resp: ch}
		return ch
	}
	isProtocolError := func(err error) bool {
		pe, ok := err.(*peerError)
		return ok && pe.reason == gethp2p.DiscProtocolError
	}

	// Nobody waits for id 9: a late answer, ignored.
	if err := p.deliver(blockHeadersMsg, 9, []*types.Header{}, 0); err != nil {
		t.Errorf("unknown id: %v", err)
	}
	pending(1)
	if err := p.deliver(blockHeadersMsg, 1, []*types.Header{{}, {}, {}}, 3); !isProtocolError(err) {
		t.Errorf("more items than asked: %v", err)
	}
	if err := p.deliver(blockBodiesMsg, 1, []*types.Body{}, 0); !isProtocolError(err) {
		t.Errorf("wrong kind of answer: %v", err)
	}
	ch := pending(2)
	answer := []*types.Header{{}, {}}
	if err := p.deliver(blockHeadersMsg, 2, answer, 2); err != nil {
		t.Fatalf("valid answer: %v", err)
	}
	if got := (<-ch).([]*types.Header); len(got) != 2 {
		t.Errorf("delivered %d headers", len(got))
	}
	if _, ok := p.pending[2]; ok {
		t.Error("answered request still pending")
	}
	// The same id again is now unknown.
	if err := p.deliver(blockHeadersMsg, 2, answer, 2); err != nil || len(ch) != 0 {
		t.Errorf("second answer: err %v, %d delivered", err, len(ch))
	}
}
