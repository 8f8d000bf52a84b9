package p2p

import (
	"bytes"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mmgeth/mmgeth/internal/testchain"
)

// The tests run real geth p2p servers over loopback TCP, each over its own
// chain from internal/testchain: the product's merged-mining engine, dev
// chain configuration and fork choice on a memory database. Blocks are real
// dev blocks with real proofs, so a block adds its seal difficulty to the
// cumulative work: 3 on dev, whose blocks never get harder because their
// timestamps keep to the target spacing.

// mainLength is the length of the shared chain: the longest any test syncs.
const mainLength = 500

var (
	mainOnce   sync.Once
	mainBlocks []*types.Block
)

// mainChain is the chain the tests share, mainLength blocks on the dev
// genesis; tests take prefixes of it. It is built once, by the first test
// that asks, because every block costs execution and proof grinding.
func mainChain(t testing.TB) []*types.Block {
	t.Helper()
	mainOnce.Do(func() { mainBlocks = buildBlocks(t, nil, mainLength, common.Address{}) })
	if len(mainBlocks) != mainLength {
		t.Fatal("the shared chain could not be built (see the first test that failed)")
	}
	return mainBlocks
}

// sideCoinbase pays the blocks of side chains, which is what makes them
// differ from the main chain's blocks at the same height.
var sideCoinbase = common.Address{0x5d}

// buildBlocks builds n blocks on the last of prefix (on the genesis if
// prefix is empty), in a builder chain of their own since a block can only
// be built on a parent whose state is at hand. Each pays coinbase and carries
// one transfer from the first dev account, so that every body has to be
// fetched.
func buildBlocks(t testing.TB, prefix []*types.Block, n int, coinbase common.Address) []*types.Block {
	t.Helper()
	tc := testchain.New(t, testchain.Options{})
	parent := tc.BlockChain().Genesis()
	if len(prefix) > 0 {
		tc.MustInsert(prefix...)
		parent = prefix[len(prefix)-1]
	}
	cfg := tc.BlockChain().Config()
	signer := types.LatestSigner(cfg)
	blocks := make([]*types.Block, n)
	for i := range blocks {
		tx := types.MustSignNewTx(tc.Keys[0], signer, &types.DynamicFeeTx{
			ChainID:   cfg.ChainID,
			Nonce:     parent.NumberU64(), // one transfer in every block below
			GasTipCap: big.NewInt(1),
			GasFeeCap: big.NewInt(params.GWei),
			Gas:       params.TxGas,
			To:        &common.Address{byte(i), 0xaa},
			Value:     big.NewInt(1),
		})
		blocks[i] = tc.Build(parent, testchain.Block{Coinbase: coinbase, Txs: []*types.Transaction{tx}})
		tc.MustInsert(blocks[i])
		parent = blocks[i]
	}
	return blocks
}

// testChain is the chain as the mmg protocol sees it, shaped as the node's
// syncChain: geth's BlockChain for reads; work, verification and imports
// through chain.Chain.
type testChain struct {
	*core.BlockChain
	tc           *testchain.Chain
	bodiesServed atomic.Int64
	// localFault makes imports fail as a full disk would: not the block's
	// fault.
	localFault atomic.Bool
	// insertGate, when set before the chain is used, holds every import
	// until it is closed.
	insertGate chan struct{}
}

var errDiskFull = errors.New("disk full")

// newTestChain is a dev chain holding blocks.
func newTestChain(t testing.TB, blocks []*types.Block) *testChain {
	t.Helper()
	tc := testchain.New(t, testchain.Options{})
	if len(blocks) > 0 {
		tc.MustInsert(blocks...)
	}
	return adaptChain(tc)
}

func adaptChain(tc *testchain.Chain) *testChain {
	return &testChain{BlockChain: tc.BlockChain(), tc: tc}
}

func (c *testChain) Work(hash common.Hash) *big.Int { return c.tc.WorkOf(hash) }

func (c *testChain) VerifyHeaders(parent *types.Header, headers []*types.Header) error {
	_, err := c.tc.VerifyHeadersOn(parent, headers)
	return err
}

func (c *testChain) VerifyBlock(parent *types.Header, block *types.Block) (*big.Int, error) {
	return c.tc.VerifyBlockOn(parent, block)
}

func (c *testChain) InsertBlocks(blocks []*types.Block) (int, error) {
	if c.insertGate != nil {
		<-c.insertGate
	}
	if c.localFault.Load() {
		return 0, errDiskFull
	}
	return c.tc.Insert(blocks)
}

func (c *testChain) GetBody(hash common.Hash) *types.Body {
	c.bodiesServed.Add(1)
	return c.BlockChain.GetBody(hash)
}

func (c *testChain) headHash() common.Hash { return c.CurrentBlock().Hash() }

