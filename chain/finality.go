package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/mergemine"
)

// FinalityConfig chooses how the chain computes `finalized` and `safe`
// (PEG.md §6).
type FinalityConfig struct {
	// Bitcoin selects Bitcoin-anchored finality: finalized is the newest
	// canonical block committed by an anchor K blocks deep in BtcRelay's
	// best chain. Without it (the dev network's "depth" mode) both tags are
	// head - Confirmations, as before, nothing is persisted and fork choice
	// has no guard.
	Bitcoin bool
	// K is the Bitcoin depth an anchor needs (Bitcoin mode).
	K uint64
	// Confirmations is the depth rule: safe is never below
	// head - Confirmations.
	Confirmations uint64
	// Override lets fork choice adopt a heavier chain that forks below
	// finalized (--override.finality); finalized then drops to the fork
	// point, the one way it ever goes down.
	Override bool
}

// maxRecentAnchors bounds the anchors kept in memory above finalized. Each
// is a block whose proof is a whole Bitcoin block: on mainnet a few per
// hour, on regtest every block. Only those above finalized are kept, so the
// list stays short while a relayer keeps BtcRelay current; when none does,
// the oldest go first, and the newest (which finalize the most) stay.
const maxRecentAnchors = 4096

// ErrNotAnchored: no anchor at or above the block is K deep in BtcRelay's
// best chain (yet).
var ErrNotAnchored = errors.New("no anchor at or above the block is K deep in the light client's best chain")

// Anchor is a stored sidechain block whose seal proof's Bitcoin header meets
// its own nBits: a Bitcoin block candidate, not a pool share (PEG.md §6.1).
// Whether that Bitcoin block is in BtcRelay's best chain depends on the
// state it is read from.
type Anchor struct {
	Number  uint64
	Hash    common.Hash
	BtcHash chainhash.Hash // internal byte order, as BtcRelay keys it
}

// AnchorStatus is an anchor as seen from the head's state.
type AnchorStatus struct {
	Anchor
	BtcHeight uint32 // height in BtcRelay
	Depth     uint32 // best height - BtcHeight + 1; 0 when not in the best chain
}

// FinalityStatus is what mm_getFinality reports.
type FinalityStatus struct {
	Config           FinalityConfig
	Finalized, Safe  *types.Header
	FinalizedBy      *AnchorStatus // the anchor behind Finalized; nil before the first, and in depth mode
	Newest           *AnchorStatus // newest canonical anchor in BtcRelay's best chain, any depth; nil if none
	LightClientKnown bool          // whether BtcRelay could be read at the head
	LightClient      bridge.BestChain
}

// anchorPrefix keys the anchor index: anchorPrefix ‖ number (8 bytes, big
// endian) ‖ block hash -> Bitcoin block hash. PEG.md §6.2 keys it by the
// Bitcoin hash; keying by number lets start-up load only the anchors above
// finalized and mm_getAnchorProof find the lowest anchor at or above a
// block with one ordered seek.
var anchorPrefix = []byte("xmm-anchor-")

// finalizedKey holds the Bitcoin-anchored finalized block and the anchor
// behind it: number ‖ hash ‖ anchor number ‖ anchor hash ‖ Bitcoin hash.
var finalizedKey = []byte("xmm-finalized")

func anchorKey(number uint64, hash common.Hash) []byte {
	k := make([]byte, 0, len(anchorPrefix)+8+common.HashLength)
	k = append(k, anchorPrefix...)
	k = binary.BigEndian.AppendUint64(k, number)
	return append(k, hash[:]...)
}

// IsBitcoinBlock reports whether a header's proof meets its Bitcoin
// header's own nBits target, which makes it a block of that Bitcoin chain
// rather than a share; ok is false when the header has no readable proof.
func IsBitcoinBlock(h *types.Header) (isBlock, ok bool) {
	_, isBlock, ok = bitcoinBlock(h)
	return isBlock, ok
}

func bitcoinBlock(h *types.Header) (hash chainhash.Hash, isBlock, ok bool) {
	seal, err := consensus.DecodeSeal(h.Extra)
	if err != nil || seal.Proof == nil || len(seal.Proof.BitcoinHeader) != mergemine.HeaderSize {
		return hash, false, false
	}
	return mergemine.HeaderHash(seal.Proof.BitcoinHeader), mergemine.IsBitcoinBlock(seal.Proof.BitcoinHeader), true
}

