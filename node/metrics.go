package node

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/metrics"
	"github.com/ethereum/go-ethereum/metrics/prometheus"

	"github.com/mmgeth/mmgeth/miner"
)

// MetricsPath is where the metrics server serves the Prometheus text format,
// geth's path.
const MetricsPath = "/debug/metrics/prometheus"

// metricsRefresh is how often the gauges that are not driven by chain
// events (peers, pool, proof age) are read.
const metricsRefresh = 2 * time.Second

// mmgeth's own metrics, next to geth's in the default registry. Names become
// mmgeth_chain_head etc. in the Prometheus output.
var (
	headGauge     = metrics.NewRegisteredGauge("mmgeth/chain/head", nil)
	importMeter   = metrics.NewRegisteredMeter("mmgeth/chain/imported", nil) // canonical blocks imported
	peersGauge    = metrics.NewRegisteredGauge("mmgeth/p2p/peers", nil)      // past the mmg handshake
	pendingGauge  = metrics.NewRegisteredGauge("mmgeth/txpool/pending", nil)
	queuedGauge   = metrics.NewRegisteredGauge("mmgeth/txpool/queued", nil)
	proofAgeGauge = metrics.NewRegisteredGaugeFloat64("mmgeth/mergemining/proofage", nil) // seconds
	// Difficulties and hash rates outgrow int64 on Bitcoin's mainnet.
	difficultyGauge   = metrics.NewRegisteredGaugeFloat64("mmgeth/mergemining/difficulty", nil)
	hashrateGauge     = metrics.NewRegisteredGaugeFloat64("mmgeth/mergemining/hashrate", nil) // hashes per second
	bitcoinShareGauge = metrics.NewRegisteredGaugeFloat64("mmgeth/mergemining/bitcoinshare", nil)
	// Bitcoin-anchored finality (PEG.md §6). The light client's lag behind
	// a Bitcoin node is the relayer's to measure: this node has none.
	lightClientGauge    = metrics.NewRegisteredGauge("mmgeth/btcrelay/height", nil)         // BtcRelay's best height at the head
	finalityLagGauge    = metrics.NewRegisteredGauge("mmgeth/finality/lag", nil)            // head - finalized, in blocks
	finalityLagSecGauge = metrics.NewRegisteredGauge("mmgeth/finality/lagseconds", nil)     // head time - finalized time
	anchorsGauge        = metrics.NewRegisteredGauge("mmgeth/finality/anchorsperhour", nil) // canonical anchors in the hour before the head
	conflictsGauge      = metrics.NewRegisteredGauge("mmgeth/finality/conflicts", nil)      // reorgs refused by the guard since start
)

var processMetricsOnce sync.Once

// enableMetrics turns geth's metrics system on. geth wants this before any
// metric is collected, so New calls it first.
func enableMetrics(cfg *Config) {
	if cfg.Metrics {
		metrics.Enable()
	}
}

// setupMetrics registers the metrics server, when enabled.
func (n *Node) setupMetrics() error {
	if !n.cfg.Metrics {
		return nil
	}
	host := n.cfg.MetricsAddr
	if host == "" {
		host = "127.0.0.1"
	}
	n.stack.RegisterLifecycle(&metricsService{
		n:    n,
		addr: net.JoinHostPort(host, strconv.Itoa(n.cfg.MetricsPort)),
		quit: make(chan struct{}),
	})
	return nil
}

// metricsService serves the metrics registry over HTTP and keeps mmgeth's
// gauges current: the head on each chain event, the rest on a timer.
type metricsService struct {
	n    *Node
	addr string
	srv  *http.Server
	quit chan struct{}
	wg   sync.WaitGroup
}

func (m *metricsService) Start() error {
	ln, err := net.Listen("tcp", m.addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, prometheus.Handler(metrics.DefaultRegistry))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Metrics server failed", "err", err)
		}
	}()
	go m.loop()
	processMetricsOnce.Do(func() { go metrics.CollectProcessMetrics(3 * time.Second) })
	log.Info("Serving metrics", "url", "http://"+ln.Addr().String()+MetricsPath)
	return nil
}

func (m *metricsService) Stop() error {
	close(m.quit)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	m.wg.Wait()
	return err
}

func (m *metricsService) loop() {
	defer m.wg.Done()
	chain := m.n.chain
	// Buffered: the chain's feeds wait for every subscriber.
	heads := make(chan core.ChainHeadEvent, 64)
	blocks := make(chan core.ChainEvent, 1024)
	headSub := chain.SubscribeChainHeadEvent(heads)
	defer headSub.Unsubscribe()
	blockSub := chain.SubscribeChainEvent(blocks)
	defer blockSub.Unsubscribe()
	ticker := time.NewTicker(metricsRefresh)
	defer ticker.Stop()

	var mm miner.MergeMiningStats
	m.refresh(&mm)
	for {
		select {
		case ev := <-heads:
			headGauge.Update(ev.Header.Number.Int64())
		case <-blocks:
			importMeter.Mark(1)
		case <-ticker.C:
			m.refresh(&mm)
		case <-headSub.Err():
			return
		case <-blockSub.Err():
			return
		case <-m.quit:
			return
		}
	}
}

// refresh reads the head, peers and pool, and redoes the merged-mining
// statistics if the head moved.
func (m *metricsService) refresh(mm *miner.MergeMiningStats) {
	head := m.n.chain.CurrentBlock()
	headGauge.Update(head.Number.Int64())
	peersGauge.Update(int64(m.n.handler.PeerCount()))
	pending, queued := m.n.pool.Stats()
	pendingGauge.Update(int64(pending))
	queuedGauge.Update(int64(queued))

	conflictsGauge.Update(int64(m.n.mmchain.FinalityConflicts()))
	if head.Hash() != mm.Head {
		*mm = miner.MeasureMergeMining(m.n.chain, head, m.n.cfg.Spec.MergeMining.TargetSpacing)
		m.measureFinality(head)
	}
	difficultyGauge.Update(mm.Difficulty)
	hashrateGauge.Update(mm.Hashrate)
	bitcoinShareGauge.Update(mm.BitcoinShare)
	proofAgeGauge.Update(mm.ProofAge(time.Now()))
}

// measureFinality reads the finality gauges for a new head.
func (m *metricsService) measureFinality(head *types.Header) {
	c := m.n.mmchain
	fin := c.Finalized()
	finalityLagGauge.Update(int64(head.Number.Uint64() - min(head.Number.Uint64(), fin.Number.Uint64())))
	finalityLagSecGauge.Update(int64(head.Time - min(head.Time, fin.Time)))
	if view, _, err := c.HeadView(); err == nil {
		if best, err := view.BestChain(); err == nil {
			lightClientGauge.Update(int64(best.Height))
		}
	}
	if n, err := c.AnchorsSince(head.Time - min(head.Time, 3600)); err == nil {
		anchorsGauge.Update(int64(n))
	}
}
