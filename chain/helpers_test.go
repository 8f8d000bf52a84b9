package chain_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// The engine test network of internal/testchain, under the short names
// these tests use.
var (
	testParams  = testchain.EngineParams
	keyA, keyB  = testchain.KeyA, testchain.KeyB
	addrA       = testchain.AddrA
	addrB       = testchain.AddrB
	logContract = testchain.LogContract
	logTx       = testchain.LogTx
	transferTx  = testchain.TransferTx
)

const testGenesisTime = testchain.EngineGenesisTime

type blockSpec = testchain.Block

// testChain is a testchain.Chain on the engine test network, with the short
// names these tests use.
type testChain struct {
	*testchain.Chain
	bc     *core.BlockChain
	fc     *chain.Chain
	db     ethdb.Database
	engine *consensus.Engine
}

// newTestChain opens a chain on db (an in-memory one if nil). The caller
// owns the chain's shutdown when it passes its own db.
func newTestChain(t testing.TB, db ethdb.Database) *testChain {
	t.Helper()
	c := testchain.NewEngineNet(t, db)
	return &testChain{Chain: c, bc: c.BlockChain(), fc: c.Chain, db: c.DB, engine: c.Engine()}
}

func (c *testChain) mine(parent *types.Block, spec blockSpec) *types.Block {
	return c.Build(parent, spec)
}

func (c *testChain) insert(blocks ...*types.Block) { c.MustInsert(blocks...) }

func (c *testChain) extend(parent *types.Block, n int, spacing uint64) []*types.Block {
	return c.Extend(parent, n, spacing)
}
