package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
)

// replayBatch is how many stored blocks Replay hands to InsertChain at once.
const replayBatch = 256

// Replay restores the head after an unclean shutdown. geth keeps recent
// state in memory and, on reopening after a crash, rewinds the head block
// to the newest block whose state is on disk while the head header stays
// where it was; geth's syncer would then fetch the gap again, so here it is
// re-executed from the node's own database: blocks CurrentBlock()+1 to
// CurrentHeader(), stopping at the first whose body is missing. How far the
// state on disk trails the head is bounded by the 128 diff layers geth
// keeps in memory and the state write buffer (DefaultConfig), not by the
// length of the chain, so neither is the replay. Then the heaviest stored
// block becomes the head, which repairs a crash between storing a heavier
// block and moving the head to it.
func (c *Chain) Replay() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	from, to := c.bc.CurrentBlock().Number.Uint64()+1, c.bc.CurrentHeader().Number.Uint64()
	for next := from; next <= to; {
		var blocks []*types.Block
		for ; next <= to && len(blocks) < replayBatch; next++ {
			b := c.bc.GetBlockByNumber(next)
			if b == nil {
				log.Warn("Replay stopped at a block missing from the database", "number", next)
				to = next - 1
				break
			}
			blocks = append(blocks, b)
		}
		if n, err := c.insert(blocks); err != nil {
			return fmt.Errorf("replay block %d: %w", blocks[0].NumberU64()+uint64(n), err)
		}
	}
	if from <= to {
		log.Info("Replayed stored blocks", "from", from, "to", to)
	}
	return c.adoptHeaviest()
}

// adoptHeaviest makes the block of the heaviest-block record the head if it
// is stored and heavier than the current head.
func (c *Chain) adoptHeaviest() error {
	head := c.bc.CurrentBlock()
	headWork := ReadWork(c.db, head.Hash())
	if headWork == nil {
		return fmt.Errorf("no cumulative work stored for head %d %x", head.Number, head.Hash())
	}
	hash, ok := readHeaviest(c.db)
	if !ok || hash == head.Hash() {
		return writeHeaviest(c.db, head.Hash())
	}
	work := ReadWork(c.db, hash)
	number, known := rawdb.ReadHeaderNumber(c.db, hash)
	if work == nil || !known || work.Cmp(headWork) <= 0 {
		return writeHeaviest(c.db, head.Hash())
	}
	b := c.bc.GetBlock(hash, number)
	if b == nil {
		return writeHeaviest(c.db, head.Hash())
	}
	if err := c.adopt(b, work); err != nil {
		return fmt.Errorf("set head to heaviest block %d %x: %w", number, hash, err)
	}
	log.Info("Head moved to the heaviest stored block", "number", number, "hash", hash)
	return nil
}
