package p2p

import (
	"errors"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

// Config configures a Handler.
type Config struct {
	NetworkID uint64 // peers on another network id are refused
	Chain     Chain  // required
	TxPool    TxPool // optional; nil disables transaction gossip
	// MaxMessageSize caps messages that carry blocks, headers, bodies or
	// transactions. Zero means DefaultMaxMessageSize.
	MaxMessageSize uint32
}

// Handler runs the mmg protocol for every connected peer, propagates blocks and
// transactions and keeps the chain in sync with the network. It is a
// node.Lifecycle: peers may connect as soon as the p2p server runs, but
// imports of propagated blocks, sync and transaction gossip start with Start.
type Handler struct {
	networkID      uint64
	genesis        common.Hash
	chain          Chain
	txpool         TxPool
	maxMessageSize uint32

	peers   *peerSet
	imports chan blockImport // propagated blocks for the import loop
	syncReq chan struct{}    // wakes the sync loop; capacity 1
	sync    syncState

	fetchMu  sync.Mutex
	fetching map[common.Hash]struct{} // announced blocks being fetched

	lock    sync.Mutex // guards started, stopped and wg.Add against Stop's wg.Wait
	started bool
	stopped bool
	quit    chan struct{}
	wg      sync.WaitGroup // every goroutine the handler starts, peers included
}

// New makes a Handler; it needs Config.Chain.
func New(cfg Config) (*Handler, error) {
	if cfg.Chain == nil {
		return nil, errors.New("p2p: Config.Chain is required")
	}
	genesis := cfg.Chain.Genesis()
	if genesis == nil {
		return nil, errors.New("p2p: chain has no genesis block")
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	return &Handler{
		networkID:      cfg.NetworkID,
		genesis:        genesis.Hash(),
		chain:          cfg.Chain,
		txpool:         cfg.TxPool,
		maxMessageSize: cfg.MaxMessageSize,
		peers:          newPeerSet(),
		imports:        make(chan blockImport, maxPendingImports),
		syncReq:        make(chan struct{}, 1),
		fetching:       make(map[common.Hash]struct{}),
		quit:           make(chan struct{}),
	}, nil
}

// Protocols returns the devp2p protocol to register with the node's p2p server.
func (h *Handler) Protocols() []gethp2p.Protocol {
	return []gethp2p.Protocol{{
		Name:     ProtocolName,
		Version:  ProtocolVersion,
		Length:   protocolLength,
		Run:      h.runPeer,
		NodeInfo: func() any { return h.nodeInfo() },
		PeerInfo: func(id enode.ID) any { return h.peerInfo(id) },
	}}
}

// Start launches block import, sync and transaction gossip.
func (h *Handler) Start() error {
	h.lock.Lock()
	defer h.lock.Unlock()
	if h.started || h.stopped {
		return errors.New("p2p: a handler starts only once")
	}
	h.started = true
	h.wg.Add(2)
	go h.importLoop()
	go h.syncLoop()
	if h.txpool != nil {
		h.wg.Add(1)
		go h.txLoop()
	}
	return nil
}

// Stop disconnects every peer and waits for all the handler's goroutines. It
// must run before the chain stops, which node.Node ensures when the Handler is
// registered after the chain's lifecycle.
func (h *Handler) Stop() error {
	h.lock.Lock()
	if h.stopped {
		h.lock.Unlock()
		return nil
	}
	h.stopped = true
	close(h.quit)
	h.lock.Unlock()

	for _, p := range h.peers.all() {
		p.Disconnect(gethp2p.DiscQuitting)
	}
	h.wg.Wait()
	return nil
}

// spawn runs f in a goroutine unless the handler is stopping.
func (h *Handler) spawn(f func()) bool {
	h.lock.Lock()
	defer h.lock.Unlock()
	if h.stopped {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
	return true
}

// PeerCount returns the number of peers past the mmg handshake.
func (h *Handler) PeerCount() int {
	return h.peers.len()
}

// runPeer is the protocol's Run: the handshake, then the message loop until
// the peer goes away or misbehaves.
func (h *Handler) runPeer(p *gethp2p.Peer, rw gethp2p.MsgReadWriter) error {
	h.lock.Lock()
	if h.stopped {
		h.lock.Unlock()
		return gethp2p.DiscQuitting
	}
	h.wg.Add(1)
	h.lock.Unlock()
	defer h.wg.Done()

	start := time.Now()
	status, err := h.handshake(rw)
	if err != nil {
		return disconnectReason(p, "mmg handshake failed", err)
	}
	pr := newPeer(p, rw, time.Since(start))
	pr.setHead(status.Head, status.Number, status.Work)
	pr.markBlock(status.Head)
	// Registering under the lock guarantees Stop either sees this peer
	// and disconnects it, or we see Stop and leave.
	h.lock.Lock()
	if h.stopped {
		h.lock.Unlock()
		return gethp2p.DiscQuitting
	}
	err = h.peers.register(pr)
	h.lock.Unlock()
	if err != nil {
		return gethp2p.DiscAlreadyConnected
	}
	pr.start(h.serveLoop)
	defer func() {
		h.peers.unregister(pr)
		pr.close()
	}()
	p.Log().Debug("mmg peer connected", "head", status.Head, "number", status.Number, "work", status.Work)
	h.requestSync()

	for {
		if err := h.handleMsg(pr); err != nil {
			return disconnectReason(p, "mmg peer dropped", err)
		}
	}
}

// disconnectReason logs why a peer is leaving and returns what geth's p2p
// layer needs to disconnect it with the right reason.
func disconnectReason(p *gethp2p.Peer, what string, err error) error {
	var pe *peerError
	if errors.As(err, &pe) {
		p.Log().Debug(what, "reason", pe.reason, "err", pe.err)
		return pe.reason
	}
	p.Log().Trace(what, "err", err)
	return err
}

// work returns the cumulative work at hash, zero if the chain does not know it.
func (h *Handler) work(hash common.Hash) *big.Int {
	if w := h.chain.Work(hash); w != nil {
		return w
	}
	return new(big.Int)
}

// requestSync wakes the sync loop without waiting.
func (h *Handler) requestSync() {
	select {
	case h.syncReq <- struct{}{}:
	default:
	}
}

func (h *Handler) closing() bool {
	select {
	case <-h.quit:
		return true
	default:
		return false
	}
}

// nodeInfo is what admin_nodeInfo shows under "mmg".
type nodeInfo struct {
	Network uint64      `json:"network"`
	Genesis common.Hash `json:"genesis"`
	Head    common.Hash `json:"head"`
	Number  uint64      `json:"number"`
	Work    *big.Int    `json:"work"`
}

func (h *Handler) nodeInfo() *nodeInfo {
	s := h.status()
	return &nodeInfo{Network: s.NetworkID, Genesis: s.Genesis, Head: s.Head, Number: s.Number, Work: s.Work}
}

// peerInfo is what admin_peers shows under "mmg".
type peerInfo struct {
	Head   common.Hash `json:"head"`
	Number uint64      `json:"number"`
	Work   *big.Int    `json:"work"`
}

func (h *Handler) peerInfo(id enode.ID) any {
	h.peers.mu.RLock()
	p := h.peers.peers[id.String()]
	h.peers.mu.RUnlock()
	if p == nil {
		return nil
	}
	head, number, work := p.headInfo()
	return &peerInfo{Head: head, Number: number, Work: work}
}
