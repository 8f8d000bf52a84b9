package chain_test

import (
	"errors"
	"github.com/mmgeth/mmgeth/chain"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// editSeal re-encodes the seal in h.Extra after edit.
func editSeal(t testing.TB, h *types.Header, edit func(s *consensus.Seal)) {
	t.Helper()
	s, err := consensus.DecodeSeal(h.Extra)
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
	want, err := c.engine.NextDifficulty(b1.Header())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		spec blockSpec
		want error
		also error // a second error the first wraps
	}{
		{"extra above max size", blockSpec{PostSeal: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Proof.MerkleProof = make([]byte, testParams.MaxExtraSize) })
		}}, consensus.ErrExtraTooLarge, nil},
		{"malformed seal: trailing byte", blockSpec{PostSeal: func(h *types.Header) { h.Extra = append(h.Extra, 0) }}, consensus.ErrMalformedSeal, nil},
		{"malformed seal: vanity too long", blockSpec{PostSeal: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Vanity = make([]byte, consensus.MaxVanitySize+1) })
		}}, consensus.ErrVanityTooLong, consensus.ErrMalformedSeal},
		{"difficulty not 0", blockSpec{Mutate: func(h *types.Header) { h.Difficulty = big.NewInt(1) }}, consensus.ErrNonZeroDifficulty, nil},
		{"nonce not 0", blockSpec{Mutate: func(h *types.Header) { h.Nonce = types.EncodeNonce(1) }}, consensus.ErrNonZeroNonce, nil},
		{"uncle hash", blockSpec{Mutate: func(h *types.Header) { h.UncleHash = common.Hash{1} }}, consensus.ErrUncles, nil},
		{"time equal to parent's", blockSpec{Time: b1.Time()}, consensus.ErrTimestamp, nil},
		{"time before parent's", blockSpec{Time: b1.Time() - 1}, consensus.ErrTimestamp, nil},
		{"too far in the future", blockSpec{Time: uint64(time.Now().Unix()) + testParams.MaxFutureDrift + 600}, consensus.ErrFutureBlock, gethconsensus.ErrFutureBlock},
		{"gas limit jump", blockSpec{Mutate: func(h *types.Header) { h.GasLimit *= 2 }}, consensus.ErrInvalidGasLimit, nil},
		{"gas limit above 2^63-1", blockSpec{Mutate: func(h *types.Header) { h.GasLimit = params.MaxGasLimit + 1 }}, consensus.ErrInvalidGasLimit, nil},
		{"gas used above limit", blockSpec{Mutate: func(h *types.Header) { h.GasUsed = h.GasLimit + 1 }}, consensus.ErrInvalidGasUsed, nil},
		{"wrong base fee", blockSpec{Mutate: func(h *types.Header) { h.BaseFee = new(big.Int).Add(h.BaseFee, common.Big1) }}, consensus.ErrInvalidBaseFee, nil},
		{"missing requests hash", blockSpec{Mutate: func(h *types.Header) { h.RequestsHash = nil }}, consensus.ErrForkFields, nil},
		{"missing withdrawals hash", blockSpec{Mutate: func(h *types.Header) { h.WithdrawalsHash = nil }}, consensus.ErrForkFields, nil},
		{"missing beacon root", blockSpec{Mutate: func(h *types.Header) { h.ParentBeaconRoot = nil }}, consensus.ErrForkFields, nil},
		{"blob gas used", blockSpec{Mutate: func(h *types.Header) { h.BlobGasUsed = ptr(uint64(params.BlobTxBlobGasPerBlob)) }}, consensus.ErrBlobGas, nil},
		{"excess blob gas", blockSpec{Mutate: func(h *types.Header) { h.ExcessBlobGas = ptr(uint64(1)) }}, consensus.ErrBlobGas, nil},
		{"missing blob gas fields", blockSpec{Mutate: func(h *types.Header) { h.BlobGasUsed = nil }}, consensus.ErrBlobGas, nil},
		{"wrong mix digest", blockSpec{Mutate: func(h *types.Header) { h.MixDigest = common.Hash{0xde} }}, consensus.ErrInvalidMixDigest, nil},
		{"difficulty below the DAA's", blockSpec{Mutate: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Difficulty = new(big.Int).Sub(want, common.Big1) })
		}}, consensus.ErrWrongDifficulty, nil},
		{"difficulty above the DAA's", blockSpec{Mutate: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Difficulty = new(big.Int).Add(want, common.Big1) })
		}}, consensus.ErrWrongDifficulty, nil},
		{"no proof", blockSpec{Unsealed: true}, consensus.ErrMissingProof, nil},
		{"proof for another block", blockSpec{PostSeal: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Proof.Coinbase[len(s.Proof.Coinbase)-1] ^= 1 })
		}}, consensus.ErrInvalidProof, mergemine.ErrMerkleRootMismatch},
		{"proof with a short Bitcoin header", blockSpec{PostSeal: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Proof.BitcoinHeader = s.Proof.BitcoinHeader[:79] })
		}}, consensus.ErrInvalidProof, mergemine.ErrHeaderSize},
		{"withdrawal of 1 BTC", blockSpec{Body: &types.Body{Withdrawals: []*types.Withdrawal{oneBTCWithdrawal}}}, consensus.ErrWithdrawals, nil},
		{"parent beacon root not zero", blockSpec{Mutate: func(h *types.Header) { h.ParentBeaconRoot = &common.Hash{1} }}, consensus.ErrParentBeaconRoot, nil},
		{"Bitcoin time 300 s later", blockSpec{BitcoinTimeOffset: 300}, consensus.ErrBitcoinTimeDrift, nil},
		{"Bitcoin time 300 s earlier", blockSpec{BitcoinTimeOffset: -300}, consensus.ErrBitcoinTimeDrift, nil},
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
			var fault *chain.RuleError
			if isFault := errors.As(err, &fault); isFault == errors.Is(err, gethconsensus.ErrFutureBlock) {
				t.Errorf("Insert: chain.RuleError %v for %v; a block from the future is the receiver's clock's matter, every other rule the block's fault", isFault, err)
			}
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
		{"Bitcoin time 299 s later", blockSpec{BitcoinTimeOffset: 299}},
		{"Bitcoin time 299 s earlier", blockSpec{BitcoinTimeOffset: -299}},
		{"32-byte vanity", blockSpec{Mutate: func(h *types.Header) {
			editSeal(t, h, func(s *consensus.Seal) { s.Vanity = make([]byte, consensus.MaxVanitySize) })
		}}},
		{"gas limit up by parent/1024 - 1", blockSpec{Mutate: func(h *types.Header) { h.GasLimit = b1.GasLimit() + b1.GasLimit()/1024 - 1 }}},
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