// finality is the chain's finality state. Its fields are written with the
// chain's mutex held (inserts) and read by RPC without it, hence its own.
type finality struct {
	cfg FinalityConfig

	mu          sync.RWMutex
	finalized   *types.Header
	safe        *types.Header
	finalizedBy *Anchor  // nil before the first anchor, and in depth mode
	recent      []Anchor // anchors above finalized, ascending by number

	// What the last walk saw: while BtcRelay's tip and the canonical chain
	// below the head stay the same, no anchor the walk found short of K
	// deep can have become deep, and only anchors stored since (fresh) need
	// a look. A walk per block over every recent anchor would cost
	// thousands of EVM calls per block while no relayer feeds BtcRelay.
	lastBest common.Hash
	lastHead *types.Header
	fresh    []Anchor

	conflicts atomic.Uint64
}

// loadFinality restores the persisted finalized block and the anchors
// above it. Called by New before Replay, so that the reorg guard holds from
// the first block fork choice sees.
func (c *Chain) loadFinality() error {
	f := &c.fin
	f.finalized = c.bc.Genesis().Header()
	if !f.cfg.Bitcoin {
		return nil
	}
	if data, err := c.db.Get(finalizedKey); err == nil {
		if len(data) != 8+32+8+32+32 {
			return fmt.Errorf("stored finalized block: %d bytes, want 112", len(data))
		}
		number, hash := binary.BigEndian.Uint64(data), common.BytesToHash(data[8:40])
		h := c.bc.GetHeader(hash, number)
		if h == nil {
			return fmt.Errorf("stored finalized block %d %x is not in the database", number, hash)
		}
		f.finalized = h
		f.finalizedBy = &Anchor{Number: binary.BigEndian.Uint64(data[40:]), Hash: common.BytesToHash(data[48:80]), BtcHash: chainhash.Hash(data[80:112])}
	}
	it := c.db.NewIterator(anchorPrefix, binary.BigEndian.AppendUint64(nil, f.finalized.Number.Uint64()+1))
	defer it.Release()
	for it.Next() {
		if a, ok := decodeAnchor(it.Key(), it.Value()); ok {
			f.recent = append(f.recent, a)
		}
	}
	if n := len(f.recent); n > maxRecentAnchors {
		f.recent = f.recent[n-maxRecentAnchors:]
	}
	return it.Error()
}

func decodeAnchor(key, value []byte) (Anchor, bool) {
	if len(key) != len(anchorPrefix)+8+32 || len(value) != 32 {
		return Anchor{}, false
	}
	key = key[len(anchorPrefix):]
	return Anchor{Number: binary.BigEndian.Uint64(key), Hash: common.BytesToHash(key[8:]), BtcHash: chainhash.Hash(value)}, true
}

// indexAnchors writes the anchor entries of blocks about to be stored into
// batch and returns them, for noteAnchors once the batch is written. It
// costs a seal decoding and a double SHA-256 per block.
func indexAnchors(batch ethdb.KeyValueWriter, blocks []*types.Block) ([]Anchor, error) {
	var anchors []Anchor
	for _, b := range blocks {
		btcHash, isBlock, _ := bitcoinBlock(b.Header())
		if !isBlock {
			continue
		}
		a := Anchor{Number: b.NumberU64(), Hash: b.Hash(), BtcHash: btcHash}
		if err := batch.Put(anchorKey(a.Number, a.Hash), btcHash[:]); err != nil {
			return nil, fmt.Errorf("store anchor %d %x: %w", a.Number, a.Hash, err)
		}
		anchors = append(anchors, a)
	}
	return anchors, nil
}

// noteAnchors adds newly stored anchors to the recent list.
func (c *Chain) noteAnchors(anchors []Anchor) {
	f := &c.fin
	if !f.cfg.Bitcoin || len(anchors) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range anchors {
		if a.Number <= f.finalized.Number.Uint64() {
			continue
		}
		i := sort.Search(len(f.recent), func(i int) bool { return f.recent[i].Number > a.Number })
		if i > 0 && f.recent[i-1] == a {
			continue // replayed
		}
		f.recent = append(f.recent, Anchor{})
		copy(f.recent[i+1:], f.recent[i:])
		f.recent[i] = a
		f.fresh = append(f.fresh, a)
	}
	if n := len(f.recent); n > maxRecentAnchors {
		f.recent = f.recent[n-maxRecentAnchors:]
	}
}

// relayView is a BtcRelay view on the head's state, which it owns.
func (c *Chain) relayView(head *types.Header) (*bridge.View, error) {
	st, err := c.bc.StateAt(head.Root, head.Number, head.Time)
	if err != nil {
		return nil, fmt.Errorf("state of head %d: %w", head.Number, err)
	}
	return bridge.NewView(st, c.bc.Config()), nil
}

