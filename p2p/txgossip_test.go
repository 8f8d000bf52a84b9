package p2p

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

func newTestPool(t testing.TB, chain *testChain) *txpool.TxPool {
	t.Helper()
	cfg := legacypool.DefaultConfig
	cfg.Journal = ""
	pool, err := txpool.New(cfg.PriceLimit, chain.BlockChain, []txpool.SubPool{legacypool.New(cfg, chain.BlockChain)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// A transaction entering A's pool reaches B's pool through C, which relays it.
func TestTransactionGossip(t *testing.T) {
	var nodes []*testNode
	var pools []*txpool.TxPool
	for range 3 {
		chain := newTestChain(t, nil)
		pool := newTestPool(t, chain)
		pools = append(pools, pool)
		nodes = append(nodes, newTestNode(t, chain, nodeOpts{pool: pool}))
	}
	connect(t, nodes[0], nodes[2])
	connect(t, nodes[2], nodes[1])

	chain := nodes[0].chain
	tx, err := types.SignNewTx(chain.tc.Keys[0], types.LatestSigner(chain.Config()), &types.DynamicFeeTx{
		ChainID:   chain.Config().ChainID,
		GasTipCap: big.NewInt(params.GWei),
		GasFeeCap: big.NewInt(10 * params.GWei),
		Gas:       params.TxGas,
		To:        &common.Address{1},
		Value:     big.NewInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := pools[0].Add([]*types.Transaction{tx}, true); errs[0] != nil {
		t.Fatal(errs[0])
	}
	waitFor(t, "transaction in B's pool", func() bool { return pools[1].Has(tx.Hash()) })
}
