package chain_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/chain"
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
		isBlock, ok := chain.IsBitcoinBlock(c.header)
		if isBlock != c.isBlock || ok != c.ok {
			t.Errorf("%s: IsBitcoinBlock = %v, %v; want %v, %v", c.name, isBlock, ok, c.isBlock, c.ok)
		}
	}
}