// HeadView is a BtcRelay view on the head's state, for RPC.
func (c *Chain) HeadView() (*bridge.View, *types.Header, error) {
	head := c.bc.CurrentBlock()
	v, err := c.relayView(head)
	return v, head, err
}

// anchorDepth reads an anchor's Bitcoin block in view: its height and its
// depth in the best chain (0 when it is not there).
func anchorDepth(view *bridge.View, best bridge.BestChain, btcHash chainhash.Hash) (height, depth uint32, err error) {
	info, err := view.HeaderInfo(common.Hash(btcHash))
	if err != nil || !info.Known {
		return 0, 0, err
	}
	if info.InBestChain && best.Height >= info.Height {
		depth = best.Height - info.Height + 1
	}
	return info.Height, depth, nil
}

// canonicalAncestor is the highest canonical block at or below the stored
// block (number, hash): the block itself when canonical, else the fork
// point of its branch. nil when the block is not stored.
func (c *Chain) canonicalAncestor(number uint64, hash common.Hash) *types.Header {
	for h := c.bc.GetHeader(hash, number); h != nil; h = c.bc.GetHeader(h.ParentHash, h.Number.Uint64()-1) {
		if c.bc.GetCanonicalHash(h.Number.Uint64()) == h.Hash() {
			return h
		}
	}
	return nil
}

// updateFinality recomputes finalized and safe for the head and keeps
// geth's own markers (which its filter maps and RPC read) in step. Called
// with the chain's mutex held, after every import that stored a block.
//
// Bitcoin mode (PEG.md §6.1): finalized is the highest, over anchors whose
// Bitcoin block is at least K deep in BtcRelay's best chain as the head's
// state has it, of the anchor if canonical, else its highest canonical
// ancestor; it never goes down. The anchors are walked newest first and the
// walk stops at the first whose number cannot raise the result.
func (c *Chain) updateFinality() {
	f := &c.fin
	head := c.bc.CurrentBlock()
	headNumber := head.Number.Uint64()
	depthRule := c.bc.GetHeaderByNumber(headNumber - min(headNumber, f.cfg.Confirmations))
	if !f.cfg.Bitcoin {
		// geth's finalized marker stays unset, as before this mode had a
		// tracker: set, it would make geth's freezer move dev blocks to the
		// ancient store two blocks behind the head, under evm_revert.
		f.mu.Lock()
		f.finalized, f.safe = depthRule, depthRule
		f.mu.Unlock()
		c.bc.SetSafe(depthRule)
		return
	}
	f.mu.Lock()
	finalized, by := f.finalized, f.finalizedBy
	recent, fresh, lastBest, lastHead := append([]Anchor(nil), f.recent...), f.fresh, f.lastBest, f.lastHead
	f.fresh = nil
	f.mu.Unlock()

	if view, err := c.relayView(head); err != nil {
		log.Warn("Finality not updated", "err", err)
	} else if best, err := view.BestChain(); err != nil {
		log.Warn("Finality not updated: BtcRelay unreadable", "err", err)
	} else {
		candidates := recent
		if best.Hash == lastBest && lastHead != nil && c.bc.GetCanonicalHash(lastHead.Number.Uint64()) == lastHead.Hash() {
			candidates = fresh
			sort.Slice(candidates, func(i, j int) bool { return candidates[i].Number < candidates[j].Number })
		}
		walked := true
		for i := len(candidates) - 1; i >= 0 && candidates[i].Number > finalized.Number.Uint64(); i-- {
			a := candidates[i]
			_, depth, err := anchorDepth(view, best, a.BtcHash)
			if err != nil {
				log.Warn("Finality not updated: BtcRelay unreadable", "err", err)
				walked = false
				break
			}
			if uint64(depth) < f.cfg.K {
				continue
			}
			if h := c.canonicalAncestor(a.Number, a.Hash); h != nil && h.Number.Cmp(finalized.Number) > 0 {
				finalized, by = h, &a
			}
		}
		if walked {
			f.mu.Lock()
			f.lastBest, f.lastHead = best.Hash, head
			f.mu.Unlock()
		}
	}
	if err := c.setFinalized(finalized, by); err != nil {
		log.Error("Failed to store the finalized block", "err", err)
	}
	safe := finalized
	if depthRule.Number.Cmp(safe.Number) > 0 {
		safe = depthRule
	}
	f.mu.Lock()
	f.safe = safe
	f.mu.Unlock()
	c.bc.SetSafe(safe)
	c.syncFinalizedMarker()
}

