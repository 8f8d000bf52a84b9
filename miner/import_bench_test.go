package miner

import (
	"crypto/ecdsa"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb/pebble"
	"github.com/holiman/uint256"

	mmchain "github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

// tokenCode is an ERC20-like transfer(to, amount) with calldata
// to ‖ amount: two SLOADs, two SSTOREs and a Transfer LOG3, the profile of
// the token transfers that dominate real chains.
var tokenCode = common.FromHex("602035335481811060445703335560203" + "55f35805482019055" + "5f525f3533" +
	"7fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" + "60205fa3005b5f5ffd")

var tokenAddr = common.HexToAddress("0x70ce")

type importFixture struct {
	gen    *core.Genesis
	engine *consensus.Engine
	blocks []*types.Block
	gas    uint64
}

var (
	fixtureOnce sync.Once
	fixture     importFixture
)

// listSource hands the builder a fixed set of transactions.
type listSource map[common.Address][]*txpool.LazyTransaction

// Pending returns a fresh map, as the real pool does: the builder's
// price-and-nonce heap consumes what it is given.
func (l listSource) Pending(txpool.PendingFilter) (map[common.Address][]*txpool.LazyTransaction, int) {
	out := make(map[common.Address][]*txpool.LazyTransaction, len(l))
	for addr, txs := range l {
		out[addr] = slices.Clone(txs)
	}
	return out, len(out)
}
func (l listSource) Sync() error { return nil }

// buildImportFixture makes blocks×senders token transfers, each to a fresh
// recipient, sealed with real synthetic proofs at the dev difficulty.
func buildImportFixture(tb testing.TB, blocks, senders int) importFixture {
	spec, err := genesis.Load("dev")
	if err != nil {
		tb.Fatal(err)
	}
	gen, err := spec.Genesis()
	if err != nil {
		tb.Fatal(err)
	}
	keys := make([]*ecdsa.PrivateKey, senders)
	storage := map[common.Hash]common.Hash{}
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
		addr := crypto.PubkeyToAddress(keys[i].PublicKey)
		gen.Alloc[addr] = types.Account{Balance: big.NewInt(1e18)}
		storage[common.BytesToHash(addr.Bytes())] = common.BigToHash(big.NewInt(1e12))
	}
	gen.Alloc[tokenAddr] = types.Account{Code: tokenCode, Storage: storage, Balance: new(big.Int)}

	fc, err := mmchain.New(rawdb.NewMemoryDatabase(), gen, spec.MergeMining, nil, mmchain.FinalityConfig{Confirmations: spec.Confirmations})
	if err != nil {
		tb.Fatal(err)
	}
	defer fc.Stop()
	chain, engine := fc.BlockChain(), fc.Engine()
	signer := types.LatestSigner(gen.Config)
	out := importFixture{gen: gen, engine: engine}
	for b := 0; b < blocks; b++ {
		src := listSource{}
		for i, key := range keys {
			to := common.BigToAddress(big.NewInt(int64(1<<32 + b*senders + i)))
			data := append(common.LeftPadBytes(to.Bytes(), 32), common.LeftPadBytes([]byte{1}, 32)...)
			tx := types.MustSignNewTx(key, signer, &types.DynamicFeeTx{ChainID: gen.Config.ChainID, Nonce: uint64(b),
				GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1e9), Gas: 80_000, To: &tokenAddr, Data: data})
			src[crypto.PubkeyToAddress(key.PublicKey)] = []*txpool.LazyTransaction{{
				Tx: tx, Hash: tx.Hash(), Gas: tx.Gas(),
				GasFeeCap: uint256.MustFromBig(tx.GasFeeCap()), GasTipCap: uint256.MustFromBig(tx.GasTipCap()),
			}}
		}
		builder := NewBuilder(BuilderConfig{Chain: chain, Engine: engine, Pool: src, GasCeil: gen.GasLimit})
		parent := chain.CurrentBlock()
		t, err := builder.Build(parent, parent.Time+1)
		if err != nil {
			tb.Fatal(err)
		}
		if got := len(t.Block().Transactions()); got != senders {
			tb.Fatalf("block %d holds %d of %d transfers", b, got, senders)
		}
		header80, coinbase, err := mergemine.SyntheticShare(t.SealHash, t.Difficulty, []byte(spec.MergeMining.Tag), [32]byte(t.Block().MixDigest()), uint32(t.Block().Time()))
		if err != nil {
			tb.Fatal(err)
		}
		proof, err := mergemine.BuildProof(header80, coinbase, nil, []byte(spec.MergeMining.Tag))
		if err != nil {
			tb.Fatal(err)
		}
		block := t.Seal(proof)
		if _, err := fc.Insert([]*types.Block{block}); err != nil {
			tb.Fatalf("block %d: %v", b, err)
		}
		out.blocks = append(out.blocks, block)
		out.gas += block.GasUsed()
	}
	return out
}

