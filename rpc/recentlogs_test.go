package rpc

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// emitterCode emits LOGk with its first k calldata words as topics and the
// rest as data: CALLDATACOPY(0, 0, size); LOGk(32k, size-32k, words...).
func emitterCode(k int) []byte {
	code := []byte{0x36, 0x60, 0x00, 0x60, 0x00, 0x37}
	for i := k - 1; i >= 0; i-- {
		code = append(code, 0x60, byte(32*i), 0x51)
	}
	return append(code, 0x60, byte(32*k), 0x36, 0x03, 0x60, byte(32*k), 0xa0+byte(k), 0x00)
}

// TestRecentLogsMatchesGeth: on random chains of logs from emitters of
// zero to four topics, with rewinds and replacement blocks, every random
// query the recent-logs index answers is answered as geth's own search
// answers it (the same logs, fields and order; every block tag), and the
// queries it leaves (a range reaching past the blocks it holds) reach geth
// and get the same answer through eth_getLogs.
func TestRecentLogsMatchesGeth(t *testing.T) {
	tc := newTestChain(t, testOptions{noLogIndex: true})
	rng := rand.New(rand.NewPCG(1, 2))
	topicSet := []common.Hash{{1}, {2}, {3}}
	// Emitters of zero to four topics, and a second of two, so that some
	// logs differ by address only.
	topicCounts := []int{0, 1, 2, 3, 4, 2}
	var emitters []common.Address
	head := tc.HeadBlock()
	head = tc.mine(tc.Chain, head, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
		var txs []*types.Transaction
		for _, k := range topicCounts {
			n := nonce(addr3)
			emitters = append(emitters, crypto.CreateAddress(addr3, n))
			txs = append(txs, signedTx(tc, key3, n, nil, deployCode(emitterCode(k)), head))
		}
		return txs
	})
	extend := func(n int) {
		for range n {
			parent := tc.HeadBlock()
			head = tc.mine(tc.Chain, parent, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
				var txs []*types.Transaction
				for range rng.IntN(4) { // some blocks have no logs
					k := rng.IntN(len(emitters))
					var input []byte
					for range topicCounts[k] {
						input = append(input, topicSet[rng.IntN(len(topicSet))][:]...)
					}
					input = append(input, word(rng.Int64N(1000))...)
					txs = append(txs, signedTx(tc, key1, nonce(addr1), &emitters[k], input, parent))
				}
				return txs
			})
		}
	}
	query := func() filters.FilterCriteria {
		n := head.NumberU64()
		var crit filters.FilterCriteria
		end := func() *big.Int {
			switch rng.IntN(8) {
			case 0:
				return nil
			case 1:
				return big.NewInt(int64(gethrpc.LatestBlockNumber))
			case 2:
				return big.NewInt(int64(gethrpc.EarliestBlockNumber))
			case 3:
				return big.NewInt(int64(gethrpc.SafeBlockNumber))
			case 4:
				return big.NewInt(int64(gethrpc.FinalizedBlockNumber))
			}
			return new(big.Int).SetUint64(rng.Uint64N(n + 1))
		}
		crit.FromBlock, crit.ToBlock = end(), end()
		for range rng.IntN(3) {
			if rng.IntN(4) == 0 {
				crit.Addresses = append(crit.Addresses, common.Address{0xde, 0xad}) // never logs
			} else {
				crit.Addresses = append(crit.Addresses, emitters[rng.IntN(len(emitters))])
			}
		}
		for range rng.IntN(4) {
			var sub []common.Hash
			for range rng.IntN(3) {
				if rng.IntN(5) == 0 {
					sub = append(sub, common.Hash{9})
				} else {
					sub = append(sub, topicSet[rng.IntN(len(topicSet))])
				}
			}
			crit.Topics = append(crit.Topics, sub)
		}
		return crit
	}
	api := &filterAPI{FilterAPI: tc.svc.filterAPI, s: tc.svc}
	served, logged := 0, 0
	compare := func(rounds int) {
		t.Helper()
		for range rounds {
			crit := query()
			want, werr := tc.svc.filterAPI.GetLogs(context.Background(), crit) // geth's search alone
			got, ok := indexQuery(tc, crit)
			if !ok {
				got, _ = api.GetLogs(context.Background(), crit)
			} else {
				served++
				logged += len(got)
			}
			if ok && werr != nil {
				t.Fatalf("%+v: the index answered %d logs, geth refused: %v", crit, len(got), werr)
			}
			if werr != nil {
				continue
			}
			w, _ := json.Marshal(want)
			g, _ := json.Marshal(got)
			if string(w) != string(g) {
				t.Fatalf("%+v (index answered: %v):\n geth  %s\n index %s", crit, ok, w, g)
			}
		}
	}
	extend(40)
	compare(300)
	// A rewind queried before and after new blocks replace the old ones.
	if err := tc.Rewind(25); err != nil {
		t.Fatal(err)
	}
	head = tc.HeadBlock()
	compare(100)
	extend(10)
	compare(200)
	// A rewind the index sees only once the replacement blocks are in.
	if err := tc.Rewind(30); err != nil {
		t.Fatal(err)
	}
	extend(15)
	compare(200)
	// Bounds: the index keeps the newest blocks only; older ranges go to
	// geth.
	tc.svc.recent.maxBlocks, tc.svc.recent.maxLogs = 12, 15
	extend(5)
	compare(300)
	if tc.svc.recent.first == 0 || len(tc.svc.recent.blocks) > 12 {
		t.Fatalf("bounds not kept: first %d, %d blocks, %d logs", tc.svc.recent.first, len(tc.svc.recent.blocks), tc.svc.recent.nlogs)
	}
	if served < 300 || logged < 1000 {
		t.Fatalf("the index answered only %d queries (%d logs)", served, logged)
	}
	t.Logf("the index answered %d of 1,100 queries, %d logs; the rest went to geth", served, logged)
}

