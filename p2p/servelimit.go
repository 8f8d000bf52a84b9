package p2p

import (
	"time"
)

// Serving limits, per peer. A syncing peer that waits for each answer, as
// ours does (one body request and one header request at a time, plus at most
// maxAnnounceFetches announced blocks), stays well inside them; a peer that
// asks faster is answered late, and one that keeps asking without waiting
// for answers overflows its queue and is dropped. Before them a flood of
// body requests drew 1,171 MB in 30 s at 1.26 cores (issue 15).
const (
	serveRequestRate  = 50               // header and body requests per second
	serveRequestBurst = 100              // requests served at once after a quiet spell
	serveByteRate     = 8 * 1024 * 1024  // bytes of headers and bodies per second
	serveByteBurst    = 16 * 1024 * 1024 // eight full softResponseLimit replies
	maxQueuedServes   = 64               // requests read and not yet answered
)

// tokenBucket refills at rate tokens a second up to burst. Its balance may go
// negative: the size of a reply is known only once it is built, so it is
// paid for afterwards and the next request waits for the debt.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newTokenBucket(rate, burst float64, now time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take debits n tokens and returns how long to wait until the balance is no
// longer negative.
func (b *tokenBucket) take(now time.Time, n float64) time.Duration {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate) - n
	b.last = now
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// serveLoop answers the peer's header and body requests in order, within the
// serving limits. It runs beside the read loop, so that a peer answered late
// is still read from: its responses and gossip keep flowing, and a flood is
// seen as such when the queue overflows.
func (h *Handler) serveLoop(p *peer) {
	defer p.loops.Done()
	var (
		now      = time.Now()
		requests = newTokenBucket(serveRequestRate, serveRequestBurst, now)
		bytes    = newTokenBucket(serveByteRate, serveByteBurst, now)
	)
	for {
		var req any
		select {
		case req = <-p.serves:
		case <-p.closed:
			return
		}
		now := time.Now()
		if wait := max(requests.take(now, 1), bytes.take(now, 0)); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-p.closed:
				timer.Stop()
				return
			}
		}
		code, data, err := h.answer(req)
		if err == nil {
			bytes.take(time.Now(), float64(len(data)))
			err = p.send(code, data)
		}
		if err != nil {
			p.Log().Debug("Request not answered", "err", err)
			return
		}
	}
}

// queueServe hands a request to the peer's serve loop; a full queue means the
// peer asks without waiting for answers.
func queueServe(p *peer, req any) error {
	select {
	case p.serves <- req:
		return nil
	default:
		return protocolError("%w: more than %d requests unanswered", errFlooding, maxQueuedServes)
	}
}
