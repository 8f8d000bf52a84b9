package consensus

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/log"
)

// replayBatch is how many stored blocks Replay hands to InsertChain at once.
const replayBatch = 256

// errInterrupted reports an import that geth abandoned without an error,
// which it does when the chain is shutting down.
var errInterrupted = errors.New("block import interrupted: the chain is shutting down")

// ForkChoice makes the chain with the greatest cumulative work the head of
// a core.BlockChain; on equal work the block seen first stays. geth's
// InsertChain makes whatever it imports the head, so every block of the node
// (mined locally or received from peers) must enter through Insert.
//
// Cumulative work is stored per block (WriteWork) before geth stores the
// block. geth writes a block in a batch of its own that an engine cannot
// join, so the two cannot share a batch; ordering gives the guarantee that
// matters instead: the key-value store applies writes in order and a crash
// recovers a prefix of them (pebble replays its write-ahead log in order),
// so every stored block has its work stored. The converse leftover, work
// for a block that was never stored, is harmless (its value follows from
// the headers alone), and Insert deletes it when the import fails.
//
// ForkChoice is safe for concurrent use: the miner and the sync protocol
// insert through one mutex, so the head they compare against cannot move
// between the comparison and the insertion.
type ForkChoice struct {
	mu sync.Mutex
	bc *core.BlockChain
	db ethdb.Database
}

// NewForkChoice wraps bc, whose database is db, and stores the genesis work
// (its seal difficulty) if this is a new database.
func NewForkChoice(bc *core.BlockChain, db ethdb.Database) (*ForkChoice, error) {
	genesis := bc.Genesis()
	if ReadWork(db, genesis.Hash()) == nil {
		work, err := CumulativeWork(nil, genesis.Header())
		if err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
		if err := WriteWork(db, genesis.Hash(), work); err != nil {
			return nil, err
		}
	}
	return &ForkChoice{bc: bc, db: db}, nil
}

// WorkOf returns the cumulative work of a stored block, nil if unknown.
func (f *ForkChoice) WorkOf(hash common.Hash) *big.Int {
	return ReadWork(f.db, hash)
}

// Head returns the head block's header and cumulative work, read together.
func (f *ForkChoice) Head() (*types.Header, *big.Int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := f.bc.CurrentBlock()
	return head, ReadWork(f.db, head.Hash())
}

// Insert imports blocks, which need not extend the head nor each other,
// and moves the head to the heaviest chain known. Runs of blocks that
// extend the head (each the parent of the next) go through InsertChain in
// one batch; any other block is executed and stored with
// InsertBlockWithoutSetHead and becomes the head through SetCanonical only
// if its chain is strictly heavier than the head's, so that a lighter side
// block is kept without changing the head. On success n is len(blocks); on
// failure it is the index of the block that failed, the blocks before it
// having been imported.
func (f *ForkChoice) Insert(blocks []*types.Block) (n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err = f.insert(blocks)
	// geth writes with pebble's NoSync: a kill -9 could drop blocks whose
	// receipts clients have already seen. One WAL sync per inserted batch
	// makes what was imported durable before anyone builds on it.
	if n > 0 {
		if serr := f.db.SyncKeyValue(); serr != nil && err == nil {
			err = fmt.Errorf("syncing imported blocks to disk: %w", serr)
		}
	}
	return n, err
}

func (f *ForkChoice) insert(blocks []*types.Block) (int, error) {
	for i := 0; i < len(blocks); {
		head := f.bc.CurrentBlock()
		headWork := ReadWork(f.db, head.Hash())
		if headWork == nil {
			return i, fmt.Errorf("no cumulative work stored for head %d %x: blocks must be imported through ForkChoice", head.Number, head.Hash())
		}
		b := blocks[i]
		if b.ParentHash() != head.Hash() || f.bc.HasBlockAndState(b.Hash(), b.NumberU64()) {
			if err := f.insertSide(b, headWork); err != nil {
				return i, err
			}
			i++
			continue
		}
		j := i + 1
		for j < len(blocks) && blocks[j].ParentHash() == blocks[j-1].Hash() && blocks[j].NumberU64() == blocks[j-1].NumberU64()+1 {
			j++
		}
		n, err := f.extend(blocks[i:j], headWork)
		if err != nil {
			return i + n, err
		}
		i = j
	}
	return len(blocks), nil
}

// extend imports a run of blocks whose first extends the head: every block
// adds work, so the run ends the heaviest chain and InsertChain, which makes
// it the head, is right.
func (f *ForkChoice) extend(run []*types.Block, headWork *big.Int) (int, error) {
	batch := f.db.NewBatch()
	work := headWork
	var sealErr error
	for k, b := range run {
		w, err := CumulativeWork(work, b.Header())
		if err != nil {
			run, sealErr = run[:k], err // import the valid prefix, then report
			break
		}
		if err := WriteWork(batch, b.Hash(), w); err != nil {
			return 0, err
		}
		work = w
	}
	if err := batch.Write(); err != nil {
		return 0, fmt.Errorf("store work: %w", err)
	}
	if n, err := f.bc.InsertChain(run); err != nil {
		f.forget(run[n:])
		return n, err
	}
	if k := len(run) - 1; k >= 0 && !f.bc.HasBlock(run[k].Hash(), run[k].NumberU64()) {
		// geth returns no error when it stops mid-import for a shutdown.
		f.forget(run)
		return 0, errInterrupted
	}
	return len(run), sealErr
}

