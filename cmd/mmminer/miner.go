package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

const (
	// rpcTimeout bounds every call to either node.
	rpcTimeout = 10 * time.Second
	// maxBackoff caps the delay between attempts to reach a node that is down.
	maxBackoff = 30 * time.Second
	// statsInterval is how often the hashrate is logged.
	statsInterval = 10 * time.Second
	// maxJobAge renews the header time of a job whose work does not change,
	// keeping it near the sidechain template's time (Rootstock-style
	// consensus wants them within 300 s).
	maxJobAge = 60 * time.Second
)

// config is the checked command line.
type config struct {
	btcRPC, btcUser, btcPass string
	payScript                []byte // nil: only templates with coinbasetxn can be mined
	sideRPC                  string
	threads                  int
	poll                     time.Duration
	anchorsOnly              bool    // see job.anchorsOnly
	rate                     float64 // hashes per second over all threads; 0: no limit
}

// miner is the coordinator. Only run's goroutine touches its fields, except
// the atomics the workers share.
type miner struct {
	cfg  config
	log  *slog.Logger
	btc  *btcrpc.Client
	side *sideRPC

	extranonce atomic.Uint64
	hashes     atomic.Uint64
	pace       *pacer // --rate; nil: as fast as the CPU goes

	tmpl    *btcTemplate
	work    *sideWork
	cur     *job
	jobs    uint64
	stop    context.CancelFunc
	workers sync.WaitGroup

	// A node counts as down from a failed call until a poll succeeds;
	// jobs made meanwhile do not look for its solutions.
	btcRetry  backoff
	sideRetry backoff

	// The last work answered for, so that a rebuilt job does not solve it
	// again: the template key of the last Bitcoin block and the seal hash
	// of the last sidechain share the nodes answered.
	btcSolved  [32]byte
	sideSolved [32]byte

	statsAt                                  time.Time
	statsHashes                              uint64
	sideOK, sideRejected, btcOK, btcRejected uint64
}

func newMiner(cfg config, btc *btcrpc.Client, side *sideRPC, log *slog.Logger) *miner {
	m := &miner{cfg: cfg, log: log, btc: btc, side: side}
	if cfg.rate > 0 {
		m.pace = &pacer{rate: cfg.rate}
	}
	// A random start keeps restarts and parallel miners off each other's
	// coinbases.
	var seed [8]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails
	m.extranonce.Store(binary.LittleEndian.Uint64(seed[:]))
	return m
}

func (m *miner) nextExtranonce() uint64 { return m.extranonce.Add(1) }

// run mines until ctx ends; node failures are retried, never returned.
func (m *miner) run(ctx context.Context) {
	solutions := make(chan *solution, 2*m.cfg.threads)
	poll := time.NewTicker(m.cfg.poll)
	defer poll.Stop()
	stats := time.NewTicker(statsInterval)
	defer stats.Stop()
	defer m.stopWorkers()

	m.statsAt = time.Now()
	m.refresh(ctx, solutions, m.statsAt)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-poll.C:
			m.refresh(ctx, solutions, now)
		case s := <-solutions:
			if m.handle(ctx, s) {
				m.refresh(ctx, solutions, time.Now())
			}
		case now := <-stats.C:
			m.logStats(now)
		}
	}
}

// refresh polls both nodes (those not backing off) and starts a new job
// when the work changed.
func (m *miner) refresh(ctx context.Context, out chan<- *solution, now time.Time) {
	forceNew := false
	if m.btcRetry.due(now) {
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		res, err := m.btc.BlockTemplate(cctx, m.cfg.payScript != nil)
		cancel()
		var t *btcTemplate
		if err == nil {
			t, err = parseTemplate(res)
		}
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("Cannot get a Bitcoin block template", "err", err, "retry", m.btcRetry.fail(now, m.cfg.poll))
			}
		} else {
			if m.btcRetry.succeed() {
				m.log.Info("Bitcoin node is back", "height", t.height)
				forceNew = true
			}
			m.tmpl = t
		}
	}
	if m.sideRetry.due(now) {
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		w, err := m.side.getWork(cctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("Cannot get sidechain work (mnr_getWork)", "err", err, "retry", m.sideRetry.fail(now, m.cfg.poll))
			}
		} else {
			if m.sideRetry.succeed() {
				m.log.Info("Sidechain node is back", "parent", w.parent)
				forceNew = true
			}
			m.work = w
		}
	}
	if m.tmpl == nil {
		return
	}
	if !forceNew && m.cur != nil && m.cur.tmpl.key == m.tmpl.key && sameSideWork(m.cur.work, m.work) &&
		now.Sub(m.cur.created) < maxJobAge {
		return
	}
	m.jobs++
	j, err := newJob(m.jobs, m.tmpl, m.work, m.cfg.payScript, now)
	if err != nil {
		m.log.Error("Cannot build a job", "err", err)
		return
	}
	if j.tmpl.key == m.btcSolved || m.btcRetry.down() {
		j.btcDone.Store(true)
	}
	if j.work != nil && (j.work.seal == m.sideSolved || m.sideRetry.down()) {
		j.sideDone.Store(true)
	}
	if m.cfg.anchorsOnly {
		j.anchorsOnly()
	}
	m.startJob(ctx, j, out)
}

