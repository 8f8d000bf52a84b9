package node

import (
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
)

// BenchmarkMnrSubmit measures what a pool waits for: mnr_submit… of a
// solved share until the block is the head (the call returns after import),
// while 8 other clients poll mnr_getWork; it reports p50/p99 of both.
func BenchmarkMnrSubmit(b *testing.B) {
	spec, _ := genesis.Load("regtest")
	// Sealing as fast as the loop can would run block time ahead of the
	// clock past the drift bounds; the latency is what is measured here.
	spec.MergeMining.MaxFutureDrift, spec.MergeMining.MaxBitcoinTimeDrift = 0, 0
	n, client := startNode(b, Config{Spec: spec, Mine: true, Etherbase: common.HexToAddress("0xfee")})

	var (
		stop    atomic.Bool
		mu      sync.Mutex
		polls   []time.Duration
		pollers sync.WaitGroup
	)
	for range 8 {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			c, _ := gethrpc.Dial(n.HTTPEndpoint())
			defer c.Close()
			for !stop.Load() {
				start := time.Now()
				var w mnrWork
				if err := c.Call(&w, "mnr_getWork"); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				polls = append(polls, time.Since(start))
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // a pool polls; it does not spin
			}
		}()
	}
	submits := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var w mnrWork
		if err := client.Call(&w, "mnr_getWork"); err != nil {
			b.Fatal(err)
		}
		header, coinbase := poolShare(b, &w, uint64(i))
		txid := chainhash.DoubleHashH(common.FromHex(coinbase))
		start := time.Now()
		var res map[string]any
		if err := client.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", header, coinbase, hex.EncodeToString(txid[:]), "1"); err != nil {
			b.Fatal(err)
		}
		submits = append(submits, time.Since(start))
	}
	b.StopTimer()
	stop.Store(true)
	pollers.Wait()
	if head := n.Chain().CurrentBlock().Number.Uint64(); head != uint64(b.N) {
		b.Fatalf("head %d after %d submissions", head, b.N)
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
	report("submit", submits)
	mu.Lock()
	report("getwork", polls)
	mu.Unlock()
}
