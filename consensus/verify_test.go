package consensus

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

	"github.com/mmgeth/mmgeth/mergemine"
)

// TestVerifyHeadersBatch verifies a peer's batch whose parents are not yet
// stored: the headers link to each other, results come in order, and a bad
// header fails alone, its child then lacking a known parent.
func TestVerifyHeadersBatch(t *testing.T) {
	peer := newTestChain(t, nil)
	blocks := peer.extend(peer.bc.Genesis(), 8, testParams.TargetSpacing)
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
		{"one bad", mixed, []error{nil, nil, nil, ErrTimestamp, gethconsensus.ErrUnknownAncestor, nil, nil, nil}},
		{"number skips", []*types.Header{headers[0], withNumber(headers[1], 3)}, []error{nil, ErrInvalidNumber}},
		{"unknown first parent", headers[1:3], []error{gethconsensus.ErrUnknownAncestor, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh engine each time: verdicts are cached by hash.
			local := newTestChain(t, nil)
			abort, results := local.engine.VerifyHeaders(local.bc, tt.headers)
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
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	other := testParams
	other.Tag = "OTHERNET:"
	err := New(other, c.bc.Genesis().Header()).VerifyHeader(c.bc, b1.Header())
	if !errors.Is(err, ErrInvalidProof) || !errors.Is(err, mergemine.ErrTagMissing) {
		t.Fatalf("got %v, want %v", err, mergemine.ErrTagMissing)
	}
}

// TestVerifiedHeadersCached: a header verified once (as when a peer
// announces it) is not verified again (as when geth's InsertChain asks), so
// its proof is checked once; a refused header is checked every time.
func TestVerifiedHeadersCached(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	bad := c.mine(c.bc.Genesis(), blockSpec{btcTimeOffset: 400})
	before := c.engine.ProofChecks()
	for range 3 {
		if err := c.engine.VerifyHeader(c.bc, b1.Header()); err != nil {
			t.Fatal(err)
		}
	}
	c.insert(b1)
	if got := c.engine.ProofChecks() - before; got != 1 {
		t.Errorf("valid header: %d proof checks for 3 verifications and an import, want 1", got)
	}
	before = c.engine.ProofChecks()
	for range 2 {
		if err := c.engine.VerifyHeader(c.bc, bad.Header()); !errors.Is(err, ErrBitcoinTimeDrift) {
			t.Fatalf("bad header: %v", err)
		}
	}
	if got := c.engine.ProofChecks() - before; got != 2 {
		t.Errorf("refused header: %d proof checks for 2 verifications, want 2", got)
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
	c := newTestChain(t, nil)
	for name, mutate := range map[string]func(h *types.Header){
		"BlockAccessListHash": func(h *types.Header) { h.BlockAccessListHash = &common.Hash{} },
		"SlotNumber":          func(h *types.Header) { h.SlotNumber = new(uint64) },
	} {
		b := c.mine(c.bc.Genesis(), blockSpec{mutate: mutate})
		if err := c.engine.VerifyHeader(c.bc, b.Header()); !errors.Is(err, ErrForkFields) {
			t.Errorf("%s set: %v, want %v", name, err, ErrForkFields)
		}
	}
}
