package miner

import (
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// Submission outcomes, named as Rootstock's mnr module names them so pool
// software reads them unchanged.
const (
	ImportedBest    = "IMPORTED_BEST"
	ImportedNotBest = "IMPORTED_NOT_BEST"
	Exist           = "EXIST"
)

// UnknownWorkError: the coinbase commits to no template this server still
// holds (stale, or never handed out).
type UnknownWorkError struct{ SealHash common.Hash }

func (e *UnknownWorkError) Error() string {
	return fmt.Sprintf("could not find hash %s in the cache", e.SealHash.Hex())
}

// Errors of the work server, worded as Rootstock's mnr module words them
// where it has the case (the API capitalizes them, as rskj's messages are).
var (
	// ErrNoWork: there is no template a miner could seal now.
	ErrNoWork = errors.New("no work available")
	// ErrInvalidBlock: the share does not seal the template (not enough
	// work, bad merkle proof, no commitment, ...) or the block breaks a
	// consensus rule; the wrapped error names the rule.
	ErrInvalidBlock = errors.New("invalid block supplied by miner")
	// ErrNotImported: the share made a valid block that this node could
	// not import for a reason of its own (disk, shutdown, a parent it lost):
	// the miner is not at fault and must not be told the block is invalid.
	ErrNotImported = errors.New("the block is valid but this node could not import it")
)

// Inserter is the chain's door for blocks. Its errors that are the block's
// fault have a BlockFault method (chain.RuleError); others are local.
type Inserter interface {
	Insert(blocks []*types.Block) (int, error)
}

// builtInserter imports a block with the state and receipts its builder
// computed, without executing it again (chain.Chain.InsertBuilt); ok false
// means it did not apply and nothing was written.
type builtInserter interface {
	InsertBuilt(block *types.Block, receipts []*types.Receipt, statedb *state.StateDB) (ok bool, err error)
}

// TxEvents is the pool's new-transaction feed.
type TxEvents interface {
	SubscribeTransactions(ch chan<- core.NewTxsEvent, reorgs bool) event.Subscription
}

// WorkServerConfig configures a WorkServer.
type WorkServerConfig struct {
	Chain    *core.BlockChain
	Engine   *consensus.Engine
	Builder  *Builder
	Inserter Inserter
	Pool     TxEvents
	Tag      []byte
	// Keep is how many recent templates stay valid for submission.
	Keep int
	// Recommit rebuilds the template on a timer so its timestamp and
	// transactions stay fresh; Debounce coalesces bursts of transactions.
	Recommit time.Duration
	Debounce time.Duration
	// Announce is told of each block a submission made the new head, so
	// that peers hear of it at once.
	Announce func(*types.Block)
}

// Work is what a miner needs to merge-mine the current template.
type Work struct {
	SealHash   common.Hash
	Target     *big.Int
	Fees       *big.Int
	Notify     bool
	ParentHash common.Hash
}

// SubmitResult reports what became of a submitted proof.
type SubmitResult struct {
	Status string
	Block  *types.Block
}

// WorkServer holds recent templates and turns proofs into blocks.
type WorkServer struct {
	cfg WorkServerConfig

	mu        sync.Mutex
	templates map[common.Hash]*Template // by seal hash
	order     []common.Hash             // oldest first, at most cfg.Keep
	current   *Template
	// What the last getWork call handed out, for the edge-triggered notify.
	servedParent common.Hash
	servedFees   *big.Int

	submitMu sync.Mutex // one submission at a time: fork choice is sequential anyway
	quit     chan struct{}
	wg       sync.WaitGroup
}

// NewWorkServer returns a work server; Start begins refreshing templates.
func NewWorkServer(cfg WorkServerConfig) *WorkServer {
	if cfg.Keep <= 0 {
		cfg.Keep = 20
	}
	return &WorkServer{
		cfg:        cfg,
		templates:  make(map[common.Hash]*Template),
		servedFees: new(big.Int),
		quit:       make(chan struct{}),
	}
}

// Start rebuilds the template on each new head, on new transactions
// (debounced) and on a timer.
func (w *WorkServer) Start() error {
	heads := make(chan core.ChainHeadEvent, 16)
	headSub := w.cfg.Chain.SubscribeChainHeadEvent(heads)
	txsArrived := txSignals(w.cfg.Pool, &w.wg, w.quit)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer headSub.Unsubscribe()
		recommit := time.NewTicker(w.cfg.Recommit)
		defer recommit.Stop()
		debounce := time.NewTimer(0)
		<-debounce.C
		for {
			select {
			case <-heads:
				w.refresh()
			case <-txsArrived:
				debounce.Reset(w.cfg.Debounce)
			case <-debounce.C:
				w.refresh()
			case <-recommit.C:
				w.refresh()
			case <-w.quit:
				return
			}
		}
	}()
	return nil
}

// Stop ends the refresh loop.
func (w *WorkServer) Stop() error {
	close(w.quit)
	w.wg.Wait()
	return nil
}

func (w *WorkServer) refresh() {
	if _, err := w.Build(0); err != nil {
		log.Warn("Failed to build mining template", "err", err)
	}
}

// Build makes a template on the current head (timestamp 0: now) and makes
// it the current work.
func (w *WorkServer) Build(timestamp uint64) (*Template, error) {
	return w.BuildWith(timestamp, BuildOptions{})
}

