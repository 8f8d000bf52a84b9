package rpc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// The log index holds its target while a chain sync runs and catches up
// with the head when the sync ends.
func TestLogIndexHeldDuringSync(t *testing.T) {
	c := newChain(t)
	bc := c.BlockChain()
	c.Extend(c.HeadBlock(), 3, 0)
	start := bc.CurrentBlock()

	var syncing atomic.Bool
	syncing.Store(true)
	asked := make(chan struct{}, 1) // the indexer found the sync running
	li, err := newLogIndexer(newBackend(Config{Chain: bc, Finality: depthFinality{chain: bc}}), false, func() bool {
		s := syncing.Load()
		if s {
			select {
			case asked <- struct{}{}:
			default:
			}
		}
		return s
	})
	if err != nil {
		t.Fatal(err)
	}
	li.start()
	t.Cleanup(li.stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	indexedHead := func() uint64 {
		t.Helper()
		mb := li.fm.NewMatcherBackend()
		defer mb.Close()
		r, err := mb.SyncLogIndex(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.IndexedView == nil {
			return 0
		}
		return r.IndexedView.HeadNumber()
	}
	li.fm.WaitIdle()
	if got := indexedHead(); got != start.Number.Uint64() {
		t.Fatalf("index at %d before the sync, want the head %d", got, start.Number)
	}

	c.Extend(c.HeadBlock(), 20, 0) // blocks a sync imports
	select {
	case <-asked: // the indexer had a new head and held it
	case <-ctx.Done():
		t.Fatal("the indexer never asked whether a sync runs")
	}
	li.fm.WaitIdle()
	if got := indexedHead(); got != start.Number.Uint64() {
		t.Fatalf("index at %d during the sync, want it held at %d", got, start.Number)
	}

	syncing.Store(false)
	head := bc.CurrentBlock()
	for indexedHead() != head.Number.Uint64() {
		if ctx.Err() != nil {
			t.Fatalf("index never caught up with %d after the sync", head.Number)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
