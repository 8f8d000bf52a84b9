package btcspv

import (
	"crypto/sha256"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// BenchmarkVerifyInclusion measures PEG.md §13's goal (≤ 30 µs): a real
// proof of depth 8 (block 277647), a synthetic one of depth 12 (§13's
// peg-in sizing case), both against a fixed index, and a real proof against
// a synced Chain.
func BenchmarkVerifyInclusion(b *testing.B) {
	b.Run("depth8-277647", func(b *testing.B) {
		block := load277647(b)
		txid := block.Transactions[150].TxHash()
		p, err := BuildInclusion(block, 277647, txid)
		if err != nil {
			b.Fatal(err)
		}
		benchVerify(b, fixedIndex{height: 277647, best: 277752, hash: block.BlockHash()}, txid, p)
	})
	b.Run("depth12", func(b *testing.B) {
		var p Inclusion
		p.Height, p.TxIndex = 800_000, 0b1011_0110_1101
		for i := range 12 {
			p.TxBranch = append(p.TxBranch, chainhash.DoubleHashB([]byte{byte(i)})...)
			p.CoinbaseBranch = append(p.CoinbaseBranch, chainhash.DoubleHashB([]byte{byte(i), 1})...)
		}
		txid := chainhash.Hash{1}
		// Choose the coinbase side so that both branches meet the root:
		// the coinbase's top sibling is the tx side's top-level node.
		p.CoinbasePreimage = [32]byte{2}
		low, _ := FoldBranch(sha256.Sum256(p.CoinbasePreimage[:]), p.CoinbaseBranch[:11*32], 0)
		txSide, _ := FoldBranch(txid, p.TxBranch[:11*32], p.TxIndex&0x7ff)
		copy(p.CoinbaseBranch[11*32:], txSide[:])
		copy(p.TxBranch[11*32:], low[:])
		root, _ := FoldBranch(txid, p.TxBranch, p.TxIndex)
		p.Header = make([]byte, HeaderSize)
		copy(p.Header[36:68], root[:])
		c := fixedIndex{height: 800_000, best: 800_011, hash: chainhash.DoubleHashH(p.Header)}
		benchVerify(b, c, txid, p)
	})
	b.Run("chain-2812", func(b *testing.B) {
		c := syncMainnet(b, loadMainnetHeaders(b), mainnetTip)
		block := loadMainnetBlocks(b)[2812]
		txid := block.Transactions[5].TxHash()
		p, err := BuildInclusion(block, 2812, txid)
		if err != nil {
			b.Fatal(err)
		}
		benchVerify(b, c, txid, p)
	})
}

func benchVerify(b *testing.B, idx BestChainIndex, txid chainhash.Hash, p Inclusion) {
	if _, err := VerifyInclusion(idx, txid, p, 6); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyInclusion(idx, txid, p, 6); err != nil {
			b.Fatal(err)
		}
	}
}
