package p2p

import (
	"bytes"
	"errors"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/params"
)

// The tests run real geth p2p servers over loopback TCP and real
// core.BlockChains on memory databases. Blocks come from core.GenerateChain
// with geth's post-merge faker engine; the test chain adapter assigns each
// block a work of 1, so cumulative work is number+1.

const testNetwork = 7777

var (
	testKey, _ = crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	testAddr   = crypto.PubkeyToAddress(testKey.PublicKey)

	// badProof in a header's Extra makes testChain.VerifyHeaders refuse it,
	// standing in for a block whose merged-mining proof does not verify.
	// The faker engine inside core accepts it, so only the handler's own
	// verification keeps such a block out of the database.
	badProof = []byte("bad merged-mining proof")
	errProof = errors.New("test: invalid proof")

	testChainConfig = &params.ChainConfig{
		ChainID:                 big.NewInt(1337),
		HomesteadBlock:          big.NewInt(0),
		EIP150Block:             big.NewInt(0),
		EIP155Block:             big.NewInt(0),
		EIP158Block:             big.NewInt(0),
		ByzantiumBlock:          big.NewInt(0),
		ConstantinopleBlock:     big.NewInt(0),
		PetersburgBlock:         big.NewInt(0),
		IstanbulBlock:           big.NewInt(0),
		MuirGlacierBlock:        big.NewInt(0),
		BerlinBlock:             big.NewInt(0),
		LondonBlock:             big.NewInt(0),
		ArrowGlacierBlock:       big.NewInt(0),
		GrayGlacierBlock:        big.NewInt(0),
		MergeNetsplitBlock:      big.NewInt(0),
		ShanghaiTime:            new(uint64),
		TerminalTotalDifficulty: big.NewInt(0),
		Ethash:                  new(params.EthashConfig),
	}
)

func testGenesis(extra string) *core.Genesis {
	return &core.Genesis{
		Config:     testChainConfig,
		Alloc:      types.GenesisAlloc{testAddr: {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))}},
		Difficulty: common.Big0,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		ExtraData:  []byte(extra),
	}
}

func testEngine() *beacon.Beacon { return beacon.New(ethash.NewFaker()) }

// makeBlocks generates n blocks on the genesis, each with one transfer so that
// every body has to be fetched. Blocks from fork on carry a different Extra,
// so two calls with different forks share exactly the first fork blocks.
func makeBlocks(t testing.TB, gspec *core.Genesis, n, fork int, forkExtra string) []*types.Block {
	t.Helper()
	signer := types.LatestSigner(gspec.Config)
	_, blocks, _ := core.GenerateChainWithGenesis(gspec, testEngine(), n, func(i int, b *core.BlockGen) {
		if i >= fork {
			b.SetExtra([]byte(forkExtra))
		}
		tx, err := types.SignNewTx(testKey, signer, &types.DynamicFeeTx{
			ChainID:   gspec.Config.ChainID,
			Nonce:     b.TxNonce(testAddr),
			GasTipCap: big.NewInt(1),
			GasFeeCap: new(big.Int).Mul(b.BaseFee(), big.NewInt(2)),
			Gas:       params.TxGas,
			To:        &common.Address{byte(i), 0xaa},
			Value:     big.NewInt(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		b.AddTx(tx)
	})
	return blocks
}

// testChain adapts a core.BlockChain to Chain the way the node will, with the
// faker engine standing in for merged mining.
type testChain struct {
	*core.BlockChain
	bodiesServed atomic.Int64
	// localFault makes imports fail as a full disk would: not the block's
	// fault.
	localFault atomic.Bool
}

// faultError marks an import failure as the block's fault, as the node's
// chain does (chain.RuleError).
type faultError struct{ error }

func (e faultError) Unwrap() error { return e.error }
func (faultError) BlockFault()     {}

var errDiskFull = errors.New("disk full")

func newTestChain(t testing.TB, gspec *core.Genesis, blocks []*types.Block) *testChain {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.SnapshotLimit = 0
	bc, err := core.NewBlockChain(rawdb.NewMemoryDatabase(), gspec, testEngine(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bc.Stop)
	if len(blocks) > 0 {
		if i, err := bc.InsertChain(blocks); err != nil {
			t.Fatalf("inserting test block %d: %v", i, err)
		}
	}
	return &testChain{BlockChain: bc}
}

func (c *testChain) Work(hash common.Hash) *big.Int {
	h := c.GetHeaderByHash(hash)
	if h == nil {
		return nil
	}
	return new(big.Int).Add(h.Number, common.Big1)
}

func (c *testChain) VerifyHeaders(headers []*types.Header) error {
	for _, h := range headers {
		if bytes.Equal(h.Extra, badProof) {
			return errProof
		}
	}
	abort, results := c.Engine().VerifyHeaders(c.BlockChain, headers)
	defer close(abort)
	for range headers {
		if err := <-results; err != nil {
			return err
		}
	}
	return nil
}

func (c *testChain) InsertBlocks(blocks []*types.Block) (int, error) {
	if c.localFault.Load() {
		return 0, errDiskFull
	}
	n, err := c.InsertChain(blocks)
	if err != nil {
		err = faultError{err}
	}
	return n, err
}

func (c *testChain) GetBody(hash common.Hash) *types.Body {
	c.bodiesServed.Add(1)
	return c.BlockChain.GetBody(hash)
}

func (c *testChain) headHash() common.Hash { return c.CurrentBlock().Hash() }

// testNode is a handler on a live p2p server.
type testNode struct {
	chain   *testChain
	handler *Handler
	server  *gethp2p.Server
}

type nodeOpts struct {
	network uint64
	pool    TxPool
	noStart bool // leave the handler stopped until the test starts it
}

func newTestNode(t testing.TB, chain *testChain, opts nodeOpts) *testNode {
	t.Helper()
	if opts.network == 0 {
		opts.network = testNetwork
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

// rawHandshake exchanges statuses as if the raw peer were at genesis of the
// given chain.
func rawHandshake(rw gethp2p.MsgReadWriter, genesis common.Hash) error {
	status := &statusPacket{
		ProtocolVersion: ProtocolVersion,
		NetworkID:       testNetwork,
		Genesis:         genesis,
		Head:            genesis,
		Work:            big.NewInt(1),
	}
	if err := gethp2p.Send(rw, statusMsg, status); err != nil {
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
