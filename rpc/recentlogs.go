package rpc

import (
	"math/big"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/filters"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// The recent-logs index holds at most this many blocks, and drops its
// oldest blocks once it holds more logs than this (the newest block is
// always kept): tens of MB at most, next to a dev chain's blocks and state.
const (
	recentLogsBlocks = 1 << 16
	recentLogsLogs   = 1 << 16
)

// maxTopics is geth's limit on topic positions (eth/filters api.go).
const maxTopics = 4

// recentLogs is eth_getLogs' index on a dev node, where geth's filtermaps
// index is off (Config.NoLogIndex): the derived logs of the newest
// canonical blocks, in memory.
//
// Without it eth_getLogs ran geth's unindexed search (eth/filters v1.17.10
// filter.go, unindexedLogs), which for every block in the range reads the
// canonical hash, recomputes the header's hash (RLP and Keccak of a header
// whose Extra carries the merged-mining proof) and tests the bloom: a CPU
// profile of loadgen's eth_getLogs (201 Transfer logs over 100 blocks) put
// the header hash at 26%, the blooms at 12% and the canonical hash reads
// at 7% of the node's CPU.
//
// The index follows the chain when queried, not on every block: the dev
// loop pays nothing for it until someone asks for logs. A query outside the
// blocks it holds goes to geth's search.
type recentLogs struct {
	chain              *core.BlockChain
	maxBlocks, maxLogs int // recentLogsBlocks, recentLogsLogs

	mu     sync.RWMutex
	first  uint64 // number of blocks[0]
	blocks []recentBlock
	nlogs  int // logs held
}

type recentBlock struct {
	hash common.Hash
	logs []*types.Log // shared with every answer: read-only
}

func newRecentLogs(chain *core.BlockChain) *recentLogs {
	return &recentLogs{chain: chain, maxBlocks: recentLogsBlocks, maxLogs: recentLogsLogs}
}

// logs returns the logs of canonical blocks from..to matching addresses and
// topics as geth's filterLogs matches them, never nil; ok is false when the
// index does not hold every block of the range.
func (r *recentLogs) logs(from, to uint64, addresses []common.Address, topics [][]common.Hash) (logs []*types.Log, ok bool) {
	r.follow()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.blocks) == 0 || from < r.first || to >= r.first+uint64(len(r.blocks)) || from > to {
		return nil, false
	}
	logs = []*types.Log{}
	for _, b := range r.blocks[from-r.first : to-r.first+1] {
		for _, l := range b.logs {
			if logMatches(l, addresses, topics) {
				logs = append(logs, l)
			}
		}
	}
	return logs, true
}

// logMatches is geth's filterLogs test (eth/filters v1.17.10 filter.go): a
// log with fewer topics than the query has positions never matches, and an
// empty position matches any topic.
func logMatches(l *types.Log, addresses []common.Address, topics [][]common.Hash) bool {
	if len(addresses) > 0 && !slices.Contains(addresses, l.Address) {
		return false
	}
	if len(topics) > len(l.Topics) {
		return false
	}
	for i, sub := range topics {
		if len(sub) > 0 && !slices.Contains(sub, l.Topics[i]) {
			return false
		}
	}
	return true
}

// follow brings the index to the chain's head: it drops the blocks a
// rewind or reorg took off the canonical chain and appends the new ones.
func (r *recentLogs) follow() {
	head := r.chain.CurrentBlock()
	r.mu.RLock()
	current := len(r.blocks) > 0 && r.blocks[len(r.blocks)-1].hash == head.Hash()
	r.mu.RUnlock()
	if current {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Again under the lock: another query may have followed the chain
	// further meanwhile.
	head = r.chain.CurrentBlock()
	for len(r.blocks) > 0 {
		last := r.blocks[len(r.blocks)-1]
		if r.chain.GetCanonicalHash(r.first+uint64(len(r.blocks)-1)) == last.hash {
			break
		}
		r.nlogs -= len(last.logs)
		r.blocks[len(r.blocks)-1] = recentBlock{}
		r.blocks = r.blocks[:len(r.blocks)-1]
	}
	headNum, next := head.Number.Uint64(), r.first+uint64(len(r.blocks))
	if next > headNum+1 {
		return // a rewind under way; the next query follows it
	}
	if len(r.blocks) == 0 || headNum+1-next > uint64(r.maxBlocks) {
		// Start over with as many of the newest blocks as the index holds.
		next = max(headNum+1, uint64(r.maxBlocks)) - uint64(r.maxBlocks)
		r.blocks, r.nlogs, r.first = nil, 0, next
	}
	for n := next; n <= headNum; n++ {
		hash := r.chain.GetCanonicalHash(n)
		header := r.chain.GetHeader(hash, n)
		if header == nil || (len(r.blocks) > 0 && header.ParentHash != r.blocks[len(r.blocks)-1].hash) {
			// The chain moved while this ran; the next query follows it.
			break
		}
		receipts := r.chain.GetReceiptsByHash(hash)
		if receipts == nil && header.TxHash != types.EmptyTxsHash {
			break // not stored: geth's search answers for this block
		}
		var logs []*types.Log
		for _, receipt := range receipts {
			logs = append(logs, receipt.Logs...)
		}
		r.blocks = append(r.blocks, recentBlock{hash: hash, logs: logs})
		r.nlogs += len(logs)
	}
	r.trim()
}

// trim drops the oldest blocks beyond the index's bounds. The slice is
// cut from the front, not copied: append moves the live blocks to a new
// array when it next grows.
func (r *recentLogs) trim() {
	drop := max(len(r.blocks)-r.maxBlocks, 0)
	n := r.nlogs
	for _, b := range r.blocks[:drop] {
		n -= len(b.logs)
	}
	for ; drop < len(r.blocks)-1 && n > r.maxLogs; drop++ {
		n -= len(r.blocks[drop].logs)
	}
	clear(r.blocks[:drop]) // let the dropped logs be collected
	r.blocks, r.nlogs, r.first = r.blocks[drop:], n, r.first+uint64(drop)
}

// recentLogsQuery asks the index for crit's logs over from..to, the ends
// checkLogRange resolved; ok is false for anything geth should answer: a
// block-hash query, one geth refuses (too many topics or terms, a reversed
// range), a range the index does not hold.
func (s *Service) recentLogsQuery(crit filters.FilterCriteria, from, to uint64) ([]*types.Log, bool) {
	if s.recent == nil || crit.BlockHash != nil || len(crit.Topics) > maxTopics || len(crit.Addresses) > maxLogQueryTerms {
		return nil, false
	}
	for _, sub := range crit.Topics {
		if len(sub) > maxLogQueryTerms {
			return nil, false
		}
	}
	// geth reads a "latest" start as the largest block number: it refuses
	// any other end with it.
	latest := func(n *big.Int) bool { return n == nil || n.Int64() == gethrpc.LatestBlockNumber.Int64() }
	if latest(crit.FromBlock) && !latest(crit.ToBlock) {
		return nil, false
	}
	return s.recent.logs(from, to, crit.Addresses, crit.Topics)
}
