package chain

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"

	"github.com/mmgeth/mmgeth/consensus"
)

// workPrefix keys the cumulative work of a block: workPrefix ‖ hash ->
// big-endian work. geth removed total difficulty from its database, so this
// is ours alone. The first byte 'x' is one geth does not use: its schema
// (core/rawdb/schema.go) takes many single letters (a b c h l m n o r t ...)
// as prefixes and iterates over them, and a key starting with one of those
// could be read back as geth data by such an iteration.
var workPrefix = []byte("xmm-work-")

func workKey(hash common.Hash) []byte {
	return append(append(make([]byte, 0, len(workPrefix)+common.HashLength), workPrefix...), hash[:]...)
}

// heaviestKey records the hash of the stored block with the greatest
// cumulative work, written with that block's work. It is the head except
// between storing a heavier block and moving the head to it, which a crash
// can interrupt; start-up reads it instead of scanning every work entry.
var heaviestKey = []byte("xmm-heaviest")

func writeHeaviest(db ethdb.KeyValueWriter, hash common.Hash) error {
	if err := db.Put(heaviestKey, hash[:]); err != nil {
		return fmt.Errorf("store heaviest block %x: %w", hash, err)
	}
	return nil
}

func readHeaviest(db ethdb.KeyValueReader) (common.Hash, bool) {
	data, err := db.Get(heaviestKey)
	if err != nil || len(data) != common.HashLength {
		return common.Hash{}, false
	}
	return common.BytesToHash(data), true
}

// WriteWork stores the cumulative work of the block with the given hash.
func WriteWork(db ethdb.KeyValueWriter, hash common.Hash, work *big.Int) error {
	if err := db.Put(workKey(hash), work.Bytes()); err != nil {
		return fmt.Errorf("store work of %x: %w", hash, err)
	}
	return nil
}

// ReadWork returns the cumulative work stored for the block, or nil if
// there is none.
func ReadWork(db ethdb.KeyValueReader, hash common.Hash) *big.Int {
	data, err := db.Get(workKey(hash))
	if err != nil || len(data) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(data)
}

// deleteWork removes a work entry written for a block that then failed to
// import, so that invalid blocks leave nothing behind.
func deleteWork(db ethdb.KeyValueWriter, hash common.Hash) error {
	return db.Delete(workKey(hash))
}

// HeaderWork is the work of one block: the difficulty in its seal.
func HeaderWork(h *types.Header) (*big.Int, error) {
	s, err := consensus.DecodeSeal(h.Extra)
	if err != nil {
		return nil, err
	}
	return s.Difficulty, nil
}

// CumulativeWork is the work of the chain ending at h: the parent's
// cumulative work plus h's own. parentWork is ignored for the genesis
// block, whose cumulative work is its own; for any other block a nil
// parentWork means the parent is unknown.
func CumulativeWork(parentWork *big.Int, h *types.Header) (*big.Int, error) {
	w, err := HeaderWork(h)
	if err != nil {
		return nil, err
	}
	if h.Number.Sign() == 0 {
		return new(big.Int).Set(w), nil
	}
	if parentWork == nil {
		return nil, fmt.Errorf("%w: no work stored for parent %x", gethconsensus.ErrUnknownAncestor, h.ParentHash)
	}
	return new(big.Int).Add(parentWork, w), nil
}
