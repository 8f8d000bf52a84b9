package btcspv

import (
	"encoding/binary"
	"math/big"
	"slices"
	"sync"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/holiman/uint256"
)

// node is a stored header: what BtcRelay keeps in its Hdr slots (PEG.md
// §2.2), with the parent as a pointer instead of a hash.
type node struct {
	hash   chainhash.Hash
	parent *node // nil for the checkpoint
	height uint32
	time   uint32
	bits   uint32
	// lastRealBits is the nBits of the nearest ancestor-or-self that did
	// not use the testnet minimum-difficulty exception: the O(1) form of
	// btcd's findPrevTestNetDifficulty walk.
	lastRealBits uint32
	// work is the cumulative chainwork, always below 2^128.
	work uint256.Int
}

// Chain is an in-memory Bitcoin header chain that accepts headers exactly
// as BtcRelay does (PEG.md §2.3–2.4). It is safe for concurrent use.
type Chain struct {
	params    Params
	prevTimes []uint32       // the checkpoint's, for the median time past
	cpPrev    chainhash.Hash // the checkpoint's parent, which is not stored

	mu    sync.RWMutex
	nodes map[chainhash.Hash]*node
	best  *node
	base  uint32  // the checkpoint's height
	main  []*node // main[h-base] is the best chain's block at height h
}

// Tip describes the best chain's tip.
type Tip struct {
	Hash      chainhash.Hash
	Height    uint32
	Chainwork *big.Int
}

// Reorg records a switch of the best chain to a branch that does not extend
// the old tip: BtcRelay's BtcReorg event.
type Reorg struct {
	OldBest, NewBest chainhash.Hash
	// ForkHeight is the height of the last block the two branches share.
	ForkHeight uint32
	// Depth is how many blocks of the old best chain left it.
	Depth uint32
}

// HeaderInfo is what is stored about a header (BtcRelay headerInfo).
type HeaderInfo struct {
	Height      uint32
	Time        uint32
	Bits        uint32
	Chainwork   *big.Int
	Prev        chainhash.Hash
	InBestChain bool
}

// NewChain starts a header chain at cp. The checkpoint must carry
// min(10, Height) previous timestamps and a chainwork below 2^128 that
// covers at least its own work, and on retargeting networks its height must
// be a multiple of the retarget interval, so that the blocks after it find
// their retarget period's first block and real nBits.
func NewChain(p Params, cp Checkpoint) (*Chain, error) {
	if want := min(cp.Height, medianTimeBlocks-1); uint32(len(cp.PrevTimes)) != want {
		return nil, ruleError(ErrBadCheckpoint, "%d previous timestamps, want %d", len(cp.PrevTimes), want)
	}
	if !p.NoRetargeting && (p.RetargetInterval == 0 || cp.Height%p.RetargetInterval != 0) {
		return nil, ruleError(ErrBadCheckpoint, "height %d is not a retarget boundary", cp.Height)
	}
	h := cp.Header80[:]
	n := &node{
		hash:   chainhash.DoubleHashH(h),
		height: cp.Height,
		time:   binary.LittleEndian.Uint32(h[68:]),
		bits:   binary.LittleEndian.Uint32(h[72:]),
	}
	n.lastRealBits = n.bits
	if cp.Chainwork == nil || cp.Chainwork.Sign() <= 0 || cp.Chainwork.BitLen() > 128 {
		return nil, ruleError(ErrBadCheckpoint, "chainwork %v is not in [1, 2^128)", cp.Chainwork)
	}
	n.work.SetFromBig(cp.Chainwork)
	return &Chain{
		params:    p,
		prevTimes: slices.Clone(cp.PrevTimes),
		cpPrev:    chainhash.Hash(h[4:36]),
		nodes:     map[chainhash.Hash]*node{n.hash: n},
		best:      n,
		base:      cp.Height,
		main:      []*node{n},
	}, nil
}

// BestChain returns the tip of the best chain.
func (c *Chain) BestChain() Tip {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Tip{Hash: c.best.hash, Height: c.best.height, Chainwork: c.best.work.ToBig()}
}