// insertSide imports a block that does not extend the head, or that is
// already stored, and makes it the head if its chain is heavier. Known
// blocks skip InsertBlockWithoutSetHead: for a stored block geth takes its
// known-block path, which sets the head regardless of work.
func (f *ForkChoice) insertSide(b *types.Block, headWork *big.Int) error {
	work, err := CumulativeWork(ReadWork(f.db, b.ParentHash()), b.Header())
	if err != nil {
		return err
	}
	if !f.bc.HasBlockAndState(b.Hash(), b.NumberU64()) {
		if err := WriteWork(f.db, b.Hash(), work); err != nil {
			return err
		}
		if _, err := f.bc.InsertBlockWithoutSetHead(context.Background(), b, false); err != nil {
			f.forget([]*types.Block{b})
			return err
		}
		if !f.bc.HasBlock(b.Hash(), b.NumberU64()) {
			f.forget([]*types.Block{b})
			return errInterrupted
		}
	}
	if work.Cmp(headWork) <= 0 {
		return nil
	}
	if _, err := f.bc.SetCanonical(b); err != nil {
		return fmt.Errorf("set head to %d %x: %w", b.NumberU64(), b.Hash(), err)
	}
	return nil
}

// forget deletes the work entries of blocks that failed to import.
func (f *ForkChoice) forget(blocks []*types.Block) {
	for _, b := range blocks {
		if f.bc.HasBlock(b.Hash(), b.NumberU64()) {
			continue
		}
		if err := deleteWork(f.db, b.Hash()); err != nil {
			log.Warn("Failed to delete work of a rejected block", "hash", b.Hash(), "err", err)
		}
	}
}

// Replay restores the head after an unclean shutdown. geth keeps recent
// state in memory and, on reopening after a crash, rewinds the head block
// to the newest block whose state is on disk while the head header stays
// where it was; geth's syncer would then fetch the gap again, so here it is
// re-executed from the node's own database: blocks CurrentBlock()+1 to
// CurrentHeader(), stopping at the first whose body is missing. Then the
// heaviest stored block becomes the head, which repairs a crash between
// storing a heavier block and moving the head to it; finding it reads every
// work entry once, linear in the number of stored blocks.
func (f *ForkChoice) Replay() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	from, to := f.bc.CurrentBlock().Number.Uint64()+1, f.bc.CurrentHeader().Number.Uint64()
	for next := from; next <= to; {
		var blocks []*types.Block
		for ; next <= to && len(blocks) < replayBatch; next++ {
			b := f.bc.GetBlockByNumber(next)
			if b == nil {
				log.Warn("Replay stopped at a block missing from the database", "number", next)
				to = next - 1
				break
			}
			blocks = append(blocks, b)
		}
		if n, err := f.insert(blocks); err != nil {
			return fmt.Errorf("replay block %d: %w", blocks[0].NumberU64()+uint64(n), err)
		}
	}
	if from <= to {
		log.Info("Replayed stored blocks", "from", from, "to", to)
	}
	return f.adoptHeaviest()
}

// adoptHeaviest makes the stored block with the greatest cumulative work the
// head, if it is heavier than the current one.
func (f *ForkChoice) adoptHeaviest() error {
	head := f.bc.CurrentBlock()
	best := ReadWork(f.db, head.Hash())
	if best == nil {
		return fmt.Errorf("no cumulative work stored for head %d %x", head.Number, head.Hash())
	}
	var heaviest *types.Block
	it := f.db.NewIterator(workPrefix, nil)
	defer it.Release()
	for it.Next() {
		key := it.Key()
		if len(key) != len(workPrefix)+common.HashLength {
			continue
		}
		work := new(big.Int).SetBytes(it.Value())
		if work.Cmp(best) <= 0 {
			continue
		}
		hash := common.BytesToHash(key[len(workPrefix):])
		number, ok := rawdb.ReadHeaderNumber(f.db, hash)
		if !ok {
			continue
		}
		if b := f.bc.GetBlock(hash, number); b != nil {
			best, heaviest = work, b
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("scan cumulative work: %w", err)
	}
	if heaviest == nil {
		return nil
	}
	if _, err := f.bc.SetCanonical(heaviest); err != nil {
		return fmt.Errorf("set head to heaviest block %d %x: %w", heaviest.NumberU64(), heaviest.Hash(), err)
	}
	log.Info("Head moved to the heaviest stored block", "number", heaviest.NumberU64(), "hash", heaviest.Hash())
	return nil
}
