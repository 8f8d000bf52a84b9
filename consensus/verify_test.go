package consensus

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/mergemine"
)

// editSeal re-encodes the seal in h.Extra after edit.
func editSeal(t testing.TB, h *types.Header, edit func(s *Seal)) {
	t.Helper()
	s, err := DecodeSeal(h.Extra)
	if err != nil {
		t.Fatal(err)
	}
	edit(s)
	h.Extra = s.Bytes()
}

// TestHeaderRules mines, on a parent that has a proof, one block per rule
// that breaks that rule alone (the proof is made for the broken header
// unless the rule is about the seal or the proof), and checks that it is
// refused with the rule's own error by VerifyHeader, by VerifyHeaders and
// by an import through fork choice, which leaves nothing behind.
func TestHeaderRules(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	c.insert(b1)
	want, err := c.engine.NextDifficulty(c.bc, b1.Header())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		spec blockSpec
		want error
		also error // a second error the first wraps
	}{
		{"extra above max size", blockSpec{postSeal: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Proof.MerkleProof = make([]byte, testParams.MaxExtraSize) })
		}}, ErrExtraTooLarge, nil},
		{"malformed seal: trailing byte", blockSpec{postSeal: func(h *types.Header) { h.Extra = append(h.Extra, 0) }}, ErrMalformedSeal, nil},
		{"malformed seal: vanity too long", blockSpec{postSeal: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Vanity = make([]byte, MaxVanitySize+1) })
		}}, ErrVanityTooLong, ErrMalformedSeal},
		{"difficulty not 0", blockSpec{mutate: func(h *types.Header) { h.Difficulty = big.NewInt(1) }}, ErrNonZeroDifficulty, nil},
		{"nonce not 0", blockSpec{mutate: func(h *types.Header) { h.Nonce = types.EncodeNonce(1) }}, ErrNonZeroNonce, nil},
		{"uncle hash", blockSpec{mutate: func(h *types.Header) { h.UncleHash = common.Hash{1} }}, ErrUncles, nil},
		{"time equal to parent's", blockSpec{time: b1.Time()}, ErrTimestamp, nil},
		{"time before parent's", blockSpec{time: b1.Time() - 1}, ErrTimestamp, nil},
		{"too far in the future", blockSpec{time: uint64(time.Now().Unix()) + testParams.MaxFutureDrift + 600}, ErrFutureBlock, gethconsensus.ErrFutureBlock},
		{"gas limit jump", blockSpec{mutate: func(h *types.Header) { h.GasLimit *= 2 }}, ErrInvalidGasLimit, nil},
		{"gas limit above 2^63-1", blockSpec{mutate: func(h *types.Header) { h.GasLimit = params.MaxGasLimit + 1 }}, ErrInvalidGasLimit, nil},
		{"gas used above limit", blockSpec{mutate: func(h *types.Header) { h.GasUsed = h.GasLimit + 1 }}, ErrInvalidGasUsed, nil},
		{"wrong base fee", blockSpec{mutate: func(h *types.Header) { h.BaseFee = new(big.Int).Add(h.BaseFee, common.Big1) }}, ErrInvalidBaseFee, nil},
		{"missing requests hash", blockSpec{mutate: func(h *types.Header) { h.RequestsHash = nil }}, ErrForkFields, nil},
		{"missing withdrawals hash", blockSpec{mutate: func(h *types.Header) { h.WithdrawalsHash = nil }}, ErrForkFields, nil},
		{"missing beacon root", blockSpec{mutate: func(h *types.Header) { h.ParentBeaconRoot = nil }}, ErrForkFields, nil},
		{"blob gas used", blockSpec{mutate: func(h *types.Header) { h.BlobGasUsed = ptr(uint64(params.BlobTxBlobGasPerBlob)) }}, ErrBlobGas, nil},
		{"excess blob gas", blockSpec{mutate: func(h *types.Header) { h.ExcessBlobGas = ptr(uint64(1)) }}, ErrBlobGas, nil},
		{"missing blob gas fields", blockSpec{mutate: func(h *types.Header) { h.BlobGasUsed = nil }}, ErrBlobGas, nil},
		{"wrong mix digest", blockSpec{mutate: func(h *types.Header) { h.MixDigest = common.Hash{0xde} }}, ErrInvalidMixDigest, nil},
		{"difficulty below the DAA's", blockSpec{mutate: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Difficulty = new(big.Int).Sub(want, common.Big1) })
		}}, ErrWrongDifficulty, nil},
		{"difficulty above the DAA's", blockSpec{mutate: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Difficulty = new(big.Int).Add(want, common.Big1) })
		}}, ErrWrongDifficulty, nil},
		{"no proof", blockSpec{unsealed: true}, ErrMissingProof, nil},
		{"proof for another block", blockSpec{postSeal: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Proof.Coinbase[len(s.Proof.Coinbase)-1] ^= 1 })
		}}, ErrInvalidProof, mergemine.ErrMerkleRootMismatch},
		{"proof with a short Bitcoin header", blockSpec{postSeal: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Proof.BitcoinHeader = s.Proof.BitcoinHeader[:79] })
		}}, ErrInvalidProof, mergemine.ErrHeaderSize},
		{"Bitcoin time 300 s later", blockSpec{btcTimeOffset: 300}, ErrBitcoinTimeDrift, nil},
		{"Bitcoin time 300 s earlier", blockSpec{btcTimeOffset: -300}, ErrBitcoinTimeDrift, nil},
	}
	head := c.bc.CurrentBlock().Hash()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := c.mine(b1, tt.spec)
			check := func(how string, err error) {
				t.Helper()
				if !errors.Is(err, tt.want) || (tt.also != nil && !errors.Is(err, tt.also)) {
					t.Errorf("%s: got %v, want %v", how, err, tt.want)
				}
			}
			check("VerifyHeader", c.engine.VerifyHeader(c.bc, bad.Header()))
			abort, results := c.engine.VerifyHeaders(c.bc, []*types.Header{bad.Header()})
			check("VerifyHeaders", <-results)
			close(abort)
			n, err := c.fc.Insert([]*types.Block{bad})
			check("Insert", err)
			if n != 0 || c.bc.CurrentBlock().Hash() != head || c.bc.HasBlock(bad.Hash(), bad.NumberU64()) || c.fc.WorkOf(bad.Hash()) != nil {
				t.Errorf("refused block left a trace: n=%d head moved=%v stored=%v work=%v",
					n, c.bc.CurrentBlock().Hash() != head, c.bc.HasBlock(bad.Hash(), bad.NumberU64()), c.fc.WorkOf(bad.Hash()))
			}
		})
	}

	// Blocks at the edges of the rules pass, and import.
	valid := []struct {
		name string
		spec blockSpec
	}{
		{"plain", blockSpec{}},
		{"Bitcoin time 299 s later", blockSpec{btcTimeOffset: 299}},
		{"Bitcoin time 299 s earlier", blockSpec{btcTimeOffset: -299}},
		{"32-byte vanity", blockSpec{mutate: func(h *types.Header) {
			editSeal(t, h, func(s *Seal) { s.Vanity = make([]byte, MaxVanitySize) })
		}}},
		{"gas limit up by parent/1024 - 1", blockSpec{mutate: func(h *types.Header) { h.GasLimit = b1.GasLimit() + b1.GasLimit()/1024 - 1 }}},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			b := c.mine(b1, tt.spec)
			if err := c.engine.VerifyHeader(c.bc, b.Header()); err != nil {
				t.Fatalf("VerifyHeader: %v", err)
			}
			c.insert(b)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestProofTag checks that a proof committing under another network's tag
// does not count.
func TestProofTag(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	other := testParams
	other.Tag = "OTHERNET:"
	err := New(other).VerifyHeader(c.bc, b1.Header())
	if !errors.Is(err, ErrInvalidProof) || !errors.Is(err, mergemine.ErrTagMissing) {
		t.Fatalf("got %v, want %v", err, mergemine.ErrTagMissing)
	}
}

// TestBodyRules checks the rules on the body: no uncles, no blob
// transactions, whether or not the header admits to blob gas.
func TestBodyRules(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	c.insert(b1)
	cfg := testChainConfig()
	blobTx, err := types.SignNewTx(keyA, types.LatestSigner(cfg), &types.BlobTx{
		ChainID:    uint256.MustFromBig(cfg.ChainID),
		GasTipCap:  uint256.NewInt(params.GWei),
		GasFeeCap:  uint256.NewInt(10 * params.GWei),
		Gas:        21_000,
		To:         addrB,
		BlobFeeCap: uint256.NewInt(params.GWei),
		BlobHashes: []common.Hash{{0x01}},
	})
	if err != nil {
		t.Fatal(err)
	}
	blobBody := &types.Body{Transactions: []*types.Transaction{blobTx}, Withdrawals: []*types.Withdrawal{}}
	plain := c.mine(b1, blockSpec{})
	tests := []struct {
		name  string
		block *types.Block
		want  error
	}{
		{"uncle in body", plain.WithBody(types.Body{Uncles: []*types.Header{b1.Header()}, Withdrawals: []*types.Withdrawal{}}), ErrUncles},
		{"blob transaction", c.mine(b1, blockSpec{body: blobBody}), ErrBlobTransaction},
		{"blob transaction with its blob gas", c.mine(b1, blockSpec{body: blobBody, mutate: func(h *types.Header) {
			h.BlobGasUsed = ptr(uint64(params.BlobTxBlobGasPerBlob))
		}}), ErrBlobGas},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := c.fc.Insert([]*types.Block{tt.block})
			if n != 0 || !errors.Is(err, tt.want) {
				t.Fatalf("Insert: %d, %v; want %v", n, err, tt.want)
			}
			if c.bc.HasBlock(tt.block.Hash(), tt.block.NumberU64()) {
				t.Error("refused block stored")
			}
		})
	}
	if err := c.engine.VerifyUncles(c.bc, plain); err != nil {
		t.Errorf("VerifyUncles on a plain block: %v", err)
	}
	if err := c.engine.VerifyUncles(c.bc, tests[1].block); !errors.Is(err, ErrBlobTransaction) {
		t.Errorf("VerifyUncles on a blob block: %v", err)
	}
}

// TestVerifyHeadersBatch verifies a peer's batch whose parents are not yet
// stored: the headers link to each other, results come in order, and a bad
// header fails alone, its child then lacking a known parent.
func TestVerifyHeadersBatch(t *testing.T) {
	peer := newTestChain(t, nil)
	blocks := peer.extend(peer.bc.Genesis(), 8, testParams.TargetSpacing)
	local := newTestChain(t, nil)

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
