package p2p

import (
	"fmt"
	"time"

	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// handshake exchanges status messages and checks that the peer is on our
// network. Both sides send at once; geth tears the connection down on
// timeout, which unblocks the pending read.
func (h *Handler) handshake(rw gethp2p.MsgReadWriter) (*statusPacket, error) {
	ours := h.status()
	errc := make(chan error, 2)
	var theirs *statusPacket
	go func() {
		errc <- gethp2p.Send(rw, statusMsg, ours)
	}()
	go func() {
		var err error
		theirs, err = h.readStatus(rw, ours)
		errc <- err
	}()
	timeout := time.NewTimer(handshakeTimeout)
	defer timeout.Stop()
	for range 2 {
		select {
		case err := <-errc:
			if err != nil {
				return nil, err
			}
		case <-h.quit:
			return nil, gethp2p.DiscQuitting
		case <-timeout.C:
			return nil, &peerError{reason: gethp2p.DiscReadTimeout, err: fmt.Errorf("no status in %v", handshakeTimeout)}
		}
	}
	return theirs, nil
}

func (h *Handler) readStatus(rw gethp2p.MsgReadWriter, ours *statusPacket) (*statusPacket, error) {
	msg, err := rw.ReadMsg()
	if err != nil {
		return nil, err
	}
	defer msg.Discard()
	if msg.Code != statusMsg {
		return nil, protocolError("%w: code %#x", errNoStatus, msg.Code)
	}
	pkt, err := decodeMsg(msg, h.maxMessageSize, nil)
	if err != nil {
		return nil, err
	}
	status := pkt.(*statusPacket)
	switch {
	case status.ProtocolVersion != ours.ProtocolVersion:
		return nil, uselessError(fmt.Errorf("%w: %d, ours %d", errVersionMismatch, status.ProtocolVersion, ours.ProtocolVersion))
	case status.NetworkID != ours.NetworkID:
		return nil, uselessError(fmt.Errorf("%w: %d, ours %d", errNetworkMismatch, status.NetworkID, ours.NetworkID))
	case status.Genesis != ours.Genesis:
		return nil, uselessError(fmt.Errorf("%w: %x, ours %x", errGenesisMismatch, status.Genesis, ours.Genesis))
	}
	return status, nil
}

// status describes our head as it is now.
func (h *Handler) status() *statusPacket {
	head := h.chain.CurrentBlock()
	return &statusPacket{
		ProtocolVersion: ProtocolVersion,
		NetworkID:       h.networkID,
		Genesis:         h.genesis,
		Head:            head.Hash(),
		Number:          head.Number.Uint64(),
		Work:            h.work(head.Hash()),
	}
}
