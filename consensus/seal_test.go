package consensus

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/mergemine"
)

var testProof = &mergemine.Proof{
	BitcoinHeader: bytes.Repeat([]byte{0xaa}, 80),
	MerkleProof:   bytes.Repeat([]byte{0xbb}, 64),
	Coinbase:      bytes.Repeat([]byte{0xcc}, 100),
}

func TestSealRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		seal Seal
	}{
		{"template", Seal{Version: 1, Difficulty: big.NewInt(4000)}},
		{"vanity", Seal{Version: 1, Difficulty: big.NewInt(4000), Vanity: []byte("mmgeth pool")}},
		{"max vanity", Seal{Version: 1, Difficulty: big.NewInt(1), Vanity: bytes.Repeat([]byte{1}, MaxVanitySize)}},
		{"proof", Seal{Version: 1, Difficulty: big.NewInt(4000), Proof: testProof}},
		{"2^256", Seal{Version: 1, Difficulty: new(big.Int).Set(two256), Proof: testProof}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := tt.seal.Bytes()
			got, err := DecodeSeal(enc)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Difficulty.Cmp(tt.seal.Difficulty) != 0 || !bytes.Equal(got.Vanity, tt.seal.Vanity) {
				t.Errorf("decoded %+v, want %+v", got, tt.seal)
			}
			if (got.Proof == nil) != (tt.seal.Proof == nil) {
				t.Fatalf("proof presence: got %v", got.Proof)
			}
			if !bytes.Equal(got.Bytes(), enc) {
				t.Errorf("re-encoding differs: %x != %x", got.Bytes(), enc)
			}
		})
	}
}

func TestDecodeSealRejects(t *testing.T) {
	encode := func(v any) []byte {
		b, err := rlp.EncodeToBytes(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := (&Seal{Version: 1, Difficulty: big.NewInt(4000), Proof: testProof}).Bytes()
	tests := []struct {
		name  string
		extra []byte
		want  error
	}{
		{"empty", nil, ErrMalformedSeal},
		{"not a list", encode([]byte("vanity")), ErrMalformedSeal},
		{"trailing byte", append(bytes.Clone(valid), 0x00), ErrMalformedSeal},
		{"extra element", encode([]any{uint64(1), big.NewInt(4000), []byte{}, testProof, uint64(7)}), ErrMalformedSeal},
		{"proof not a list", encode([]any{uint64(1), big.NewInt(4000), []byte{}, []byte{1}}), ErrMalformedSeal},
		{"non-canonical difficulty", []byte{0xc5, 0x01, 0x82, 0x00, 0x10, 0x80}, ErrMalformedSeal},
		{"version 0", (&Seal{Version: 0, Difficulty: big.NewInt(4000)}).Bytes(), ErrSealVersion},
		{"version 2", (&Seal{Version: 2, Difficulty: big.NewInt(4000)}).Bytes(), ErrSealVersion},
		{"difficulty 0", (&Seal{Version: 1, Difficulty: new(big.Int)}).Bytes(), ErrSealDifficulty},
		{"difficulty above 2^256", (&Seal{Version: 1, Difficulty: new(big.Int).Add(two256, common.Big1)}).Bytes(), ErrSealDifficulty},
		{"vanity 33 bytes", (&Seal{Version: 1, Difficulty: big.NewInt(1), Vanity: make([]byte, 33)}).Bytes(), ErrVanityTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeSeal(tt.extra)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformedSeal) {
				t.Fatalf("got %v, %v; want %v", s, err, tt.want)
			}
		})
	}
}

func TestSealBytesOfUnencodableSeal(t *testing.T) {
	if b := (&Seal{Version: 1, Difficulty: big.NewInt(-1)}).Bytes(); b != nil {
		t.Fatalf("negative difficulty encoded as %x", b)
	}
}

func TestSealHash(t *testing.T) {
	template := &types.Header{
		Number:     big.NewInt(7),
		Difficulty: new(big.Int),
		GasLimit:   30_000_000,
		Time:       testGenesisTime + 70,
		Extra:      (&Seal{Version: 1, Difficulty: big.NewInt(4000), Vanity: []byte("v")}).Bytes(),
	}
	sealed := types.CopyHeader(template)
	sealed.Extra = (&Seal{Version: 1, Difficulty: big.NewInt(4000), Vanity: []byte("v"), Proof: testProof}).Bytes()

	if SealHash(template) != template.Hash() {
		t.Error("the seal hash of a template is not its header hash")
	}
	if SealHash(sealed) != SealHash(template) {
		t.Error("the proof changes the seal hash")
	}
	if SealHash(sealed) == sealed.Hash() {
		t.Error("the seal hash of a sealed header equals its block hash")
	}
	// The seal hash commits to the difficulty, the vanity and the header.
	for name, edit := range map[string]func(h *types.Header){
		"difficulty": func(h *types.Header) {
			h.Extra = (&Seal{Version: 1, Difficulty: big.NewInt(4001), Vanity: []byte("v"), Proof: testProof}).Bytes()
		},
		"vanity": func(h *types.Header) {
			h.Extra = (&Seal{Version: 1, Difficulty: big.NewInt(4000), Vanity: []byte("w"), Proof: testProof}).Bytes()
		},
		"time":     func(h *types.Header) { h.Time++ },
		"coinbase": func(h *types.Header) { h.Coinbase = common.Address{1} },
	} {
		h := types.CopyHeader(sealed)
		edit(h)
		if SealHash(h) == SealHash(sealed) {
			t.Errorf("changing the %s keeps the seal hash", name)
		}
	}
}