// BestHeight returns the height of the best chain's tip.
func (c *Chain) BestHeight() uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.best.height
}

// BlockHashAt returns the best chain's block at height, if the best chain
// has one there (heights below the checkpoint are not known).
func (c *Chain) BlockHashAt(height uint32) (chainhash.Hash, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if height < c.base || int(height-c.base) >= len(c.main) {
		return chainhash.Hash{}, false
	}
	return c.main[height-c.base].hash, true
}

// HeaderInfo returns what is stored about a header, if it is known.
func (c *Chain) HeaderInfo(hash chainhash.Hash) (HeaderInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.nodes[hash]
	if !ok {
		return HeaderInfo{}, false
	}
	info := HeaderInfo{
		Height:      n.height,
		Time:        n.time,
		Bits:        n.bits,
		Chainwork:   n.work.ToBig(),
		Prev:        c.cpPrev,
		InBestChain: c.onBest(n),
	}
	if n.parent != nil {
		info.Prev = n.parent.hash
	}
	return info, true
}

// Confirmations returns how many best-chain blocks, counting its own, are
// at or above the block: 0 if it is not in the best chain.
func (c *Chain) Confirmations(hash chainhash.Hash) uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.nodes[hash]
	if !ok || !c.onBest(n) {
		return 0
	}
	return c.best.height - n.height + 1
}

// onBest reports whether n is in the best chain.
func (c *Chain) onBest(n *node) bool {
	i := int(n.height) - int(c.base)
	return i < len(c.main) && c.main[i] == n
}

// forkPoint is the best-chain block where n's branch leaves the best chain
// (n itself if it is in the best chain). The checkpoint is always in it, so
// the walk ends.
func (c *Chain) forkPoint(n *node) *node {
	for !c.onBest(n) {
		n = n.parent
	}
	return n
}

// ancestor returns n's ancestor at height h (base ≤ h ≤ n.height): by
// walking parents while off the best chain, then through the index.
func (c *Chain) ancestor(n *node, h uint32) *node {
	for n.height > h && !c.onBest(n) {
		n = n.parent
	}
	if n.height == h {
		return n
	}
	return c.main[h-c.base]
}

// setBest makes n, heavier than the current tip, the best chain's tip. A
// child of the tip extends the index; any other block rewrites it from the
// fork point up and cuts what lies above n (PEG.md §2.4).
func (c *Chain) setBest(n *node, j *journal) (Reorg, bool) {
	old := c.best
	c.best = n
	if n.parent == old {
		c.main = append(c.main, n)
		return Reorg{}, false
	}
	fork := c.forkPoint(n.parent)
	keep := int(fork.height-c.base) + 1
	j.save(c.main, keep)
	c.main = c.main[:keep]
	for len(c.main) <= int(n.height-c.base) {
		c.main = append(c.main, nil)
	}
	for m := n; m != fork; m = m.parent {
		c.main[m.height-c.base] = m
	}
	return Reorg{OldBest: old.hash, NewBest: n.hash, ForkHeight: fork.height, Depth: old.height - fork.height}, true
}

// journal lets ReceiveHeaders undo a batch that fails part way, as the
// contract's revert does: the headers it added, the old tip, and the part of
// the best-chain index that reorgs rewrote.
type journal struct {
	best  *node
	added []chainhash.Hash
	// tail holds main[from:] as it was before the batch. Below from, the
	// index is untouched: appends only ever happen above a reorg's fork.
	from int
	tail []*node
}

func newJournal(c *Chain) *journal {
	return &journal{best: c.best, from: len(c.main)}
}

// save records the index entries from keep up that a reorg is about to
// rewrite, unless an earlier reorg of the batch already saved them.
func (j *journal) save(main []*node, keep int) {
	if keep < j.from {
		j.tail = append(slices.Clone(main[keep:j.from]), j.tail...)
		j.from = keep
	}
}

func (j *journal) undo(c *Chain) {
	for _, h := range j.added {
		delete(c.nodes, h)
	}
	c.best = j.best
	c.main = append(c.main[:j.from], j.tail...)
}
