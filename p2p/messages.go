package p2p

import (
	"fmt"
	"io"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// statusPacket is the first message each side sends.
type statusPacket struct {
	ProtocolVersion uint64
	NetworkID       uint64
	Genesis         common.Hash
	Head            common.Hash
	Number          uint64   // number of Head
	Work            *big.Int // cumulative work of Head
}

// newBlockPacket propagates a whole block with the sender's cumulative work at
// it. The work is a claim used to pick the sync peer, never trusted for fork
// choice. It is what we send; a received one is read as a blockInbound.
type newBlockPacket struct {
	Block *types.Block
	Work  *big.Int
}

// blockInbound is a received NewBlock: the same encoding as newBlockPacket,
// with only the header and the work decoded. The body's lists are kept
// encoded (and counted) until the block has passed the header checks: a
// known block, one whose parent we lack or one without a valid proof costs
// its bytes read, not the building of thousands of transactions.
type blockInbound struct {
	Block struct {
		Header      *types.Header
		Txs         rlp.RawList[*types.Transaction]
		Uncles      rlp.RawList[*types.Header]
		Withdrawals *rlp.RawList[*types.Withdrawal] `rlp:"optional"`
	}
	Work *big.Int
}

// block decodes the body and returns the whole block.
func (b *blockInbound) block() (*types.Block, error) {
	var (
		body types.Body
		err  error
	)
	if body.Transactions, err = b.Block.Txs.Items(); err != nil {
		return nil, fmt.Errorf("transactions: %w", err)
	}
	if body.Uncles, err = b.Block.Uncles.Items(); err != nil {
		return nil, fmt.Errorf("uncles: %w", err)
	}
	if b.Block.Withdrawals != nil {
		if body.Withdrawals, err = b.Block.Withdrawals.Items(); err != nil {
			return nil, fmt.Errorf("withdrawals: %w", err)
		}
		if body.Withdrawals == nil {
			body.Withdrawals = []*types.Withdrawal{} // present, if empty
		}
	}
	return types.NewBlockWithHeader(b.Block.Header).WithBody(body), nil
}

// blockAnnounce is one entry of NewBlockHashes.
type blockAnnounce struct {
	Hash   common.Hash
	Number uint64
	Work   *big.Int
}

// newBlockHashesPacket announces blocks without their content.
type newBlockHashesPacket []blockAnnounce

func (p *newBlockHashesPacket) DecodeRLP(s *rlp.Stream) error {
	items, err := decodeCapped[blockAnnounce](s, maxAnnounces)
	*p = items
	return err
}

// transactionsPacket gossips whole transactions.
type transactionsPacket []*types.Transaction

func (p *transactionsPacket) DecodeRLP(s *rlp.Stream) error {
	items, err := decodeCapped[*types.Transaction](s, maxTxsPerMsg)
	*p = items
	return err
}

// hashOrNumber is the origin of a header query: a hash if set, else a number.
// On the wire it is either a 32-byte string or an unsigned integer.
type hashOrNumber struct {
	Hash   common.Hash
	Number uint64
}

func (o hashOrNumber) EncodeRLP(w io.Writer) error {
	if o.Hash != (common.Hash{}) {
		return rlp.Encode(w, o.Hash)
	}
	return rlp.Encode(w, o.Number)
}

func (o *hashOrNumber) DecodeRLP(s *rlp.Stream) error {
	kind, size, err := s.Kind()
	if err != nil {
		return err
	}
	switch {
	case kind != rlp.String && kind != rlp.Byte:
		return fmt.Errorf("origin is a list")
	case size == common.HashLength:
		*o = hashOrNumber{}
		return s.Decode(&o.Hash)
	case size <= 8:
		*o = hashOrNumber{}
		o.Number, err = s.Uint64()
		return err
	default:
		return fmt.Errorf("origin of %d bytes is neither a hash nor a number", size)
	}
}

// getBlockHeadersPacket asks for Amount headers starting at Origin, Skip
// headers apart, towards genesis if Reverse.
type getBlockHeadersPacket struct {
	RequestID uint64
	Origin    hashOrNumber
	Amount    uint64
	Skip      uint64
	Reverse   bool
}

// blockHeadersPacket answers getBlockHeadersPacket. Responses are decoded by
// decodeResponse, which reads the request id before anything else.
type blockHeadersPacket struct {
	RequestID uint64
	Headers   []*types.Header
}

// getBlockBodiesPacket asks for the bodies of blocks by hash.
type getBlockBodiesPacket struct {
	RequestID uint64
	Hashes    []common.Hash
}

func (p *getBlockBodiesPacket) DecodeRLP(s *rlp.Stream) error {
	if _, err := s.List(); err != nil {
		return err
	}
	if err := s.Decode(&p.RequestID); err != nil {
		return err
	}
	items, err := decodeCapped[common.Hash](s, maxBodiesServe)
	if err != nil {
		return err
	}
	p.Hashes = items
	return s.ListEnd()
}

// blockBodiesPacket answers getBlockBodiesPacket (see blockHeadersPacket).
type blockBodiesPacket struct {
	RequestID uint64
	Bodies    []*types.Body
}

// decodeCapped decodes an RLP list of at most limit items. The list is first
// read raw and its items counted, so a message stuffed with tiny items costs
// no more than its own size before it is refused.
func decodeCapped[T any](s *rlp.Stream, limit int) ([]T, error) {
	var raw rlp.RawList[T]
	if err := s.Decode(&raw); err != nil {
		return nil, err
	}
	if raw.Len() > limit {
		return nil, fmt.Errorf("%w: %d > %d", errTooManyItems, raw.Len(), limit)
	}
	return raw.Items()
}

// expectFunc tells how many items a response with the given code and request
// id may hold, or why it is not wanted at all.
type expectFunc func(code, id uint64) (int, error)

// decodeResponse decodes a response: its request id first, then, only if
// expect wants it, at most as many items as were asked. A response nobody
// asked for costs its size in bytes read, not the allocation of its items
// (a 9 MB BlockBodies is some 100,000 transactions to build).
func decodeResponse[T any](s *rlp.Stream, code uint64, expect expectFunc) (uint64, []T, error) {
	if _, err := s.List(); err != nil {
		return 0, nil, err
	}
	id, err := s.Uint64()
	if err != nil {
		return 0, nil, err
	}
	limit, err := expect(code, id)
	if err != nil {
		return id, nil, err
	}
	items, err := decodeCapped[T](s, limit)
	if err != nil {
		return id, nil, err
	}
	return id, items, s.ListEnd()
}
