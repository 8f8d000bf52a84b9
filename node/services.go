package node

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/txpool"

	"github.com/mmgeth/mmgeth/chain"
)

// chainService stops the pool and the chain when the node stops, before
// geth closes the database under them.
type chainService struct {
	chain *chain.Chain
	pool  *txpool.TxPool
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
