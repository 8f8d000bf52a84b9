package miner

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/event"
	"github.com/holiman/uint256"

	mmchain "github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

// workFixture is a dev chain with a work server over a pool the test fills.
type workFixture struct {
	chain  *core.BlockChain
	engine *consensus.Engine
	ws     *WorkServer
	src    listSource
	tag    []byte
}

func newWorkFixture(t *testing.T) *workFixture {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	return newWorkFixtureOn(t, rawdb.NewMemoryDatabase(), spec)
}

// newWorkFixtureOn is newWorkFixture on a given database and network.
func newWorkFixtureOn(t *testing.T, db ethdb.Database, spec *genesis.Spec) *workFixture {
	gen, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := mmchain.New(db, gen, spec.MergeMining, nil, mmchain.FinalityConfig{Confirmations: spec.Confirmations})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Stop)
	chain, engine := fc.BlockChain(), fc.Engine()
	f := &workFixture{chain: chain, engine: engine, src: listSource{}, tag: []byte(spec.MergeMining.Tag)}
	builder := NewBuilder(BuilderConfig{Chain: chain, Engine: engine, Pool: f.src, GasCeil: gen.GasLimit})
	f.ws = NewWorkServer(WorkServerConfig{Chain: chain, Engine: engine, Builder: builder, Inserter: fc, Tag: f.tag})
	return f
}

// solve seals the work the way a miner does and submits it.
func (f *workFixture) solve(t *testing.T, w *Work) (*SubmitResult, error) {
	t.Helper()
	return f.ws.Submit(f.share(t, f.ws.templates[w.SealHash], nil))
}

// share is the dev miner's share for a template, as the work server
// receives it; edit, if set, changes the Bitcoin header before parsing.
func (f *workFixture) share(t *testing.T, tmpl *Template, edit func(header80 []byte)) *Share {
	t.Helper()
	header80, coinbase, err := mergemine.SyntheticShare(tmpl.SealHash, tmpl.Difficulty, f.tag, [32]byte(tmpl.Block().MixDigest()), uint32(tmpl.Block().Time()))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(header80)
	}
	s, err := NewShare(header80, coinbase, nil, f.tag)
	if err != nil {
		t.Fatal(err)
	}
	return s
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
	evicted := f.share(t, firstTemplate, nil)
	var unknown *UnknownWorkError
	if _, err := f.ws.Submit(evicted); !errors.As(err, &unknown) || unknown.SealHash != first.SealHash {
		t.Fatalf("evicted template: %v", err)
	}
	// The oldest template still kept is accepted.
	oldest := f.ws.templates[f.ws.order[0]]
	if res, err := f.ws.Submit(f.share(t, oldest, nil)); err != nil || res.Status != ImportedBest {
		t.Fatalf("oldest kept template: %v %v", res, err)
	}
	// Too little work for the template: rejected, head unchanged.
	w, _ := f.ws.GetWork()
	tmpl := f.ws.templates[w.SealHash]
	bad := f.share(t, tmpl, func(h []byte) {
		// Another nonce, one whose hash misses the target: at the dev
		// network's difficulty of 3 a third of all hashes meet it, so a
		// header merely edited was accepted one run in three.
		target := mergemine.Target(tmpl.Difficulty)
		for nonce := binary.LittleEndian.Uint32(h[76:]) + 1; mergemine.MeetsTarget(h, target); nonce++ {
			binary.LittleEndian.PutUint32(h[76:], nonce)
		}
	})
	head := f.chain.CurrentBlock().Hash()
	if _, err := f.ws.Submit(bad); !errors.Is(err, ErrInvalidBlock) {
		t.Fatalf("bad proof: %v", err)
	}
	if f.chain.CurrentBlock().Hash() != head {
		t.Fatal("a rejected proof moved the head")
	}
}

// diskDB is a real database that counts the writes reaching it and can
// fail its WAL sync, as a full or failing disk does.
type diskDB struct {
	ethdb.Database
	writes  atomic.Int64
	syncErr error
}

