package p2p

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// withdrawalSize bounds the RLP size of one withdrawal (four short fields).
const withdrawalSize = 56

// serveHeaders answers a header query from the chain, up to maxHeadersServe
// headers and about softResponseLimit bytes. Walking forward or skipping is
// only possible along the canonical chain; off it the origin is served alone,
// or followed by its ancestors when asked for consecutive headers backwards.
func (h *Handler) serveHeaders(q *getBlockHeadersPacket) []*types.Header {
	amount := min(q.Amount, maxHeadersServe)
	if amount == 0 {
		return nil
	}
	byHash := q.Origin.Hash != (common.Hash{})
	var origin *types.Header
	if byHash {
		origin = h.chain.GetHeaderByHash(q.Origin.Hash)
	} else {
		origin = h.chain.GetHeaderByNumber(q.Origin.Number)
	}
	if origin == nil {
		return nil
	}
	canonical := !byHash || h.isCanonical(origin)
	step := q.Skip + 1 // wraps to 0 for the largest skip, which reaches nothing

	headers := []*types.Header{origin}
	size := origin.Size()
	for cur := origin; uint64(len(headers)) < amount && size < softResponseLimit; {
		n := cur.Number.Uint64()
		var next *types.Header
		switch {
		case !canonical && q.Reverse && q.Skip == 0:
			next = h.chain.GetHeaderByHash(cur.ParentHash)
		case !canonical || step == 0:
		case q.Reverse:
			if n >= step {
				next = h.chain.GetHeaderByNumber(n - step)
			}
		default:
			if n+step > n {
				next = h.chain.GetHeaderByNumber(n + step)
			}
		}
		if next == nil {
			break
		}
		headers = append(headers, next)
		size += next.Size()
		cur = next
	}
	return headers
}

func (h *Handler) isCanonical(header *types.Header) bool {
	c := h.chain.GetHeaderByNumber(header.Number.Uint64())
	return c != nil && c.Hash() == header.Hash()
}

// serveBodies returns the bodies of the requested blocks in order, stopping at
// the first unknown one so that the answer stays a prefix of the request.
func (h *Handler) serveBodies(hashes []common.Hash) []*types.Body {
	var (
		bodies []*types.Body
		size   common.StorageSize
	)
	for _, hash := range hashes {
		if size >= softResponseLimit {
			break
		}
		body := h.chain.GetBody(hash)
		if body == nil {
			break
		}
		bodies = append(bodies, body)
		size += bodySize(body)
	}
	return bodies
}

// bodySize estimates the encoded size of a body, which is all a soft limit
// needs, without encoding it twice.
func bodySize(b *types.Body) common.StorageSize {
	size := common.StorageSize(len(b.Withdrawals) * withdrawalSize)
	for _, tx := range b.Transactions {
		size += common.StorageSize(tx.Size())
	}
	for _, u := range b.Uncles {
		size += u.Size()
	}
	return size
}