// setFinalized records a new finalized block (persisted first, so a value
// once reported is never reported lower after a restart), drops the
// anchors it covers from memory and moves geth's marker.
func (c *Chain) setFinalized(h *types.Header, by *Anchor) error {
	f := &c.fin
	f.mu.RLock()
	same := f.finalized.Hash() == h.Hash()
	f.mu.RUnlock()
	if same {
		return nil
	}
	data := make([]byte, 0, 112)
	data = binary.BigEndian.AppendUint64(data, h.Number.Uint64())
	data = append(data, h.Hash().Bytes()...)
	var a Anchor
	if by != nil {
		a = *by
	}
	data = binary.BigEndian.AppendUint64(data, a.Number)
	data = append(append(data, a.Hash[:]...), a.BtcHash[:]...)
	if err := c.db.Put(finalizedKey, data); err != nil {
		return err
	}
	f.mu.Lock()
	f.finalized, f.finalizedBy = h, by
	n := h.Number.Uint64()
	i := sort.Search(len(f.recent), func(i int) bool { return f.recent[i].Number > n })
	f.recent = append([]Anchor(nil), f.recent[i:]...)
	f.mu.Unlock()
	log.Info("Finalized by a Bitcoin anchor", "number", n, "hash", h.Hash(), "anchor", a.Number, "btc", a.BtcHash)
	return nil
}

// syncFinalizedMarker moves geth's finalized marker, which its filter maps
// and RPC read, to the finalized block, capped at the newest block whose
// state was flushed to disk. The cap is for geth's freezer, which moves
// every block below the marker to the ancient store: after a crash geth
// truncates its chain to the newest block with state on disk whenever that
// is below the frozen blocks, so an uncapped marker would delete the blocks
// finalized since the last flush on each crash.
// The marker only goes down when finalized does (an operator's override).
func (c *Chain) syncFinalizedMarker() {
	fin := c.Finalized()
	target := fin
	if fin.Number.Uint64() > c.flushed {
		if target = c.bc.GetHeaderByNumber(c.flushed); target == nil {
			return
		}
	}
	cur := c.bc.CurrentFinalBlock()
	if cur == nil || target.Number.Cmp(cur.Number) > 0 || fin.Number.Cmp(cur.Number) < 0 {
		c.bc.SetFinalized(target)
	}
}

// guardRefuses applies the reorg guard (PEG.md §6.3) to a heavier chain
// whose fork point is the block numbered fork: true when the switch must be
// refused because it would replace a finalized block. Honest nodes on the
// same chain compute the same finalized block, and a conflict needs two
// sidechain blocks committed by Bitcoin blocks both K deep: halting on it
// is the safe failure. With Override the switch goes ahead and finalized
// drops to the fork point once it is made.
func (c *Chain) guardRefuses(b *types.Block, fork uint64) bool {
	f := &c.fin
	if !f.cfg.Bitcoin {
		return false
	}
	fin := c.Finalized()
	if fork >= fin.Number.Uint64() {
		return false
	}
	if f.cfg.Override {
		log.Warn("Reorganising below the finalized block (--override.finality)", "fork", fork, "finalized", fin.Number, "number", b.NumberU64(), "hash", b.Hash())
		return false
	}
	f.conflicts.Add(1)
	// geth's log.Crit exits the process; a refused reorg keeps the node
	// running on its finalized chain, so the line is written at CRIT level
	// without exiting.
	log.Root().Write(log.LevelCrit, "Refused a heavier chain that forks below the Bitcoin-finalized block: conflicting anchors, operator action needed (--override.finality)",
		"number", b.NumberU64(), "hash", b.Hash(), "fork", fork, "finalized", fin.Number, "finalizedHash", fin.Hash())
	return true
}

// lowerFinalized follows an operator-accepted reorg below finalized: the
// fork point becomes finalized, the only way the value goes down.
func (c *Chain) lowerFinalized(fork *types.Header) {
	f := &c.fin
	if !f.cfg.Bitcoin || fork.Number.Cmp(c.Finalized().Number) >= 0 {
		return
	}
	if err := c.setFinalized(fork, nil); err != nil {
		log.Error("Failed to store the finalized block", "err", err)
	}
}

// Finalized is the finalized block: Bitcoin-anchored in Bitcoin mode (the
// genesis block before the first anchor is K deep), head - Confirmations in
// depth mode.
func (c *Chain) Finalized() *types.Header {
	c.fin.mu.RLock()
	defer c.fin.mu.RUnlock()
	return c.fin.finalized
}

