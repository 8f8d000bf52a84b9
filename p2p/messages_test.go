package p2p

import (
	"bytes"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
)

func testMsg(code uint64, payload []byte) gethp2p.Msg {
	return gethp2p.Msg{Code: code, Size: uint32(len(payload)), Payload: bytes.NewReader(payload)}
}

// anyRequest stands for a peer with a request outstanding for every response,
// asking for as many items as a server may send.
func anyRequest(code, id uint64) (int, error) {
	if code == blockHeadersMsg {
		return maxHeadersServe, nil
	}
	return maxBodiesServe, nil
}

// Every packet survives an encode/decode round trip through decodeMsg.
func TestPacketRoundTrip(t *testing.T) {
	blocks := mainChain(t)[:2]
	block := blocks[1]
	tests := []struct {
		code uint64
		pkt  any
	}{
		{statusMsg, &statusPacket{ProtocolVersion: 1, NetworkID: 9, Genesis: common.Hash{1}, Head: common.Hash{2}, Number: 3, Work: big.NewInt(4)}},
		{newBlockMsg, &newBlockPacket{Block: block, Work: big.NewInt(3)}},
		{newBlockHashesMsg, &newBlockHashesPacket{{Hash: common.Hash{5}, Number: 6, Work: big.NewInt(7)}, {Hash: common.Hash{8}, Number: 9, Work: big.NewInt(0)}}},
		{transactionsMsg, &transactionsPacket{block.Transactions()[0]}},
		{getBlockHeadersMsg, &getBlockHeadersPacket{RequestID: 1, Origin: hashOrNumber{Hash: common.Hash{3}}, Amount: 4, Skip: 5, Reverse: true}},
		{getBlockHeadersMsg, &getBlockHeadersPacket{RequestID: math.MaxUint64, Origin: hashOrNumber{Number: math.MaxUint64}, Amount: 1}},
		{blockHeadersMsg, &blockHeadersPacket{RequestID: 2, Headers: []*types.Header{blocks[0].Header(), block.Header()}}},
		{blockHeadersMsg, &blockHeadersPacket{RequestID: 2}},
		{getBlockBodiesMsg, &getBlockBodiesPacket{RequestID: 3, Hashes: []common.Hash{{1}, {2}}}},
		{blockBodiesMsg, &blockBodiesPacket{RequestID: 4, Bodies: []*types.Body{block.Body(), {Withdrawals: []*types.Withdrawal{}}}}},
	}
	for _, tt := range tests {
		enc := mustEncode(t, tt.pkt)
		got, err := decodeMsg(testMsg(tt.code, enc), DefaultMaxMessageSize, anyRequest)
		if err != nil {
			t.Errorf("%T: %v", tt.pkt, err)
			continue
		}
		if again := mustEncode(t, got); !bytes.Equal(again, enc) {
			t.Errorf("%T: round trip changed the encoding\n got %x\nwant %x", tt.pkt, again, enc)
		}
	}
}

// Lists longer than their cap are refused before their items are decoded.
func TestPacketItemCaps(t *testing.T) {
	list := func(n int) []rlp.RawValue {
		items := make([]rlp.RawValue, n)
		for i := range items {
			items[i] = rlp.RawValue{0xc0} // not even a valid item
		}
		return items
	}
	type withID struct {
		ID    uint64
		Items []rlp.RawValue
	}
	tests := []struct {
		code  uint64
		items int
		pkt   any
	}{
		{blockHeadersMsg, maxHeadersServe, withID{1, list(maxHeadersServe + 1)}},
		{blockBodiesMsg, maxBodiesServe, withID{1, list(maxBodiesServe + 1)}},
		{transactionsMsg, maxTxsPerMsg, list(maxTxsPerMsg + 1)},
		{newBlockHashesMsg, maxAnnounces, list(maxAnnounces + 1)},
		{getBlockBodiesMsg, maxBodiesServe, withID{1, list(maxBodiesServe + 1)}},
	}
	for _, tt := range tests {
		_, err := decodeMsg(testMsg(tt.code, mustEncode(t, tt.pkt)), math.MaxUint32, anyRequest)
		if err == nil || !strings.Contains(err.Error(), errTooManyItems.Error()) {
			t.Errorf("code %#x with %d items: err %v, want %v", tt.code, tt.items+1, err, errTooManyItems)
		}
	}
}

