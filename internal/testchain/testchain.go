// Package testchain is the one test-chain builder of mmgeth's tests: a real
// chain.Chain with the real merged-mining engine and the product's chain
// configuration (evm.ChainConfig through a genesis spec), whose blocks are
// executed as the node's builder executes them and sealed with real proofs
// (the dev miner's synthetic share, cheap at test difficulties). Tests of
// the engine's rules, fork choice, p2p, RPC and the node build their blocks
// here, so every path that depends on the engine (Finalize's fee rule,
// difficulty, proofs) is the product's. It plays the part of geth's
// core.GenerateChain and btcd's blockchain/fullblocktests.
package testchain

import (
	"context"
	"crypto/ecdsa"
	"maps"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

// Options shape a test chain. The zero value is the dev network in memory.
type Options struct {
	// Spec is the network; nil means genesis.Load("dev").
	Spec *genesis.Spec
	// DB holds the chain; nil means a fresh in-memory database, and the
	// chain is stopped when the test ends. A caller passing its own DB stops
	// the chain itself (Chain.Stop).
	DB ethdb.Database
	// Alloc adds or replaces genesis accounts.
	Alloc types.GenesisAlloc
	// Config is geth's chain configuration; nil means chain.DefaultConfig
	// with synchronous trie flushes.
	Config *core.BlockChainConfig
	// OverrideFinality lets fork choice reorganise below the finalized
	// block (--override.finality). The rest of the finality configuration
	// comes from Spec.
	OverrideFinality bool
}

// Chain is a chain.Chain under test with its genesis and a block builder.
type Chain struct {
	*chain.Chain
	DB      ethdb.Database
	t       testing.TB
	Spec    *genesis.Spec
	Genesis *core.Genesis
	// Keys are the spec's dev accounts (the standard mnemonic's on dev).
	Keys []*ecdsa.PrivateKey
}

// New opens a test chain.
func New(t testing.TB, o Options) *Chain {
	t.Helper()
	spec := o.Spec
	if spec == nil {
		spec = devSpec(t)
	}
	gen, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(gen.Alloc, o.Alloc)
	keys, err := spec.DevKeys()
	if err != nil {
		t.Fatal(err)
	}
	db := o.DB
	if db == nil {
		db = rawdb.NewMemoryDatabase()
	}
	cfg := o.Config
	if cfg == nil {
		// Synchronous flushes put the genesis state on disk at once, as on
		// any node not killed in its first second; crash tests rely on it.
		cfg = chain.DefaultConfig().WithNoAsyncFlush(true)
		cfg.SlowBlockThreshold = -1
	}
	c, err := chain.New(db, gen, spec.MergeMining, cfg, chain.FinalityConfig{
		Bitcoin: spec.Finality.Mode == genesis.FinalityBitcoin, K: spec.Finality.K,
		Confirmations: spec.Confirmations, Override: o.OverrideFinality,
	})
	if err != nil {
		t.Fatalf("new chain: %v", err)
	}
	if o.DB == nil {
		t.Cleanup(c.Stop)
	}
	return &Chain{Chain: c, DB: db, t: t, Spec: spec, Genesis: gen, Keys: keys}
}

// Block describes a block to build on a parent. The zero value is a valid
// empty block one target spacing after its parent.
type Block struct {
	Time     uint64 // 0: parent's time + the target spacing
	Coinbase common.Address
	Txs      []*types.Transaction
	// Ops are dev operations for the seal (dev networks); a declared base
	// fee or gas limit becomes the header's.
	Ops []consensus.DevOp
	// Body replaces the executed body; the header's roots follow it, its
	// state root does not. For body rules.
	Body *types.Body
	// Mutate breaks a header rule after execution and before sealing, so
	// that the proof is valid for the broken header.
	Mutate func(h *types.Header)
	// BitcoinTimeOffset moves the Bitcoin header's time from the block's.
	BitcoinTimeOffset int64
	// BitcoinPrev is the Bitcoin parent of the proof's header; nil means
	// the parent's Bitcoin header (MixDigest), so that consecutive blocks'
	// proofs form one regtest Bitcoin chain. Naming a block BtcRelay knows
	// makes the proof a Bitcoin block the light client can take.
	BitcoinPrev *chainhash.Hash
	// Unsealed leaves the seal without proof; PostSeal edits the sealed
	// header (breaking the proof or the seal itself).
	Unsealed bool
	PostSeal func(h *types.Header)
}

// Build makes a block on parent, whose state must be in the chain: the
// header through the engine's Prepare, the transactions applied with core,
// then Finalize and AssembleBlock as the node's builder does, then a real
// proof. It fails the test if a transaction does not apply.
func (c *Chain) Build(parent *types.Block, spec Block) *types.Block {
	c.t.Helper()
	ctx := context.Background()
	bc := c.BlockChain()
	cfg := bc.Config()
	when := spec.Time
	if when == 0 {
		when = parent.Time() + c.Spec.MergeMining.TargetSpacing
	}
	header := &types.Header{
		ParentHash: parent.Hash(),
		Number:     new(big.Int).Add(parent.Number(), common.Big1),
		GasLimit:   core.CalcGasLimit(parent.GasLimit(), parent.GasLimit()),
		Time:       when,
		Coinbase:   spec.Coinbase,
		BaseFee:    eip1559.CalcBaseFee(cfg, parent.Header()),
	}
	if err := c.Engine().Prepare(bc, header); err != nil {
		c.t.Fatalf("prepare: %v", err)
	}
	if len(spec.Ops) > 0 {
		seal, err := consensus.DecodeSeal(header.Extra)
		if err != nil {
			c.t.Fatal(err)
		}
		seal.Ops = spec.Ops
		header.Extra = seal.Bytes()
		for _, op := range spec.Ops {
			switch op.Kind {
			case consensus.OpBaseFee:
				header.BaseFee = new(big.Int).SetBytes(op.Value)
			case consensus.OpGasLimit:
				header.GasLimit = new(big.Int).SetBytes(op.Value).Uint64()
			}
		}
	}
	excess := eip4844.CalcExcessBlobGas(cfg, parent.Header(), when)
	header.BlobGasUsed, header.ExcessBlobGas, header.ParentBeaconRoot = new(uint64), &excess, &common.Hash{}

	statedb, err := bc.StateAt(parent.Root(), parent.Number(), parent.Time())
	if err != nil {
		c.t.Fatalf("parent state: %v", err)
	}
	evm := vm.NewEVM(core.NewEVMBlockContext(header, bc, nil), statedb, cfg, vm.Config{})
	core.PreExecution(ctx, header.ParentBeaconRoot, parent.Header(), cfg, evm, header.Number, header.Time)
	gp := core.NewGasPool(header.GasLimit)
	var (
		receipts []*types.Receipt
		logs     []*types.Log
	)
	for i, tx := range spec.Txs {
		statedb.SetTxContext(tx.Hash(), i, uint32(i+1))
		r, _, err := core.ApplyTransaction(ctx, evm, gp, statedb, header, tx)
		if err != nil {
			c.t.Fatalf("apply tx %d: %v", i, err)
		}
		receipts = append(receipts, r)
		logs = append(logs, r.Logs...)
	}
	header.GasUsed = gp.Used()
	body := &types.Body{Transactions: spec.Txs, Withdrawals: []*types.Withdrawal{}}
	requests, _, err := core.PostExecution(ctx, cfg, header.Number, header.Time, logs, body.Withdrawals, evm, uint32(len(spec.Txs)+1))
	if err != nil {
		c.t.Fatalf("post execution: %v", err)
	}
	requestsHash := types.CalcRequestsHash(requests)
	header.RequestsHash = &requestsHash
	c.Engine().Finalize(bc, header, statedb, body)
	block := core.AssembleBlock(bc, header, statedb, body, receipts, nil)

	if spec.Body != nil {
		block = types.NewBlock(block.Header(), spec.Body, nil, trie.NewStackTrie(nil))
	}
	if spec.Mutate != nil {
		h := block.Header()
		spec.Mutate(h)
		block = block.WithSeal(h)
	}
	if spec.Unsealed {
		return block
	}
	prev := chainhash.Hash(block.MixDigest())
	if spec.BitcoinPrev != nil {
		prev = *spec.BitcoinPrev
	}
	block = c.seal(block, prev, int64(block.Time())+spec.BitcoinTimeOffset)
	if spec.PostSeal != nil {
		h := block.Header()
		spec.PostSeal(h)
		block = block.WithSeal(h)
	}
	return block
}

// Seal merge-mines a block with the network's tag as the dev miner does: a
// synthetic Bitcoin block whose coinbase commits to the seal hash, at
// Bitcoin time btcTime.
func (c *Chain) Seal(block *types.Block, btcTime int64) *types.Block {
	c.t.Helper()
	return c.seal(block, chainhash.Hash(block.MixDigest()), btcTime)
}

// seal merge-mines a block on the Bitcoin block prev. The synthetic header
// claims regtest's nBits (0x207fffff), which any share at a sidechain
// difficulty of 2 or more meets: every block so sealed is a regtest Bitcoin
// block, an anchor candidate.
func (c *Chain) seal(block *types.Block, prev chainhash.Hash, btcTime int64) *types.Block {
	c.t.Helper()
	h := block.Header()
	seal, err := consensus.DecodeSeal(h.Extra)
	if err != nil {
		c.t.Fatalf("template seal: %v", err)
	}
	tag := []byte(c.Spec.MergeMining.Tag)
	header80, coinbase, err := mergemine.SyntheticShare(consensus.SealHash(h), seal.Difficulty, tag, prev, uint32(btcTime))
	if err != nil {
		c.t.Fatal(err)
	}
	if seal.Proof, err = mergemine.BuildProof(header80, coinbase, nil, tag); err != nil {
		c.t.Fatalf("build proof: %v", err)
	}
	h.Extra = seal.Bytes()
	return block.WithSeal(h)
}

// MustInsert imports blocks through the chain's door and fails the test on
// error.
func (c *Chain) MustInsert(blocks ...*types.Block) {
	c.t.Helper()
	if n, err := c.Insert(blocks); err != nil {
		c.t.Fatalf("insert block %d (#%d): %v", n, blocks[n].NumberU64(), err)
	}
}

// Extend builds and inserts n blocks on parent, each spacing seconds after
// the previous (0: the target spacing), and returns them.
func (c *Chain) Extend(parent *types.Block, n int, spacing uint64) []*types.Block {
	c.t.Helper()
	blocks := make([]*types.Block, n)
	for i := range blocks {
		var when uint64
		if spacing != 0 {
			when = parent.Time() + spacing
		}
		blocks[i] = c.Build(parent, Block{Time: when})
		c.MustInsert(blocks[i])
		parent = blocks[i]
	}
	return blocks
}

// HeadBlock is the head block.
func (c *Chain) HeadBlock() *types.Block {
	h := c.BlockChain().CurrentBlock()
	return c.BlockChain().GetBlock(h.Hash(), h.Number.Uint64())
}
