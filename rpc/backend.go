package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/filtermaps"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/gasprice"
	"github.com/ethereum/go-ethereum/eth/tracers"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// backend is the single adapter between our chain and geth's RPC packages.
// Header/block lookups by number return (nil, nil) for blocks that do not
// exist, as geth's backend does: the callers turn that into null or an error.
type backend struct {
	chain        *core.BlockChain
	pool         *txpool.TxPool
	db           ethdb.Database
	finality     Finality
	gasCap       uint64
	logIndex     *logIndexer
	archive      bool
	cacheSenders func(types.Signer, []*types.Transaction) // Config.CacheSenders
	head         headReader
}

// headReader is the head state's reader, kept for the calls on "latest"
// while the head stays: opening a reader per call and reading each account
// and slot through the path database (hashing the key, walking the diff
// layers) was a sixth of an eth_call's CPU. geth's reader cache (the one
// its block processor shares with the prefetcher) is safe for concurrent
// StateDBs, and its path-database reader finds its layers by root, so it
// survives the chain's state flush at the head (chain.FlushBlocks). The
// reader is replaced when the head's root changes, and after headReaderUses
// calls, which bounds what its cache holds.
type headReader struct {
	mu     sync.Mutex
	root   common.Hash
	uses   int
	db     state.Database
	reader state.Reader
}

const headReaderUses = 100_000

var (
	_ filters.Backend        = (*backend)(nil)
	_ tracers.Backend        = (*backend)(nil)
	_ gasprice.OracleBackend = (*backend)(nil)
)

func newBackend(cfg Config) *backend {
	return &backend{
		chain:        cfg.Chain,
		pool:         cfg.TxPool,
		db:           cfg.Chain.TrieDB().Disk(), // the database the chain was opened on
		finality:     cfg.Finality,
		gasCap:       cfg.GasCap,
		archive:      cfg.Archive,
		cacheSenders: cfg.CacheSenders,
	}
}

func (b *backend) ChainDb() ethdb.Database          { return b.db }
func (b *backend) ChainConfig() *params.ChainConfig { return b.chain.Config() }
func (b *backend) Engine() consensus.Engine         { return b.chain.Engine() }
func (b *backend) RPCGasCap() uint64                { return b.gasCap }
func (b *backend) TxIndexDone() bool                { return b.chain.TxIndexDone() }

// txIndexPending reports whether a transaction missing from the index may
// be in a block the indexer has not reached. geth indexes each new head
// block as it is written, so only blocks below the indexer's tail (all of
// them before its first run) can be unindexed; genesis holds no
// transactions. geth's TxIndexDone alone stays false on a fresh node until
// the first block after genesis, which made every unknown hash "indexing
// in progress" instead of null.
func (b *backend) txIndexPending() bool {
	if b.chain.TxIndexDone() {
		return false
	}
	if tail := rawdb.ReadTxIndexTail(b.db); tail != nil {
		return *tail > 1
	}
	return b.chain.CurrentBlock().Number.Uint64() > 0
}

// CurrentHeader is the head block, the newest block whose state exists. The
// header chain can run ahead of it while the node replays blocks at start-up.
func (b *backend) CurrentHeader() *types.Header { return b.chain.CurrentBlock() }

func (b *backend) HistoryPruningCutoff() uint64 {
	n, _ := b.chain.HistoryPruningCutoff()
	return n
}

// finalizedNumber is the number of the "finalized" block.
func (b *backend) finalizedNumber() uint64 { return b.finality.Finalized().Number.Uint64() }

