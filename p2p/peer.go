package p2p

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/lru"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// outMsg is an encoded message waiting for the peer's writer.
type outMsg struct {
	code uint64
	data []byte
}

// peer is a connected mmg peer past its handshake.
type peer struct {
	*gethp2p.Peer
	id string
	rw gethp2p.MsgReadWriter

	knownBlocks *lru.Cache[common.Hash, struct{}]
	knownTxs    *lru.Cache[common.Hash, struct{}]

	headMu sync.RWMutex
	head   common.Hash
	number uint64
	work   *big.Int

	nextID      atomic.Uint64
	reqMu       sync.Mutex
	pending     map[uint64]*request
	rttEstimate atomic.Int64 // nanoseconds; see rtt
	stalls      atomic.Int32 // outstanding requests past their stall timeout

	// The writer drains these in priority order. requests carries requests
	// and responses and applies back-pressure; the broadcast queues never
	// block the sender and drop what does not fit, so a slow peer only misses
	// gossip it can recover by syncing.
	requests chan outMsg
	blocks   chan outMsg
	txs      chan outMsg

	serves chan any // header and body requests for the serve loop

	closed   chan struct{}
	closeOne sync.Once
	loops    sync.WaitGroup // the writer and the serve loop
}

// newPeer wraps a connection whose status took rtt to arrive: the first
// round-trip estimate.
func newPeer(p *gethp2p.Peer, rw gethp2p.MsgReadWriter, rtt time.Duration) *peer {
	pr := &peer{
		Peer:        p,
		id:          p.ID().String(),
		rw:          rw,
		knownBlocks: lru.NewCache[common.Hash, struct{}](maxKnownBlocks),
		knownTxs:    lru.NewCache[common.Hash, struct{}](maxKnownTxs),
		work:        new(big.Int),
		pending:     make(map[uint64]*request),
		requests:    make(chan outMsg, maxQueuedRequests),
		blocks:      make(chan outMsg, maxQueuedBlocks),
		txs:         make(chan outMsg, maxQueuedTxBatches),
		serves:      make(chan any, maxQueuedServes),
		closed:      make(chan struct{}),
	}
	// Random ids make a late answer to a previous connection's request
	// unlikely to match a new one.
	pr.nextID.Store(rand.Uint64())
	pr.rttEstimate.Store(int64(rtt))
	return pr
}

// start launches the goroutines that own writes and serving after the
// handshake.
func (p *peer) start(serve func(*peer)) {
	p.loops.Add(2)
	go p.writeLoop()
	go serve(p)
}

// close stops the writer and the serve loop and fails pending requests. The
// connection itself is torn down by geth once the protocol handler returns.
func (p *peer) close() {
	p.closeOne.Do(func() { close(p.closed) })
	p.loops.Wait()
}

func (p *peer) writeLoop() {
	defer p.loops.Done()
	// A writer that stops, on error or close, must release anyone waiting
	// for queue space.
	defer p.closeOne.Do(func() { close(p.closed) })
	for {
		var m outMsg
		select {
		case m = <-p.requests:
		default:
			select {
			case m = <-p.requests:
			case m = <-p.blocks:
			default:
				select {
				case m = <-p.requests:
				case m = <-p.blocks:
				case m = <-p.txs:
				case <-p.closed:
					return
				}
			}
		}
		msg := gethp2p.Msg{Code: m.code, Size: uint32(len(m.data)), Payload: bytes.NewReader(m.data)}
		if err := p.rw.WriteMsg(msg); err != nil {
			// geth tears the connection down on write errors; the read
			// loop then returns and closes the peer.
			p.Log().Debug("Write to peer failed", "err", err)
			return
		}
	}
}

// send queues a request or response, waiting for room: back-pressure on the
// goroutine that serves this peer only.
func (p *peer) send(code uint64, data []byte) error {
	select {
	case p.requests <- outMsg{code, data}:
		return nil
	case <-p.closed:
		return errPeerGone
	}
}

// tryQueue queues gossip if there is room and reports whether it did.
func tryQueue(q chan outMsg, code uint64, data []byte) bool {
	select {
	case q <- outMsg{code, data}:
		return true
	default:
		return false
	}
}

// drop disconnects the peer from outside its own message loop.
func (p *peer) drop(reason gethp2p.DiscReason, err error) {
	p.Log().Debug("Dropping mmg peer", "reason", reason, "err", err)
	p.Disconnect(reason)
}

func (p *peer) markBlock(hash common.Hash)       { p.knownBlocks.Add(hash, struct{}{}) }
func (p *peer) knowsBlock(hash common.Hash) bool { return p.knownBlocks.Contains(hash) }
func (p *peer) markTx(hash common.Hash)          { p.knownTxs.Add(hash, struct{}{}) }
func (p *peer) knowsTx(hash common.Hash) bool    { return p.knownTxs.Contains(hash) }

// setHead records the peer's head if it claims more work than before. Claims
// only go up: a peer's best chain can only get heavier.
func (p *peer) setHead(hash common.Hash, number uint64, work *big.Int) {
	p.headMu.Lock()
	defer p.headMu.Unlock()
	if work.Cmp(p.work) > 0 || p.head == (common.Hash{}) {
		p.head, p.number, p.work = hash, number, new(big.Int).Set(work)
	}
}

// lowerWork caps the peer's claimed work, for a peer that could not back its
// claim, so that it is not picked for sync again until it announces more.
func (p *peer) lowerWork(work *big.Int) {
	p.headMu.Lock()
	defer p.headMu.Unlock()
	if p.work.Cmp(work) > 0 {
		p.work = new(big.Int).Set(work)
	}
}

func (p *peer) headInfo() (common.Hash, uint64, *big.Int) {
	p.headMu.RLock()
	defer p.headMu.RUnlock()
	return p.head, p.number, new(big.Int).Set(p.work)
}
