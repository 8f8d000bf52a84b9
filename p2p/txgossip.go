package p2p

import (
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/rlp"
)

// handleTransactions hands a peer's transactions to the pool. Rejections are
// not held against the peer: a transaction valid at its head may be stale at
// ours.
func (h *Handler) handleTransactions(p *peer, txs transactionsPacket) {
	var fresh []*types.Transaction
	for _, tx := range txs {
		hash := tx.Hash()
		p.markTx(hash)
		if !h.txpool.Has(hash) {
			fresh = append(fresh, tx)
		}
	}
	if len(fresh) == 0 {
		return
	}
	var rejected int
	for _, err := range h.txpool.Add(fresh, false) {
		if err != nil {
			rejected++
		}
	}
	p.Log().Trace("Received transactions", "count", len(txs), "new", len(fresh), "rejected", rejected)
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
