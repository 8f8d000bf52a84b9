package miner

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"

	mmchain "github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/genesis"
)

// devFixture is an automining dev miner over a real chain and a real
// geth transaction pool.
type devFixture struct {
	chain *core.BlockChain
	pool  *txpool.TxPool
	dev   *DevMiner
	spec  *genesis.Spec
}

func newDevFixture(t *testing.T) *devFixture {
	return newDevFixtureWith(t, func(pool *txpool.TxPool) TxSource { return pool })
}

// newDevFixtureWith builds blocks from source(pool).
func newDevFixtureWith(t *testing.T, source func(*txpool.TxPool) TxSource) *devFixture {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := mmchain.New(rawdb.NewMemoryDatabase(), gen, spec.MergeMining, nil, mmchain.FinalityConfig{Confirmations: spec.Confirmations})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Stop)
	chain, engine := fc.BlockChain(), fc.Engine()
	cfg := legacypool.DefaultConfig
	cfg.Journal = ""
	pool, err := txpool.New(0, chain, []txpool.SubPool{legacypool.New(cfg, chain)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	tag := []byte(spec.MergeMining.Tag)
	builder := NewBuilder(BuilderConfig{Chain: chain, Engine: engine, Pool: source(pool), GasCeil: gen.GasLimit})
	ws := NewWorkServer(WorkServerConfig{Chain: chain, Engine: engine, Builder: builder, Inserter: fc, Pool: pool, Tag: tag})
	dev := NewDevMiner(DevMinerConfig{Work: ws, Pool: pool, Tag: tag})
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Stop() })
	return &devFixture{chain: chain, pool: pool, dev: dev, spec: spec}
}

// transfers returns perAccount signed transfers from each of accounts dev
// accounts, nonces from 0.
func (f *devFixture) transfers(t *testing.T, accounts, perAccount int) []*types.Transaction {
	keys, err := f.spec.DevKeys()
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSigner(f.chain.Config())
	to := common.HexToAddress("0xbeef")
	var txs []*types.Transaction
	for n := range perAccount {
		for _, key := range keys[:accounts] {
			txs = append(txs, types.MustSignNewTx(key, signer, &types.DynamicFeeTx{ChainID: f.chain.Config().ChainID,
				Nonce: uint64(n), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1e12), Gas: 21000, To: &to, Value: big.NewInt(1)}))
		}
	}
	return txs
}

// waitIncluded waits until every transaction is in a canonical block; the
// deadline only turns a stalled miner into a failure instead of a hang.
func (f *devFixture) waitIncluded(t *testing.T, txs []*types.Transaction) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, tx := range txs {
		for !f.included(tx.Hash()) {
			if time.Now().After(deadline) {
				t.Fatalf("transaction %x never sealed: the dev miner stalled at block %d", tx.Hash(), f.chain.CurrentBlock().Number)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// More transaction events than the miner's event buffer holds, arriving
// while it seals a block, must not block the pool: the pool sends them from
// its reorg, which every later transaction, and the miner's own pool sync,
// wait for. Before the events had a goroutine of their own, the 1,025th
// event blocked the pool for good (the bench's in-memory --dev node stopped
// sealing at block 232).
func TestDevMinerEventFloodWhileSealing(t *testing.T) {
	f := newDevFixture(t)
	txs := f.transfers(t, 10, 110) // 1,100 events: one per synchronous add
	f.dev.mu.Lock()                // the miner is busy sealing: its loop takes no event
	added := make(chan error, 1)
	go func() {
		for _, tx := range txs {
			if err := f.pool.Add([]*types.Transaction{tx}, true)[0]; err != nil {
				added <- err
				return
			}
		}
		added <- nil
	}()
	select {
	case err := <-added:
		if err != nil {
			f.dev.mu.Unlock()
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		f.dev.mu.Unlock()
		t.Fatal("the pool blocked on the dev miner's transaction events while it sealed")
	}
	f.dev.mu.Unlock()
	f.waitIncluded(t, txs)
}

// An automine build seals no empty block: a transaction event that comes
// after its transaction was sealed (the pool sends it after promoting)
// finds nothing pending and leaves the head alone, and neither does
// turning automine back on with the pool empty (that block took the base
// fee anvil_setNextBlockBaseFeePerGas set for the next transaction).
func TestAutomineSealsNoEmptyBlock(t *testing.T) {
	f := newDevFixture(t)
	txs := f.transfers(t, 4, 25)
	for i, tx := range txs {
		if i == len(txs)-1 {
			f.waitIncluded(t, txs[:i])
			f.dev.SetAutomine(false)
			f.dev.SetAutomine(true)
			// The loop has taken the switch once its channel is empty;
			// whatever it seals for it, it seals before the last
			// transaction's block.
			for len(f.dev.modeCh) > 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if err := f.pool.Add([]*types.Transaction{tx}, true)[0]; err != nil {
			t.Fatal(err)
		}
	}
	f.waitIncluded(t, txs)
	for n := uint64(1); n <= f.chain.CurrentBlock().Number.Uint64(); n++ {
		if b := f.chain.GetBlockByNumber(n); len(b.Transactions()) == 0 {
			t.Fatalf("block %d sealed empty by automine", n)
		}
	}
}

func (f *devFixture) included(hash common.Hash) bool {
	entry, _ := f.chain.GetCanonicalTransaction(hash)
	return entry != nil
}
