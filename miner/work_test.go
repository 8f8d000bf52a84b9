package miner

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	mmchain "github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

// workFixture is a dev chain with a work server over a pool the test fills.
type workFixture struct {
	chain *core.BlockChain
	ws    *WorkServer
	src   listSource
	tag   []byte
}

func newWorkFixture(t *testing.T) *workFixture {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := spec.Genesis()
	fc, err := mmchain.New(rawdb.NewMemoryDatabase(), gen, spec.MergeMining, nil, mmchain.FinalityConfig{Confirmations: spec.Confirmations})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Stop)
	chain, engine := fc.BlockChain(), fc.Engine()
	f := &workFixture{chain: chain, src: listSource{}, tag: []byte(spec.MergeMining.Tag)}
	builder := NewBuilder(BuilderConfig{Chain: chain, Engine: engine, Pool: f.src, GasCeil: gen.GasLimit})
	f.ws = NewWorkServer(WorkServerConfig{Chain: chain, Engine: engine, Builder: builder, Inserter: fc, Tag: f.tag})
	return f
}

// solve seals the work the way a miner does and submits it.
func (f *workFixture) solve(t *testing.T, w *Work) (*SubmitResult, error) {
	t.Helper()
	tmpl := f.ws.templates[w.SealHash]
	header80, coinbase, err := mergemine.SyntheticShare(w.SealHash, tmpl.Difficulty, f.tag, [32]byte(tmpl.Block().MixDigest()), uint32(tmpl.Block().Time()))
	if err != nil {
		t.Fatal(err)
	}
	return f.ws.Submit(header80, coinbase, nil)
}

// addTx puts a tip-paying transfer of a dev account into the pool source.
func (f *workFixture) addTx(t *testing.T, tip int64) {
	spec, _ := genesis.Load("dev")
	keys, _ := spec.DevKeys()
	key := keys[len(f.src)]
	to := common.HexToAddress("0xbeef")
	tx := types.MustSignNewTx(key, types.LatestSigner(f.chain.Config()), &types.DynamicFeeTx{ChainID: f.chain.Config().ChainID,
		GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(1e12), Gas: 21000, To: &to, Value: big.NewInt(1)})
	f.src[crypto.PubkeyToAddress(key.PublicKey)] = []*txpool.LazyTransaction{{Tx: tx, Hash: tx.Hash(), Gas: tx.Gas(),
		GasFeeCap: uint256.MustFromBig(tx.GasFeeCap()), GasTipCap: uint256.MustFromBig(tx.GasTipCap())}}
}

func TestNotifyIsEdgeTriggered(t *testing.T) {
	f := newWorkFixture(t)
	get := func() *Work {
		w, err := f.ws.GetWork()
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if w := get(); !w.Notify {
		t.Fatal("first work after start must notify")
	}
	if w := get(); w.Notify {
		t.Fatal("same parent, same fees: notify again")
	}
	// Fees up by far more than 10%: a new template, notified once.
	f.addTx(t, 1e9)
	if _, err := f.ws.Build(0); err != nil {
		t.Fatal(err)
	}
	if w := get(); !w.Notify || w.Fees.Sign() == 0 {
		t.Fatalf("fees rose: notify %v fees %v", w.Notify, w.Fees)
	}
	if w := get(); w.Notify {
		t.Fatal("fees unchanged since the last call: notify again")
	}
	// A fee rise of 10% or less keeps notify off.
	f.addTx(t, 1)
	if _, err := f.ws.Build(0); err != nil {
		t.Fatal(err)
	}
	if w := get(); w.Notify {
		t.Fatal("a small fee rise notified")
	}
	// A new parent notifies.
	w := get()
	res, err := f.solve(t, w)
	if err != nil || res.Status != ImportedBest {
		t.Fatalf("submit: %v %v", res, err)
	}
	if w := get(); !w.Notify || w.ParentHash != res.Block.Hash() {
		t.Fatal("new parent did not notify")
	}
}

func TestWorkServerKeepsTheLastTemplates(t *testing.T) {
	f := newWorkFixture(t)
	first, err := f.ws.GetWork()
	if err != nil {
		t.Fatal(err)
	}
	firstTemplate := f.ws.templates[first.SealHash]
	// 20 more templates on the same parent (new timestamps) push the
	// first one out of the window.
	for i := 1; i <= 20; i++ {
		if _, err := f.ws.Build(uint64(time.Now().Unix()) + uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.ws.templates) != 20 || len(f.ws.order) != 20 {
		t.Fatalf("%d templates kept, want 20", len(f.ws.templates))
	}
	header80, coinbase, err := mergemine.SyntheticShare(first.SealHash, firstTemplate.Difficulty, f.tag, [32]byte(firstTemplate.Block().MixDigest()), uint32(firstTemplate.Block().Time()))
	if err != nil {
		t.Fatal(err)
	}
	var unknown *UnknownWorkError
	if _, err := f.ws.Submit(header80, coinbase, nil); !errors.As(err, &unknown) || unknown.SealHash != first.SealHash {
		t.Fatalf("evicted template: %v", err)
	}
	// The oldest template still kept is accepted.
	oldest := f.ws.templates[f.ws.order[0]]
	header80, coinbase, _ = mergemine.SyntheticShare(oldest.SealHash, oldest.Difficulty, f.tag, [32]byte(oldest.Block().MixDigest()), uint32(oldest.Block().Time()))
	if res, err := f.ws.Submit(header80, coinbase, nil); err != nil || res.Status != ImportedBest {
		t.Fatalf("oldest kept template: %v %v", res, err)
	}
	// Too little work for the template: rejected, head unchanged.
	w, _ := f.ws.GetWork()
	tmpl := f.ws.templates[w.SealHash]
	header80, coinbase, _ = mergemine.SyntheticShare(w.SealHash, tmpl.Difficulty, f.tag, [32]byte(tmpl.Block().MixDigest()), uint32(tmpl.Block().Time()))
	header80[0] ^= 0xff
	head := f.chain.CurrentBlock().Hash()
	if _, err := f.ws.Submit(header80, coinbase, nil); !errors.Is(err, ErrInvalidBlock) {
		t.Fatalf("bad proof: %v", err)
	}
	if f.chain.CurrentBlock().Hash() != head {
		t.Fatal("a rejected proof moved the head")
	}
}
