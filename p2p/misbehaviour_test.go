package p2p

import (
	"bytes"
	"errors"
	"math/big"
	"runtime"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

func mustEncode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A peer sending malformed messages is dropped for breach of protocol, while
// the node keeps its other peers and keeps importing their blocks.
func TestMalformedMessagesDropPeer(t *testing.T) {
	blocks := mainChain(t)[:2]
	honest := newTestNode(t, newTestChain(t, blocks[:1]), nodeOpts{})
	b := newTestNode(t, newTestChain(t, blocks[:1]), nodeOpts{})
	genesis := b.chain.Genesis().Hash()
	connect(t, honest, b)
	drops := watchDrops(t, b.server)

	hugeWork := new(big.Int).Lsh(common.Big1, 300)
	tooManyHashes := make([]common.Hash, maxBodiesServe+1)
	tests := []struct {
		name    string
		code    uint64
		payload []byte
		noHello bool // send before the handshake
	}{
		{name: "garbage block", code: newBlockMsg, payload: []byte{0xc3, 0x01, 0x02}},
		{name: "truncated rlp", code: getBlockBodiesMsg, payload: []byte{0xf8, 0x40, 0x01}},
		{name: "second status", code: statusMsg, payload: mustEncode(t, &statusPacket{Genesis: genesis, Work: common.Big1})},
		{name: "oversized header query", code: getBlockHeadersMsg, payload: bytes.Repeat([]byte{0x80}, maxGetHeadersSize+1)},
		{name: "too many body hashes", code: getBlockBodiesMsg, payload: mustEncode(t, &getBlockBodiesPacket{RequestID: 1, Hashes: tooManyHashes})},
		{name: "announce with huge work", code: newBlockHashesMsg, payload: mustEncode(t, newBlockHashesPacket{{Hash: common.Hash{1}, Number: 5, Work: hugeWork}})},
		{name: "block with huge work", code: newBlockMsg, payload: mustEncode(t, &newBlockPacket{Block: blocks[1], Work: hugeWork})},
		{name: "origin is a list", code: getBlockHeadersMsg, payload: []byte{0xc5, 0x01, 0xc0, 0x01, 0x80, 0x80}},
		{name: "message before status", code: getBlockHeadersMsg, payload: mustEncode(t, &getBlockHeadersPacket{RequestID: 1, Amount: 1}), noHello: true},
	}
	for _, tt := range tests {
		raw := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
			if !tt.noHello {
				if err := rawHandshake(rw, b.chain); err != nil {
					return err
				}
			}
			return sendRaw(rw, tt.code, tt.payload)
		})
		raw.server.AddPeer(b.server.Self())
		if reason := drops.wait(t, raw.id()); reason != gethp2p.DiscProtocolError.Error() {
			t.Errorf("%s: dropped with %q, want %q", tt.name, reason, gethp2p.DiscProtocolError)
		}
		raw.server.Stop()
	}

	if !b.hasPeer(honest.id()) {
		t.Fatal("honest peer lost")
	}
	if _, err := honest.chain.InsertBlocks(blocks[1:2]); err != nil {
		t.Fatal(err)
	}
	honest.handler.BroadcastBlock(blocks[1])
	waitFor(t, "import after the attacks", func() bool { return b.chain.headHash() == blocks[1].Hash() })
}

// A peer sending a block that fails verification is dropped as useless and the
// block never reaches the database.
func TestInvalidBlockDropsPeer(t *testing.T) {
	blocks := mainChain(t)[:6]
	base, good := blocks[:5], blocks[5]
	// A correct header with a body it does not commit to.
	wrongBody := types.NewBlockWithHeader(good.Header()).WithBody(types.Body{Withdrawals: []*types.Withdrawal{}})

	honest := newTestNode(t, newTestChain(t, base), nodeOpts{})
	b := newTestNode(t, newTestChain(t, base), nodeOpts{})
	badProofBlock := proofForAnotherBlock(t, honest.chain, base[4])
	connect(t, honest, b)
	drops := watchDrops(t, b.server)
	// A claim no heavier than our head starts no sync with the raw peer, which
	// would not answer and be dropped as useless for that: the drop must come
	// from the block.
	claimed := b.chain.Work(b.chain.headHash())

	for name, block := range map[string]*types.Block{"bad proof": badProofBlock, "wrong body": wrongBody} {
		raw := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
			if err := rawHandshake(rw, b.chain); err != nil {
				return err
			}
			return gethp2p.Send(rw, newBlockMsg, &newBlockPacket{Block: block, Work: claimed})
		})
		raw.server.AddPeer(b.server.Self())
		if reason := drops.wait(t, raw.id()); reason != gethp2p.DiscUselessPeer.Error() {
			t.Errorf("%s: dropped with %q, want %q", name, reason, gethp2p.DiscUselessPeer)
		}
		if b.chain.HasBlock(block.Hash(), block.NumberU64()) || b.chain.GetHeaderByHash(block.Hash()) != nil {
			t.Errorf("%s: block reached the database", name)
		}
		raw.server.Stop()
	}
	if !b.hasPeer(honest.id()) {
		t.Fatal("honest peer lost")
	}
	if b.chain.headHash() != base[4].Hash() {
		t.Error("head moved")
	}
}

