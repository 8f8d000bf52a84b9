package rpc

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/filtermaps"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
)

// headRecheck is how often the log indexer re-reads the head even without a
// chain event, as geth does, so that a missed event cannot stall the index.
const headRecheck = 10 * time.Second

// indexDelay bounds how stale the log index may be behind the head.
const indexDelay = 200 * time.Millisecond

// logIndexer drives geth's filtermaps log index (what eth_getLogs searches)
// from chain events, like eth.Ethereum does for geth. It indexes the whole
// chain: a sidechain's history is small and tools query it from genesis.
type logIndexer struct {
	chain     *core.BlockChain
	fm        *filtermaps.FilterMaps
	finalNum  func() uint64
	syncing   func() bool
	quit      chan struct{}
	done      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

func newLogIndexer(b *backend, disabled bool, syncing func() bool) (*logIndexer, error) {
	if syncing == nil {
		syncing = func() bool { return false }
	}
	chain := b.chain
	cfg := filtermaps.Config{HashScheme: chain.TrieDB().Scheme() == rawdb.HashScheme, Disabled: disabled}
	fm, err := filtermaps.NewFilterMaps(b.db, b.CurrentView(), b.HistoryPruningCutoff(),
		b.finalizedNumber(), filtermaps.DefaultParams, cfg)
	if err != nil {
		return nil, err
	}
	return &logIndexer{
		chain:    chain,
		fm:       fm,
		finalNum: b.finalizedNumber,
		syncing:  syncing,
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}, nil
}

func (li *logIndexer) start() {
	li.startOnce.Do(func() {
		li.fm.Start()
		go li.loop()
	})
}

// stop ends the head loop and the indexer; safe to call without start.
func (li *logIndexer) stop() {
	li.stopOnce.Do(func() {
		started := true
		li.startOnce.Do(func() { started = false })
		if !started {
			return
		}
		close(li.quit)
		<-li.done
		li.fm.Stop()
	})
}

// loop feeds the indexer the current head. Head events alone are enough even
// across a reorg (which emits one for the new head only): the chain view walks
// back from the head by hash.
func (li *logIndexer) loop() {
	defer close(li.done)
	headCh := make(chan core.ChainEvent, 10)
	headSub := li.chain.SubscribeChainEvent(headCh)
	defer headSub.Unsubscribe()
	procCh := make(chan bool, 10)
	procSub := li.chain.SubscribeBlockProcessingEvent(procCh)
	defer procSub.Unsubscribe()

	var last common.Hash
	setHead := func(h *types.Header) {
		if h == nil || h.Hash() == last {
			return
		}
		view := filtermaps.NewChainView(li.chain, h.Number.Uint64(), h.Hash())
		if view == nil {
			// h was deleted (a dev rewind) while its update waited; the
			// view of a header that is gone is nil, which filtermaps does
			// not accept. The current head supersedes it.
			if h = li.chain.CurrentBlock(); h.Hash() == last {
				return
			}
			if view = filtermaps.NewChainView(li.chain, h.Number.Uint64(), h.Hash()); view == nil {
				return
			}
		}
		last = h.Hash()
		cutoff, _ := li.chain.HistoryPruningCutoff()
		li.fm.SetTarget(view, cutoff, li.finalNum())
	}
	setHead(li.chain.CurrentBlock())
	recheck := time.NewTicker(headRecheck)
	defer recheck.Stop()
	// Each target update makes filtermaps rewrite every row of the head map:
	// cheap at Ethereum's 12 s blocks, most of the node's CPU at a dev node's
	// hundreds of blocks per second. Updates are coalesced to one per
	// indexDelay; eth_getLogs scans the few unindexed head blocks directly.
	//
	// While a chain sync imports a peer's blocks the target is held: the
	// index followed every import batch, rewriting its head map each time,
	// and competed with the import for the cores (`mmgeth import` runs no
	// index). It catches up in one go when the sync ends; until then
	// eth_getLogs scans the blocks above the index, as it does the head
	// blocks.
	var (
		pending  *types.Header
		deferred = time.NewTimer(0)
	)
	<-deferred.C
	for {
		select {
		case ev := <-headCh:
			if pending == nil {
				deferred.Reset(indexDelay)
			}
			pending = ev.Header
		case <-deferred.C:
			if li.syncing() {
				deferred.Reset(indexDelay)
				continue
			}
			setHead(pending)
			pending = nil
		case busy := <-procCh:
			li.fm.SetBlockProcessing(busy)
		case <-recheck.C:
			if !li.syncing() {
				setHead(li.chain.CurrentBlock())
			}
		case <-headSub.Err():
			return
		case <-procSub.Err():
			return
		case <-li.quit:
			return
		}
	}
}
