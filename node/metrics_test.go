package node

import (
	"context"
	"math"
	"testing"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
)

// TestMeasureMergeMining reads the statistics of a dev chain: the head's
// seal difficulty, the hash rate it implies at a given spacing, its proof's
// Bitcoin time, and the share of real (regtest-bits) Bitcoin blocks among
// the proofs, the genesis having none.
func TestMeasureMergeMining(t *testing.T) {
	n := startPeerNode(t, true)
	genesis := measureMergeMining(n.chain, n.chain.CurrentBlock(), 1)
	if !math.IsNaN(genesis.bitcoinShare) || genesis.proofTime != 0 || genesis.difficulty != 256 {
		t.Fatalf("genesis: %+v, want difficulty 256 and no proof", genesis)
	}
	const blocks = 6
	bitcoinBlocks := 0
	for i := 0; i < blocks; i++ {
		b, err := n.dev.Mine(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if isBlock, _ := chain.IsBitcoinBlock(b.Header()); isBlock {
			bitcoinBlocks++
		}
	}
	head := n.chain.CurrentBlock()
	s := measureMergeMining(n.chain, head, 30)
	seal, err := consensus.DecodeSeal(head.Extra)
	if err != nil {
		t.Fatal(err)
	}
	want := float64(seal.Difficulty.Int64())
	if s.difficulty != want || s.hashrate != want/30 {
		t.Errorf("difficulty %v, hash rate %v; want %v and %v", s.difficulty, s.hashrate, want, want/30)
	}
	// The dev miner dates its synthetic Bitcoin header like the block.
	if s.proofTime != int64(head.Time) {
		t.Errorf("proof time %d, want the head's %d", s.proofTime, head.Time)
	}
	if s.bitcoinShare != float64(bitcoinBlocks)/blocks {
		t.Errorf("Bitcoin block share %v, want %d/%d", s.bitcoinShare, bitcoinBlocks, blocks)
	}
	if s.head != head.Hash() {
		t.Errorf("measured at %x, head %x", s.head, head.Hash())
	}
}