// A peer whose valid block fails to import for a local reason (the
// receiver's disk) keeps its connection; the block is not stored.
func TestLocalImportFailureKeepsPeer(t *testing.T) {
	blocks := mainChain(t)[:3]
	sender := newTestNode(t, newTestChain(t, blocks[:1]), nodeOpts{})
	receiver := newTestNode(t, newTestChain(t, blocks[:1]), nodeOpts{})
	receiver.chain.localFault.Store(true)
	connect(t, sender, receiver)
	drops := watchDrops(t, receiver.server)

	if _, err := sender.chain.InsertBlocks(blocks[1:2]); err != nil {
		t.Fatal(err)
	}
	sender.handler.BroadcastBlock(blocks[1])
	time.Sleep(500 * time.Millisecond) // the block arrives and fails to import meanwhile
	if !receiver.hasPeer(sender.id()) {
		t.Fatalf("peer dropped (%q) for the receiver's own disk fault", drops.wait(t, sender.id()))
	}
	if receiver.chain.HasBlock(blocks[1].Hash(), 2) {
		t.Fatal("block stored despite the failed import")
	}
	// Once the disk is back, the same peer's next block is imported, with
	// the one that failed.
	receiver.chain.localFault.Store(false)
	if _, err := sender.chain.InsertBlocks(blocks[2:3]); err != nil {
		t.Fatal(err)
	}
	sender.handler.BroadcastBlock(blocks[2])
	waitFor(t, "import after the local fault", func() bool { return receiver.chain.headHash() == blocks[2].Hash() })
}

// proofForAnotherBlock is a child of parent, which c holds with its state,
// whose merged-mining proof commits to another block: taken from the
// engine's rule breakers, so the proof is broken as a miner's could be and
// the block is otherwise valid.
func proofForAnotherBlock(t testing.TB, c *testChain, parent *types.Block) *types.Block {
	t.Helper()
	for _, br := range c.tc.RuleBreakers(parent) {
		if errors.Is(br.Want, consensus.ErrInvalidProof) && errors.Is(br.Also, mergemine.ErrMerkleRootMismatch) {
			return br.Block
		}
	}
	t.Fatal("testchain has no rule breaker with a proof for another block")
	return nil
}

