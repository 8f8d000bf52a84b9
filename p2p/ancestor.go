package p2p

import (
	"github.com/ethereum/go-ethereum/core/types"
)

// findAncestor finds the highest block of the peer's canonical chain that we
// have. It first probes the ancestorProbe blocks below the lower of the two
// heads, which settles the usual cases (we are behind, or a short fork) in
// one round trip, then binary-searches below the probe: holding a block means
// holding all its ancestors, so "we have the peer's block at n" is monotonic
// in n. Genesis is common, the handshake made sure of it.
func (h *Handler) findAncestor(p *peer, localHead, remoteHead uint64) (*types.Header, error) {
	top := min(localHead, remoteHead)
	count := min(uint64(ancestorProbe), top+1)
	from := top + 1 - count
	headers, err := p.requestHeaders(hashOrNumber{Number: from}, count, 0, false)
	if err != nil {
		return nil, err
	}
	if len(headers) == 0 {
		return nil, errNoHeaders
	}
	for i, header := range headers {
		if header.Number.Uint64() != from+uint64(i) {
			return nil, protocolError("%w: header %d at position %d of a query from %d", errBadResponse, header.Number, i, from)
		}
	}
	for i := len(headers) - 1; i >= 0; i-- {
		if h.chain.HasBlock(headers[i].Hash(), headers[i].Number.Uint64()) {
			return headers[i], nil
		}
	}
	lo, hi := uint64(0), from // we hold the peer's block at lo, not the one at hi
	common := h.chain.Genesis().Header()
	for lo+1 < hi {
		if h.closing() {
			return nil, errQuitting
		}
		mid := lo + (hi-lo)/2
		headers, err := p.requestHeaders(hashOrNumber{Number: mid}, 1, 0, false)
		if err != nil {
			return nil, err
		}
		if len(headers) == 0 {
			return nil, errNoHeaders
		}
		if n := headers[0].Number.Uint64(); n != mid {
			return nil, protocolError("%w: header %d for a query of %d", errBadResponse, n, mid)
		}
		if h.chain.HasBlock(headers[0].Hash(), mid) {
			lo, common = mid, headers[0]
		} else {
			hi = mid
		}
	}
	return common, nil
}
