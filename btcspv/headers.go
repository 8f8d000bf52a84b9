package btcspv

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/holiman/uint256"
)

// Receipt is what an accepted batch did: BtcRelay's receiveHeaders return
// value and events.
type Receipt struct {
	// Accepted counts the new headers; known ones are skipped.
	Accepted int
	// Reorgs lists the best-chain switches that did not extend the tip, in
	// order.
	Reorgs []Reorg
}

// ReceiveHeaders stores a batch of serialized headers, parent first, with
// now (Unix seconds) standing in for the network-adjusted time. Headers
// already known are skipped; each new one must pass every rule of PEG.md
// §2.3, in order, and becomes the best tip if its chainwork is greater (equal
// work: the first seen stays). The batch is atomic: at the first bad header
// the chain is left exactly as it was, and the error names the header's index
// and hash and matches that rule's error.
func (c *Chain) ReceiveHeaders(raw []byte, now uint32) (Receipt, error) {
	if len(raw) == 0 || len(raw)%HeaderSize != 0 {
		return Receipt{}, ruleError(ErrBadHeadersLength, "%d bytes", len(raw))
	}
	if n := len(raw) / HeaderSize; n > c.params.MaxHeadersPerCall {
		return Receipt{}, ruleError(ErrTooManyHeaders, "%d headers, at most %d", n, c.params.MaxHeadersPerCall)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	j := newJournal(c)
	var r Receipt
	for i := 0; i < len(raw); i += HeaderSize {
		h := raw[i : i+HeaderSize]
		hash := chainhash.DoubleHashH(h)
		if _, ok := c.nodes[hash]; ok {
			continue
		}
		n, err := c.accept(h, hash, now)
		if err != nil {
			j.undo(c)
			return Receipt{}, fmt.Errorf("header %d (%v): %w", i/HeaderSize, hash, err)
		}
		c.nodes[hash] = n
		j.added = append(j.added, hash)
		r.Accepted++
		if n.work.Gt(&c.best.work) {
			if reorg, ok := c.setBest(n, j); ok {
				r.Reorgs = append(r.Reorgs, reorg)
			}
		}
	}
	return r, nil
}

// accept applies PEG.md §2.3 to one new header and returns its node.
func (c *Chain) accept(h []byte, hash chainhash.Hash, now uint32) (*node, error) {
	p := &c.params
	parent, ok := c.nodes[chainhash.Hash(h[4:36])]
	if !ok {
		return nil, ruleError(ErrUnknownParent, "previous block %v", chainhash.Hash(h[4:36]))
	}
	n := &node{
		hash:   hash,
		parent: parent,
		height: parent.height + 1,
		time:   binary.LittleEndian.Uint32(h[68:]),
		bits:   binary.LittleEndian.Uint32(h[72:]),
	}

	target := blockchain.CompactToBig(n.bits)
	if target.Sign() <= 0 || target.Cmp(p.PowLimit) > 0 {
		return nil, ruleError(ErrBadBits, "nBits %08x", n.bits)
	}
	if blockchain.HashToBig(&hash).Cmp(target) > 0 {
		return nil, ruleError(ErrInsufficientPoW, "nBits %08x", n.bits)
	}
	if want := c.expectedBits(parent, n.height, n.time); n.bits != want {
		return nil, ruleError(ErrUnexpectedBits, "nBits %08x, want %08x", n.bits, want)
	}
	if mtp := c.medianTimePast(parent); n.time <= mtp {
		return nil, ruleError(ErrTimeTooOld, "time %d, median time past %d", n.time, mtp)
	}
	if limit := uint64(now) + maxFutureTime; uint64(n.time) > limit {
		return nil, ruleError(ErrTimeTooNew, "time %d, limit %d", n.time, limit)
	}
	// Signed arithmetic: a parent time below 600 must not wrap.
	if p.EnforceBIP94 && c.isRetarget(n.height) && int64(n.time) < int64(parent.time)-maxTimeWarp {
		return nil, ruleError(ErrTimeWarp, "time %d, parent time %d", n.time, parent.time)
	}
	// The version is signed: 0x80000000 and above are negative, hence old.
	if v := int32(binary.LittleEndian.Uint32(h[0:])); v < 2 && n.height >= p.BIP34Height ||
		v < 3 && n.height >= p.BIP66Height || v < 4 && n.height >= p.BIP65Height {
		return nil, ruleError(ErrBadVersion, "version %d at height %d", v, n.height)
	}
	// Written as an addition: best.height − MaxForkDepth would wrap near
	// the checkpoint.
	if fork := c.forkPoint(parent).height; uint64(fork)+uint64(p.MaxForkDepth) < uint64(c.best.height) {
		return nil, ruleError(ErrForkTooDeep, "fork at %d, best %d, max depth %d", fork, c.best.height, p.MaxForkDepth)
	}

	// A positive target's work is at most 2^255 and the parent's is below
	// 2^128, so the 256-bit sum cannot wrap.
	work, _ := uint256.FromBig(blockchain.CalcWork(n.bits))
	if n.work.Add(&parent.work, work).BitLen() > 128 {
		return nil, ruleError(ErrChainworkOverflow, "at height %d", n.height)
	}
	n.lastRealBits = n.bits
	if p.ReduceMinDifficulty && !c.isRetarget(n.height) && n.bits == p.PowLimitBits {
		n.lastRealBits = parent.lastRealBits
	}
	return n, nil
}

func (c *Chain) isRetarget(height uint32) bool {
	return height%c.params.RetargetInterval == 0
}

// expectedBits is the nBits a block at height with timestamp time must carry
// after parent: btcd's calcNextRequiredDifficulty.
func (c *Chain) expectedBits(parent *node, height, time uint32) uint32 {
	p := &c.params
	switch {
	case p.NoRetargeting:
		return p.PowLimitBits
	case !c.isRetarget(height) && p.ReduceMinDifficulty:
		if uint64(time) > uint64(parent.time)+minDiffReductionTime {
			return p.PowLimitBits
		}
		return parent.lastRealBits
	case !c.isRetarget(height):
		return parent.bits
	}
	first := c.ancestor(parent, height-p.RetargetInterval)
	// Timestamps need not increase, so the span may be negative.
	span := int64(parent.time) - int64(first.time)
	span = max(int64(p.TargetTimespan)/retargetFactor, min(span, int64(p.TargetTimespan)*retargetFactor))
	old := parent.bits
	if p.EnforceBIP94 {
		// The period's first block cannot use the 20-minute exception, so
		// its bits are the period's real difficulty.
		old = first.bits
	}
	target := blockchain.CompactToBig(old)
	target.Mul(target, big.NewInt(span))
	target.Quo(target, big.NewInt(int64(p.TargetTimespan)))
	if target.Cmp(p.PowLimit) > 0 {
		target.Set(p.PowLimit)
	}
	return blockchain.BigToCompact(target)
}

// medianTimePast is btcd's CalcPastMedianTime of parent: the median of the
// last 11 timestamps of parent's own branch (fewer near the checkpoint's
// start, taking the upper middle of an even count as btcd does).
func (c *Chain) medianTimePast(parent *node) uint32 {
	var ts [medianTimeBlocks]uint32
	k := 0
	n := parent
	for ; k < medianTimeBlocks && n != nil; k++ {
		ts[k] = n.time
		n = n.parent
	}
	for i := len(c.prevTimes) - 1; k < medianTimeBlocks && i >= 0; i-- {
		ts[k] = c.prevTimes[i]
		k++
	}
	s := ts[:k]
	slices.Sort(s)
	return s[k/2]
}