// indexQuery asks the recent-logs index as eth_getLogs does, after the
// range check; ok is false where eth_getLogs would not use the index.
func indexQuery(tc *testChain, crit filters.FilterCriteria) ([]*types.Log, bool) {
	from, to, err := tc.svc.checkLogRange(crit)
	if err != nil {
		return nil, false
	}
	return tc.svc.recentLogsQuery(crit, from, to)
}

// signedTx signs a 1559 transaction from key paying twice parent's base
// fee plus 1 gwei; to nil creates a contract.
func signedTx(tc *testChain, key *ecdsa.PrivateKey, nonce uint64, to *common.Address, data []byte, parent *types.Block) *types.Transaction {
	return types.MustSignNewTx(key, tc.signer, &types.DynamicFeeTx{
		ChainID: testChainID, Nonce: nonce, To: to, Data: data, Gas: 200_000,
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(parent.BaseFee(), big.NewInt(2)), big.NewInt(params.GWei)),
		GasTipCap: big.NewInt(params.GWei),
	})
}

// BenchmarkRecentLogsFollow measures how many blocks per second the index
// takes in: 200 blocks of 25 two-topic logs each, as a token's transfers
// leave them, followed from an empty index.
//
//	go test ./rpc/ -run '^$' -bench RecentLogsFollow
func BenchmarkRecentLogsFollow(b *testing.B) {
	tc := newTestChain(b, testOptions{noLogIndex: true})
	head := tc.HeadBlock()
	var emitter common.Address
	head = tc.mine(tc.Chain, head, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
		n := nonce(addr3)
		emitter = crypto.CreateAddress(addr3, n)
		return []*types.Transaction{signedTx(tc, key3, n, nil, deployCode(emitterCode(2)), head)}
	})
	const blocks, logsPerBlock = 200, 25
	for i := range blocks {
		parent := tc.HeadBlock()
		tc.mine(tc.Chain, parent, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
			var txs []*types.Transaction
			for j := range logsPerBlock {
				input := append(append(word(int64(i)), word(int64(j))...), word(1)...)
				txs = append(txs, signedTx(tc, key1, nonce(addr1), &emitter, input, parent))
			}
			return txs
		})
	}
	b.ResetTimer()
	for b.Loop() {
		r := newRecentLogs(tc.bc)
		r.follow()
		if r.nlogs < blocks*logsPerBlock { // and the fixture's own
			b.Fatalf("%d logs indexed", r.nlogs)
		}
	}
	b.ReportMetric(float64(blocks*b.N)/b.Elapsed().Seconds(), "blocks/s")
}

// TestRecentLogsFollowsWhileQueried: queries from four goroutines while
// blocks are mined and the chain rewound each get an ordered answer, and
// once the chain rests the index answers as geth does (run it with -race).
func TestRecentLogsFollowsWhileQueried(t *testing.T) {
	tc := newTestChain(t, testOptions{noLogIndex: true})
	head := tc.HeadBlock()
	var emitter common.Address
	tc.mine(tc.Chain, head, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
		n := nonce(addr3)
		emitter = crypto.CreateAddress(addr3, n)
		return []*types.Transaction{signedTx(tc, key3, n, nil, deployCode(emitterCode(1)), head)}
	})
	mine := func(n int) {
		for i := range n {
			parent := tc.HeadBlock()
			tc.mine(tc.Chain, parent, testCoinbase, func(nonce func(common.Address) uint64) []*types.Transaction {
				return []*types.Transaction{signedTx(tc, key1, nonce(addr1), &emitter, append(word(int64(i)), word(1)...), parent)}
			})
		}
	}
	crit := filters.FilterCriteria{FromBlock: big.NewInt(0), Addresses: []common.Address{emitter}}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				to := big.NewInt(int64(tc.bc.CurrentBlock().Number.Uint64()))
				c := crit
				c.ToBlock = to
				logs, ok := indexQuery(tc, c)
				for i := 1; ok && i < len(logs); i++ {
					if logs[i].BlockNumber < logs[i-1].BlockNumber {
						errs <- fmt.Errorf("answer out of order at %d: block %d after %d", i, logs[i].BlockNumber, logs[i-1].BlockNumber)
						return
					}
				}
			}
		}()
	}
	mine(20)
	if err := tc.Rewind(10); err != nil {
		t.Fatal(err)
	}
	mine(15)
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	want, err := tc.svc.filterAPI.GetLogs(context.Background(), crit)
	got, ok := indexQuery(tc, crit)
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	// The emitter came in block 6, after the fixture's five; blocks 7-10
	// of the first 20 survive the rewind, then 15 more: 19 logs.
	if err != nil || !ok || string(w) != string(g) || len(got) != 19 {
		t.Fatalf("at rest: index (%v) %d logs, geth %d (%v)", ok, len(got), len(want), err)
	}
}
