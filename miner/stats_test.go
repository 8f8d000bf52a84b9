package miner

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// Bitcoin mainnet headers (wire order), from mergemine/testdata/bitcoin_mainnet.json.
const (
	btcBlock100000 = "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710"
	btcBlock849134 = "0080b92c24f123130ae29e899f0cab72653722e54cdf3b30445202000000000000000000c72ead65a3b78ab637d1876c00414a77e47bcc5b52667ac1e573633563bea5a695aa7766255d031728d182a8"
)

func TestIsBitcoinBlock(t *testing.T) {
	mutate := func(hex string, offset int, b ...byte) []byte {
		h := common.FromHex(hex)
		copy(h[offset:], b)
		return h
	}
	cases := []struct {
		name    string
		header  []byte
		isBlock bool
	}{
		{"mainnet block 100000", common.FromHex(btcBlock100000), true},
		{"mainnet block 849134", common.FromHex(btcBlock849134), true},
		// Another nonce: a share at best, nowhere near mainnet's target.
		{"849134 with another nonce", mutate(btcBlock849134, 76, 0, 0, 0, 0), false},
		// The header's own bits decide: at regtest's limit nearly any hash
		// is a block of that chain.
		{"849134 claiming regtest bits", mutate(btcBlock849134, 72, 0xff, 0xff, 0x7f, 0x20), true},
	}
	for _, c := range cases {
		btc, err := mergemine.ParseHeader(c.header)
		if err != nil {
			t.Fatal(err)
		}
		if got := isBitcoinBlock(c.header, btc.Bits); got != c.isBlock {
			t.Errorf("%s: isBitcoinBlock = %v, want %v", c.name, got, c.isBlock)
		}
	}
}

// TestMeasureMergeMining reads the statistics of a dev chain: the head's
// seal difficulty, the hash rate it implies at a given spacing, its proof's
// Bitcoin time and age, and the share of real (regtest-bits) Bitcoin blocks
// among the proofs, the genesis having none.
func TestMeasureMergeMining(t *testing.T) {
	f := newWorkFixture(t)
	genesis := MeasureMergeMining(f.chain, f.chain.CurrentBlock(), 1)
	if !math.IsNaN(genesis.BitcoinShare) || genesis.ProofTime != 0 || genesis.Difficulty != 256 || !math.IsNaN(genesis.ProofAge(time.Now())) {
		t.Fatalf("genesis: %+v, want difficulty 256 and no proof", genesis)
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
		btc, _ := mergemine.ParseHeader(seal.Proof.BitcoinHeader)
		if isBitcoinBlock(seal.Proof.BitcoinHeader, btc.Bits) {
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
