package consensus_test

import (
	"errors"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/internal/testchain"
	"github.com/mmgeth/mmgeth/mergemine"
)

// TestVerifyHeadersBatch verifies a peer's batch whose parents are not yet
// stored: the headers link to each other, results come in order, and a bad
// header fails alone, its child then lacking a known parent.
func TestVerifyHeadersBatch(t *testing.T) {
	peer := testchain.NewEngineNet(t, nil)
	blocks := peer.Extend(peer.BlockChain().Genesis(), 8, 0)
	headers := make([]*types.Header, len(blocks))
	for i, b := range blocks {
		headers[i] = b.Header()
	}
	bad := types.CopyHeader(headers[3])
	bad.Time = headers[2].Time // not after its parent; its hash differs too
	mixed := append(append(append([]*types.Header{}, headers[:3]...), bad), headers[4:]...)

	tests := []struct {
		name    string
		headers []*types.Header
		want    []error
	}{
		{"all valid", headers, make([]error, 8)},
		{"one bad", mixed, []error{nil, nil, nil, consensus.ErrTimestamp, gethconsensus.ErrUnknownAncestor, nil, nil, nil}},
		{"number skips", []*types.Header{headers[0], withNumber(headers[1], 3)}, []error{nil, consensus.ErrInvalidNumber}},
		{"unknown first parent", headers[1:3], []error{gethconsensus.ErrUnknownAncestor, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh engine each time: verdicts are cached by hash.
			local := testchain.NewEngineNet(t, nil)
			abort, results := local.Engine().VerifyHeaders(local.BlockChain(), tt.headers)
			defer close(abort)
			for i, want := range tt.want {
				if err := <-results; !errors.Is(err, want) || (want == nil && err != nil) {
					t.Errorf("header %d: got %v, want %v", i, err, want)
				}
			}
		})
	}
}

func withNumber(h *types.Header, n int64) *types.Header {
	h = types.CopyHeader(h)
	h.Number = big.NewInt(n)
	return h
}

// TestProofTag checks that a proof committing under another network's tag
// does not count.
func TestProofTag(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	bc := c.BlockChain()
	b1 := c.Build(bc.Genesis(), testchain.Block{})
	other := testchain.EngineParams
	other.Tag = "OTHERNET:"
	err := consensus.New(other, bc.Genesis().Header()).VerifyHeader(bc, b1.Header())
	if !errors.Is(err, consensus.ErrInvalidProof) || !errors.Is(err, mergemine.ErrTagMissing) {
		t.Fatalf("got %v, want %v", err, mergemine.ErrTagMissing)
	}
}

