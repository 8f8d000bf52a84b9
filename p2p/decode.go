package p2p

import (
	"fmt"
	"io"
	"math/big"

	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
)

// msgLimit is the largest payload accepted for a message code. Messages whose
// shape bounds their size get tight caps; those carrying chain data get the
// configured maximum.
func msgLimit(code uint64, maxMessageSize uint32) uint32 {
	switch code {
	case statusMsg:
		return maxStatusSize
	case getBlockHeadersMsg:
		return maxGetHeadersSize
	case getBlockBodiesMsg:
		return maxGetBodiesSize
	case newBlockHashesMsg:
		return maxNewBlockHashesSize
	default:
		return maxMessageSize
	}
}

// decodeMsg reads one message into its packet type and checks everything that
// can be checked without the chain: size, shape, item counts, field ranges.
// Responses are checked against the request they answer with expect, which
// may be nil where msg cannot be a response. Every error it returns is the
// sender's fault.
func decodeMsg(msg gethp2p.Msg, maxMessageSize uint32, expect expectFunc) (any, error) {
	if limit := msgLimit(msg.Code, maxMessageSize); msg.Size > limit {
		return nil, protocolError("%w: code %#x, %d > %d bytes", errMsgTooLarge, msg.Code, msg.Size, limit)
	}
	s := rlp.NewStream(msg.Payload, uint64(msg.Size))
	var (
		pkt any
		err error
	)
	switch msg.Code {
	case blockHeadersMsg:
		var p blockHeadersPacket
		p.RequestID, p.Headers, err = decodeResponse[*types.Header](s, msg.Code, expect)
		pkt = &p
	case blockBodiesMsg:
		var p blockBodiesPacket
		p.RequestID, p.Bodies, err = decodeResponse[*types.Body](s, msg.Code, expect)
		pkt = &p
	default:
		pkt, err = decodeOther(s, msg.Code)
	}
	if err != nil {
		return nil, protocolError("code %#x: %w", msg.Code, err)
	}
	if _, _, err := s.Kind(); err != io.EOF {
		return nil, protocolError("code %#x: trailing data", msg.Code)
	}
	if err := validatePacket(pkt); err != nil {
		return nil, protocolError("code %#x: %w", msg.Code, err)
	}
	return pkt, nil
}

// decodeOther decodes the messages that are not responses.
func decodeOther(s *rlp.Stream, code uint64) (any, error) {
	var pkt any
	switch code {
	case statusMsg:
		pkt = new(statusPacket)
	case newBlockHashesMsg:
		pkt = new(newBlockHashesPacket)
	case transactionsMsg:
		pkt = new(transactionsPacket)
	case getBlockHeadersMsg:
		pkt = new(getBlockHeadersPacket)
	case getBlockBodiesMsg:
		pkt = new(getBlockBodiesPacket)
	case newBlockMsg:
		pkt = new(blockInbound)
	default:
		return nil, fmt.Errorf("%w: %#x", errInvalidMsgCode, code)
	}
	return pkt, s.Decode(pkt)
}

// validatePacket checks the fields RLP alone cannot bound.
func validatePacket(pkt any) error {
	switch p := pkt.(type) {
	case *statusPacket:
		return checkWork(p.Work)
	case *blockInbound:
		h := p.Block.Header
		if err := h.SanityCheck(); err != nil {
			return err
		}
		// Every transaction pays at least the intrinsic gas of a transfer.
		if n := p.Block.Txs.Len(); uint64(n) > h.GasLimit/params.TxGas {
			return fmt.Errorf("%w: %d transactions in %d gas", errTooManyItems, n, h.GasLimit)
		}
		return checkWork(p.Work)
	case *newBlockHashesPacket:
		for _, a := range *p {
			if err := checkWork(a.Work); err != nil {
				return err
			}
		}
	case *blockHeadersPacket:
		for i, h := range p.Headers {
			if err := h.SanityCheck(); err != nil {
				return fmt.Errorf("header %d: %w", i, err)
			}
		}
	}
	return nil
}

func checkWork(work *big.Int) error {
	if work == nil || work.BitLen() > maxWorkBits {
		return errInvalidWork
	}
	return nil
}
