package miner

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
)

// threadNice reads a thread's nice value (proc(5): field 19 of
// /proc/self/task/TID/stat).
func threadNice(tid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which ends at the last ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return strconv.Atoi(fields[16])
}

// threadNices reads the nice value of each of the process's threads.
func threadNices(t *testing.T) map[int]int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	nices := make(map[int]int)
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if nice, err := threadNice(tid); err == nil { // else the thread ended
			nices[tid] = nice
		}
	}
	return nices
}

func TestBackgroundThreadLowersOnlyItsThread(t *testing.T) {
	prior := threadNices(t)
	before := prior[syscall.Gettid()]
	if before >= devMinerNice {
		t.Skipf("the test runs at nice %d already", before)
	}
	tid, release := make(chan int), make(chan struct{})
	go func() {
		backgroundThread()
		tid <- syscall.Gettid()
		<-release
	}()
	miner := <-tid
	defer close(release)
	// A thread that ran an earlier miner keeps its nice value: Go's main
	// thread is parked, not ended, when its locked goroutine returns, and
	// never runs another. A thread started since must not inherit the
	// miner's (Go starts threads from a template thread when the creator is
	// locked).
	for id, nice := range threadNices(t) {
		want, existed := prior[id]
		switch {
		case id == miner:
			want = devMinerNice
		case !existed:
			want = before
		}
		if nice != want {
			t.Errorf("thread %d at nice %d, want %d (miner thread %d)", id, nice, want, miner)
		}
	}
}

// pendingRecorder notes the nice value of the thread of each build's read
// of the pool, and holds the first one until gate closes.
type pendingRecorder struct {
	TxSource
	entered, gate chan struct{}
	mu            sync.Mutex
	nices         []int
}

func (r *pendingRecorder) Pending(filter txpool.PendingFilter) (map[common.Address][]*txpool.LazyTransaction, int) {
	nice, err := threadNice(syscall.Gettid())
	if err != nil {
		nice = -100 // fails the test's check
	}
	r.mu.Lock()
	r.nices = append(r.nices, nice)
	first := len(r.nices) == 1
	r.mu.Unlock()
	if first {
		close(r.entered)
		<-r.gate
	}
	return r.TxSource.Pending(filter)
}

func (r *pendingRecorder) seen() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.nices...)
}

// A transaction that finds the dev miner idle is sealed on the node's own
// threads; transactions that arrive while it seals mean a client streams
// them, and the next block is sealed on the background thread.
func TestStreamedTransactionsSealInBackground(t *testing.T) {
	before, err := threadNice(syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	if before >= devMinerNice {
		t.Skipf("the test runs at nice %d already", before)
	}
	rec := &pendingRecorder{entered: make(chan struct{}), gate: make(chan struct{})}
	f := newDevFixtureWith(t, func(pool *txpool.TxPool) TxSource { rec.TxSource = pool; return rec })
	txs := f.transfers(t, 2, 1)
	add := func(tx *types.Transaction) {
		t.Helper()
		if err := f.pool.Add([]*types.Transaction{tx}, true)[0]; err != nil {
			t.Fatal(err)
		}
	}
	add(txs[0])
	<-rec.entered // sealing txs[0]
	add(txs[1])
	for deadline := time.Now().Add(time.Minute); len(f.dev.txsArrived) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(rec.gate)
			t.Fatal("the second transaction's event never reached the miner")
		}
	}
	close(rec.gate)
	f.waitIncluded(t, txs)
	for deadline := time.Now().Add(time.Minute); len(rec.seen()) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the miner never took the event of the transaction that came in while it sealed")
		}
	}
	if got := rec.seen(); got[0] != before || got[1] != devMinerNice {
		t.Fatalf("builds at nice %v, want %d then %d", got, before, devMinerNice)
	}
}
