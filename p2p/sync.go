package p2p

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
)

// Progress describes a chain sync in the terms of eth_syncing.
type Progress struct {
	StartingBlock uint64 // our head when the sync started
	CurrentBlock  uint64 // our head now
	HighestBlock  uint64 // the highest block the sync peer announced or sent
}

type syncState struct {
	mu       sync.Mutex
	active   bool
	progress Progress
}

func (s *syncState) begin(start, highest uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = true
	s.progress = Progress{StartingBlock: start, HighestBlock: highest}
}

func (s *syncState) raiseHighest(number uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress.HighestBlock = max(s.progress.HighestBlock, number)
}

func (s *syncState) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = false
}

// Syncing reports whether a chain sync is under way, and the progress of that
// sync or, when none is, of the last one.
func (h *Handler) Syncing() (bool, Progress) {
	h.sync.mu.Lock()
	active, progress := h.sync.active, h.sync.progress
	h.sync.mu.Unlock()
	progress.CurrentBlock = h.chain.CurrentBlock().Number.Uint64()
	progress.HighestBlock = max(progress.HighestBlock, progress.CurrentBlock)
	return active, progress
}

// syncLoop syncs whenever asked (a new peer, a block with an unknown parent)
// and every forceSyncCycle, for as long as a peer claims more work than ours.
func (h *Handler) syncLoop() {
	defer h.wg.Done()
	ticker := time.NewTicker(forceSyncCycle)
	defer ticker.Stop()
	for {
		select {
		case <-h.syncReq:
		case <-ticker.C:
		case <-h.quit:
			return
		}
		for !h.closing() && h.syncOnce() {
		}
	}
}

// syncOnce syncs with the heaviest peer if it claims more work than our head.
// It reports whether to sync again at once: our head moved, so another peer
// may still be ahead, or the sync peer stalled or left, so another should
// take over now rather than at the next forceSyncCycle.
func (h *Handler) syncOnce() bool {
	p := h.peers.heaviest()
	if p == nil {
		return false
	}
	head := h.chain.CurrentBlock()
	_, number, claimed := p.headInfo()
	if claimed.Cmp(h.work(head.Hash())) <= 0 {
		return false
	}
	log.Debug("Chain sync starting", "peer", p.ID().TerminalString(), "head", head.Number, "peerhead", number, "peerwork", claimed)
	h.sync.begin(head.Number.Uint64(), number)
	err := h.synchronise(p, head)
	h.sync.end()

	newHead := h.chain.CurrentBlock()
	work := h.work(newHead.Hash())
	var pe *peerError
	switch {
	case errors.As(err, &pe):
		p.drop(pe.reason, pe.err)
	case errors.Is(err, errTimeout), errors.Is(err, errPeerGone):
		// A stalled peer is passed over until it answers, and dropped if it
		// never does (see roundTrip).
		log.Debug("Chain sync peer stalled or left", "peer", p.ID().TerminalString(), "err", err)
	case errors.Is(err, errNoHeaders), err == nil && work.Cmp(claimed) < 0:
		// The peer served all it had and it weighed less than claimed.
		p.lowerWork(work)
	case err != nil:
		log.Debug("Chain sync failed", "peer", p.ID().TerminalString(), "err", err)
	}
	moved := newHead.Hash() != head.Hash()
	if moved {
		h.announceHead()
	}
	return moved || errors.Is(err, errTimeout) || errors.Is(err, errPeerGone)
}

// synchronise imports the peer's chain from our common ancestor on.
func (h *Handler) synchronise(p *peer, head *types.Header) error {
	_, remoteHead, _ := p.headInfo()
	ancestor, err := h.findAncestor(p, head.Number.Uint64(), remoteHead)
	if err != nil {
		return err
	}
	log.Debug("Found common ancestor", "peer", p.ID().TerminalString(), "number", ancestor.Number, "hash", ancestor.Hash())
	return h.fetchChain(p, ancestor)
}

// fetchChain fetches, verifies and imports the peer's chain above ancestor in
// batches of maxHeaderFetch blocks, as a pipeline: while one batch is being
// imported, the next is downloaded (headers, then bodies from every peer) and
// its headers verified against the batch before it, which is verified but
// maybe not stored yet. Up to importAhead complete batches wait for the
// importer, so that it never waits for the network while the peer keeps up;
// with the batch being downloaded and those being imported, at most
// 2*importAhead+2 batches are in memory. Verifying ahead costs nothing at
// import: the engine remembers the headers that passed, and Insert's own
// verification finds them there.
func (h *Handler) fetchChain(p *peer, ancestor *types.Header) error {
	var (
		stats    = newImportStats(p.ID().TerminalString())
		ready    = make(chan []*types.Block, importAhead)
		failed   = make(chan struct{}) // closed when an import fails
		imported = make(chan error, 1)
	)
	go func() { imported <- h.importBatches(ready, failed, stats) }()
	err := h.downloadChain(p, ancestor, ready, failed)
	close(ready)
	// A failed import outweighs whatever stopped the download.
	if ierr := <-imported; ierr != nil {
		err = ierr
	}
	stats.report(true)
	return err
}

