// Follows go-ethereum v1.17.10 internal/ethapi/api.go (TxPoolAPI), which geth keeps internal; ported
// because it cannot be imported. Differs: legacypool only.

package rpc

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// txpoolAPI is the txpool namespace: what waits in the pool, per sender and
// nonce. "pending" transactions can go in the next block; "queued" ones wait
// for a nonce gap to close.
type txpoolAPI struct{ s *Service }

func (api *txpoolAPI) Status() map[string]hexutil.Uint {
	pending, queued := api.s.b.pool.Stats()
	return map[string]hexutil.Uint{"pending": hexutil.Uint(pending), "queued": hexutil.Uint(queued)}
}

// byNonce renders one sender's transactions keyed by decimal nonce.
func (api *txpoolAPI) byNonce(txs []*types.Transaction) map[string]*rpcTransaction {
	head, cfg := api.s.b.CurrentHeader(), api.s.b.ChainConfig()
	out := make(map[string]*rpcTransaction, len(txs))
	for _, tx := range txs {
		out[fmt.Sprint(tx.Nonce())] = newPendingTransaction(tx, head, cfg)
	}
	return out
}

func (api *txpoolAPI) Content() map[string]map[string]map[string]*rpcTransaction {
	pending, queued := api.s.b.pool.Content()
	out := map[string]map[string]map[string]*rpcTransaction{
		"pending": make(map[string]map[string]*rpcTransaction, len(pending)),
		"queued":  make(map[string]map[string]*rpcTransaction, len(queued)),
	}
	for addr, txs := range pending {
		out["pending"][addr.Hex()] = api.byNonce(txs)
	}
	for addr, txs := range queued {
		out["queued"][addr.Hex()] = api.byNonce(txs)
	}
	return out
}

func (api *txpoolAPI) ContentFrom(addr common.Address) map[string]map[string]*rpcTransaction {
	pending, queued := api.s.b.pool.ContentFrom(addr)
	return map[string]map[string]*rpcTransaction{
		"pending": api.byNonce(pending),
		"queued":  api.byNonce(queued),
	}
}

// Inspect is Content as one line of text per transaction.
func (api *txpoolAPI) Inspect() map[string]map[string]map[string]string {
	pending, queued := api.s.b.pool.Content()
	summary := func(all map[common.Address][]*types.Transaction) map[string]map[string]string {
		out := make(map[string]map[string]string, len(all))
		for addr, txs := range all {
			lines := make(map[string]string, len(txs))
			for _, tx := range txs {
				to := "contract creation"
				if tx.To() != nil {
					to = tx.To().Hex()
				}
				lines[fmt.Sprint(tx.Nonce())] = fmt.Sprintf("%s: %v wei + %v gas × %v wei", to, tx.Value(), tx.Gas(), tx.GasPrice())
			}
			out[addr.Hex()] = lines
		}
		return out
	}
	return map[string]map[string]map[string]string{"pending": summary(pending), "queued": summary(queued)}
}