func (c *testChain) network() uint64 { return c.tc.Spec.NetworkID }

// genesisStatus is the status of a peer at the genesis of c's network.
func (c *testChain) genesisStatus() *statusPacket {
	genesis := c.Genesis().Hash()
	return &statusPacket{
		ProtocolVersion: ProtocolVersion,
		NetworkID:       c.network(),
		Genesis:         genesis,
		Head:            genesis,
		Work:            c.Work(genesis),
	}
}

// testNode is a handler on a live p2p server.
type testNode struct {
	chain   *testChain
	handler *Handler
	server  *gethp2p.Server
}

type nodeOpts struct {
	network uint64 // 0: the chain's network
	pool    TxPool
	noStart bool // leave the handler stopped until the test starts it
}

func newTestNode(t testing.TB, chain *testChain, opts nodeOpts) *testNode {
	t.Helper()
	if opts.network == 0 {
		opts.network = chain.network()
	}
	h, err := New(Config{NetworkID: opts.network, Chain: chain, TxPool: opts.pool})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, h.Protocols())
	n := &testNode{chain: chain, handler: h, server: srv}
	if !opts.noStart {
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// Like node.Node: lifecycles stop before the p2p server.
	t.Cleanup(func() { h.Stop() })
	return n
}

func newServer(t testing.TB, protocols []gethp2p.Protocol) *gethp2p.Server {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	srv := &gethp2p.Server{Config: gethp2p.Config{
		PrivateKey:  key,
		MaxPeers:    10,
		NoDiscovery: true,
		ListenAddr:  "127.0.0.1:0",
		Protocols:   protocols,
	}}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func (n *testNode) id() enode.ID { return n.server.Self().ID() }

// hasPeer reports whether the node has finished the mmg handshake with id.
func (n *testNode) hasPeer(id enode.ID) bool {
	n.handler.peers.mu.RLock()
	defer n.handler.peers.mu.RUnlock()
	_, ok := n.handler.peers.peers[id.String()]
	return ok
}

// connect dials b from a and waits until both ran the handshake.
func connect(t testing.TB, a, b *testNode) {
	t.Helper()
	a.server.AddPeer(b.server.Self())
	waitFor(t, "handshake", func() bool { return a.hasPeer(b.id()) && b.hasPeer(a.id()) })
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline. It bounds the wait; it does not assert speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dropWatcher records why peers were dropped by a server.
type dropWatcher struct {
	events chan *gethp2p.PeerEvent
}

func watchDrops(t testing.TB, srv *gethp2p.Server) *dropWatcher {
	w := &dropWatcher{events: make(chan *gethp2p.PeerEvent, 64)}
	sub := srv.SubscribeEvents(w.events)
	t.Cleanup(sub.Unsubscribe)
	return w
}

// wait returns the error with which peer id was dropped.
func (w *dropWatcher) wait(t testing.TB, id enode.ID) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-w.events:
			if ev.Type == gethp2p.PeerEventTypeDrop && ev.Peer == id {
				return ev.Error
			}
		case <-timeout:
			t.Fatalf("peer %v was not dropped", id)
		}
	}
}

// rawPeer speaks the mmg protocol by hand, to send what an honest handler
// never would.
type rawPeer struct {
	server *gethp2p.Server
}

// newRawPeer runs script on every mmg connection, then reads until the
// remote side hangs up.
func newRawPeer(t testing.TB, script func(rw gethp2p.MsgReadWriter) error) *rawPeer {
	proto := gethp2p.Protocol{
		Name:    ProtocolName,
		Version: ProtocolVersion,
		Length:  protocolLength,
		Run: func(p *gethp2p.Peer, rw gethp2p.MsgReadWriter) error {
			if err := script(rw); err != nil {
				return err
			}
			for {
				msg, err := rw.ReadMsg()
				if err != nil {
					return err
				}
				msg.Discard()
			}
		},
	}
	return &rawPeer{server: newServer(t, []gethp2p.Protocol{proto})}
}

func (r *rawPeer) id() enode.ID { return r.server.Self().ID() }

// rawHandshake exchanges statuses as a peer at the genesis of c's network.
func rawHandshake(rw gethp2p.MsgReadWriter, c *testChain) error {
	if err := gethp2p.Send(rw, statusMsg, c.genesisStatus()); err != nil {
		return err
	}
	msg, err := rw.ReadMsg()
	if err != nil {
		return err
	}
	return msg.Discard()
}

// sendRaw writes a message with an arbitrary payload.
func sendRaw(rw gethp2p.MsgWriter, code uint64, payload []byte) error {
	return rw.WriteMsg(gethp2p.Msg{Code: code, Size: uint32(len(payload)), Payload: bytes.NewReader(payload)})
}
