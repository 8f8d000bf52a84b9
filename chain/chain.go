package chain

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/mmgeth/mmgeth/consensus"
)

// Side-block bounds. A side block costs its sender the parent's difficulty
// (a pool share), so without bounds a peer or a pool could fill the disk
// with siblings. MaxSideDepth is far beyond any reorg a merged-mined chain
// sees without an attack (21 minutes of blocks on the testnet's 5 s spacing) and
// keeps the walk that adopts a heavier side chain short; MaxPerHeight keeps
// room for honest competing blocks (a few pools finding the same height).
const (
	MaxSideDepth = 256
	MaxPerHeight = 8
)

// Side-block refusals: the block may be valid, but storing it is refused.
// They are returned as RuleErrors: a peer or pool that keeps sending such
// blocks is flooding.
var (
	ErrSideTooDeep     = fmt.Errorf("side block more than %d blocks below the head", MaxSideDepth)
	ErrTooManySiblings = fmt.Errorf("more than %d blocks stored at this height", MaxPerHeight)
)

// errInterrupted reports an import that geth abandoned without an error,
// which it does when the chain is shutting down.
var errInterrupted = errors.New("block import interrupted: the chain is shutting down")

// RuleError is a block's own fault: it breaks a consensus rule, or its
// sender floods side blocks. Any other error of Insert is local (disk,
// shutdown) and says nothing about the block. It follows btcd's RuleError,
// which exists "to differentiate database errors from rule violations".
type RuleError struct{ Err error }

func (e *RuleError) Error() string { return e.Err.Error() }
func (e *RuleError) Unwrap() error { return e.Err }

// BlockFault marks the error for packages that must tell a block's fault
// from a local one without importing chain (p2p, miner): they match it with
// errors.As against an interface holding this method.
func (e *RuleError) BlockFault() {}

// ruleError wraps err as the block's fault unless it is one of the engine's
// verdicts that depend on the receiver, not the block: a parent it does not
// have yet, or a clock behind the block's time.
func ruleError(err error) error {
	if err == nil || errors.Is(err, gethconsensus.ErrUnknownAncestor) || errors.Is(err, gethconsensus.ErrFutureBlock) {
		return err
	}
	return &RuleError{Err: err}
}

// Chain is the chain as one object: geth's BlockChain, the merged-mining
// engine, fork choice by cumulative work, the work store, start-up replay
// and the dev rewind. Every block (mined here, from a peer, from a chain
// file, from the dev miner) enters through Insert, which verifies it before
// anything is written. Safe for concurrent use: inserts and rewinds hold one
// mutex, so the head they compare against cannot move under them.
type Chain struct {
	mu     sync.Mutex
	bc     *core.BlockChain
	db     ethdb.Database
	engine *consensus.Engine
	fin    finality

	flushed uint64 // a block whose state is on disk: the newest one found (see flushState)
}

// FlushBlocks is how far, in blocks, the state on disk may lag the head.
// geth's path database keeps the newest 128 states in memory and writes
// older ones when its buffer fills, which a quiet chain never does: after a
// kill -9, every block since genesis had to be replayed, and restarts grew
// with the chain (12-24 s at 8,000 blocks). Bounding the lag bounds the
// replay to as many blocks; the figure trades replay time (about 1 s for
// 256 dev blocks on 2 shared cores) against flush cost (see flushState).
const FlushBlocks = 256

// DefaultConfig is geth's chain configuration as every mmgeth node needs
// it: path-based state (core.DefaultConfig picks the hash scheme), every
// transaction indexed so receipts by hash always work, and a small state
// write buffer, so that the state on disk trails the head by the 128
// in-memory diff layers and little more, which bounds how much start-up
// replays after a crash however long the chain (see Replay). The buffer is
// written in one batch, in the background, whenever it fills: 1 MB fills
// within 128 blocks of 25 token transfers to fresh accounts (about 13 KB
// of state each, bench/sync.sh's chain), so a busy chain stays within
// FlushBlocks without flushState's costly Commit (16 MB took 1,200 such
// blocks, and three Commits, 3.5 s of a 12 s sync of 2,000 blocks).
func DefaultConfig() *core.BlockChainConfig {
	cfg := core.DefaultConfig().WithStateScheme(rawdb.PathScheme)
	cfg.TxLookupLimit = 0
	cfg.StateHistory = 90_000
	cfg.TrieDirtyLimit = 1
	return cfg
}

