package p2p

import (
	"github.com/ethereum/go-ethereum/rlp"
)

// handleMsg reads and handles one message from the peer. Any error it returns
// ends the connection.
func (h *Handler) handleMsg(p *peer) error {
	msg, err := p.rw.ReadMsg()
	if err != nil {
		return err
	}
	defer msg.Discard()
	if msg.Code == transactionsMsg && h.txpool == nil {
		return nil // not gossiping: no reason to even decode
	}
	pkt, err := decodeMsg(msg, h.maxMessageSize, p.expect)
	if err != nil {
		return err
	}
	switch pkt := pkt.(type) {
	case *statusPacket:
		return protocolError("%v", errUnexpectedStatus)
	case *getBlockHeadersPacket, *getBlockBodiesPacket:
		return queueServe(p, pkt)
	case *blockHeadersPacket:
		return h.deliver(p, blockHeadersMsg, pkt.RequestID, pkt.Headers)
	case *blockBodiesPacket:
		return h.deliver(p, blockBodiesMsg, pkt.RequestID, pkt.Bodies)
	case *blockInbound:
		h.handleNewBlock(p, pkt)
	case *newBlockHashesPacket:
		h.handleNewBlockHashes(p, *pkt)
	case *transactionsPacket:
		return h.handleTransactions(p, *pkt)
	}
	return nil
}

// deliver hands a response to its request. A stalled peer that answers is
// picked again, so a sync it held up may resume with it.
func (h *Handler) deliver(p *peer, code, id uint64, items any) error {
	resumed, err := p.deliver(code, id, items)
	if resumed {
		h.requestSync()
	}
	return err
}

// answer builds the response to a header or body request.
func (h *Handler) answer(req any) (uint64, []byte, error) {
	var (
		code uint64
		pkt  any
	)
	switch req := req.(type) {
	case *getBlockHeadersPacket:
		code, pkt = blockHeadersMsg, &blockHeadersPacket{RequestID: req.RequestID, Headers: h.serveHeaders(req)}
	case *getBlockBodiesPacket:
		code, pkt = blockBodiesMsg, &blockBodiesPacket{RequestID: req.RequestID, Bodies: h.serveBodies(req.Hashes)}
	}
	data, err := rlp.EncodeToBytes(pkt)
	return code, data, err
}