// oneBTCWithdrawal would credit 1 BTC (amounts are in gwei) out of nothing
// if any block carrying it were accepted.
var oneBTCWithdrawal = &types.Withdrawal{Index: 0, Validator: 0, Address: addrB, Amount: 1_000_000_000}

// TestBodyRules checks the rules on the body: no uncles, no blob
// transactions, whether or not the header admits to blob gas.
func TestBodyRules(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	c.insert(b1)
	cfg := c.bc.Config()
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
		{"withdrawal in the body only", plain.WithBody(types.Body{Withdrawals: []*types.Withdrawal{oneBTCWithdrawal}}), consensus.ErrWithdrawals},
		{"uncle in body", plain.WithBody(types.Body{Uncles: []*types.Header{b1.Header()}, Withdrawals: []*types.Withdrawal{}}), consensus.ErrUncles},
		{"blob transaction", c.mine(b1, blockSpec{Body: blobBody}), consensus.ErrBlobTransaction},
		{"blob transaction with its blob gas", c.mine(b1, blockSpec{Body: blobBody, Mutate: func(h *types.Header) {
			h.BlobGasUsed = ptr(uint64(params.BlobTxBlobGasPerBlob))
		}}), consensus.ErrBlobGas},
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
	if err := c.engine.VerifyUncles(c.bc, tests[2].block); !errors.Is(err, consensus.ErrBlobTransaction) {
		t.Errorf("VerifyUncles on a blob block: %v", err)
	}
}
