package fed

import (
	"time"

	"github.com/ethereum/go-ethereum/metrics"
)

// relayMetrics is what a relayer measures (issue 10, PEG.md §13): how far
// BtcRelay is behind the relayer's Bitcoin node, which only the relayer
// sees, and what keeping it current costs. Names become
// mmfed_btcrelay_height etc. in the Prometheus output of `mmfed relay
// --metrics`.
type relayMetrics struct {
	relayHeight   *metrics.Gauge        // BtcRelay's best height, last read
	bitcoinHeight *metrics.Gauge        // the Bitcoin node's best height, last read
	lag           *metrics.Gauge        // Bitcoin height - BtcRelay height, 0 when BtcRelay is higher
	lagSeconds    *metrics.GaugeFloat64 // how long BtcRelay has not held the node's tip
	headers       *metrics.Counter      // headers carried by mined receiveHeaders transactions
	gas           *metrics.Counter      // gas those transactions used
	errors        *metrics.Counter      // failed rounds

	// behindSince is when a round first saw the node's tip missing from
	// BtcRelay; zero while caught up. It is the relayer's own clock, not
	// Bitcoin timestamps, which may be hours off and say nothing of when
	// the node had the block. The lag it gives is short by up to one
	// polling interval: the node may have had the block that long unseen.
	behindSince time.Time
}

// newRelayMetrics gets or registers the metrics in reg, so that relayers
// sharing a registry (a restarted one in a test) report into the same
// series.
func newRelayMetrics(reg metrics.Registry) *relayMetrics {
	return &relayMetrics{
		relayHeight:   metrics.GetOrRegisterGauge("mmfed/btcrelay/height", reg),
		bitcoinHeight: metrics.GetOrRegisterGauge("mmfed/bitcoin/height", reg),
		lag:           metrics.GetOrRegisterGauge("mmfed/relay/lag", reg),
		lagSeconds:    metrics.GetOrRegisterGaugeFloat64("mmfed/relay/lagseconds", reg),
		headers:       metrics.GetOrRegisterCounter("mmfed/relay/headers", reg),
		gas:           metrics.GetOrRegisterCounter("mmfed/relay/gas", reg),
		errors:        metrics.GetOrRegisterCounter("mmfed/relay/errors", reg),
	}
}

// observe records both tips as a round read them; caughtUp is whether
// BtcRelay needs nothing from the node (it holds the node's tip, or the
// node's branch has no more work).
func (m *relayMetrics) observe(relayHeight uint32, bitcoinHeight int64, caughtUp bool, now time.Time) {
	m.relayHeight.Update(int64(relayHeight))
	m.bitcoinHeight.Update(bitcoinHeight)
	m.lag.Update(max(0, bitcoinHeight-int64(relayHeight)))
	switch {
	case caughtUp:
		m.behindSince = time.Time{}
	case m.behindSince.IsZero():
		m.behindSince = now
	}
	m.tick(now)
}

// tick brings the lag in seconds to now; a failed round calls it, so that
// the lag grows while BtcRelay cannot be fed.
func (m *relayMetrics) tick(now time.Time) {
	if m.behindSince.IsZero() {
		m.lagSeconds.Update(0)
		return
	}
	m.lagSeconds.Update(now.Sub(m.behindSince).Seconds())
}

// federatorMetrics is what `mmfed run --metrics` adds to the relay's: an
// operator (and `make localnet`'s test) sees from rounds that the member
// reads the Bridge and holds the key the Bridge lists for it (the first
// round checks both), and from batches how far peg-outs have got.
type federatorMetrics struct {
	rounds  *metrics.Counter // rounds that read the Bridge without error
	errors  *metrics.Counter // failed rounds
	batches *metrics.Gauge   // peg-out batches the Bridge has built, last read
}

func newFederatorMetrics(reg metrics.Registry) *federatorMetrics {
	return &federatorMetrics{
		rounds:  metrics.GetOrRegisterCounter("mmfed/federator/rounds", reg),
		errors:  metrics.GetOrRegisterCounter("mmfed/federator/errors", reg),
		batches: metrics.GetOrRegisterGauge("mmfed/federator/batches", reg),
	}
}