// BuildWith is Build with dev options.
func (w *WorkServer) BuildWith(timestamp uint64, opts BuildOptions) (*Template, error) {
	if timestamp == 0 {
		timestamp = uint64(time.Now().Unix())
	}
	t, err := w.cfg.Builder.BuildWith(w.cfg.Chain.CurrentBlock(), timestamp, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.templates[t.SealHash]; !ok {
		w.templates[t.SealHash] = t
		w.order = append(w.order, t.SealHash)
		if len(w.order) > w.cfg.Keep {
			delete(w.templates, w.order[0])
			w.order = w.order[1:]
		}
	}
	w.current = t
	return t, nil
}

// GetWork returns the current work. Notify is edge-triggered as in
// Rootstock: true on the first call after the parent changed or the fees
// rose by more than 10%, so pools restart their jobs only when it pays.
func (w *WorkServer) GetWork() (*Work, error) {
	w.mu.Lock()
	t := w.current
	w.mu.Unlock()
	if t == nil || t.block.ParentHash() != w.cfg.Chain.CurrentBlock().Hash() {
		var err error
		if t, err = w.Build(0); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoWork, err)
		}
	}
	// Blocks found faster than one a second push timestamps ahead of the
	// clock (each must be later than its parent). Work whose block the
	// engine would refuse as from the future is not handed out: miners wait
	// until the clock catches up.
	if drift := w.cfg.Engine.Params().MaxFutureDrift; drift != 0 {
		if ahead := int64(t.block.Time()) - time.Now().Unix(); ahead > int64(drift) {
			return nil, fmt.Errorf("%w: the chain is %ds ahead of the clock", ErrNoWork, ahead)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	parent := t.block.ParentHash()
	notify := parent != w.servedParent ||
		new(big.Int).Mul(t.Fees, big.NewInt(10)).Cmp(new(big.Int).Mul(w.servedFees, big.NewInt(11))) > 0
	if notify {
		w.servedParent, w.servedFees = parent, t.Fees
	}
	return &Work{
		SealHash:   t.SealHash,
		Target:     mergemine.Target(t.Difficulty),
		Fees:       new(big.Int).Set(t.Fees),
		Notify:     notify,
		ParentHash: parent,
	}, nil
}

// Share is a submission parsed once, at the edge: the proof a miner sent
// and the seal hash its coinbase commits to.
type Share struct {
	Proof    *mergemine.Proof
	SealHash common.Hash
}

// NewShare parses a submission: the 80-byte Bitcoin header, the coinbase in
// non-witness serialization and the RSKIP-92 merkle proof of the coinbase.
// The coinbase is scanned for the tag once, which finds both the seal hash
// it commits to and the tail the proof keeps.
func NewShare(header80, coinbase, merkleProof, tag []byte) (*Share, error) {
	proof, sealHash, err := mergemine.NewProof(header80, coinbase, merkleProof, tag)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	return &Share{Proof: proof, SealHash: sealHash}, nil
}

// insert imports block, sealed from t: with t's executed state when the
// chain takes it (once: the state is committed by the import), else through
// Insert, which executes it.
func (w *WorkServer) insert(t *Template, block *types.Block) error {
	if bi, ok := w.cfg.Inserter.(builtInserter); ok {
		w.mu.Lock()
		statedb, receipts := t.state, t.receipts
		t.state, t.receipts = nil, nil
		w.mu.Unlock()
		if statedb != nil {
			if done, err := bi.InsertBuilt(block, receipts, statedb); done {
				return err
			}
		}
	}
	_, err := w.cfg.Inserter.Insert([]*types.Block{block})
	return err
}

// Submit seals the template the share commits to and inserts the block
// through the chain's door. The proof is checked against the template
// before the block is assembled, so a bogus share costs one proof check and
// writes nothing; the engine remembers the check, so verifying the sealed
// header on insert does not repeat it. A proof for a template whose parent
// is no longer the head still makes a valid block: it is stored as a side
// block.
func (w *WorkServer) Submit(s *Share) (*SubmitResult, error) {
	w.mu.Lock()
	t := w.templates[s.SealHash]
	w.mu.Unlock()
	if t == nil {
		return nil, &UnknownWorkError{SealHash: s.SealHash}
	}
	if err := w.cfg.Engine.VerifyProof(s.Proof, t.SealHash, t.Difficulty, t.block.Time()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	block := t.Seal(s.Proof)
	w.submitMu.Lock()
	defer w.submitMu.Unlock()
	if w.cfg.Chain.HasBlock(block.Hash(), block.NumberU64()) {
		return &SubmitResult{Status: Exist, Block: block}, nil
	}
	if err := w.insert(t, block); err != nil {
		var fault interface{ BlockFault() }
		if errors.As(err, &fault) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidBlock, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrNotImported, err)
	}
	status := ImportedNotBest
	// Every block sealed here (a pool's share or the dev miner's) ends in
	// this line, so an operator can tell the blocks this node mined from
	// those it imported, and find each one's Bitcoin header.
	log.Info("Sealed block", "number", block.NumberU64(), "hash", block.Hash(),
		"btc", mergemine.HeaderHash(s.Proof.BitcoinHeader), "bitcoinblock", mergemine.IsBitcoinBlock(s.Proof.BitcoinHeader),
		"txs", len(block.Transactions()))
	if w.cfg.Chain.CurrentBlock().Hash() == block.Hash() {
		status = ImportedBest
		if w.cfg.Announce != nil {
			w.cfg.Announce(block)
		}
	}
	return &SubmitResult{Status: status, Block: block}, nil
}
