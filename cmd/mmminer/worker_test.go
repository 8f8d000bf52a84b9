package main

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// BenchmarkGrind measures one worker's hashrate (b.N batches of nonces).
func BenchmarkGrind(b *testing.B) {
	tmpl, err := parseTemplate(loadGBT(b, "btcd_gbt_coinbasetxn.json"))
	if err != nil {
		b.Fatal(err)
	}
	tmpl.target = [32]byte{} // never solved
	j, err := newJob(1, tmpl, nil, nil, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var hashes, en atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	go func() {
		for hashes.Load() < uint64(b.N)*nonceBatch {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	grind(ctx, j, func() uint64 { return en.Add(1) }, &hashes, nil, make(chan *solution))
	b.ReportMetric(float64(hashes.Load())/b.Elapsed().Seconds()/1e6, "MH/s")
}

// TestHeaderHasher checks the midstate hash against a plain SHA256d for
// headers that differ in their nonce.
func TestHeaderHasher(t *testing.T) {
	var header [wire.MaxBlockHeaderPayload]byte
	for i := range header {
		header[i] = byte(i * 7)
	}
	h := newHeaderHasher(&header)
	for _, nonce := range []uint32{0, 1, 0xdeadbeef, ^uint32(0)} {
		binary.LittleEndian.PutUint32(header[nonceOffset:], nonce)
		if got, want := h.hash(&header), chainhash.DoubleHashH(header[:]); got != want {
			t.Fatalf("nonce %x: %v, want %v", nonce, got, want)
		}
	}
}

// TestPacerHoldsTheRate: two workers under a 20,000 H/s pacer hash about
// 20,000 times in a second, not as many as the CPU can.
func TestPacerHoldsTheRate(t *testing.T) {
	p := &pacer{rate: 20_000}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var done atomic.Uint64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p.wait(ctx, p.step())
				done.Add(p.step())
			}
		}()
	}
	wg.Wait()
	if n := done.Load(); n < 15_000 || n > 25_000 {
		t.Errorf("%d hashes granted in 1 s at 20,000 H/s", n)
	}
}