// Safe is max(finalized, head - Confirmations).
func (c *Chain) Safe() *types.Header {
	c.fin.mu.RLock()
	defer c.fin.mu.RUnlock()
	if c.fin.safe == nil {
		return c.fin.finalized
	}
	return c.fin.safe
}

// FinalityConflicts counts the heavier chains the reorg guard refused since
// start-up.
func (c *Chain) FinalityConflicts() uint64 { return c.fin.conflicts.Load() }

// FinalityStatus reads the finality state and the anchors behind it
// against the head's BtcRelay state.
func (c *Chain) FinalityStatus() (*FinalityStatus, error) {
	f := &c.fin
	f.mu.RLock()
	s := &FinalityStatus{Config: f.cfg, Finalized: f.finalized, Safe: f.safe}
	by := f.finalizedBy
	recent := append([]Anchor(nil), f.recent...)
	f.mu.RUnlock()
	if s.Safe == nil {
		s.Safe = s.Finalized
	}
	view, _, err := c.HeadView()
	if err != nil {
		return nil, err
	}
	if s.LightClient, err = view.BestChain(); err != nil {
		return s, nil // no light client in this state: nothing more to say
	}
	s.LightClientKnown = true
	status := func(a Anchor) (*AnchorStatus, error) {
		height, depth, err := anchorDepth(view, s.LightClient, a.BtcHash)
		if err != nil {
			return nil, err
		}
		return &AnchorStatus{Anchor: a, BtcHeight: height, Depth: depth}, nil
	}
	if by != nil {
		if s.FinalizedBy, err = status(*by); err != nil {
			return nil, err
		}
	}
	for i := len(recent) - 1; i >= 0; i-- {
		a := recent[i]
		if c.bc.GetCanonicalHash(a.Number) != a.Hash {
			continue
		}
		st, err := status(a)
		if err != nil {
			return nil, err
		}
		if st.Depth > 0 {
			s.Newest = st
			break
		}
	}
	if s.Newest == nil {
		s.Newest = s.FinalizedBy
	}
	return s, nil
}

// AnchorFor finds the lowest canonical anchor at or above the canonical
// block x whose Bitcoin block is K deep in the head's BtcRelay best chain,
// and which accept takes (the proof builder needs its state); it returns
// ErrNotAnchored if there is none.
func (c *Chain) AnchorFor(x *types.Header, accept func(anchor *types.Header) bool) (*AnchorStatus, *types.Header, error) {
	view, _, err := c.HeadView()
	if err != nil {
		return nil, nil, err
	}
	best, err := view.BestChain()
	if err != nil {
		return nil, nil, err
	}
	k := max(c.fin.cfg.K, 1)
	it := c.db.NewIterator(anchorPrefix, binary.BigEndian.AppendUint64(nil, x.Number.Uint64()))
	defer it.Release()
	for it.Next() {
		a, ok := decodeAnchor(it.Key(), it.Value())
		if !ok || c.bc.GetCanonicalHash(a.Number) != a.Hash {
			continue
		}
		height, depth, err := anchorDepth(view, best, a.BtcHash)
		if err != nil {
			return nil, nil, err
		}
		if uint64(depth) < k {
			continue
		}
		h := c.bc.GetHeader(a.Hash, a.Number)
		if h == nil || (accept != nil && !accept(h)) {
			continue
		}
		return &AnchorStatus{Anchor: a, BtcHeight: height, Depth: depth}, h, nil
	}
	if err := it.Error(); err != nil {
		return nil, nil, err
	}
	return nil, nil, fmt.Errorf("%w: block %d, K %d", ErrNotAnchored, x.Number, k)
}

// AnchorsSince counts the canonical anchors whose block time is at least
// since, for the anchors-per-hour metric: a measure of the share of Bitcoin
// blocks that commit to this chain.
func (c *Chain) AnchorsSince(since uint64) (int, error) {
	head := c.bc.CurrentBlock().Number.Uint64()
	// The canonical chain's times increase, so the first block at or after
	// since is found by bisection.
	from := uint64(sort.Search(int(head)+1, func(i int) bool {
		h := c.bc.GetHeaderByNumber(uint64(i))
		return h == nil || h.Time >= since
	}))
	it := c.db.NewIterator(anchorPrefix, binary.BigEndian.AppendUint64(nil, from))
	defer it.Release()
	n := 0
	for it.Next() {
		if a, ok := decodeAnchor(it.Key(), it.Value()); ok && c.bc.GetCanonicalHash(a.Number) == a.Hash {
			n++
		}
	}
	return n, it.Error()
}
