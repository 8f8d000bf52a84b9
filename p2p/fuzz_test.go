package p2p

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"
)

// FuzzDecodeMsg feeds arbitrary payloads to every message decoder. Decoding
// must never panic; a failure must be a protocol error; a success must
// re-encode to something that decodes to the same encoding again.
func FuzzDecodeMsg(f *testing.F) {
	blocks := mainChain(f)[:2]
	seeds := map[uint64]any{
		statusMsg:          &statusPacket{ProtocolVersion: 1, NetworkID: 7, Genesis: common.Hash{1}, Head: common.Hash{2}, Number: 3, Work: big.NewInt(4)},
		newBlockHashesMsg:  newBlockHashesPacket{{Hash: common.Hash{5}, Number: 6, Work: big.NewInt(7)}},
		transactionsMsg:    transactionsPacket(blocks[1].Transactions()),
		getBlockHeadersMsg: &getBlockHeadersPacket{RequestID: 1, Origin: hashOrNumber{Hash: common.Hash{3}}, Amount: 4, Skip: 5, Reverse: true},
		blockHeadersMsg:    &blockHeadersPacket{RequestID: 2, Headers: []*types.Header{blocks[0].Header(), blocks[1].Header()}},
		getBlockBodiesMsg:  &getBlockBodiesPacket{RequestID: 3, Hashes: []common.Hash{{1}, {2}}},
		blockBodiesMsg:     &blockBodiesPacket{RequestID: 4, Bodies: []*types.Body{blocks[1].Body()}},
		newBlockMsg:        &newBlockPacket{Block: blocks[1], Work: big.NewInt(3)},
	}
	for code, pkt := range seeds {
		f.Add(uint8(code), mustEncode(f, pkt))
	}
	f.Add(uint8(getBlockHeadersMsg), []byte{0xc5, 0x01, 0xc0, 0x01, 0x80, 0x80})
	f.Add(uint8(blockBodiesMsg), []byte{0xc4, 0x01, 0xc2, 0xc0, 0xc0})
	f.Add(uint8(newBlockMsg), []byte{0xf8, 0xff})

	f.Fuzz(func(t *testing.T, code uint8, payload []byte) {
		c := uint64(code) % (protocolLength + 1)
		pkt, err := decodeMsg(testMsg(c, payload), DefaultMaxMessageSize, anyRequest)
		if err != nil {
			if pe, ok := err.(*peerError); !ok || pe.reason != gethp2p.DiscProtocolError {
				t.Fatalf("decode error %v is not a protocol error", err)
			}
			return
		}
		enc, err := rlp.EncodeToBytes(pkt)
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", pkt, err)
		}
		again, err := decodeMsg(testMsg(c, enc), DefaultMaxMessageSize, anyRequest)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", pkt, err)
		}
		if enc2 := mustEncode(t, again); !bytes.Equal(enc, enc2) {
			t.Fatalf("%T encoding unstable:\n%x\n%x", pkt, enc, enc2)
		}
	})
}

// FuzzServeHeaders runs arbitrary header queries against a chain with a side
// branch. Answers must stay within the limits, start at the origin and follow
// the query's direction and spacing.
func FuzzServeHeaders(f *testing.F) {
	h, main, side := serveChain(f)
	known := append(append([]*types.Block{}, main...), side...)
	f.Add(uint64(5), false, uint64(3), uint64(0), false)
	f.Add(uint64(20), false, uint64(9), uint64(9), true)
	f.Add(uint64(35), true, uint64(3), uint64(0), true)
	f.Add(uint64(1), false, uint64(3), ^uint64(0), false)

	f.Fuzz(func(t *testing.T, origin uint64, byHash bool, amount, skip uint64, reverse bool) {
		q := getBlockHeadersPacket{Origin: hashOrNumber{Number: origin}, Amount: amount, Skip: skip, Reverse: reverse}
		if byHash {
			q.Origin = hashOrNumber{Hash: common.Hash{0xff}} // unknown
			if i := origin % uint64(len(known)+1); i < uint64(len(known)) {
				q.Origin.Hash = known[i].Hash()
			}
		}
		got := h.serveHeaders(&q)
		if uint64(len(got)) > min(amount, maxHeadersServe) {
			t.Fatalf("%d headers for %d asked", len(got), amount)
		}
		if len(got) == 0 {
			return
		}
		if byHash && got[0].Hash() != q.Origin.Hash || !byHash && got[0].Number.Uint64() != origin {
			t.Fatalf("answer starts at #%d %x", got[0].Number, got[0].Hash())
		}
		for i := 1; i < len(got); i++ {
			prev, cur := got[i-1].Number.Uint64(), got[i].Number.Uint64()
			if reverse && prev-cur != skip+1 || !reverse && cur-prev != skip+1 {
				t.Fatalf("headers #%d then #%d for skip %d reverse %v", prev, cur, skip, reverse)
			}
			if reverse && skip == 0 && got[i-1].ParentHash != got[i].Hash() {
				t.Fatalf("header #%d is not the parent of #%d", cur, prev)
			}
		}
	})
}