// bareEngine is the merged-mining engine with its header checks removed:
// what geth core alone costs on the same blocks.
type bareEngine struct{ *consensus.Engine }

func (bareEngine) VerifyHeader(gethconsensus.ChainHeaderReader, *types.Header) error { return nil }

func (bareEngine) VerifyHeaders(_ gethconsensus.ChainHeaderReader, headers []*types.Header) (chan<- struct{}, <-chan error) {
	results := make(chan error, len(headers))
	for range headers {
		results <- nil
	}
	return make(chan struct{}), results
}

// importOnce imports the fixture into a fresh pebble database, in batches
// of 16: through fork choice with full verification, or straight into
// geth core with no header checks.
func importOnce(b *testing.B, bare bool) time.Duration {
	dir := b.TempDir()
	kv, err := pebble.New(dir, 128, 128, "", false)
	if err != nil {
		b.Fatal(err)
	}
	db, err := rawdb.Open(kv, rawdb.OpenOptions{Ancient: dir + "/ancient"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cfg := core.DefaultConfig().WithStateScheme(rawdb.PathScheme)
	cfg.SlowBlockThreshold = time.Hour
	var (
		chain  *core.BlockChain
		insert func([]*types.Block) (int, error)
	)
	if bare {
		if chain, err = core.NewBlockChain(db, fixture.gen, bareEngine{fixture.engine}, cfg); err != nil {
			b.Fatal(err)
		}
		insert = func(blocks []*types.Block) (int, error) { return chain.InsertChain(blocks) }
	} else {
		c, err := mmchain.New(db, fixture.gen, fixture.engine.Params(), cfg, mmchain.FinalityConfig{})
		if err != nil {
			b.Fatal(err)
		}
		chain, insert = c.BlockChain(), c.Insert
	}
	defer chain.Stop()
	start := time.Now()
	for i := 0; i < len(fixture.blocks); i += 16 {
		if _, err := insert(fixture.blocks[i:min(i+16, len(fixture.blocks))]); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	if chain.CurrentBlock().Hash() != fixture.blocks[len(fixture.blocks)-1].Hash() {
		b.Fatal("import did not reach the last block")
	}
	return elapsed
}

func benchmarkImport(b *testing.B, bare bool) {
	fixtureOnce.Do(func() { fixture = buildImportFixture(b, 40, 500) })
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += importOnce(b, bare)
	}
	b.ReportMetric(float64(fixture.gas)*float64(b.N)/1e6/total.Seconds(), "Mgas/s")
	b.ReportMetric(float64(len(fixture.blocks))*float64(b.N)/total.Seconds(), "blocks/s")
}

// BenchmarkImportNode and BenchmarkImportBareCore compare the node's import
// path (proof verification, difficulty, fork choice, work records, a WAL
// sync per batch) with geth core alone, on the same 40 blocks of 500
// ERC20-like transfers each.
func BenchmarkImportNode(b *testing.B)     { benchmarkImport(b, false) }
func BenchmarkImportBareCore(b *testing.B) { benchmarkImport(b, true) }
