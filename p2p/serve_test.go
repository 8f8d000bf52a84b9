package p2p

import (
	"math"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// serveChain is a 32-block canonical chain with a stored 8-block side chain
// forking after block 10.
func serveChain(t testing.TB) (*Handler, []*types.Block, []*types.Block) {
	t.Helper()
	main := mainChain(t)[:32]
	side := buildBlocks(t, main[:10], 8, sideCoinbase)
	chain := newTestChain(t, main)
	// Lighter than the head's chain, the side blocks are stored unexecuted,
	// as a node stores a losing fork it hears of.
	if _, err := chain.InsertBlocks(side); err != nil {
		t.Fatal(err)
	}
	if chain.headHash() != main[31].Hash() {
		t.Fatal("the lighter side chain became the head")
	}
	h, err := New(Config{NetworkID: chain.network(), Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	return h, main, side
}

func TestServeHeaders(t *testing.T) {
	h, main, side := serveChain(t)
	num := func(n uint64) hashOrNumber { return hashOrNumber{Number: n} }
	hash := func(b *types.Block) hashOrNumber { return hashOrNumber{Hash: b.Hash()} }
	tests := []struct {
		name  string
		query getBlockHeadersPacket
		want  []uint64 // block numbers; side-chain blocks are marked below
		side  bool
	}{
		{"forward by number", getBlockHeadersPacket{Origin: num(5), Amount: 3}, []uint64{5, 6, 7}, false},
		{"backward by number", getBlockHeadersPacket{Origin: num(5), Amount: 3, Reverse: true}, []uint64{5, 4, 3}, false},
		{"skip forward", getBlockHeadersPacket{Origin: num(2), Amount: 4, Skip: 9}, []uint64{2, 12, 22, 32}, false},
		{"skip backward to genesis", getBlockHeadersPacket{Origin: num(20), Amount: 9, Skip: 9, Reverse: true}, []uint64{20, 10, 0}, false},
		{"past the head", getBlockHeadersPacket{Origin: num(30), Amount: 10}, []uint64{30, 31, 32}, false},
		{"unknown number", getBlockHeadersPacket{Origin: num(33), Amount: 1}, nil, false},
		{"zero amount", getBlockHeadersPacket{Origin: num(1), Amount: 0}, nil, false},
		{"forward by hash", getBlockHeadersPacket{Origin: hash(main[9]), Amount: 2, Skip: 1}, []uint64{10, 12}, false},
		{"backward by hash", getBlockHeadersPacket{Origin: hash(main[9]), Amount: 2, Reverse: true}, []uint64{10, 9}, false},
		{"unknown hash", getBlockHeadersPacket{Origin: hashOrNumber{Hash: common.Hash{1}}, Amount: 5}, nil, false},
		{"side chain backward", getBlockHeadersPacket{Origin: hash(side[3]), Amount: 3, Reverse: true}, []uint64{14, 13, 12}, true},
		{"side chain forward", getBlockHeadersPacket{Origin: hash(side[3]), Amount: 3}, []uint64{14}, true},
		{"largest skip", getBlockHeadersPacket{Origin: num(1), Amount: 3, Skip: math.MaxUint64}, []uint64{1}, false},
		{"skip overflow", getBlockHeadersPacket{Origin: num(1), Amount: 3, Skip: math.MaxUint64 - 1}, []uint64{1}, false},
		{"skip underflow", getBlockHeadersPacket{Origin: num(3), Amount: 3, Skip: 5, Reverse: true}, []uint64{3}, false},
		{"huge amount", getBlockHeadersPacket{Origin: num(0), Amount: math.MaxUint64}, nil, false},
	}
	tests[len(tests)-1].want = make([]uint64, 33)
	for i := range tests[len(tests)-1].want {
		tests[len(tests)-1].want[i] = uint64(i)
	}
	for _, tt := range tests {
		got := h.serveHeaders(&tt.query)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d headers, want %d", tt.name, len(got), len(tt.want))
			continue
		}
		for i, header := range got {
			var want common.Hash
			switch n := tt.want[i]; {
			case n == 0:
				want = h.genesis
			case tt.side && n > 10:
				want = side[n-11].Hash()
			default:
				want = main[n-1].Hash()
			}
			if header.Hash() != want {
				t.Errorf("%s: header %d is #%d %x, want #%d %x", tt.name, i, header.Number, header.Hash(), tt.want[i], want)
			}
		}
	}
}

// Bodies are served in order up to the first unknown block.
func TestServeBodies(t *testing.T) {
	h, main, _ := serveChain(t)
	got := h.serveBodies([]common.Hash{main[0].Hash(), main[1].Hash(), {0xff}, main[2].Hash()})
	if len(got) != 2 {
		t.Fatalf("%d bodies, want 2", len(got))
	}
	for i, body := range got {
		if err := checkBody(main[i].Header(), body); err != nil {
			t.Errorf("body %d: %v", i, err)
		}
	}
}