func (d *diskDB) Put(key, value []byte) error {
	d.writes.Add(1)
	return d.Database.Put(key, value)
}

func (d *diskDB) Delete(key []byte) error {
	d.writes.Add(1)
	return d.Database.Delete(key)
}

func (d *diskDB) DeleteRange(start, end []byte) error {
	d.writes.Add(1)
	return d.Database.DeleteRange(start, end)
}

func (d *diskDB) NewBatch() ethdb.Batch { return &diskBatch{Batch: d.Database.NewBatch(), db: d} }

func (d *diskDB) NewBatchWithSize(size int) ethdb.Batch {
	return &diskBatch{Batch: d.Database.NewBatchWithSize(size), db: d}
}

func (d *diskDB) SyncKeyValue() error {
	if d.syncErr != nil {
		return d.syncErr
	}
	return d.Database.SyncKeyValue()
}

type diskBatch struct {
	ethdb.Batch
	db *diskDB
}

func (b *diskBatch) Write() error {
	b.db.writes.Add(1)
	return b.Batch.Write()
}

// TestBogusSharesWriteNothing submits shares for a live template that fail
// each way a share can fail after parsing, and a valid one: the bogus ones
// write nothing and cost at most one proof check each; the valid one is
// imported with one proof check in all (the work server's, which the
// engine then remembers when the chain verifies the sealed header).
func TestBogusSharesWriteNothing(t *testing.T) {
	spec, _ := genesis.Load("dev")
	db := &diskDB{Database: rawdb.NewMemoryDatabase()}
	f := newWorkFixtureOn(t, db, spec)
	w, err := f.ws.GetWork()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := f.ws.templates[w.SealHash]
	share := func(header80, coinbase, merkleProof []byte) *Share {
		s, err := NewShare(header80, coinbase, merkleProof, f.tag)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	header80, coinbase, err := mergemine.SyntheticShare(tmpl.SealHash, tmpl.Difficulty, f.tag, [32]byte(tmpl.Block().MixDigest()), uint32(tmpl.Block().Time()))
	if err != nil {
		t.Fatal(err)
	}
	lowWork := bytes.Clone(header80)
	for nonce := binary.LittleEndian.Uint32(lowWork[76:]) + 1; ; nonce++ {
		binary.LittleEndian.PutUint32(lowWork[76:], nonce)
		if !mergemine.MeetsTarget(lowWork, w.Target) {
			break
		}
	}
	driftHeader, driftCoinbase, err := mergemine.SyntheticShare(tmpl.SealHash, tmpl.Difficulty, f.tag, [32]byte(tmpl.Block().MixDigest()), uint32(tmpl.Block().Time())+400)
	if err != nil {
		t.Fatal(err)
	}
	foreignHeader, foreignCoinbase, err := mergemine.SyntheticShare([32]byte{0xee}, tmpl.Difficulty, f.tag, [32]byte(tmpl.Block().MixDigest()), uint32(tmpl.Block().Time()))
	if err != nil {
		t.Fatal(err)
	}
	bogus := []struct {
		name  string
		share *Share
		want  error
	}{
		{"not enough work", share(lowWork, coinbase, nil), mergemine.ErrPoW},
		{"a merkle branch the header does not commit to", share(header80, coinbase, bytes.Repeat([]byte{1}, 32)), mergemine.ErrMerkleRootMismatch},
		{"Bitcoin time 400 s from the block's", share(driftHeader, driftCoinbase, nil), consensus.ErrBitcoinTimeDrift},
		{"work never handed out", share(foreignHeader, foreignCoinbase, nil), nil},
	}
	writes, checks := db.writes.Load(), f.engine.ProofChecks()
	for _, b := range bogus {
		_, err := f.ws.Submit(b.share)
		if b.want == nil {
			var unknown *UnknownWorkError
			if !errors.As(err, &unknown) {
				t.Errorf("%s: %v, want unknown work", b.name, err)
			}
		} else if !errors.Is(err, ErrInvalidBlock) || !errors.Is(err, b.want) {
			t.Errorf("%s: %v, want %v and %v", b.name, err, ErrInvalidBlock, b.want)
		}
	}
	if got := db.writes.Load() - writes; got != 0 {
		t.Errorf("%d database writes for %d bogus shares, want 0", got, len(bogus))
	}
	if got := f.engine.ProofChecks() - checks; got > uint64(len(bogus)) {
		t.Errorf("%d proof checks for %d bogus shares, want at most one each", got, len(bogus))
	}

	checks = f.engine.ProofChecks()
	res, err := f.ws.Submit(share(header80, coinbase, nil))
	if err != nil || res.Status != ImportedBest {
		t.Fatalf("valid share: %v %v", res, err)
	}
	if got := f.engine.ProofChecks() - checks; got != 1 {
		t.Errorf("%d proof checks for a valid share, want 1", got)
	}
	if db.writes.Load() == writes {
		t.Error("the valid share's block was not written")
	}
}

// TestDiskFaultIsNotInvalid fails the WAL sync that follows a mined block's
// import: the pool must hear that its valid block was not imported, not
// that it was invalid, and the block, written before the sync failed, is
// known when the share comes again.
func TestDiskFaultIsNotInvalid(t *testing.T) {
	spec, _ := genesis.Load("dev")
	db := &diskDB{Database: rawdb.NewMemoryDatabase()}
	f := newWorkFixtureOn(t, db, spec)
	api := NewAPI(f.ws)
	w, err := f.ws.GetWork()
	if err != nil {
		t.Fatal(err)
	}
	header80, coinbase, err := mergemine.SyntheticShare(w.SealHash, f.ws.templates[w.SealHash].Difficulty, f.tag,
		[32]byte(f.ws.templates[w.SealHash].Block().MixDigest()), uint32(f.ws.templates[w.SealHash].Block().Time()))
	if err != nil {
		t.Fatal(err)
	}
	txid := chainhash.DoubleHashH(coinbase)
	params := []string{hex.EncodeToString(header80), hex.EncodeToString(coinbase), hex.EncodeToString(txid[:]), "1"}

	db.syncErr = errors.New("injected: fsync failed")
	_, err = api.SubmitBitcoinBlockPartialMerkle(nil, params[0], params[1], params[2], params[3])
	var coded interface{ ErrorCode() int }
	if !errors.As(err, &coded) || coded.ErrorCode() != mnrSubmitCode {
		t.Fatalf("disk fault: %v, want a %d error", err, mnrSubmitCode)
	}
	if !errors.Is(err, ErrNotImported) || errors.Is(err, ErrInvalidBlock) || strings.Contains(strings.ToLower(err.Error()), "invalid") {
		t.Fatalf("disk fault reported as %q", err)
	}
	if !strings.Contains(err.Error(), "injected: fsync failed") {
		t.Errorf("%q does not say what failed", err)
	}

	db.syncErr = nil
	res, err := api.SubmitBitcoinBlockPartialMerkle(nil, params[0], params[1], params[2], params[3])
	if err != nil || string(res.BlockImportedResult) != Exist {
		t.Fatalf("the same share after the fault: %v %v, want %s", res, err, Exist)
	}
}

// TestBuiltBlockImportsAsExecuted: a block sealed from a template is
// imported with the builder's state (chain.InsertBuilt), not executed again;
// the chain must end as if it had been: the same head, receipts and state as
// a node that executes the block, and the chain and head events sent.
func TestBuiltBlockImportsAsExecuted(t *testing.T) {
	f := newWorkFixture(t)
	events := make(chan core.ChainEvent, 1)
	defer f.chain.SubscribeChainEvent(events).Unsubscribe()
	heads := make(chan core.ChainHeadEvent, 1)
	defer f.chain.SubscribeChainHeadEvent(heads).Unsubscribe()
	f.addTx(t, 7)
	w, err := f.ws.GetWork()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := f.ws.templates[w.SealHash]
	res, err := f.solve(t, w)
	if err != nil || res.Status != ImportedBest {
		t.Fatalf("submit: %v %v", res, err)
	}
	if tmpl.state != nil {
		t.Error("the template's state was not used")
	}
	block := res.Block
	if ev := <-events; ev.Header.Hash() != block.Hash() || len(ev.Receipts) != 1 || len(ev.Transactions) != 1 {
		t.Errorf("chain event for %x with %d receipts, %d txs", ev.Header.Hash(), len(ev.Receipts), len(ev.Transactions))
	}
	if ev := <-heads; ev.Header.Hash() != block.Hash() {
		t.Errorf("head event for %x, want %x", ev.Header.Hash(), block.Hash())
	}

	// A second node executes the same block.
	spec, _ := genesis.Load("dev")
	gen, _ := spec.Genesis()
	other, err := mmchain.New(rawdb.NewMemoryDatabase(), gen, spec.MergeMining, nil, mmchain.FinalityConfig{Confirmations: spec.Confirmations})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Stop()
	if _, err := other.Insert([]*types.Block{block}); err != nil {
		t.Fatal(err)
	}
	if a, b := f.chain.CurrentBlock().Hash(), other.BlockChain().CurrentBlock().Hash(); a != b || a != block.Hash() {
		t.Fatalf("heads %x and %x, want %x", a, b, block.Hash())
	}
	got, _ := json.Marshal(f.chain.GetReceiptsByHash(block.Hash()))
	want, _ := json.Marshal(other.BlockChain().GetReceiptsByHash(block.Hash()))
	if string(got) != string(want) {
		t.Errorf("receipts\n%s\nwant (executed)\n%s", got, want)
	}
	if !f.chain.HasState(block.Root()) {
		t.Error("the head's state is missing")
	}
	if lookup, _ := f.chain.GetCanonicalTransaction(block.Transactions()[0].Hash()); lookup == nil {
		t.Error("no lookup entry for the block's transaction")
	}
}

// reorgingPool is a pool whose Sync, like geth's, returns only after its
// reorg has delivered its NewTxsEvents to every subscriber, one blocking
// send each.
type reorgingPool struct {
	listSource
	feed   event.Feed
	events int
}

func (p *reorgingPool) SubscribeTransactions(ch chan<- core.NewTxsEvent, _ bool) event.Subscription {
	return p.feed.Subscribe(ch)
}

func (p *reorgingPool) Sync() error {
	for range p.events {
		p.feed.Send(core.NewTxsEvent{})
	}
	return nil
}

// A build started by the refresh loop waits for the pool's reorg, which
// waits for the work server to take its transaction events: more events
// than the server buffers must not deadlock the two (the server stopped
// answering mnr_getWork under a load of full blocks).
func TestRefreshTakesTxEventsWhileBuilding(t *testing.T) {
	f := newWorkFixture(t)
	pool := &reorgingPool{listSource: f.src, events: 1000}
	builder := NewBuilder(BuilderConfig{Chain: f.chain, Engine: f.engine, Pool: pool, GasCeil: f.chain.CurrentBlock().GasLimit})
	ws := NewWorkServer(WorkServerConfig{Chain: f.chain, Engine: f.engine, Builder: builder, Pool: pool, Tag: f.tag,
		Recommit: time.Hour, Debounce: time.Millisecond})
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	pool.feed.Send(core.NewTxsEvent{}) // starts a refresh on the loop
	built := func() bool {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		return ws.current != nil
	}
	// A deadlock never ends; a minute only bounds the test.
	for deadline := time.Now().Add(time.Minute); !built(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no template built: the refresh loop and the pool wait on each other")
		}
	}
	if err := ws.Stop(); err != nil {
		t.Fatal(err)
	}
}
