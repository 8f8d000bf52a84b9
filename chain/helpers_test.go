package chain_test

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// The test network: the dev network with 10 s blocks and a 60 s half-life,
// so that a block a minute late halves the difficulty, and difficulties in
// the thousands so that fork contests have round numbers.
var testParams = consensus.Params{
	Tag:                 "MMGETHTEST:",
	TargetSpacing:       10,
	HalfLife:            60,
	MinDifficulty:       big.NewInt(1000),
	MaxFutureDrift:      60,
	MaxBitcoinTimeDrift: 300,
	MaxExtraSize:        4096,
}

const testGenesisTime = 1_700_000_000

var (
	keyA, _ = crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	keyB, _ = crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	addrA   = crypto.PubkeyToAddress(keyA.PublicKey)
	addrB   = crypto.PubkeyToAddress(keyB.PublicKey)

	// logContract emits LOG0 with the caller's address as data:
	// CALLER PUSH1 0 MSTORE PUSH1 32 PUSH1 0 LOG0 STOP.
	logContract     = common.HexToAddress("0x000000000000000000000000000000000000c0de")
	logContractCode = []byte{0x33, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xa0, 0x00}

	testBalance = new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
)

type blockSpec = testchain.Block

// testChain is a testchain.Chain on the test network, with the short names
// these tests use.
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
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	spec.MergeMining = testParams
	spec.Timestamp = testGenesisTime
	spec.GenesisDifficulty = big.NewInt(4000)
	spec.BaseFee = big.NewInt(params.GWei)
	c := testchain.New(t, testchain.Options{Spec: spec, DB: db, Alloc: types.GenesisAlloc{
		addrA:       {Balance: new(big.Int).Set(testBalance)},
		addrB:       {Balance: new(big.Int).Set(testBalance)},
		logContract: {Code: logContractCode, Balance: new(big.Int)},
	}})
	return &testChain{Chain: c, bc: c.BlockChain(), fc: c.Chain, db: c.DB, engine: c.Engine()}
}

func (c *testChain) mine(parent *types.Block, spec blockSpec) *types.Block {
	return c.Build(parent, spec)
}

func (c *testChain) insert(blocks ...*types.Block) { c.MustInsert(blocks...) }

func (c *testChain) extend(parent *types.Block, n int, spacing uint64) []*types.Block {
	return c.Extend(parent, n, spacing)
}

// logTx calls logContract from key's account.
func logTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64) *types.Transaction {
	t.Helper()
	return signTx(t, key, &types.DynamicFeeTx{Nonce: nonce, GasTipCap: big.NewInt(2 * params.GWei), GasFeeCap: big.NewInt(10 * params.GWei), Gas: 100_000, To: &logContract})
}

// transferTx sends value wei from key's account to to.
func transferTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64, to common.Address, value int64) *types.Transaction {
	t.Helper()
	return signTx(t, key, &types.DynamicFeeTx{Nonce: nonce, GasTipCap: big.NewInt(params.GWei), GasFeeCap: big.NewInt(10 * params.GWei), Gas: 21_000, To: &to, Value: big.NewInt(value)})
}

func signTx(t testing.TB, key *ecdsa.PrivateKey, tx *types.DynamicFeeTx) *types.Transaction {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	tx.ChainID = new(big.Int).SetUint64(spec.ChainID)
	signed, err := types.SignNewTx(key, types.LatestSignerForChainID(tx.ChainID), tx)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