// A peer relaying a transaction no honest node would relay (no recoverable
// sender, fees no valid transaction has) is dropped; one relaying
// transactions our pool refuses for reasons that can be a race or our own
// policy (a nonce already used, a tip under our floor) keeps its connection.
func TestTransactionPenalties(t *testing.T) {
	blocks := mainChain(t)[:5] // the first dev account has sent 5 transactions
	chain := newTestChain(t, blocks)
	pool := newTestPool(t, chain)
	b := newTestNode(t, chain, nodeOpts{pool: pool})
	drops := watchDrops(t, b.server)

	cfg := chain.Config()
	signer := types.LatestSigner(cfg)
	key := chain.tc.Keys[0]
	tx := func(nonce uint64, tip, feeCap int64) *types.DynamicFeeTx {
		return &types.DynamicFeeTx{ChainID: cfg.ChainID, Nonce: nonce, GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(feeCap),
			Gas: params.TxGas, To: &common.Address{1}, Value: big.NewInt(1)}
	}
	signed := func(inner *types.DynamicFeeTx) *types.Transaction { return types.MustSignNewTx(key, signer, inner) }
	gwei := int64(params.GWei)
	junkSig := tx(5, gwei, 10*gwei)
	junkSig.V, junkSig.R, junkSig.S = big.NewInt(0), big.NewInt(0), big.NewInt(0)
	otherChain := tx(5, gwei, 10*gwei)
	otherChain.ChainID = new(big.Int).Add(cfg.ChainID, common.Big1)

	tests := []struct {
		name string
		tx   *types.Transaction
		drop bool
	}{
		{"zero signature", types.NewTx(junkSig), true},
		{"signed for another chain", types.MustSignNewTx(key, types.LatestSignerForChainID(otherChain.ChainID), otherChain), true},
		{"tip above fee cap", signed(tx(5, 10*gwei, gwei)), true},
		{"nonce already used", signed(tx(0, gwei, 10*gwei)), false},
		{"tip under the pool's floor", signed(tx(5, 0, 10*gwei)), false},
	}
	// Each keeper then sends a valid transaction: once it is in the pool,
	// the message before it was handled without dropping the peer.
	nonce := uint64(5)
	for _, tt := range tests {
		valid := signed(tx(nonce, gwei, 10*gwei))
		raw := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
			if err := rawHandshake(rw, chain); err != nil {
				return err
			}
			if err := gethp2p.Send(rw, transactionsMsg, transactionsPacket{tt.tx}); err != nil {
				return err
			}
			return gethp2p.Send(rw, transactionsMsg, transactionsPacket{valid})
		})
		raw.server.AddPeer(b.server.Self())
		if tt.drop {
			if reason := drops.wait(t, raw.id()); reason != gethp2p.DiscUselessPeer.Error() {
				t.Errorf("%s: dropped with %q, want %q", tt.name, reason, gethp2p.DiscUselessPeer)
			}
			if pool.Has(tt.tx.Hash()) {
				t.Errorf("%s: transaction entered the pool", tt.name)
			}
		} else {
			waitFor(t, tt.name+": the valid transaction after it", func() bool { return pool.Has(valid.Hash()) })
			if !b.hasPeer(raw.id()) {
				t.Errorf("%s: peer dropped for a rejection that is not its fault", tt.name)
			}
			nonce++
		}
		raw.server.Stop()
	}
}

// A response nobody asked for costs the sender its connection, and is
// refused before its items are decoded: a 9 MB BlockBodies allocates next
// to nothing, where the same message asked for builds every transaction.
func TestUnsolicitedResponses(t *testing.T) {
	blocks := mainChain(t)[:2]
	tx := blocks[1].Transactions()[0]
	txs := make([]*types.Transaction, 9*1024*1024/int(tx.Size()))
	for i := range txs {
		txs[i] = tx
	}
	bodies := mustEncode(t, &blockBodiesPacket{RequestID: 42, Bodies: []*types.Body{{Transactions: txs}}})
	allocs := func(expect expectFunc) (uint64, error) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := decodeMsg(testMsg(blockBodiesMsg, bodies), DefaultMaxMessageSize, expect)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, err
	}
	p := newPeer(gethp2p.NewPeer(enode.ID{1}, "test", nil), nil, time.Millisecond)
	unasked, err := allocs(p.expect)
	if !errors.Is(err, errUnsolicited) {
		t.Fatalf("unsolicited bodies: %v", err)
	}
	asked, err := allocs(anyRequest)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d-byte BlockBodies of %d transactions: %d bytes allocated unsolicited, %d asked for", len(bodies), len(txs), unasked, asked)
	if unasked > 64*1024 || asked < uint64(len(bodies)) {
		t.Errorf("allocated %d bytes for an unsolicited response, %d for a solicited one", unasked, asked)
	}

	b := newTestNode(t, newTestChain(t, blocks[:1]), nodeOpts{})
	drops := watchDrops(t, b.server)
	for name, msg := range map[string]struct {
		code    uint64
		payload []byte
	}{
		"headers": {blockHeadersMsg, mustEncode(t, &blockHeadersPacket{RequestID: 42, Headers: []*types.Header{blocks[0].Header()}})},
		"bodies":  {blockBodiesMsg, bodies},
	} {
		raw := newRawPeer(t, func(rw gethp2p.MsgReadWriter) error {
			if err := rawHandshake(rw, b.chain); err != nil {
				return err
			}
			return sendRaw(rw, msg.code, msg.payload)
		})
		raw.server.AddPeer(b.server.Self())
		if reason := drops.wait(t, raw.id()); reason != gethp2p.DiscProtocolError.Error() {
			t.Errorf("unsolicited %s: dropped with %q, want %q", name, reason, gethp2p.DiscProtocolError)
		}
		raw.server.Stop()
	}
}
