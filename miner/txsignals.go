package miner

import (
	"sync"

	"github.com/ethereum/go-ethereum/core"
)

// txSignals subscribes to the pool's new transactions and takes the events
// in a goroutine of its own, leaving at most one signal waiting on the
// channel it returns. geth's pool sends the events from its reorg, which a
// build waits for (TxSource.Sync) and which holds up every later
// transaction added to the pool: a loop that took the events itself stopped
// taking them while it built or sealed, and once more than the channel
// buffered had come in, the pool's send blocked the build and the build the
// send (an in-memory --dev node under bench load stopped at block 232;
// bench/network.sh with full blocks hung mnr_getWork). It unsubscribes when
// it ends at quit, not the loop: a build still waiting for the pool at Stop
// would otherwise hold the pool's send to a channel nobody reads.
func txSignals(pool TxEvents, wg *sync.WaitGroup, quit <-chan struct{}) <-chan struct{} {
	txs := make(chan core.NewTxsEvent, 256)
	sub := pool.SubscribeTransactions(txs, false)
	arrived := make(chan struct{}, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer sub.Unsubscribe()
		for {
			select {
			case <-txs:
				select {
				case arrived <- struct{}{}:
				default: // a signal is already waiting
				}
			case <-quit:
				return
			}
		}
	}()
	return arrived
}
