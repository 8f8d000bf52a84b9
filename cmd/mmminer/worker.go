package main

import (
	"context"
	"encoding/binary"
	"math"
	"sync/atomic"

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
func grind(ctx context.Context, j *job, nextExtranonce func() uint64, hashes *atomic.Uint64, out chan<- *solution) {
	coinbase := make([]byte, len(j.cb.raw))
	var header [wire.MaxBlockHeaderPayload]byte
	for {
		en := nextExtranonce()
		root := merkleRoot(j.cb.serialize(en, coinbase), j.branch)
		header = j.header
		copy(header[merkleRootOffset:], root[:])
		hasher := newHeaderHasher(&header)
		for nonce := uint64(0); nonce <= math.MaxUint32; nonce++ {
			if nonce%nonceBatch == 0 && nonce > 0 {
				hashes.Add(nonceBatch)
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
				hashes.Add(nonce%nonceBatch + 1)
				return
			}
		}
	}
}