// New opens the chain in db (geth's BlockChain with the engine for params),
// stores the genesis work of a new database, restores the finalized block
// and restores the head after an unclean stop (Replay), under the reorg
// guard of fin.
func New(db ethdb.Database, genesis *core.Genesis, params consensus.Params, cfg *core.BlockChainConfig, fin FinalityConfig) (*Chain, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	engine := consensus.New(params, genesis.ToBlock().Header())
	bc, err := core.NewBlockChain(db, genesis, engine, cfg)
	if err != nil {
		return nil, err
	}
	c := &Chain{bc: bc, db: db, engine: engine, fin: finality{cfg: fin}}
	if err := c.storeGenesisWork(); err != nil {
		bc.Stop()
		return nil, err
	}
	if err := c.loadFinality(); err != nil {
		bc.Stop()
		return nil, err
	}
	if err := c.Replay(); err != nil {
		bc.Stop()
		return nil, fmt.Errorf("replaying blocks after an unclean stop: %w", err)
	}
	c.mu.Lock()
	c.updateFinality()
	c.mu.Unlock()
	return c, nil
}

func (c *Chain) storeGenesisWork() error {
	genesis := c.bc.Genesis()
	if ReadWork(c.db, genesis.Hash()) != nil {
		return nil
	}
	work, err := CumulativeWork(nil, genesis.Header())
	if err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	batch := c.db.NewBatch()
	if err := WriteWork(batch, genesis.Hash(), work); err != nil {
		return err
	}
	if err := writeHeaviest(batch, genesis.Hash()); err != nil {
		return err
	}
	return batch.Write()
}

// BlockChain is geth's chain, for reads. Blocks must not be written through
// it: they would bypass fork choice.
func (c *Chain) BlockChain() *core.BlockChain { return c.bc }

// Engine is the chain's consensus engine.
func (c *Chain) Engine() *consensus.Engine { return c.engine }

// Stop stops geth's chain; the database stays open.
func (c *Chain) Stop() { c.bc.Stop() }

// WorkOf returns the cumulative work of a stored block, nil if unknown.
func (c *Chain) WorkOf(hash common.Hash) *big.Int { return ReadWork(c.db, hash) }

// Head returns the head block's header and cumulative work, read together.
func (c *Chain) Head() (*types.Header, *big.Int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	head := c.bc.CurrentBlock()
	return head, ReadWork(c.db, head.Hash())
}

// VerifyHeaders checks a run of headers with the engine, in parallel,
// writing nothing, and returns the index of the first that fails and why
// (a RuleError when it is the header's fault), or len(headers) and nil.
// Each header's parent is the previous one or a stored block.
func (c *Chain) VerifyHeaders(headers []*types.Header) (int, error) {
	return c.verifyHeaders(c.bc, headers)
}

// VerifyHeadersOn is VerifyHeaders for a run whose first header's parent is
// parent: a stored block, or a header that passed verification but whose
// block is not stored yet. Sync verifies a batch this way while the batch
// before it is still being imported; a header's rules read only its parent
// header, never state, and the engine remembers the headers that passed, so
// Insert's own verification of them later is a lookup.
func (c *Chain) VerifyHeadersOn(parent *types.Header, headers []*types.Header) (int, error) {
	return c.verifyHeaders(&parentReader{ChainHeaderReader: c.bc, parent: parent, hash: parent.Hash()}, headers)
}

// VerifyBlockOn checks a block whose parent is parent (as VerifyHeadersOn)
// by every rule Insert runs before writing anything, header and body, and
// returns the cumulative work the chain would have at it. p2p relays a
// propagated block once it passes, before it is executed.
func (c *Chain) VerifyBlockOn(parent *types.Header, b *types.Block) (*big.Int, error) {
	if _, err := c.VerifyHeadersOn(parent, []*types.Header{b.Header()}); err != nil {
		return nil, err
	}
	if err := checkBody(c.engine, b); err != nil {
		return nil, &RuleError{Err: fmt.Errorf("block %d %x: %w", b.NumberU64(), b.Hash(), err)}
	}
	return CumulativeWork(c.WorkOf(parent.Hash()), b.Header())
}

