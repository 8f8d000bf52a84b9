package main

import (
	"context"
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// nonceBatch is how many nonces a worker hashes between looks at its
// context, the job's flags and the shared hash counter.
const nonceBatch = 1 << 12

// nonceOffset is where the nonce sits in a serialized header.
const nonceOffset = 76

// grind hashes headers of job j until ctx ends or every target of j is
// solved. Each extranonce (from nextExtranonce, unique across workers and
// jobs) gives a new coinbase and merkle root, hence a fresh 2^32 nonce space.
func grind(ctx context.Context, j *job, nextExtranonce func() uint64, hashes *atomic.Uint64, pace *pacer, out chan<- *solution) {
	step := uint64(nonceBatch)
	if pace != nil {
		step = pace.step()
	}
	coinbase := make([]byte, len(j.cb.raw))
	var header [wire.MaxBlockHeaderPayload]byte
	for {
		en := nextExtranonce()
		root := merkleRoot(j.cb.serialize(en, coinbase), j.branch)
		header = j.header
		copy(header[merkleRootOffset:], root[:])
		hasher := newHeaderHasher(&header)
		for nonce := uint64(0); nonce <= math.MaxUint32; nonce++ {
			if nonce%step == 0 && nonce > 0 {
				hashes.Add(step)
				if pace != nil {
					pace.wait(ctx, step)
				}
				if ctx.Err() != nil || j.done() {
					return
				}
			}
			binary.LittleEndian.PutUint32(header[nonceOffset:], uint32(nonce))
			hash := hasher.hash(&header)
			btc := !j.btcDone.Load() && meetsTarget(&hash, &j.btcTarget)
			side := !j.sideDone.Load() && meetsTarget(&hash, &j.sideTarget)
			if !btc && !side {
				continue
			}
			// Claim each target so that only one solution per target
			// and job reaches the coordinator.
			btc = btc && j.btcDone.CompareAndSwap(false, true)
			side = side && j.sideDone.CompareAndSwap(false, true)
			if btc || side {
				s := &solution{job: j, extranonce: en, header: header, hash: hash, btc: btc, side: side}
				select {
				case out <- s:
				case <-ctx.Done():
					return
				}
			}
			if j.done() {
				hashes.Add(nonce%step + 1)
				return
			}
		}
	}
}

// pacer holds all workers together to at most rate hashes per second
// (--rate): on regtest a CPU outruns any sensible difficulty, and the
// sidechain's DAA, which sets the difficulty to the hashrate, can then be
// watched at a chosen rate.
type pacer struct {
	rate float64
	mu   sync.Mutex
	next time.Time // when the hashes granted so far are due
}

// step is how many hashes a worker does between waits: a twentieth of a
// second's worth, at least 1, at most nonceBatch.
func (p *pacer) step() uint64 {
	return uint64(min(max(p.rate/20, 1), nonceBatch))
}

// wait blocks until n more hashes fit the rate. Idle time earns no credit:
// the schedule restarts from now.
func (p *pacer) wait(ctx context.Context, n uint64) {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	due := p.next
	p.mu.Unlock()
	t := time.NewTimer(time.Until(due))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