// downloadChain fetches and verifies batches above ancestor and hands them
// to the importer on ready until the peer has no more, a request or check
// fails, or the importer reports a failure by closing failed.
func (h *Handler) downloadChain(p *peer, ancestor *types.Header, ready chan<- []*types.Block, failed <-chan struct{}) error {
	for parent := ancestor; ; {
		if h.closing() {
			return errQuitting
		}
		headers, err := p.requestHeaders(hashOrNumber{Number: parent.Number.Uint64() + 1}, maxHeaderFetch, 0, false)
		if err != nil {
			return err
		}
		if len(headers) == 0 {
			return nil
		}
		if err := linkHeaders(parent, headers); err != nil {
			return err
		}
		if err := h.chain.VerifyHeaders(parent, headers); err != nil {
			if errors.Is(err, consensus.ErrFutureBlock) {
				return err
			}
			return uselessError(fmt.Errorf("invalid header in %d..%d: %w", headers[0].Number, headers[len(headers)-1].Number, err))
		}
		blocks, err := h.fetchBodies(p, headers)
		if err != nil {
			return err
		}
		select {
		case ready <- blocks:
		case <-failed:
			return nil // the importer's error is the one to report
		case <-h.quit:
			return errQuitting
		}
		parent = headers[len(headers)-1]
		p.markBlock(parent.Hash())
		h.sync.raiseHighest(parent.Number.Uint64())
	}
}

// importBatches imports the batches arriving on ready, in order, each
// together with the batches already waiting behind it: every Insert ends
// with a WAL sync and sends geth's head events, which the txpool and the
// log indexer act on. After a failure importBatches closes failed and discards the
// rest, so that the downloader never blocks on a batch nobody will import.
func (h *Handler) importBatches(ready <-chan []*types.Block, failed chan<- struct{}, stats *importStats) error {
	for blocks := range ready {
		for more := true; more; {
			select {
			case next, ok := <-ready:
				blocks, more = append(blocks, next...), ok
			default:
				more = false
			}
		}
		if err := h.importBatch(blocks, stats); err != nil {
			close(failed)
			for range ready {
			}
			return err
		}
	}
	return nil
}

// linkHeaders checks that headers continue the chain at parent. A first header
// that does not fit means the peer's chain changed under us; headers that do
// not fit each other are garbage.
func linkHeaders(parent *types.Header, headers []*types.Header) error {
	if headers[0].Number.Uint64() != parent.Number.Uint64()+1 {
		return protocolError("%w: asked for %d, got %d", errBadResponse, parent.Number.Uint64()+1, headers[0].Number)
	}
	if headers[0].ParentHash != parent.Hash() {
		return fmt.Errorf("%w: header %d does not extend %x", errBrokenChain, headers[0].Number, parent.Hash())
	}
	for i := 1; i < len(headers); i++ {
		if headers[i].Number.Uint64() != headers[i-1].Number.Uint64()+1 || headers[i].ParentHash != headers[i-1].Hash() {
			return protocolError("%w: header %d does not follow %d", errBrokenChain, headers[i].Number, headers[i-1].Number)
		}
	}
	return nil
}

// importBatch inserts a batch of synced blocks. Headers were verified and
// bodies matched to them, so a failure that is the blocks' fault means the
// peer's chain is invalid; a local failure ends the round without blame.
func (h *Handler) importBatch(blocks []*types.Block, stats *importStats) error {
	if i, err := h.chain.InsertBlocks(blocks); err != nil {
		if !blockFault(err) {
			return fmt.Errorf("import of %d..%d stopped: %w", blocks[0].Number(), blocks[len(blocks)-1].Number(), err)
		}
		if i < 0 || i >= len(blocks) {
			return uselessError(fmt.Errorf("import of %d..%d failed: %w", blocks[0].Number(), blocks[len(blocks)-1].Number(), err))
		}
		return uselessError(fmt.Errorf("invalid block %d %x: %w", blocks[i].Number(), blocks[i].Hash(), err))
	}
	stats.add(blocks)
	stats.report(false)
	return nil
}

// importStats logs sync progress in the manner of geth's chain import: a line
// per syncReportInterval and one at the end. core logs each InsertChain
// itself, so these lines use their own message.
type importStats struct {
	peer   string
	start  time.Time
	blocks int
	txs    int
	gas    uint64
	last   *types.Block
}

func newImportStats(peer string) *importStats {
	return &importStats{peer: peer, start: time.Now()}
}

func (s *importStats) add(blocks []*types.Block) {
	for _, b := range blocks {
		s.txs += len(b.Transactions())
		s.gas += b.GasUsed()
	}
	s.blocks += len(blocks)
	s.last = blocks[len(blocks)-1]
}

func (s *importStats) report(final bool) {
	elapsed := time.Since(s.start)
	if s.blocks == 0 || (!final && elapsed < syncReportInterval) {
		return
	}
	mgas := float64(s.gas) / 1e6
	log.Info("Synchronised chain segment", "number", s.last.Number(), "hash", s.last.Hash(),
		"blocks", s.blocks, "txs", s.txs, "mgas", mgas,
		"elapsed", common.PrettyDuration(elapsed), "mgasps", mgas/max(elapsed.Seconds(), 1e-9),
		"age", common.PrettyAge(time.Unix(int64(s.last.Time()), 0)), "peer", s.peer)
	*s = importStats{peer: s.peer, start: time.Now()}
}
