package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/metrics"
	"github.com/ethereum/go-ethereum/metrics/exp"
	"github.com/ethereum/go-ethereum/metrics/prometheus"

	"github.com/mmgeth/mmgeth/miner"
)

// The metrics server's paths, geth's: the Prometheus text format, and the
// registry as JSON (expvar's format).
const (
	MetricsPath     = "/debug/metrics/prometheus"
	MetricsJSONPath = "/debug/metrics"
)

// metricsRefresh is how often the gauges that are not driven by chain
// events (peers, pool, proof age) are read.
const metricsRefresh = 2 * time.Second

// mmgeth's own metrics, next to geth's in the default registry. Names become
// mmgeth_chain_head etc. in the Prometheus output, with the help text given
// here as their # HELP line.
var (
	headGauge      = newGauge("mmgeth/chain/head", "Number of the head block.")
	safeGauge      = newGauge("mmgeth/chain/head/safe", "Number of the safe block (eth_getBlockByNumber(\"safe\")).")
	finalizedGauge = newGauge("mmgeth/chain/head/finalized", "Number of the finalized block (eth_getBlockByNumber(\"finalized\")).")
	importMeter    = newMeter("mmgeth/chain/imported", "Canonical blocks imported since start.")
	peersGauge     = newGauge("mmgeth/p2p/peers", "Peers past the mmg protocol handshake.")
	pendingGauge   = newGauge("mmgeth/txpool/pending", "Executable transactions in the pool.")
	queuedGauge    = newGauge("mmgeth/txpool/queued", "Transactions in the pool waiting for an earlier nonce.")
	proofAgeGauge  = newGaugeFloat64("mmgeth/mergemining/proofage", "Seconds since the head's merged-mining proof was made (its Bitcoin header's time).")
	// Difficulties and hash rates outgrow int64 on Bitcoin's mainnet.
	difficultyGauge   = newGaugeFloat64("mmgeth/mergemining/difficulty", "Merged-mining difficulty of the head block.")
	hashrateGauge     = newGaugeFloat64("mmgeth/mergemining/hashrate", "Merged-mining hash rate over recent blocks, in hashes per second.")
	bitcoinShareGauge = newGaugeFloat64("mmgeth/mergemining/bitcoinshare", "Share of recent blocks whose proof is a real Bitcoin block.")
	// Bitcoin-anchored finality (PEG.md §6). The light client's lag behind
	// a Bitcoin node is the relayer's to measure: this node has none.
	lightClientGauge    = newGauge("mmgeth/btcrelay/height", "BtcRelay's best Bitcoin height in the head's state.")
	finalityLagGauge    = newGauge("mmgeth/finality/lag", "Blocks between the head and the finalized block.")
	finalityLagSecGauge = newGauge("mmgeth/finality/lagseconds", "Seconds between the head's and the finalized block's timestamps.")
	anchorsGauge        = newGauge("mmgeth/finality/anchorsperhour", "Canonical Bitcoin anchors in the hour before the head.")
	httpHandoffs        = metrics.NewRegisteredCounter(describe("mmgeth/rpc/http/handoffs", "HTTP connections the front handed to net/http: their first request was not a plain keep-alive POST."), nil)
	conflictsGauge      = newGauge("mmgeth/finality/conflicts", "Reorgs below the finalized block refused by the guard since start.")
)

// metricHelp holds the # HELP text of mmgeth's metrics by Prometheus name.
// geth's metrics carry no description, and its Prometheus writer emits
// only # TYPE lines.
var metricHelp = map[string]string{}

func describe(name, help string) string {
	metricHelp[strings.ReplaceAll(name, "/", "_")] = help // geth's prometheus name mapping
	return name
}

func newGauge(name, help string) *metrics.Gauge {
	return metrics.NewRegisteredGauge(describe(name, help), nil)
}

func newGaugeFloat64(name, help string) *metrics.GaugeFloat64 {
	return metrics.NewRegisteredGaugeFloat64(describe(name, help), nil)
}

func newMeter(name, help string) *metrics.Meter {
	return metrics.NewRegisteredMeter(describe(name, help), nil)
}

// withHelp adds a # HELP line before the # TYPE line of each metric that
// has one in metricHelp.
func withHelp(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recordedResponse{header: w.Header(), code: http.StatusOK}
		next.ServeHTTP(rec, r)
		// The page grows by the HELP lines: geth's length no longer holds.
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.code)
		for _, line := range strings.SplitAfter(rec.body.String(), "\n") {
			if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
				if help, ok := metricHelp[f[2]]; ok {
					fmt.Fprintf(w, "# HELP %s %s\n", f[2], help)
				}
			}
			io.WriteString(w, line)
		}
	})
}

// nonFinite matches a value expvar wrote for a float that JSON cannot hold.
var nonFinite = regexp.MustCompile(`: (NaN|[+-]Inf)(,?\n)`)

// validJSON makes geth's expvar page valid JSON: it prints a NaN or
// infinite gauge (the proof age before any proof) as NaN/+Inf, which no
// JSON decoder takes; they become null.
func validJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recordedResponse{header: w.Header(), code: http.StatusOK}
		next.ServeHTTP(rec, r)
		w.Header().Del("Content-Length") // "null" is longer than "NaN"
		w.WriteHeader(rec.code)
		w.Write(nonFinite.ReplaceAll(rec.body.Bytes(), []byte(": null$2")))
	})
}

// recordedResponse keeps a handler's response to rewrite it.
type recordedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recordedResponse) Header() http.Header         { return r.header }
func (r *recordedResponse) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recordedResponse) WriteHeader(code int)        { r.code = code }

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
	n.metrics = &metricsService{
		n:    n,
		addr: net.JoinHostPort(host, strconv.Itoa(n.cfg.MetricsPort)),
		quit: make(chan struct{}),
	}
	n.stack.RegisterLifecycle(n.metrics)
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
	m.addr = ln.Addr().String() // the port, when 0 was asked for
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, withHelp(prometheus.Handler(metrics.DefaultRegistry)))
	mux.Handle(MetricsJSONPath, validJSON(exp.ExpHandler(metrics.DefaultRegistry)))
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
			m.updateFinality()
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
	m.updateFinality()
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

// updateFinality reads the safe and finalized blocks from the chain's
// finality, the source eth_getBlockByNumber("safe"/"finalized") reads. geth's
// own chain_head_finalized stays 0 on networks without Bitcoin finality:
// the chain leaves geth's finalized marker unset there.
func (m *metricsService) updateFinality() {
	safeGauge.Update(m.n.mmchain.Safe().Number.Int64())
	finalizedGauge.Update(m.n.mmchain.Finalized().Number.Int64())
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
