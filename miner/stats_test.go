package miner

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// TestMeasureMergeMining reads the statistics of a dev chain: the head's
// seal difficulty, the hash rate it implies at a given spacing, its proof's
// Bitcoin time and age, and the share of real (regtest-bits) Bitcoin blocks
// among the proofs, the genesis having none.
func TestMeasureMergeMining(t *testing.T) {
	f := newWorkFixture(t)
	genesis := MeasureMergeMining(f.chain, f.chain.CurrentBlock(), 1)
	if !math.IsNaN(genesis.BitcoinShare) || genesis.ProofTime != 0 || genesis.Difficulty != 3 || !math.IsNaN(genesis.ProofAge(time.Now())) {
		t.Fatalf("genesis: %+v, want dev's difficulty 3 and no proof", genesis)
	}
	dev := NewDevMiner(DevMinerConfig{Work: f.ws, Tag: f.tag})
	const blocks = 6
	bitcoinBlocks := 0
	for range blocks {
		b, err := dev.Mine(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		seal, _ := consensus.DecodeSeal(b.Extra())
		if mergemine.IsBitcoinBlock(seal.Proof.BitcoinHeader) {
			bitcoinBlocks++
		}
	}
	head := f.chain.CurrentBlock()
	s := MeasureMergeMining(f.chain, head, 30)
	seal, err := consensus.DecodeSeal(head.Extra)
	if err != nil {
		t.Fatal(err)
	}
	want := float64(seal.Difficulty.Int64())
	if s.Difficulty != want || s.Hashrate != want/30 {
		t.Errorf("difficulty %v, hash rate %v; want %v and %v", s.Difficulty, s.Hashrate, want, want/30)
	}
	// The dev miner dates its synthetic Bitcoin header like the block.
	if s.ProofTime != int64(head.Time) {
		t.Errorf("proof time %d, want the head's %d", s.ProofTime, head.Time)
	}
	if age := s.ProofAge(time.Unix(int64(head.Time)+7, 0)); age != 7 {
		t.Errorf("proof age %v 7 s after the head's time", age)
	}
	if age := s.ProofAge(time.Unix(int64(head.Time)-7, 0)); age != 0 {
		t.Errorf("proof age %v for a proof dated ahead of the clock, want 0", age)
	}
	if s.BitcoinShare != float64(bitcoinBlocks)/blocks {
		t.Errorf("Bitcoin block share %v, want %d/%d", s.BitcoinShare, bitcoinBlocks, blocks)
	}
	if s.Head != head.Hash() {
		t.Errorf("measured at %x, head %x", s.Head, head.Hash())
	}
}