func (c *Chain) verifyHeaders(chain gethconsensus.ChainHeaderReader, headers []*types.Header) (int, error) {
	abort, results := c.engine.VerifyHeaders(chain, headers)
	defer close(abort)
	for i, h := range headers {
		if err := <-results; err != nil {
			return i, ruleError(fmt.Errorf("header %d %x: %w", h.Number, h.Hash(), err))
		}
	}
	return len(headers), nil
}

// parentReader is the chain's headers plus one header not stored yet, for
// VerifyHeadersOn: the engine looks up only the parent of a run's first
// header.
type parentReader struct {
	gethconsensus.ChainHeaderReader
	parent *types.Header
	hash   common.Hash
}

func (r *parentReader) GetHeader(hash common.Hash, number uint64) *types.Header {
	if hash == r.hash && number == r.parent.Number.Uint64() {
		return r.parent
	}
	return r.ChainHeaderReader.GetHeader(hash, number)
}

// Insert imports blocks, which need not extend the head nor each other,
// and moves the head to the heaviest chain known; on equal work the block
// seen first stays. Every header is verified before anything is written, so
// an invalid block leaves nothing on disk. Then:
//   - runs of blocks extending the head go through geth's InsertChain,
//     which executes them and makes the last the head;
//   - a block whose chain is not heavier than the head's is a side block:
//     stored (header, body, work) without being executed, as geth's
//     pre-merge side-chain path did, within MaxSideDepth and MaxPerHeight;
//   - a block that makes a side chain heavier than the head's is executed
//     with its stored ancestors by InsertChain, which reorganises to it.
//
// No path executes a side block on its own: geth's post-merge path for that
// (InsertBlockWithoutSetHead) recovers a deep parent's state by rolling the
// path database back under the head.
//
// On success n is len(blocks); on failure it is the index of the block that
// failed, the blocks before it having been imported. A RuleError is the
// block's fault; any other error is local or transient. Imported blocks are
// synced to disk before Insert returns.
func (c *Chain) Insert(blocks []*types.Block) (n int, err error) {
	if len(blocks) == 0 {
		return 0, nil
	}
	headers := make([]*types.Header, len(blocks))
	for i, b := range blocks {
		headers[i] = b.Header()
	}
	valid, verr := c.VerifyHeaders(headers)
	for i, b := range blocks[:valid] {
		if err := checkBody(c.engine, b); err != nil {
			valid, verr = i, &RuleError{Err: fmt.Errorf("block %d %x: %w", b.NumberU64(), b.Hash(), err)}
			break
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	n, err = c.insert(blocks[:valid])
	// geth writes with pebble's NoSync: a kill -9 could drop blocks whose
	// receipts clients have already seen. One WAL sync per inserted batch
	// makes what was imported durable before anyone builds on it.
	if n > 0 {
		c.flushState()
		c.updateFinality()
		if serr := c.db.SyncKeyValue(); serr != nil && err == nil {
			return n, fmt.Errorf("syncing imported blocks to disk: %w", serr)
		}
	}
	if err == nil {
		err = verr
	}
	return n, err
}

func (c *Chain) insert(blocks []*types.Block) (int, error) {
	c.cacheSenders(blocks)
	for i := 0; i < len(blocks); {
		head := c.bc.CurrentBlock()
		headWork := ReadWork(c.db, head.Hash())
		if headWork == nil {
			return i, fmt.Errorf("no cumulative work stored for head %d %x: blocks must be imported through the chain", head.Number, head.Hash())
		}
		b := blocks[i]
		if b.ParentHash() != head.Hash() || c.bc.HasBlockAndState(b.Hash(), b.NumberU64()) {
			if err := c.insertSide(b, head, headWork); err != nil {
				return i, err
			}
			i++
			continue
		}
		j := i + 1
		for j < len(blocks) && blocks[j].ParentHash() == blocks[j-1].Hash() && blocks[j].NumberU64() == blocks[j-1].NumberU64()+1 {
			j++
		}
		n, err := c.extend(blocks[i:j], headWork)
		if err != nil {
			return i + n, err
		}
		i = j
	}
	return len(blocks), nil
}

// extend imports a run of blocks whose first extends the head: every block
// adds work, so the run ends the heaviest chain and InsertChain, which makes
// it the head, is right. The work of the run is stored first, with the
// heaviest-block record, so that every stored block has its work.
func (c *Chain) extend(run []*types.Block, headWork *big.Int) (int, error) {
	if err := c.storeRunWork(run, headWork); err != nil {
		return 0, err
	}
	n, err := c.bc.InsertChain(run)
	if err == nil && !c.bc.HasBlock(run[len(run)-1].Hash(), run[len(run)-1].NumberU64()) {
		// geth returns no error when it stops mid-import for a shutdown.
		n, err = 0, errInterrupted
	}
	if err != nil {
		return n, c.failed(run[n:], err)
	}
	return len(run), nil
}

// storeRunWork stores the cumulative work of a run of blocks extending the
// head, the heaviest-block record (the run's last) and the run's anchors.
func (c *Chain) storeRunWork(run []*types.Block, headWork *big.Int) error {
	batch := c.db.NewBatch()
	work := headWork
	for _, b := range run {
		w, err := CumulativeWork(work, b.Header())
		if err != nil {
			return ruleError(err)
		}
		if err := WriteWork(batch, b.Hash(), w); err != nil {
			return err
		}
		work = w
	}
	if err := writeHeaviest(batch, run[len(run)-1].Hash()); err != nil {
		return err
	}
	anchors, err := indexAnchors(batch, run)
	if err != nil {
		return err
	}
	if err := batch.Write(); err != nil {
		return fmt.Errorf("store work: %w", err)
	}
	c.noteAnchors(anchors)
	return nil
}

// InsertBuilt imports a block this node built and executed itself (a
// sealed miner template) without executing it again: the builder's state
// is committed and the block made the head through geth's public API,
// which is what InsertChain would do after re-executing it (ProcessBlock,
// a sixth of the dev node's CPU under a send-and-receipt loop). The
// block's header and body are verified as Insert verifies them; its state
// root, receipts and gas are the builder's own, so geth's state validation
// has nothing to add. geth's known-block path does the rest: with block,
// receipts and state stored, SetCanonical writes the canonical markers and
// transaction lookups and sends the chain, logs and head events, as
// InsertChain's own write does (core v1.17.10 blockchain.go).
//
// ok is false, with nothing written, when the block does not extend the
// head (another block won the race) or the state scheme is not the path
// scheme (whose commit this mirrors): the caller then uses Insert. Imported
// blocks are synced to disk before InsertBuilt returns, as with Insert.
func (c *Chain) InsertBuilt(block *types.Block, receipts []*types.Receipt, statedb *state.StateDB) (ok bool, err error) {
	if c.bc.TrieDB().Scheme() != rawdb.PathScheme {
		return false, nil
	}
	// One header: verified here, not on the engine's pool of goroutines.
	if err := c.engine.VerifyHeader(c.bc, block.Header()); err != nil {
		return true, ruleError(fmt.Errorf("header %d %x: %w", block.Number(), block.Hash(), err))
	}
	if err := checkBody(c.engine, block); err != nil {
		return true, &RuleError{Err: fmt.Errorf("block %d %x: %w", block.NumberU64(), block.Hash(), err)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	head := c.bc.CurrentBlock()
	headWork := ReadWork(c.db, head.Hash())
	if block.ParentHash() != head.Hash() || headWork == nil || c.bc.HasBlock(block.Hash(), block.NumberU64()) {
		return false, nil
	}
	run := []*types.Block{block}
	if err := c.storeRunWork(run, headWork); err != nil {
		return true, err
	}
	if err := c.writeBuilt(block, receipts, statedb); err != nil {
		return true, c.failed(run, err)
	}
	c.flushState()
	c.updateFinality()
	if err := c.db.SyncKeyValue(); err != nil {
		return true, fmt.Errorf("syncing imported blocks to disk: %w", err)
	}
	return true, nil
}

// writeBuilt stores block with its receipts, commits its state (as geth's
// writeBlockWithState does on the path scheme) and makes it the head.
func (c *Chain) writeBuilt(block *types.Block, receipts []*types.Receipt, statedb *state.StateDB) error {
	batch := c.db.NewBatch()
	rawdb.WriteBlock(batch, block)
	rawdb.WriteReceipts(batch, block.Hash(), block.NumberU64(), receipts)
	rawdb.WritePreimages(batch, statedb.Preimages())
	if err := batch.Write(); err != nil {
		return fmt.Errorf("store block %d: %w", block.NumberU64(), err)
	}
	rules := c.bc.Config().Rules(block.Number(), block.Difficulty().Sign() == 0, block.Time())
	root, err := statedb.Commit(rules, block.NumberU64())
	if err != nil {
		return fmt.Errorf("commit state of block %d: %w", block.NumberU64(), err)
	}
	if root != block.Root() {
		return fmt.Errorf("built state root %x is not block %d's %x", root, block.NumberU64(), block.Root())
	}
	if _, err := c.bc.SetCanonical(block); err != nil {
		return err
	}
	return nil
}

// insertSide handles a block that does not extend the head, or that is
// already stored: it is stored unexecuted if its chain is not heavier than
// the head's, else its chain is adopted.
func (c *Chain) insertSide(b *types.Block, head *types.Header, headWork *big.Int) error {
	work, err := CumulativeWork(ReadWork(c.db, b.ParentHash()), b.Header())
	if err != nil {
		return ruleError(err)
	}
	if work.Cmp(headWork) > 0 {
		return c.adopt(b, work)
	}
	if c.bc.HasBlock(b.Hash(), b.NumberU64()) {
		return nil
	}
	return c.storeSide(b, head, work)
}

// storeSide stores a side block with its work, unexecuted. Insert checked
// its body against its header (checkBody): a side block may later be
// executed as part of a heavier chain, so what is stored must be the body
// its header commits to.
func (c *Chain) storeSide(b *types.Block, head *types.Header, work *big.Int) error {
	number := b.NumberU64()
	if headNumber := head.Number.Uint64(); number+MaxSideDepth < headNumber {
		return &RuleError{Err: fmt.Errorf("%w: block %d, head %d", ErrSideTooDeep, number, headNumber)}
	}
	if n := len(rawdb.ReadAllHashes(c.db, number)); n >= MaxPerHeight {
		return &RuleError{Err: fmt.Errorf("%w: height %d", ErrTooManySiblings, number)}
	}
	batch := c.db.NewBatch()
	rawdb.WriteBlock(batch, b)
	if err := WriteWork(batch, b.Hash(), work); err != nil {
		return err
	}
	anchors, err := indexAnchors(batch, []*types.Block{b})
	if err != nil {
		return err
	}
	if err := batch.Write(); err != nil {
		return fmt.Errorf("store side block %d %x: %w", number, b.Hash(), err)
	}
	c.noteAnchors(anchors)
	log.Debug("Stored side block", "number", number, "hash", b.Hash(), "work", work)
	return nil
}

// Body errors of side blocks, which are checked here rather than by geth.
var (
	errTxRoot        = errors.New("transaction root does not match the body")
	errUncleRoot     = errors.New("uncle hash does not match the body")
	errNoWithdrawals = errors.New("withdrawals list missing from the body")
)

// checkBody is the part of geth's BlockValidator.ValidateBody (core v1.17.10
// block_validator.go) that needs no state, with the engine's body rules. It
// runs before anything is written, so a block whose body breaks a rule is
// refused as the block's fault without reaching geth (which would log it as
// a bad block and record it), and side blocks, which geth never validates,
// are stored only with the body their header commits to. Withdrawals need
// no root check: VerifyBody refuses any, and the header rule requires the
// empty root; an absent list is refused as geth's ValidateBody refuses it.
func checkBody(engine *consensus.Engine, b *types.Block) error {
	body := b.Body()
	if err := engine.VerifyBody(body); err != nil {
		return err
	}
	if b.Header().WithdrawalsHash != nil && body.Withdrawals == nil {
		return errNoWithdrawals
	}
	if h := types.CalcUncleHash(body.Uncles); h != b.UncleHash() {
		return fmt.Errorf("%w: have %x, want %x", errUncleRoot, b.UncleHash(), h)
	}
	if h := types.DeriveSha(types.Transactions(body.Transactions), trie.NewStackTrie(nil)); h != b.TxHash() {
		return fmt.Errorf("%w: have %x, want %x", errTxRoot, b.TxHash(), h)
	}
	return nil
}

// adopt makes the chain ending at b, heavier than the head's, the head:
// the stored side blocks from the fork point up and b go through
// InsertChain, which executes them (recovering the fork point's state from
// history if it is old) and reorganises. If one of them turns out invalid,
// the previous head is restored. A chain forking below the finalized block
// is refused by the reorg guard (guardRefuses) and b kept as a side block:
// b is valid, so the refusal is no error and blames no peer.
func (c *Chain) adopt(b *types.Block, work *big.Int) error {
	branch := []*types.Block{b}
	var fork *types.Block
	for parent := b.Header(); ; {
		p := c.bc.GetBlock(parent.ParentHash, parent.Number.Uint64()-1)
		if p == nil {
			return fmt.Errorf("%w: side chain parent %x not stored", gethconsensus.ErrUnknownAncestor, parent.ParentHash)
		}
		if c.bc.GetCanonicalHash(p.NumberU64()) == p.Hash() {
			fork = p
			break
		}
		if len(branch) > MaxSideDepth {
			return &RuleError{Err: fmt.Errorf("%w: side chain of %d blocks", ErrSideTooDeep, len(branch))}
		}
		branch = append(branch, p)
		parent = p.Header()
	}
	for i, j := 0, len(branch)-1; i < j; i, j = i+1, j-1 {
		branch[i], branch[j] = branch[j], branch[i]
	}
	if c.guardRefuses(b, fork.NumberU64()) {
		if c.bc.HasBlock(b.Hash(), b.NumberU64()) {
			return nil
		}
		return c.storeSide(b, c.bc.CurrentBlock(), work)
	}
	c.cacheSenders(branch)
	batch := c.db.NewBatch()
	if err := WriteWork(batch, b.Hash(), work); err != nil {
		return err
	}
	if err := writeHeaviest(batch, b.Hash()); err != nil {
		return err
	}
	anchors, err := indexAnchors(batch, []*types.Block{b})
	if err != nil {
		return err
	}
	if err := batch.Write(); err != nil {
		return fmt.Errorf("store work: %w", err)
	}
	c.noteAnchors(anchors)
	oldHead := c.bc.CurrentBlock()
	n, err := c.bc.InsertChain(branch)
	if err == nil && c.bc.CurrentBlock().Hash() != b.Hash() {
		n, err = 0, errInterrupted
	}
	if err == nil {
		log.Info("Chain reorganised to a heavier chain", "number", b.NumberU64(), "hash", b.Hash(), "depth", len(branch), "work", work)
		c.lowerFinalized(fork.Header())
		return nil
	}
	err = c.failed(branch[n:], err)
	if c.bc.CurrentBlock().Hash() != oldHead.Hash() {
		if old := c.bc.GetBlock(oldHead.Hash(), oldHead.Number.Uint64()); old != nil {
			if _, rerr := c.bc.SetCanonical(old); rerr != nil {
				log.Error("Failed to restore the head after an invalid heavier chain", "err", rerr)
			}
		}
	}
	return err
}

// failed cleans up after InsertChain rejected blocks: their work entries go
// (the side blocks among them stay stored: they were checked and may still
// be valid), the heaviest-block record returns to the head, and the error
// becomes a RuleError if geth judged the block bad (it records such blocks
// and only those), else it stays a local error.
func (c *Chain) failed(rejected []*types.Block, err error) error {
	for _, b := range rejected {
		if c.bc.HasBlock(b.Hash(), b.NumberU64()) {
			continue
		}
		if derr := deleteWork(c.db, b.Hash()); derr != nil {
			log.Warn("Failed to delete work of a rejected block", "hash", b.Hash(), "err", derr)
		}
		if derr := c.db.Delete(anchorKey(b.NumberU64(), b.Hash())); derr != nil {
			log.Warn("Failed to delete the anchor entry of a rejected block", "hash", b.Hash(), "err", derr)
		}
	}
	if herr := writeHeaviest(c.db, c.bc.CurrentBlock().Hash()); herr != nil {
		log.Warn("Failed to store the heaviest block", "err", herr)
	}
	if len(rejected) > 0 && rawdb.ReadBadBlock(c.db, rejected[0].Hash()) != nil {
		return &RuleError{Err: err}
	}
	return err
}

// cacheSenders gives geth the senders of a dev network's impersonated
// transactions (consensus.CacheSenders) in blocks about to be executed:
// geth would recover unrelated senders from their signatures. Blocks read
// back from the database are new objects, so every path that hands blocks
// to InsertChain calls it. Other networks refuse such transactions.
func (c *Chain) cacheSenders(blocks []*types.Block) {
	if !c.engine.Params().Dev {
		return
	}
	for _, b := range blocks {
		consensus.CacheSenders(types.MakeSigner(c.bc.Config(), b.Number(), b.Time()), b.Transactions())
	}
}

// flushState keeps the state on disk within FlushBlocks of the head, so
// that a crash replays at most FlushBlocks blocks. geth's path database
// writes its buffer of state layers older than the newest 128 by itself
// once the buffer fills (DefaultConfig's TrieDirtyLimit), which on a busy
// chain keeps the state on disk close enough. Only when it lags by
// FlushBlocks, on a quiet chain, does flushState write the head's state
// (triedb Commit), which writes the 128 in-memory layers one at a time,
// each with a sync of the state history (0.7-5 s on 2 shared cores), and
// drops the states below the head from memory: done every FlushBlocks
// whatever the lag, it was most of the difference between syncing from a
// peer and importing a chain file.
func (c *Chain) flushState() {
	head := c.bc.CurrentBlock()
	number := head.Number.Uint64()
	if number < c.flushed {
		c.flushed = number // rewound or reorganised below the last flush
	}
	if number-c.flushed < FlushBlocks {
		return
	}
	if c.flushed = c.persisted(number); number-c.flushed < FlushBlocks {
		return
	}
	start := time.Now()
	if err := c.bc.TrieDB().Commit(head.Root, false); err != nil {
		log.Warn("Failed to flush state to disk", "number", number, "err", err)
		return
	}
	log.Debug("Flushed state to disk", "number", number, "lag", number-c.flushed, "elapsed", common.PrettyDuration(time.Since(start)))
	c.flushed = number
}

// persisted returns the newest canonical block at or below head whose state
// geth's path database has written to disk, searching above c.flushed: the
// state id geth records for a block's root once its layer leaves memory is
// at most the persisted state id exactly for the blocks up to that one.
func (c *Chain) persisted(head uint64) uint64 {
	disk := rawdb.ReadPersistentStateID(c.db)
	from := c.flushed
	n := sort.Search(int(head-from), func(i int) bool {
		h := c.bc.GetHeaderByNumber(from + 1 + uint64(i))
		if h == nil {
			return true
		}
		id := rawdb.ReadStateID(c.db, h.Root)
		return id == nil || *id > disk
	})
	return from + uint64(n)
}

// Rewind sets the head back to block number, for evm_revert on dev chains.
// It holds the insert lock, so no block is imported on a head being
// rewound. The rewound blocks are deleted, and the heaviest-block record
// follows the head: on a dev chain the operator's rewind, not work, decides.
// A rewind below a Bitcoin-finalized block is refused: finality never goes
// back.
func (c *Chain) Rewind(number uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fin := c.Finalized().Number.Uint64(); c.fin.cfg.Bitcoin && number < fin {
		return fmt.Errorf("rewind to %d: below the finalized block %d", number, fin)
	}
	if err := c.bc.SetHead(number); err != nil {
		return err
	}
	c.updateFinality()
	return writeHeaviest(c.db, c.bc.CurrentBlock().Hash())
}
