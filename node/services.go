package node

import (
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/txpool"

	"github.com/mmgeth/mmgeth/chain"
)

// chainService stops the pool and the chain when the node stops, before
// geth closes the database under them.
type chainService struct {
	chain *chain.Chain
	pool  *txPool
}

// txPool is geth's pool with Sync calls serialised. geth's pool loop keeps
// one Sync waiter (core/txpool/txpool.go loop in v1.17.10): a second caller
// arriving before the first is served replaces it, and the first waits
// forever. The builder syncs before every template (the work server's
// refresh, mnr_getWork and the dev miner can build at once) and evm_revert
// syncs after rewinding.
type txPool struct {
	*txpool.TxPool
	syncMu sync.Mutex
}

func (p *txPool) Sync() error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	return p.TxPool.Sync()
}

func (s *chainService) Start() error { return nil }

func (s *chainService) Stop() error {
	s.pool.Close()
	s.chain.Stop()
	return nil
}

type hexBig big.Int

func (b *hexBig) MarshalText() ([]byte, error) {
	if b == nil {
		return []byte("0x0"), nil
	}
	return (*hexutil.Big)(b).MarshalText()
}
