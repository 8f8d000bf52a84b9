// Follows go-ethereum v1.17.10 eth/filters/api.go (NewHeads, Logs,
// NewPendingTransactions, TransactionReceipts). Differs: a cap on
// subscriptions per connection, and each subscription's notifications go
// through its own bounded queue, so a client that stops reading never holds
// up the event system that feeds every other subscriber.

package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/log"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// subscriptionQueue is how many events (a block's header, a block's matching
// logs, a batch of pool transactions) may wait for one subscriber. geth's
// event system hands each event to every subscriber in turn and waits for
// each (eth/filters/filter_system.go, eventLoop): a subscriber that wrote
// its notifications straight to a connection whose client stopped reading
// stalled everyone's notifications for the write timeout. A subscriber
// that falls this far behind is too slow to follow the chain; it is dropped.
const subscriptionQueue = 64

// maxReceiptHashes is geth's limit on the hashes of one transactionReceipts
// subscription (eth/filters/api.go, maxTxHashes).
const maxReceiptHashes = 200

// subscriptionCounter counts the open subscriptions of each network
// connection. A connection is told apart by its remote address, which the
// RPC server records per connection (rpc.PeerInfo).
type subscriptionCounter struct {
	limit int
	mu    sync.Mutex
	open  map[string]int
}

// acquire counts one more subscription on ctx's connection, or refuses it.
// IPC and in-process connections are the operator's own and not counted.
func (c *subscriptionCounter) acquire(ctx context.Context) (release func(), err error) {
	peer := gethrpc.PeerInfoFromContext(ctx)
	if peer.Transport == "ipc" || peer.Transport == "" {
		return func() {}, nil
	}
	key := peer.Transport + " " + peer.RemoteAddr
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key] >= c.limit {
		return nil, &codedError{codeLimitExceeded, fmt.Sprintf("too many subscriptions on this connection (limit %d)", c.limit)}
	}
	c.open[key]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.open[key]--; c.open[key] == 0 {
			delete(c.open, key)
		}
	}, nil
}

// subscribe serves one subscription. events subscribes ch to the event
// system; notes turns an event into the notifications it sends (none is
// fine). One goroutine moves events from ch to the queue without ever
// blocking; a second writes the queue to the client.
func subscribe[T any](s *Service, ctx context.Context, events func(ch chan T) (*filters.Subscription, error), notes func(T) []any) (*gethrpc.Subscription, error) {
	notifier, supported := gethrpc.NotifierFromContext(ctx)
	if !supported {
		return &gethrpc.Subscription{}, gethrpc.ErrNotificationsUnsupported
	}
	release, err := s.subs.acquire(ctx)
	if err != nil {
		return nil, err
	}
	ch := make(chan T)
	evSub, err := events(ch)
	if err != nil {
		release()
		return nil, err
	}
	sub := notifier.CreateSubscription()
	queue := make(chan []any, subscriptionQueue)
	done := make(chan struct{}) // closed when the client's subscription ends
	go func() {
		for range sub.Err() {
		}
		close(done)
	}()
	go func() {
		// Unsubscribe drains ch while it waits for the event loop.
		defer evSub.Unsubscribe()
		defer close(queue)
		for {
			select {
			case ev := <-ch:
				n := notes(ev)
				if len(n) == 0 {
					continue
				}
				select {
				case queue <- n:
				default:
					log.Debug("Dropped a subscriber that stopped reading", "id", sub.ID, "queued", subscriptionQueue)
					return
				}
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer release()
		failed := false
		for batch := range queue {
			for _, n := range batch {
				if failed {
					break
				}
				// A failed write leaves the connection broken: the rest of
				// the queue is discarded until the connection closes.
				if err := notifier.Notify(sub.ID, n); err != nil {
					log.Debug("Subscription write failed", "id", sub.ID, "err", err)
					failed = true
				}
			}
		}
		<-done
	}()
	return sub, nil
}

// NewHeads serves eth_subscribe("newHeads").
func (api *filterAPI) NewHeads(ctx context.Context) (*gethrpc.Subscription, error) {
	return subscribe(api.s, ctx, func(ch chan *types.Header) (*filters.Subscription, error) {
		return api.s.events.SubscribeNewHeads(ch), nil
	}, func(h *types.Header) []any { return []any{h} })
}

// Logs serves eth_subscribe("logs"): one notification per matching log.
func (api *filterAPI) Logs(ctx context.Context, crit filters.FilterCriteria) (*gethrpc.Subscription, error) {
	return subscribe(api.s, ctx, func(ch chan []*types.Log) (*filters.Subscription, error) {
		return api.s.events.SubscribeLogs(ethereum.FilterQuery(crit), ch)
	}, func(logs []*types.Log) []any {
		out := make([]any, len(logs))
		for i, l := range logs {
			out[i] = l
		}
		return out
	})
}

// NewPendingTransactions serves eth_subscribe("newPendingTransactions"):
// hashes, or whole transactions when fullTx is true.
func (api *filterAPI) NewPendingTransactions(ctx context.Context, fullTx *bool) (*gethrpc.Subscription, error) {
	b := api.s.b
	return subscribe(api.s, ctx, func(ch chan []*types.Transaction) (*filters.Subscription, error) {
		return api.s.events.SubscribePendingTxs(ch), nil
	}, func(txs []*types.Transaction) []any {
		out := make([]any, len(txs))
		head := b.CurrentHeader()
		for i, tx := range txs {
			if fullTx != nil && *fullTx {
				out[i] = newPendingTransaction(tx, head, b.ChainConfig())
			} else {
				out[i] = tx.Hash()
			}
		}
		return out
	})
}

var errTooManyReceiptHashes = errors.New("exceed max number of transaction hashes allowed per transactionReceipts subscription")

// TransactionReceipts serves eth_subscribe("transactionReceipts"): each
// block's receipts (all, or those of the given hashes) in one notification.
func (api *filterAPI) TransactionReceipts(ctx context.Context, filter *filters.TransactionReceiptsQuery) (*gethrpc.Subscription, error) {
	var hashes []common.Hash
	if filter != nil {
		hashes = filter.TransactionHashes
	}
	if len(hashes) > maxReceiptHashes {
		return nil, errTooManyReceiptHashes
	}
	signer := types.LatestSigner(api.s.b.ChainConfig())
	return subscribe(api.s, ctx, func(ch chan []*filters.ReceiptWithTx) (*filters.Subscription, error) {
		return api.s.events.SubscribeTransactionReceipts(hashes, ch), nil
	}, func(rs []*filters.ReceiptWithTx) []any {
		if len(rs) == 0 {
			return nil
		}
		out := make([]*rpcReceipt, len(rs))
		for i, r := range rs {
			out[i] = marshalReceipt(r.Receipt, r.Receipt.BlockHash, r.Receipt.BlockNumber.Uint64(), signer, r.Transaction, int(r.Receipt.TransactionIndex))
		}
		return []any{out}
	})
}
