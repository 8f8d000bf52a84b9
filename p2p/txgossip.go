package p2p

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/rlp"
)

// peerTxFaults are the pool's verdicts that no honest node could have reached
// about a transaction it relays, whatever its head, pool or configuration: a
// signature from which no sender can be recovered (or for another chain),
// and fee or value fields no valid transaction has (txpool.ValidateTransaction
// checks them before any state). Everything else the pool may refuse (a nonce
// already used, a full pool, a price under our floor, a type not active at
// our head yet) can be a race or our own policy and is not held against the
// sender. geth's tx fetcher drops a peer for the same reason on failed blob
// proofs, the one such check it makes.
var peerTxFaults = []error{
	txpool.ErrInvalidSender,
	core.ErrTipAboveFeeCap,
	core.ErrFeeCapVeryHigh,
	core.ErrTipVeryHigh,
	txpool.ErrNegativeValue,
	core.ErrNonceMax,
}

// handleTransactions hands a peer's transactions to the pool. A transaction
// the pool refuses for one of peerTxFaults costs the peer its connection;
// other rejections do not.
func (h *Handler) handleTransactions(p *peer, txs transactionsPacket) error {
	var fresh []*types.Transaction
	for _, tx := range txs {
		hash := tx.Hash()
		p.markTx(hash)
		if !h.txpool.Has(hash) {
			fresh = append(fresh, tx)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	var rejected int
	for i, err := range h.txpool.Add(fresh, false) {
		if err == nil {
			continue
		}
		rejected++
		for _, fault := range peerTxFaults {
			if errors.Is(err, fault) {
				return uselessError(fmt.Errorf("invalid transaction %x: %w", fresh[i].Hash(), err))
			}
		}
	}
	p.Log().Trace("Received transactions", "count", len(txs), "new", len(fresh), "rejected", rejected)
	return nil
}

// txLoop gossips every transaction entering the pool.
func (h *Handler) txLoop() {
	defer h.wg.Done()
	ch := make(chan core.NewTxsEvent, 64)
	sub := h.txpool.SubscribeTransactions(ch, false)
	defer sub.Unsubscribe()
	for {
		select {
		case ev := <-ch:
			h.broadcastTxs(ev.Txs)
		case <-sub.Err():
			return
		case <-h.quit:
			return
		}
	}
}

// broadcastTxs sends each peer the transactions it is not known to have, in
// messages of bounded size.
func (h *Handler) broadcastTxs(txs []*types.Transaction) {
	for _, p := range h.peers.all() {
		var (
			batch transactionsPacket
			size  uint64
		)
		flush := func() {
			data, err := rlp.EncodeToBytes(batch)
			if err != nil {
				log.Error("Cannot encode transactions", "err", err)
			} else if !tryQueue(p.txs, transactionsMsg, data) {
				p.Log().Debug("Transaction queue full, dropping broadcast", "count", len(batch))
			}
			batch, size = nil, 0
		}
		for _, tx := range txs {
			hash := tx.Hash()
			if p.knowsTx(hash) {
				continue
			}
			p.markTx(hash)
			batch = append(batch, tx)
			size += tx.Size()
			if size >= maxTxBroadcastSize || len(batch) == maxTxsPerMsg {
				flush()
			}
		}
		if len(batch) > 0 {
			flush()
		}
	}
}