// TestVerifiedHeadersCached: a header verified once (as when a peer
// announces it) is not verified again (as when geth's InsertChain asks), so
// its proof is checked once; a header refused for its time drift has its
// (valid) proof checked once and the drift every time; a broken proof is
// checked every time.
func TestVerifiedHeadersCached(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	bc, engine := c.BlockChain(), c.Engine()
	b1 := c.Build(bc.Genesis(), testchain.Block{})
	drifted := c.Build(bc.Genesis(), testchain.Block{BitcoinTimeOffset: 400})
	broken := c.Build(bc.Genesis(), testchain.Block{PostSeal: func(h *types.Header) {
		seal, _ := consensus.DecodeSeal(h.Extra)
		seal.Proof.BitcoinHeader[76] ^= 0xff // another nonce: not enough work
		h.Extra = seal.Bytes()
	}})
	before := engine.ProofChecks()
	for range 3 {
		if err := engine.VerifyHeader(bc, b1.Header()); err != nil {
			t.Fatal(err)
		}
	}
	c.MustInsert(b1)
	if got := engine.ProofChecks() - before; got != 1 {
		t.Errorf("valid header: %d proof checks for 3 verifications and an import, want 1", got)
	}
	// The same hash without a field: RLP writes a nil field before a set
	// one as zero, so only the header's content tells them apart.
	holed := b1.Header()
	holed.BlobGasUsed = nil
	if holed.Hash() != b1.Hash() {
		t.Fatal("a nil blobGasUsed changed the header hash; the case below is moot")
	}
	if err := engine.VerifyHeader(bc, holed); !errors.Is(err, consensus.ErrBlobGas) {
		t.Errorf("a verified header's hash without its blob gas field: %v, want %v", err, consensus.ErrBlobGas)
	}
	for _, tc := range []struct {
		name   string
		header *types.Header
		want   error
		checks uint64
	}{
		{"drifted", drifted.Header(), consensus.ErrBitcoinTimeDrift, 1},
		{"broken proof", broken.Header(), mergemine.ErrPoW, 2},
	} {
		before = engine.ProofChecks()
		for range 2 {
			if err := engine.VerifyHeader(bc, tc.header); !errors.Is(err, tc.want) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if got := engine.ProofChecks() - before; got != tc.checks {
			t.Errorf("%s: %d proof checks for 2 verifications, want %d", tc.name, got, tc.checks)
		}
	}
}

// TestVerifyProofAheadOfHeader: the work server checks a submitted proof
// against the template before sealing it; verifying the sealed header then
// does not check the proof again, and the same proof at another difficulty
// or for another seal hash is not taken as checked.
func TestVerifyProofAheadOfHeader(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	bc, engine := c.BlockChain(), c.Engine()
	b1 := c.Build(bc.Genesis(), testchain.Block{})
	seal, err := consensus.DecodeSeal(b1.Header().Extra)
	if err != nil {
		t.Fatal(err)
	}
	sh := consensus.SealHash(b1.Header())
	before := engine.ProofChecks()
	if err := engine.VerifyProof(seal.Proof, sh, seal.Difficulty, b1.Time()); err != nil {
		t.Fatal(err)
	}
	if err := engine.VerifyHeader(bc, b1.Header()); err != nil {
		t.Fatal(err)
	}
	if got := engine.ProofChecks() - before; got != 1 {
		t.Errorf("%d proof checks for a proof checked ahead of its header, want 1", got)
	}
	harder := new(big.Int).Lsh(seal.Difficulty, 64)
	if err := engine.VerifyProof(seal.Proof, sh, harder, b1.Time()); !errors.Is(err, mergemine.ErrPoW) {
		t.Errorf("the proof at a far higher difficulty: %v, want %v", err, mergemine.ErrPoW)
	}
	if err := engine.VerifyProof(seal.Proof, common.Hash{1}, seal.Difficulty, b1.Time()); !errors.Is(err, mergemine.ErrCommitmentMismatch) {
		t.Errorf("the proof for another seal hash: %v, want %v", err, mergemine.ErrCommitmentMismatch)
	}
	if err := engine.VerifyProof(seal.Proof, sh, seal.Difficulty, b1.Time()+400); !errors.Is(err, consensus.ErrBitcoinTimeDrift) {
		t.Errorf("the proof for a block 400 s later: %v, want %v", err, consensus.ErrBitcoinTimeDrift)
	}
	if err := engine.VerifyProof(seal.Proof, sh, nil, b1.Time()); !errors.Is(err, consensus.ErrSealDifficulty) {
		t.Errorf("no difficulty: %v, want %v", err, consensus.ErrSealDifficulty)
	}
}

// TestFieldTable fails when go-ethereum adds a field to types.Header or
// types.Body that doc.go's table of rules does not name, and checks the
// two fields the engine refuses outright.
func TestFieldTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{types.Header{}, types.Body{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name := typ.Field(i).Name
			if !regexp.MustCompile(`(?m)^//\t` + name + `\b|, ` + name + `\b`).Match(doc) {
				t.Errorf("%s.%s has no row in doc.go's field table", typ.Name(), name)
			}
		}
	}
	c := testchain.NewEngineNet(t, nil)
	bc := c.BlockChain()
	for name, mutate := range map[string]func(h *types.Header){
		"BlockAccessListHash": func(h *types.Header) { h.BlockAccessListHash = &common.Hash{} },
		"SlotNumber":          func(h *types.Header) { h.SlotNumber = new(uint64) },
	} {
		b := c.Build(bc.Genesis(), testchain.Block{Mutate: mutate})
		if err := c.Engine().VerifyHeader(bc, b.Header()); !errors.Is(err, consensus.ErrForkFields) {
			t.Errorf("%s set: %v, want %v", name, err, consensus.ErrForkFields)
		}
	}
}