func sameSideWork(a, b *sideWork) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.seal == b.seal && a.target == b.target && string(a.tag) == string(b.tag)
}

func (m *miner) startJob(ctx context.Context, j *job, out chan<- *solution) {
	m.stopWorkers()
	m.cur = j
	attrs := []any{"job", j.id, "height", j.tmpl.height, "prev", j.tmpl.prevBlock, "txs", len(j.tmpl.txs)}
	if j.work != nil {
		attrs = append(attrs, "seal", hexBytes(j.work.seal[:]), "notify", j.work.notify)
	}
	m.log.Debug("New job", attrs...)
	if j.done() {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	m.stop = cancel
	for range m.cfg.threads {
		m.workers.Add(1)
		go func() {
			defer m.workers.Done()
			grind(wctx, j, m.nextExtranonce, &m.hashes, m.pace, out)
		}()
	}
}

func (m *miner) stopWorkers() {
	if m.stop != nil {
		m.stop()
		m.workers.Wait()
		m.stop = nil
	}
}

// handle submits a solution and reports whether fresh work should be
// fetched at once (the sidechain moves on after each block).
func (m *miner) handle(ctx context.Context, s *solution) (refresh bool) {
	if s.btc {
		m.submitBitcoin(ctx, s)
	}
	if s.side {
		refresh = m.submitSide(ctx, s)
	}
	return refresh
}

func (m *miner) submitBitcoin(ctx context.Context, s *solution) {
	if m.tmpl != nil && m.tmpl.prevBlock != s.job.tmpl.prevBlock {
		m.log.Debug("Dropping a Bitcoin block on a stale parent", "hash", s.hash)
		return
	}
	block, err := s.bitcoinBlock()
	if err != nil {
		m.log.Error("Cannot assemble the Bitcoin block", "err", err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	err = m.btc.SubmitBlock(cctx, block)
	cancel()
	var nodeErr *btcrpc.Error
	switch {
	case err == nil:
		m.btcOK++
		m.btcSolved = s.job.tmpl.key
		m.log.Info("Bitcoin block accepted", "height", s.job.tmpl.height, "hash", s.hash, "txs", len(block.Transactions))
	case errors.Is(err, btcrpc.ErrBlockRejected) || errors.As(err, &nodeErr):
		m.btcRejected++
		m.btcSolved = s.job.tmpl.key
		m.log.Warn("Bitcoin block rejected", "height", s.job.tmpl.height, "hash", s.hash, "err", err)
	case ctx.Err() == nil && !m.btcRetry.down():
		m.log.Warn("Cannot submit the Bitcoin block", "hash", s.hash, "err", err, "retry", m.btcRetry.fail(time.Now(), m.cfg.poll))
	}
}

func (m *miner) submitSide(ctx context.Context, s *solution) (refresh bool) {
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	res, err := m.side.submit(cctx, s.partialMerkleParams())
	cancel()
	switch {
	case err == nil:
		m.sideOK++
		m.sideSolved = s.job.work.seal
		m.log.Info("Sidechain block submitted", "status", res.status, "number", res.height, "hash", res.hash, "btcHash", s.hash)
		return true
	case isNodeAnswer(err):
		m.sideRejected++
		m.sideSolved = s.job.work.seal
		m.log.Warn("Sidechain share rejected", "seal", hexBytes(s.job.work.seal[:]), "btcHash", s.hash, "err", err)
		return true
	case ctx.Err() == nil && !m.sideRetry.down():
		m.log.Warn("Cannot submit the sidechain share", "err", err, "retry", m.sideRetry.fail(time.Now(), m.cfg.poll))
	}
	return false
}

func (m *miner) logStats(now time.Time) {
	total := m.hashes.Load()
	secs := now.Sub(m.statsAt).Seconds()
	rate := float64(total-m.statsHashes) / secs / 1e6
	m.statsAt, m.statsHashes = now, total
	attrs := []any{"MH/s", float64(int(rate*100)) / 100, "threads", m.cfg.threads,
		"side.ok", m.sideOK, "side.rejected", m.sideRejected, "btc.ok", m.btcOK, "btc.rejected", m.btcRejected}
	if m.cur != nil {
		attrs = append(attrs, "height", m.cur.tmpl.height, "merged", m.cur.work != nil)
	}
	m.log.Info("Mining", attrs...)
}

// backoff spaces out attempts to reach a node that is down: the first
// retry after one poll interval, then twice as long each time, up to
// maxBackoff.
type backoff struct {
	next     time.Time
	delay    time.Duration
	failures int
}

func (b *backoff) due(now time.Time) bool { return !now.Before(b.next) }

// down reports whether the last attempt failed.
func (b *backoff) down() bool { return b.failures > 0 }

// fail records a failed attempt and returns the delay before the next one.
func (b *backoff) fail(now time.Time, base time.Duration) time.Duration {
	b.delay = min(max(2*b.delay, base), maxBackoff)
	b.next = now.Add(b.delay)
	b.failures++
	return b.delay
}

// succeed resets the backoff and reports whether the node had failed.
func (b *backoff) succeed() bool {
	failed := b.failures > 0
	*b = backoff{}
	return failed
}
