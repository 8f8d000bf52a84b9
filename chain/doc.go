// Package chain is the chain as one object (Chain): geth's core.BlockChain,
// the merged-mining engine, fork choice by cumulative work, the work store,
// start-up replay and the dev rewind. It is the one door into the chain:
// blocks mined here, from peers, from chain files and from the dev miner all
// enter through Chain.Insert, which follows btcd's ProcessBlock:
//
//	verify (every header, in parallel, before any write)
//	  -> classify (extends the head / lighter side block / makes a side chain heavier)
//	  -> insert (InsertChain; or store unexecuted; or InsertChain of the side chain)
//	  -> sync (one WAL sync per call)
//
// Errors. A RuleError is the block's fault (a consensus rule, or a flood of
// side blocks); p2p drops a peer and the work server tells a pool "invalid"
// only for those. Anything else is local (disk, shutdown) or says the
// receiver is not ready (unknown parent, block from the future) and blames
// nobody.
//
// Fork choice. The chain with the greatest cumulative work is the head; on
// equal work the block seen first stays. The cumulative work of every
// stored block is kept under the key prefix "xmm-work-", and the hash of the
// heaviest stored block under "xmm-heaviest", written with the work before
// geth stores the block, so start-up (Replay) finds a heavier block that a
// crash kept from becoming the head without scanning every entry.
//
// Side blocks are stored (header, body, work) without being executed, as
// geth's pre-merge side-chain path did, and executed only when their chain
// becomes the heaviest; then InsertChain executes the stored branch from the
// fork point, recovering an old fork point's state from the state history.
// geth's post-merge path for single side blocks (InsertBlockWithoutSetHead)
// is never used: it recovers a deep parent's state by rolling the path
// database back under the head, so one cheap side block could take the
// head's state away. Side blocks are bounded: none more than MaxSideDepth
// below the head, at most MaxPerHeight blocks stored per height.
//
// Finality (finality.go, PEG.md §6). Every stored block whose proof's
// Bitcoin header meets its own nBits (a Bitcoin block, not a share) is an
// anchor, indexed under "xmm-anchor-" by number and hash when it is stored,
// side blocks included. After each import the anchors above the finalized
// block are read against BtcRelay in the head's state (evm/bridge's View):
// finalized is the newest canonical block at or below an anchor whose
// Bitcoin block is K deep in BtcRelay's best chain; it is stored under
// "xmm-finalized" and never goes down, and safe is max(finalized, head -
// confirmations). The dev network's "depth" mode keeps both at head -
// confirmations. The reorg guard: adopt refuses a heavier chain whose fork
// point is below finalized, keeps its block as a side block, logs CRIT and
// counts it, blaming no one; an operator's override lets it through and
// lowers finalized to the fork point.
//
// State flush (flushState). When the state on disk lags the head by
// FlushBlocks (a quiet chain; a busy one writes geth's state buffer by
// itself), the head's state is written with triedb Commit, which in geth
// v1.17.10's path database replaces every in-memory layer with one disk
// layer holding the head's state: the states of the blocks below the head
// leave memory at once. A full node then has no state for them (eth_call at
// head-1 says "not available"); an archive reads them from its state
// history once indexed. A state opened below the head
// before the flush fails its next read with "layer stale"; rpc runs such a
// read once more (readState), "latest" at the new head. geth's public API
// has no gentler flush: Commit is the only call that writes the buffer
// (pathdb's cap(root, 0)), and Journal leaves the database read-only.
//
// Invariants callers rely on: every stored block has its work stored; a
// block that fails verification leaves nothing on disk; the head is always a
// block with its state; Insert and Rewind never run at once.
package chain
