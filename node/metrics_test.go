package node

import (
	"context"
	"math"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// Bitcoin mainnet headers (wire order), from mergemine/testdata/bitcoin_mainnet.json.
const (
	btcBlock100000 = "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710"
	btcBlock849134 = "0080b92c24f123130ae29e899f0cab72653722e54cdf3b30445202000000000000000000c72ead65a3b78ab637d1876c00414a77e47bcc5b52667ac1e573633563bea5a695aa7766255d031728d182a8"
)

func headerWithProof(t *testing.T, header80 []byte) *types.Header {
	t.Helper()
	seal := &consensus.Seal{Version: 1, Difficulty: big.NewInt(256), Proof: &mergemine.Proof{BitcoinHeader: header80}}
	return &types.Header{Number: big.NewInt(1), Extra: seal.Bytes()}
}

func TestIsBitcoinBlock(t *testing.T) {
	mutate := func(hex string, offset int, b ...byte) []byte {
		h := common.FromHex(hex)
		copy(h[offset:], b)
		return h
	}
	noProof := &consensus.Seal{Version: 1, Difficulty: big.NewInt(256)}
	cases := []struct {
		name        string
		header      *types.Header
		isBlock, ok bool
	}{
		{"mainnet block 100000", headerWithProof(t, common.FromHex(btcBlock100000)), true, true},
		{"mainnet block 849134", headerWithProof(t, common.FromHex(btcBlock849134)), true, true},
		// Another nonce: a share at best, nowhere near mainnet's target.
		{"849134 with another nonce", headerWithProof(t, mutate(btcBlock849134, 76, 0, 0, 0, 0)), false, true},
		// The header's own bits decide: at regtest's limit nearly any hash
		// is a block of that chain.
		{"849134 claiming regtest bits", headerWithProof(t, mutate(btcBlock849134, 72, 0xff, 0xff, 0x7f, 0x20)), true, true},
		{"no proof", &types.Header{Number: big.NewInt(0), Extra: noProof.Bytes()}, false, false},
		{"short Bitcoin header", headerWithProof(t, common.FromHex(btcBlock849134)[:79]), false, false},
		{"not a seal", &types.Header{Number: big.NewInt(1), Extra: []byte{0xde, 0xad}}, false, false},
	}
	for _, c := range cases {
		isBlock, ok := isBitcoinBlock(c.header)
		if isBlock != c.isBlock || ok != c.ok {
			t.Errorf("%s: isBitcoinBlock = %v, %v; want %v, %v", c.name, isBlock, ok, c.isBlock, c.ok)
		}
	}
}

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
		if isBlock, _ := isBitcoinBlock(b.Header()); isBlock {
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
