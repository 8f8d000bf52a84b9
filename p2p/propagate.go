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

// blockImport is a propagated block waiting for the import loop. Its body is
// decoded by block, and only once its header has passed the engine.
type blockImport struct {
	peer   *peer
	header *types.Header
	block  func() (*types.Block, error)
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
	h.sendBlock(block, work)
	h.announceBlock(hash, block.NumberU64(), work)
}

// sendBlock sends the whole block to the square root of the peers that do
// not know it yet.
func (h *Handler) sendBlock(block *types.Block, work *big.Int) {
	hash := block.Hash()
	peers := h.peersWithout(hash)
	n := int(math.Sqrt(float64(len(peers))))
	if n == 0 {
		return
	}
	full, err := rlp.EncodeToBytes(&newBlockPacket{Block: block, Work: work})
	if err != nil {
		log.Error("Cannot encode block for propagation", "number", block.Number(), "hash", hash, "err", err)
		return
	}
	for _, p := range peers[:n] {
		p.markBlock(hash)
		tryQueue(p.blocks, newBlockMsg, full)
	}
	log.Debug("Propagated block", "number", block.Number(), "hash", hash, "peers", n)
}

// announceBlock sends a block's hash to every peer that does not know it.
func (h *Handler) announceBlock(hash common.Hash, number uint64, work *big.Int) {
	peers := h.peersWithout(hash)
	if len(peers) == 0 {
		return
	}
	ann, err := encodeAnnounce(hash, number, work)
	if err != nil {
		log.Error("Cannot encode block announcement", "number", number, "hash", hash, "err", err)
		return
	}
	for _, p := range peers {
		p.markBlock(hash)
		tryQueue(p.blocks, newBlockHashesMsg, ann)
	}
	log.Debug("Announced block", "number", number, "hash", hash, "peers", len(peers))
}

// announceHead tells every peer that does not know it about our head, after a
// sync moved it.
func (h *Handler) announceHead() {
	head := h.chain.CurrentBlock()
	hash := head.Hash()
	h.announceBlock(hash, head.Number.Uint64(), h.work(hash))
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

// handleNewBlock queues a propagated block for import unless we hold it: a
// known block's body is never decoded.
func (h *Handler) handleNewBlock(p *peer, pkt *blockInbound) {
	header := pkt.Block.Header
	hash, number := header.Hash(), header.Number.Uint64()
	p.markBlock(hash)
	p.setHead(hash, number, pkt.Work)
	if !h.chain.HasBlock(hash, number) {
		h.queueImport(blockImport{peer: p, header: header, block: pkt.block})
	}
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

func (h *Handler) queueImport(imp blockImport) {
	select {
	case h.imports <- imp:
	default:
		log.Debug("Import queue full, dropping propagated block", "number", imp.header.Number, "hash", imp.header.Hash())
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
	block := types.NewBlockWithHeader(header).WithBody(*body)
	h.queueImport(blockImport{peer: p, header: header, block: func() (*types.Block, error) { return block, nil }})
}

// importLoop imports propagated blocks one at a time, so that a block sent by
// several peers is verified once.
func (h *Handler) importLoop() {
	defer h.wg.Done()
	for {
		select {
		case imp := <-h.imports:
			h.importBlock(imp)
		case <-h.quit:
			return
		}
	}
}

// importBlock checks a propagated block, relays it and imports it. Its
// header goes through the engine before its body is even decoded, and the
// whole block through every rule that needs no state before the chain
// executes it: an invalid block never reaches the database and its sender
// is dropped. A block that would become our head is then sent whole to the
// square root of our peers before it is executed, and announced to the rest
// once it is our head, as geth's pre-merge block fetcher did (eth/fetcher
// block_fetcher.go, v1.10): each hop adds a proof check, not an execution,
// to the block's way across the network. Such a block that fails execution
// costs its sender nothing, since we would have relayed it as well. A block
// whose parent we lack means we are behind: sync.
func (h *Handler) importBlock(imp blockImport) {
	p, header := imp.peer, imp.header
	hash, number := header.Hash(), header.Number.Uint64()
	if h.chain.HasBlock(hash, number) {
		return
	}
	var parent *types.Header
	if number > 0 && h.chain.HasBlock(header.ParentHash, number-1) {
		parent = h.chain.GetHeaderByHash(header.ParentHash)
	}
	if parent == nil {
		h.requestSync()
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
	block, err := imp.block()
	if err != nil {
		p.drop(gethp2p.DiscProtocolError, fmt.Errorf("block %d %x: %w", number, hash, err))
		return
	}
	work, err := h.chain.VerifyBlock(parent, block)
	if err != nil {
		if blockFault(err) {
			p.drop(gethp2p.DiscUselessPeer, fmt.Errorf("block %d %x: %w", number, hash, err))
		} else {
			p.Log().Debug("Propagated block not verified", "number", number, "hash", hash, "err", err)
		}
		return
	}
	relayed := work.Cmp(h.work(h.chain.CurrentBlock().Hash())) > 0
	if relayed {
		h.sendBlock(block, work)
	}
	if _, err := h.chain.InsertBlocks([]*types.Block{block}); err != nil {
		if blockFault(err) && !relayed {
			p.drop(gethp2p.DiscUselessPeer, fmt.Errorf("block %d %x: import failed: %w", number, hash, err))
		} else {
			p.Log().Debug("Propagated block not imported", "number", number, "hash", hash, "err", err)
		}
		return
	}
	if h.chain.CurrentBlock().Hash() == hash {
		h.announceBlock(hash, number, work)
	}
}
