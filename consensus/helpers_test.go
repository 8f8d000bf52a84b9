package consensus

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/mmgeth/mmgeth/evm"
	"github.com/mmgeth/mmgeth/mergemine"
)

// The test network: 10 s blocks and a 60 s half-life, so that a block a
// minute late halves the difficulty; difficulties stay in the thousands so
// grinding a proof takes a few thousand SHA256d.
var testParams = Params{
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
	testGenesisDifficulty = big.NewInt(4000)

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

// testChainConfig is the product's chain configuration (package evm).
func testChainConfig() *params.ChainConfig { return evm.ChainConfig(big.NewInt(31337)) }

func testGenesis() *core.Genesis {
	alloc := core.SystemContractAllocs()
	alloc[addrA] = types.Account{Balance: new(big.Int).Set(testBalance)}
	alloc[addrB] = types.Account{Balance: new(big.Int).Set(testBalance)}
	alloc[logContract] = types.Account{Code: logContractCode, Balance: new(big.Int)}
	seal := Seal{Version: SealVersion, Difficulty: new(big.Int).Set(testGenesisDifficulty)}
	return &core.Genesis{
		Config:     testChainConfig(),
		Timestamp:  testGenesisTime,
		ExtraData:  seal.Bytes(),
		GasLimit:   30_000_000,
		BaseFee:    big.NewInt(params.GWei),
		Difficulty: new(big.Int),
		Alloc:      alloc,
	}
}

// testChain is a real core.BlockChain driven by the engine under test.
type testChain struct {
	t      testing.TB
	engine *Engine
	db     ethdb.Database
	bc     *core.BlockChain
}

// newTestChain opens a chain on db (an in-memory one if nil). The caller
// owns the chain's shutdown when it passes its own db.
func newTestChain(t testing.TB, db ethdb.Database) *testChain {
	t.Helper()
	own := db == nil
	if own {
		db = rawdb.NewMemoryDatabase()
	}
	// Synchronous trie flushes put the genesis state on disk before the
	// chain is used, as on any node not killed in its first second; the
	// crash test relies on it.
	cfg := core.DefaultConfig().WithStateScheme(rawdb.PathScheme).WithNoAsyncFlush(true)
	cfg.SlowBlockThreshold = -1
	cfg.TxLookupLimit = 0
	gen := testGenesis()
	engine := New(testParams, gen.ToBlock().Header())
	bc, err := core.NewBlockChain(db, gen, engine, cfg)
	if err != nil {
		t.Fatalf("new blockchain: %v", err)
	}
	if own {
		t.Cleanup(bc.Stop)
	}
	return &testChain{t: t, engine: engine, db: db, bc: bc}
}

// blockSpec describes a block to mine on a parent. The zero value is a
// valid empty block 10 s after its parent.
type blockSpec struct {
	time     uint64 // 0: parent's time + TargetSpacing
	coinbase common.Address
	txs      []*types.Transaction
	// body replaces the executed body, for body rules; the header's roots
	// follow it, its state root does not.
	body *types.Body
	// mutate breaks a header rule after assembly and before sealing, so that
	// the proof is valid for the broken header.
	mutate func(h *types.Header)
	// btcTimeOffset moves the Bitcoin header's time from the block's.
	btcTimeOffset int64
	// unsealed leaves the seal without proof; postSeal edits the sealed
	// header (breaking the proof or the seal itself).
	unsealed bool
	postSeal func(h *types.Header)
}

// mine builds a valid block on parent, which must be stored with its state
// in c: the header through Prepare, the transactions applied with core,
// then Finalize and AssembleBlock (notes, fact 6), then a real proof.
func (c *testChain) mine(parent *types.Block, spec blockSpec) *types.Block {
	c.t.Helper()
	ctx := context.Background()
	cfg := c.bc.Config()
	when := spec.time
	if when == 0 {
		when = parent.Time() + testParams.TargetSpacing
	}
	header := &types.Header{
		ParentHash: parent.Hash(),
		Number:     new(big.Int).Add(parent.Number(), common.Big1),
		GasLimit:   core.CalcGasLimit(parent.GasLimit(), parent.GasLimit()),
		Time:       when,
		Coinbase:   spec.coinbase,
		BaseFee:    eip1559.CalcBaseFee(cfg, parent.Header()),
	}
	if err := c.engine.Prepare(c.bc, header); err != nil {
		c.t.Fatalf("prepare: %v", err)
	}
	excess := eip4844.CalcExcessBlobGas(cfg, parent.Header(), when)
	header.BlobGasUsed, header.ExcessBlobGas, header.ParentBeaconRoot = new(uint64), &excess, &common.Hash{}

	statedb, err := c.bc.StateAt(parent.Root(), parent.Number(), parent.Time())
	if err != nil {
		c.t.Fatalf("parent state: %v", err)
	}
	evm := vm.NewEVM(core.NewEVMBlockContext(header, c.bc, nil), statedb, cfg, vm.Config{})
	core.PreExecution(ctx, header.ParentBeaconRoot, parent.Header(), cfg, evm, header.Number, header.Time)
	gp := core.NewGasPool(header.GasLimit)
	var (
		receipts []*types.Receipt
		logs     []*types.Log
	)
	for i, tx := range spec.txs {
		statedb.SetTxContext(tx.Hash(), i, uint32(i+1))
		r, _, err := core.ApplyTransaction(ctx, evm, gp, statedb, header, tx)
		if err != nil {
			c.t.Fatalf("apply tx %d: %v", i, err)
		}
		receipts = append(receipts, r)
		logs = append(logs, r.Logs...)
	}
	header.GasUsed = gp.Used()
	body := &types.Body{Transactions: spec.txs, Withdrawals: []*types.Withdrawal{}}
	requests, _, err := core.PostExecution(ctx, cfg, header.Number, header.Time, logs, body.Withdrawals, evm, uint32(len(spec.txs)+1))
	if err != nil {
		c.t.Fatalf("post execution: %v", err)
	}
	requestsHash := types.CalcRequestsHash(requests)
	header.RequestsHash = &requestsHash
	c.engine.Finalize(c.bc, header, statedb, body)
	block := core.AssembleBlock(c.bc, header, statedb, body, receipts, nil)

	if spec.body != nil {
		block = types.NewBlock(block.Header(), spec.body, nil, trie.NewStackTrie(nil))
	}
	if spec.mutate != nil {
		h := block.Header()
		spec.mutate(h)
		block = block.WithSeal(h)
	}
	if spec.unsealed {
		return block
	}
	block = sealBlock(c.t, block, testParams.Tag, int64(block.Time())+spec.btcTimeOffset)
	if spec.postSeal != nil {
		h := block.Header()
		spec.postSeal(h)
		block = block.WithSeal(h)
	}
	return block
}

// sealBlock merge-mines a block as a pool would: its seal hash committed in
// a synthetic Bitcoin coinbase, the coinbase in a two-transaction Bitcoin
// block, and the Bitcoin header's nonce ground until its hash meets the
// seal's difficulty.
func sealBlock(t testing.TB, block *types.Block, tag string, btcTime int64) *types.Block {
	t.Helper()
	h := block.Header()
	seal, err := DecodeSeal(h.Extra)
	if err != nil {
		t.Fatalf("template seal: %v", err)
	}
	coinbase := wire.NewMsgTx(1)
	height := h.Number.Uint64()
	coinbase.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: math.MaxUint32},
		SignatureScript:  []byte{0x03, byte(height), byte(height >> 8), byte(height >> 16)},
		Sequence:         math.MaxUint32,
	})
	coinbase.AddTxOut(wire.NewTxOut(312_500_000, []byte{0x51})) // OP_TRUE
	mergemine.AddCommitment(coinbase, []byte(tag), SealHash(h))
	var raw bytes.Buffer
	if err := coinbase.SerializeNoWitness(&raw); err != nil {
		t.Fatal(err)
	}
	txids := []chainhash.Hash{coinbase.TxHash(), chainhash.HashH(h.Number.Bytes())}
	btc := wire.BlockHeader{
		Version:    0x20000000,
		MerkleRoot: chainhash.DoubleHashH(append(txids[0][:], txids[1][:]...)),
		Timestamp:  time.Unix(btcTime, 0),
		Bits:       0x1d00ffff,
	}
	target := mergemine.Target(seal.Difficulty)
	var header80 bytes.Buffer
	for nonce := uint32(0); ; nonce++ {
		if nonce == math.MaxUint32 {
			t.Fatal("no nonce meets the difficulty")
		}
		btc.Nonce = nonce
		header80.Reset()
		if err := btc.Serialize(&header80); err != nil {
			t.Fatal(err)
		}
		hash := mergemine.HeaderHash(header80.Bytes())
		var be [32]byte
		for i := range hash {
			be[31-i] = hash[i]
		}
		if new(big.Int).SetBytes(be[:]).Cmp(target) <= 0 {
			break
		}
	}
	proof, err := mergemine.BuildProof(header80.Bytes(), raw.Bytes(), mergemine.MerkleProofFromTxids(txids), []byte(tag))
	if err != nil {
		t.Fatalf("build proof: %v", err)
	}
	seal.Proof = proof
	h.Extra = seal.Bytes()
	return block.WithSeal(h)
}