// resolveNumber maps a block tag to a height. Pending is latest: this node
// keeps no pending block.
func (b *backend) resolveNumber(n gethrpc.BlockNumber) (uint64, error) {
	head := b.chain.CurrentBlock().Number.Uint64()
	switch n {
	case gethrpc.PendingBlockNumber, gethrpc.LatestBlockNumber:
		return head, nil
	case gethrpc.SafeBlockNumber:
		return b.finality.Safe().Number.Uint64(), nil
	case gethrpc.FinalizedBlockNumber:
		return b.finalizedNumber(), nil
	case gethrpc.EarliestBlockNumber:
		return b.HistoryPruningCutoff(), nil
	}
	if n < 0 {
		return 0, &invalidParamsError{fmt.Sprintf("invalid block number %d", n)}
	}
	return uint64(n), nil
}

func (b *backend) HeaderByNumber(ctx context.Context, n gethrpc.BlockNumber) (*types.Header, error) {
	if n == gethrpc.LatestBlockNumber || n == gethrpc.PendingBlockNumber {
		return b.chain.CurrentBlock(), nil
	}
	num, err := b.resolveNumber(n)
	if err != nil {
		return nil, err
	}
	return b.chain.GetHeaderByNumber(num), nil
}

func (b *backend) HeaderByHash(ctx context.Context, hash common.Hash) (*types.Header, error) {
	return b.chain.GetHeaderByHash(hash), nil
}

func (b *backend) BlockByNumber(ctx context.Context, n gethrpc.BlockNumber) (*types.Block, error) {
	num, err := b.resolveNumber(n)
	if err != nil {
		return nil, err
	}
	return b.senders(b.chain.GetBlockByNumber(num)), nil
}

func (b *backend) BlockByHash(ctx context.Context, hash common.Hash) (*types.Block, error) {
	return b.senders(b.chain.GetBlockByHash(hash)), nil
}

// senders caches the senders of a dev network's impersonated transactions
// in block (Config.CacheSenders) before anything here or in geth's tracers
// recovers them; it returns block.
func (b *backend) senders(block *types.Block) *types.Block {
	if block != nil && b.cacheSenders != nil {
		b.cacheSenders(types.MakeSigner(b.chain.Config(), block.Number(), block.Time()), block.Transactions())
	}
	return block
}

// headerByNumberOrHash resolves an EIP-1898 block selector. An unknown hash
// and a missing number are both "not found"; a known but non-canonical hash
// with requireCanonical is a distinct error.
func (b *backend) headerByNumberOrHash(ctx context.Context, sel gethrpc.BlockNumberOrHash) (*types.Header, error) {
	if n, ok := sel.Number(); ok {
		h, err := b.HeaderByNumber(ctx, n)
		if err != nil {
			return nil, err
		}
		if h == nil {
			return nil, errHeaderNotFound
		}
		return h, nil
	}
	if hash, ok := sel.Hash(); ok {
		h := b.chain.GetHeaderByHash(hash)
		if h == nil {
			return nil, errHashNotFound
		}
		if sel.RequireCanonical && b.chain.GetCanonicalHash(h.Number.Uint64()) != hash {
			return nil, errNotCanonical
		}
		return h, nil
	}
	return nil, &invalidParamsError{"neither block number nor hash specified"}
}

