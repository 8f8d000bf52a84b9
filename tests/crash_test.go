package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestCrashKeepsIncludedTransactions kills a dev node with an on-disk
// datadir (kill -9) in the middle of a stream of transactions, three times
// (MMGETH_CRASH_ROUNDS times if set, with MMGETH_CRASH_LOAD of load per
// round, default 1.5s: 40 rounds of 4s take the chain past 8,000 blocks).
// Each restart must come back with a head no lower than the last block
// seen before the kill, the same blocks at every height seen, and a
// receipt for every transaction that had one. The time from each start to
// RPC answering is logged with the chain's length, to show that restarts
// stay flat as the chain grows.
func TestCrashKeepsIncludedTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	bin := binary(t, "./cmd/mmgeth")
	url := fmt.Sprintf("http://127.0.0.1:%d", freePorts(t, 1)[0])
	argv := []string{bin, "--dev", "--datadir", filepath.Join(dir, "data"), "--ipcdisable",
		"--http.port", url[len("http://127.0.0.1:"):]}
	logPath := filepath.Join(dir, "node.log")

	included := map[string]string{} // tx hash -> block hash
	seen := map[uint64]string{}     // block number -> hash
	rounds := 3
	if v := os.Getenv("MMGETH_CRASH_ROUNDS"); v != "" {
		var err error
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			t.Fatalf("MMGETH_CRASH_ROUNDS=%q: want a positive number", v)
		}
	}
	load := 1500 * time.Millisecond
	if v := os.Getenv("MMGETH_CRASH_LOAD"); v != "" {
		var err error
		if load, err = time.ParseDuration(v); err != nil || load <= 0 {
			t.Fatalf("MMGETH_CRASH_LOAD=%q: want a positive duration", v)
		}
	}
	var restarts []time.Duration
	restart := func(round int) *process {
		start := time.Now()
		p := startProcess(t, "mmgeth", argv, dir, logPath)
		p.waitRPC(t, url, time.Minute)
		took := time.Since(start)
		restarts = append(restarts, took)
		head := checkSurvived(t, url, round, included, seen)
		t.Logf("round %d: restart to RPC in %v at block %d", round, took.Round(time.Millisecond), head)
		return p
	}
	for round := 0; round < rounds; round++ {
		p := restart(round)

		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		var accounts []string
		if err := rpcCall(ctx, url, &accounts, "eth_accounts"); err != nil {
			t.Fatal(err)
		}
		for _, from := range accounts[:4] {
			wg.Add(1)
			go func(from string) {
				defer wg.Done()
				for ctx.Err() == nil {
					var hash string
					if rpcCall(ctx, url, &hash, "eth_sendTransaction", map[string]any{"from": from, "to": accounts[19], "value": "0x1"}) != nil {
						return
					}
					for ctx.Err() == nil {
						var r struct {
							BlockHash   string         `json:"blockHash"`
							BlockNumber hexutil.Uint64 `json:"blockNumber"`
						}
						if err := rpcCall(ctx, url, &r, "eth_getTransactionReceipt", hash); err == nil && r.BlockHash != "" {
							mu.Lock()
							included[hash] = r.BlockHash
							seen[uint64(r.BlockNumber)] = r.BlockHash
							mu.Unlock()
							break
						}
						time.Sleep(2 * time.Millisecond)
					}
				}
			}(from)
		}
		time.Sleep(load)
		p.kill() // mid-stream: transactions are still being sent and sealed
		cancel()
		wg.Wait()
		t.Logf("round %d: killed with %d transactions and %d blocks seen", round, len(included), len(seen))
	}
	restart(rounds)
	if len(included) < 50 {
		t.Fatalf("only %d transactions streamed: the test did not exercise the node", len(included))
	}
	slices.Sort(restarts)
	t.Logf("restart to RPC over %d restarts: p50 %v, max %v", len(restarts), restarts[len(restarts)/2].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond))
}

// checkSurvived checks the node kept every block and receipt seen, and
// returns its head.
func checkSurvived(t *testing.T, url string, round int, included map[string]string, seen map[uint64]string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var head hexutil.Uint64
	if err := rpcCall(ctx, url, &head, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}
	for number, hash := range seen {
		if number > uint64(head) {
			t.Fatalf("restart %d: head %d is below block %d seen before the kill", round, head, number)
		}
		var block struct {
			Hash string `json:"hash"`
		}
		if err := rpcCall(ctx, url, &block, "eth_getBlockByNumber", hexutil.Uint64(number), false); err != nil || block.Hash != hash {
			t.Fatalf("restart %d: block %d is %q (%v), was %s", round, number, block.Hash, err, hash)
		}
	}
	for tx, blockHash := range included {
		var r struct {
			BlockHash string `json:"blockHash"`
			Status    string `json:"status"`
		}
		if err := rpcCall(ctx, url, &r, "eth_getTransactionReceipt", tx); err != nil || r.BlockHash != blockHash || r.Status != "0x1" {
			t.Fatalf("restart %d: receipt of %s is %+v (%v), was in %s", round, tx, r, err, blockHash)
		}
	}
	return uint64(head)
}
