package anchorproof

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestHeaderChain: the fallback for targets more than HistoryWindow blocks
// below their anchor, on a short real chain (8,192 blocks would take the
// test a minute): the headers between anchor and target verify, and a
// missing, repeated or foreign header, or a wrong target, is refused.
func TestHeaderChain(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	blocks := c.Extend(c.BlockChain().Genesis(), 20, 0)
	bc := c.BlockChain()
	anchor, target := blocks[19].Header(), blocks[4].Header() // blocks 20 and 5
	headers, err := headerChain(bc, anchor, target.Number.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	if len(headers) != 14 {
		t.Fatalf("%d headers between 5 and 20, want 14", len(headers))
	}
	if err := verifyHeaderChain(anchor, target, headers); err != nil {
		t.Fatalf("valid header chain refused: %v", err)
	}
	foreign, _ := rlp.EncodeToBytes(blocks[0].Header())
	cases := map[string][]hexutil.Bytes{
		"missing header":  append(append([]hexutil.Bytes{}, headers[:5]...), headers[6:]...),
		"repeated header": append(append([]hexutil.Bytes{}, headers[:6]...), headers[5:]...),
		"foreign header":  append(append([]hexutil.Bytes{}, headers[:13]...), foreign),
		"no headers":      nil,
	}
	for name, hs := range cases {
		if err := verifyHeaderChain(anchor, target, hs); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if err := verifyHeaderChain(anchor, blocks[3].Header(), headers); !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong target: %v, want invalid", err)
	}
}