// insert imports blocks into geth's chain, which verifies them with the
// engine, and fails the test on error.
func (c *testChain) insert(blocks ...*types.Block) {
	c.t.Helper()
	if n, err := c.bc.InsertChain(blocks); err != nil {
		c.t.Fatalf("insert block %d (#%d): %v", n, blocks[n].NumberU64(), err)
	}
}

// extend mines and inserts n blocks on parent with the given spacing and
// returns them.
func (c *testChain) extend(parent *types.Block, n int, spacing uint64) []*types.Block {
	c.t.Helper()
	blocks := make([]*types.Block, n)
	for i := range blocks {
		blocks[i] = c.mine(parent, blockSpec{time: parent.Time() + spacing})
		c.insert(blocks[i])
		parent = blocks[i]
	}
	return blocks
}

// logTx calls logContract from key's account.
func logTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64) *types.Transaction {
	t.Helper()
	cfg := testChainConfig()
	tx, err := types.SignNewTx(key, types.LatestSigner(cfg), &types.DynamicFeeTx{
		ChainID:   cfg.ChainID,
		Nonce:     nonce,
		GasTipCap: big.NewInt(2 * params.GWei),
		GasFeeCap: big.NewInt(10 * params.GWei),
		Gas:       100_000,
		To:        &logContract,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// transferTx sends value wei from key's account to to.
func transferTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64, to common.Address, value int64) *types.Transaction {
	t.Helper()
	cfg := testChainConfig()
	tx, err := types.SignNewTx(key, types.LatestSigner(cfg), &types.DynamicFeeTx{
		ChainID:   cfg.ChainID,
		Nonce:     nonce,
		GasTipCap: big.NewInt(params.GWei),
		GasFeeCap: big.NewInt(10 * params.GWei),
		Gas:       21_000,
		To:        &to,
		Value:     big.NewInt(value),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}