func TestDecodeMsgRejects(t *testing.T) {
	header := mainChain(t)[0].Header()
	header.Number = new(big.Int).Lsh(common.Big1, 64)
	// More transactions than the gas limit pays the intrinsic gas of.
	crowded := mainChain(t)[1]
	tight := crowded.Header()
	tight.GasLimit = 2*params.TxGas - 1
	twoTxs := types.Transactions{crowded.Transactions()[0], crowded.Transactions()[0]}
	tooMany := types.NewBlockWithHeader(tight).WithBody(types.Body{Transactions: twoTxs, Withdrawals: []*types.Withdrawal{}})
	tests := []struct {
		name    string
		code    uint64
		payload []byte
		want    string
	}{
		{"unknown code", protocolLength, []byte{0xc0}, errInvalidMsgCode.Error()},
		{"oversized status", statusMsg, make([]byte, maxStatusSize+1), errMsgTooLarge.Error()},
		{"oversized announce", newBlockHashesMsg, make([]byte, maxNewBlockHashesSize+1), errMsgTooLarge.Error()},
		{"oversized block", newBlockMsg, make([]byte, DefaultMaxMessageSize+1), errMsgTooLarge.Error()},
		{"status without work", statusMsg, mustEncode(t, []any{uint64(1), uint64(1), common.Hash{}, common.Hash{}, uint64(0)}), "too few elements"},
		{"header number beyond 64 bits", blockHeadersMsg, mustEncode(t, &blockHeadersPacket{RequestID: 1, Headers: []*types.Header{header}}), "too large block number"},
		{"origin of 9 bytes", getBlockHeadersMsg, mustEncode(t, []any{uint64(1), make([]byte, 9), uint64(1), uint64(0), false}), "neither a hash nor a number"},
		{"more transactions than gas", newBlockMsg, mustEncode(t, &newBlockPacket{Block: tooMany, Work: common.Big1}), errTooManyItems.Error()},
		{"trailing data", getBlockBodiesMsg, append(mustEncode(t, &getBlockBodiesPacket{RequestID: 1}), 0x80), "trailing data"},
	}
	for _, tt := range tests {
		_, err := decodeMsg(testMsg(tt.code, tt.payload), DefaultMaxMessageSize, anyRequest)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
			continue
		}
		if pe, ok := err.(*peerError); !ok || pe.reason != gethp2p.DiscProtocolError {
			t.Errorf("%s: %v is not a protocol error", tt.name, err)
		}
	}
}

func TestHashOrNumberEncoding(t *testing.T) {
	tests := []struct {
		origin hashOrNumber
		enc    string
	}{
		{hashOrNumber{Number: 0}, "80"},
		{hashOrNumber{Number: 0x7f}, "7f"},
		{hashOrNumber{Number: 1024}, "820400"},
		{hashOrNumber{Number: math.MaxUint64}, "88ffffffffffffffff"},
		{hashOrNumber{Hash: common.Hash{0xab}}, "a0ab00000000000000000000000000000000000000000000000000000000000000"},
	}
	for _, tt := range tests {
		enc := mustEncode(t, tt.origin)
		if got := common.Bytes2Hex(enc); got != tt.enc {
			t.Errorf("%+v encodes to %s, want %s", tt.origin, got, tt.enc)
		}
		var dec hashOrNumber
		if err := rlp.DecodeBytes(enc, &dec); err != nil || dec != tt.origin {
			t.Errorf("%s decodes to %+v (%v), want %+v", tt.enc, dec, err, tt.origin)
		}
	}
}

// BenchmarkNewBlockDecode measures what reading a NewBlock of about 9 MB
// costs before any check of the chain: "whole" decodes every transaction,
// as the handler did before the body was left encoded until the header has
// passed; "inbound" is what the read loop does now.
//
//	go test ./p2p/ -run '^$' -bench NewBlockDecode -benchmem
func BenchmarkNewBlockDecode(b *testing.B) {
	header := mainChain(b)[1].Header()
	header.GasLimit = 1 << 40 // room for every transaction below
	txs := make([]*types.Transaction, 90_000)
	for i := range txs {
		txs[i] = types.NewTx(&types.LegacyTx{Nonce: uint64(i), Gas: 21000, To: &common.Address{1}, Data: make([]byte, 40),
			V: big.NewInt(27), R: big.NewInt(1), S: big.NewInt(1)})
	}
	block := types.NewBlockWithHeader(header).WithBody(types.Body{Transactions: txs, Withdrawals: []*types.Withdrawal{}})
	payload := mustEncode(b, &newBlockPacket{Block: block, Work: big.NewInt(1)})
	b.Logf("payload %d bytes", len(payload))
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var pkt newBlockPacket
			if err := rlp.DecodeBytes(payload, &pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inbound", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeMsg(testMsg(newBlockMsg, payload), DefaultMaxMessageSize, anyRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
}