// blockByNumberOrHash is headerByNumberOrHash for whole blocks, except that a
// block that does not exist is (nil, nil): block getters answer null.
func (b *backend) blockByNumberOrHash(ctx context.Context, sel gethrpc.BlockNumberOrHash) (*types.Block, error) {
	h, err := b.headerByNumberOrHash(ctx, sel)
	if errors.Is(err, errHeaderNotFound) || errors.Is(err, errHashNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	block := b.chain.GetBlock(h.Hash(), h.Number.Uint64())
	if block == nil {
		return nil, fmt.Errorf("block #%d %x: header found but body missing", h.Number, h.Hash())
	}
	return b.senders(block), nil
}

// stateAndHeader opens the state after the selected block; live says it
// was one of the path database's in-memory or disk layers (not rebuilt from
// an archive's history), which a state flush can take away mid-read.
func (b *backend) stateAndHeader(ctx context.Context, sel gethrpc.BlockNumberOrHash) (*state.StateDB, *types.Header, bool, error) {
	if n, ok := sel.Number(); ok && (n == gethrpc.LatestBlockNumber || n == gethrpc.PendingBlockNumber) {
		st, h, err := b.latestState(b.chain.CurrentBlock())
		return st, h, true, err
	}
	h, err := b.headerByNumberOrHash(ctx, sel)
	if err != nil {
		return nil, nil, false, err
	}
	st, live, err := b.openState(h)
	if err != nil {
		return nil, nil, false, err
	}
	return st, h, live, nil
}

// readState runs read on the state after the selected block, and once more
// on the state opened again when read failed after that state's layers left
// memory. The chain's state flush (chain.FlushBlocks) replaces geth's
// in-memory state layers with one disk layer holding the head's state: a
// state opened before it at any other block fails its next read with
// "layer stale", whatever the method. Opened again, "latest" is the new
// head, an archive reads an older block's state from its history, and a
// full node has lost a block's state below the head and says so
// (stateUnavailableError).
func readState[T any](ctx context.Context, b *backend, sel gethrpc.BlockNumberOrHash, read func(*state.StateDB, *types.Header) (T, error)) (T, error) {
	var zero T
	st, h, live, err := b.stateAndHeader(ctx, sel)
	if err != nil {
		return zero, err
	}
	v, err := read(st, h)
	if err == nil || !live || b.chain.HasState(h.Root) {
		return v, err
	}
	if st, h, _, err = b.stateAndHeader(ctx, sel); err != nil {
		return zero, err
	}
	return read(st, h)
}

// latestState opens the state after head, the block read as the head, or
// after the head that followed it if head's state has left memory since:
// the chain's state flush (chain.FlushBlocks) flattens the in-memory state
// layers into the new head's, and a call that had read the head just before
// failed with "historical state of block 255 is not available" (seen under
// bench load, on an archive whose history index had not caught up).
// "latest" is whatever the head is when its state opens.
func (b *backend) latestState(head *types.Header) (*state.StateDB, *types.Header, error) {
	for attempt := 1; ; attempt++ {
		st, err := b.headState(head)
		if err == nil {
			return st, head, nil
		}
		// A head that keeps moving between two reads has its state in
		// memory: a second try succeeds unless the state is really gone.
		next := b.chain.CurrentBlock()
		if next.Hash() == head.Hash() || attempt == 3 {
			return nil, nil, err
		}
		head = next
	}
}

// headState opens the state after head through the kept head reader
// (headReader), or as stateAt does when no reader opens at its root.
func (b *backend) headState(head *types.Header) (*state.StateDB, error) {
	if b.chain.Config().IsUBT(head.Number, head.Time) {
		return b.stateAt(head)
	}
	c := &b.head
	c.mu.Lock()
	if c.reader == nil || c.root != head.Root || c.uses >= headReaderUses {
		db := state.NewMPTDatabase(b.chain.TrieDB(), b.chain.CodeDB())
		reader, _, err := db.ReadersWithCacheStats(head.Root)
		if err != nil {
			c.reader = nil
			c.mu.Unlock()
			return b.stateAt(head)
		}
		c.root, c.uses, c.db, c.reader = head.Root, 0, db, reader
	}
	c.uses++
	db, reader := c.db, c.reader
	c.mu.Unlock()
	return state.NewWithReader(head.Root, db, reader)
}

// stateAt opens the state after h: the live state first (the newest 128
// blocks' states, held in geth's path database layers), then, on an
// archive, geth's historic state reader, which rebuilds older states from
// the indexed state and trie-node histories.
func (b *backend) stateAt(h *types.Header) (*state.StateDB, error) {
	st, _, err := b.openState(h)
	return st, err
}

// openState is stateAt, also saying whether the state is a live one.
func (b *backend) openState(h *types.Header) (*state.StateDB, bool, error) {
	st, err := b.chain.StateAt(h.Root, h.Number, h.Time)
	if err == nil {
		return st, true, nil
	}
	if !b.archive {
		return nil, false, &stateUnavailableError{number: h.Number.Uint64()}
	}
	st, err = b.chain.HistoricState(h.Root, h.Number, h.Time)
	if err != nil {
		// geth's historic database reports only "not available"; the path
		// database's own reader says why (not indexed yet, pruned, not
		// canonical).
		if _, why := b.chain.TrieDB().HistoricStateReader(h.Root); why != nil {
			err = why
		}
		return nil, false, &stateUnavailableError{number: h.Number.Uint64(), archive: err}
	}
	return st, false, nil
}

func (b *backend) GetBody(ctx context.Context, hash common.Hash, number gethrpc.BlockNumber) (*types.Body, error) {
	if number < 0 || hash == (common.Hash{}) {
		return nil, errors.New("invalid arguments; expect hash and no special block numbers")
	}
	body := b.chain.GetBody(hash)
	if body == nil {
		return nil, fmt.Errorf("block body %x not found", hash)
	}
	if h := b.chain.GetHeaderByHash(hash); h != nil && b.cacheSenders != nil {
		b.cacheSenders(types.MakeSigner(b.chain.Config(), h.Number, h.Time), body.Transactions)
	}
	return body, nil
}

func (b *backend) GetReceipts(ctx context.Context, hash common.Hash) (types.Receipts, error) {
	return b.chain.GetReceiptsByHash(hash), nil
}

func (b *backend) GetLogs(ctx context.Context, hash common.Hash, number uint64) ([][]*types.Log, error) {
	return rawdb.ReadLogs(b.db, hash, number), nil
}

// GetCanonicalTransaction returns found, tx, block hash, block number, index.
func (b *backend) GetCanonicalTransaction(hash common.Hash) (bool, *types.Transaction, common.Hash, uint64, uint64) {
	lookup, tx := b.chain.GetCanonicalTransaction(hash)
	if lookup == nil || tx == nil {
		return false, nil, common.Hash{}, 0, 0
	}
	if h := b.chain.GetHeaderByHash(lookup.BlockHash); h != nil && b.cacheSenders != nil {
		b.cacheSenders(types.MakeSigner(b.chain.Config(), h.Number, h.Time), []*types.Transaction{tx})
	}
	return true, tx, lookup.BlockHash, lookup.BlockIndex, lookup.Index
}

// Pending serves gasprice: this node has no pending block.
func (b *backend) Pending() (*types.Block, types.Receipts, *state.StateDB) { return nil, nil, nil }

func (b *backend) SubscribeNewTxsEvent(ch chan<- core.NewTxsEvent) event.Subscription {
	return b.pool.SubscribeTransactions(ch, true)
}

func (b *backend) SubscribeChainEvent(ch chan<- core.ChainEvent) event.Subscription {
	return b.chain.SubscribeChainEvent(ch)
}

func (b *backend) SubscribeChainHeadEvent(ch chan<- core.ChainHeadEvent) event.Subscription {
	return b.chain.SubscribeChainHeadEvent(ch)
}

func (b *backend) SubscribeRemovedLogsEvent(ch chan<- core.RemovedLogsEvent) event.Subscription {
	return b.chain.SubscribeRemovedLogsEvent(ch)
}

func (b *backend) SubscribeLogsEvent(ch chan<- []*types.Log) event.Subscription {
	return b.chain.SubscribeLogsEvent(ch)
}

func (b *backend) CurrentView() *filtermaps.ChainView {
	head := b.chain.CurrentBlock()
	if head == nil {
		return nil
	}
	return filtermaps.NewChainView(b.chain, head.Number.Uint64(), head.Hash())
}

func (b *backend) NewMatcherBackend() filtermaps.MatcherBackend {
	return b.logIndex.fm.NewMatcherBackend()
}
