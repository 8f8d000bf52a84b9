package p2p

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"
)

// blockImport is a propagated block waiting for the import loop.
type blockImport struct {
	peer  *peer
	block *types.Block
}

// BroadcastBlock propagates a block the chain already holds: the whole block to
// the square root of the peers that do not know it, its hash to the others.
// The node calls it for every block it mines, after inserting it; blocks from
// peers are relayed by the handler itself.
func (h *Handler) BroadcastBlock(block *types.Block) {
	hash := block.Hash()
	work := h.chain.Work(hash)
	if work == nil {
		log.Warn("Not broadcasting a block the chain does not hold", "number", block.Number(), "hash", hash)
		return
	}
	peers := h.peersWithout(hash)
	if len(peers) == 0 {
		return
	}
	full, err := rlp.EncodeToBytes(&newBlockPacket{Block: block, Work: work})
	if err != nil {
		log.Error("Cannot encode block for propagation", "number", block.Number(), "hash", hash, "err", err)
		return
	}
	ann, err := encodeAnnounce(hash, block.NumberU64(), work)
	if err != nil {
		log.Error("Cannot encode block announcement", "number", block.Number(), "hash", hash, "err", err)
		return
	}
	nfull := int(math.Sqrt(float64(len(peers))))
	for i, p := range peers {
		p.markBlock(hash)
		if i < nfull {
			tryQueue(p.blocks, newBlockMsg, full)
		} else {
			tryQueue(p.blocks, newBlockHashesMsg, ann)
		}
	}
	log.Debug("Propagated block", "number", block.Number(), "hash", hash, "full", nfull, "announced", len(peers)-nfull)
}

// announceHead tells every peer that does not know it about our head, after a
// sync moved it.
func (h *Handler) announceHead() {
	head := h.chain.CurrentBlock()
	hash := head.Hash()
	ann, err := encodeAnnounce(hash, head.Number.Uint64(), h.work(hash))
	if err != nil {
		log.Error("Cannot encode block announcement", "number", head.Number, "hash", hash, "err", err)
		return
	}
	for _, p := range h.peersWithout(hash) {
		p.markBlock(hash)
		tryQueue(p.blocks, newBlockHashesMsg, ann)
	}
}

func encodeAnnounce(hash common.Hash, number uint64, work *big.Int) ([]byte, error) {
	return rlp.EncodeToBytes(newBlockHashesPacket{{Hash: hash, Number: number, Work: work}})
}

func (h *Handler) peersWithout(hash common.Hash) []*peer {
	var list []*peer
	for _, p := range h.peers.all() {
		if !p.knowsBlock(hash) {
			list = append(list, p)
		}
	}
	return list
}

// handleNewBlock queues a propagated block for import.
func (h *Handler) handleNewBlock(p *peer, pkt *newBlockPacket) {
	hash := pkt.Block.Hash()
	p.markBlock(hash)
	p.setHead(hash, pkt.Block.NumberU64(), pkt.Work)
	h.queueImport(p, pkt.Block)
}

// handleNewBlockHashes fetches the announced blocks we do not have.
func (h *Handler) handleNewBlockHashes(p *peer, anns newBlockHashesPacket) {
	for _, a := range anns {
		p.markBlock(a.Hash)
		p.setHead(a.Hash, a.Number, a.Work)
		if !h.chain.HasBlock(a.Hash, a.Number) {
			h.fetchAnnounced(p, a.Hash)
		}
	}
}

func (h *Handler) queueImport(p *peer, block *types.Block) {
	select {
	case h.imports <- blockImport{peer: p, block: block}:
	default:
		log.Debug("Import queue full, dropping propagated block", "number", block.Number(), "hash", block.Hash())
	}
}

// fetchAnnounced fetches an announced block from the peer that announced it,
// unless it is already being fetched or too many fetches are under way.
func (h *Handler) fetchAnnounced(p *peer, hash common.Hash) {
	h.fetchMu.Lock()
	if _, ok := h.fetching[hash]; ok || len(h.fetching) >= maxAnnounceFetches {
		h.fetchMu.Unlock()
		return
	}
	h.fetching[hash] = struct{}{}
	h.fetchMu.Unlock()
	done := func() {
		h.fetchMu.Lock()
		delete(h.fetching, hash)
		h.fetchMu.Unlock()
	}
	if !h.spawn(func() { defer done(); h.fetchBlock(p, hash) }) {
		done()
	}
}

func (h *Handler) fetchBlock(p *peer, hash common.Hash) {
	headers, err := p.requestHeaders(hashOrNumber{Hash: hash}, 1, 0, false)
	if err != nil || len(headers) == 0 {
		p.Log().Debug("Announced block not delivered", "hash", hash, "err", err)
		return
	}
	header := headers[0]
	if header.Hash() != hash {
		p.drop(gethp2p.DiscProtocolError, fmt.Errorf("%w: header %x for %x", errBadResponse, header.Hash(), hash))
		return
	}
	body, ok := emptyBody(header)
	if !ok {
		bodies, err := p.requestBodies([]common.Hash{hash})
		if err != nil || len(bodies) == 0 {
			p.Log().Debug("Announced block body not delivered", "hash", hash, "err", err)
			return
		}
		body = bodies[0]
	}
	h.queueImport(p, types.NewBlockWithHeader(header).WithBody(*body))
}

// importLoop imports propagated blocks one at a time, so that a block sent by
// several peers is verified once.
func (h *Handler) importLoop() {
	defer h.wg.Done()
	for {
		select {
		case imp := <-h.imports:
			h.importBlock(imp.peer, imp.block)
		case <-h.quit:
			return
		}
	}
}

// importBlock checks a propagated block and imports it. Its body is checked
// against its header and its header by the consensus engine before the chain
// sees it, so an invalid block never reaches the database and its sender is
// dropped. A block whose parent we lack means we are behind: sync.
func (h *Handler) importBlock(p *peer, block *types.Block) {
	hash, number := block.Hash(), block.NumberU64()
	if h.chain.HasBlock(hash, number) {
		return
	}
	var parent *types.Header
	if number > 0 && h.chain.HasBlock(block.ParentHash(), number-1) {
		parent = h.chain.GetHeaderByHash(block.ParentHash())
	}
	if parent == nil {
		h.requestSync()
		return
	}
	header := block.Header()
	if err := checkBody(header, block.Body()); err != nil {
		p.drop(gethp2p.DiscUselessPeer, fmt.Errorf("block %d %x: %w", number, hash, err))
		return
	}
	if err := h.chain.VerifyHeaders(parent, []*types.Header{header}); err != nil {
		if errors.Is(err, consensus.ErrFutureBlock) {
			p.Log().Debug("Ignoring propagated block from the future", "number", number, "hash", hash)
			return
		}
		p.drop(gethp2p.DiscUselessPeer, fmt.Errorf("block %d %x: invalid header: %w", number, hash, err))
		return
	}
	if _, err := h.chain.InsertBlocks([]*types.Block{block}); err != nil {
		if blockFault(err) {
			p.drop(gethp2p.DiscUselessPeer, fmt.Errorf("block %d %x: import failed: %w", number, hash, err))
		} else {
			p.Log().Debug("Propagated block not imported", "number", number, "hash", hash, "err", err)
		}
		return
	}
	if h.chain.CurrentBlock().Hash() == hash {
		h.BroadcastBlock(block)
	}
}
