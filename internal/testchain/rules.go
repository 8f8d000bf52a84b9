package testchain

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// Breaker is a block that breaks one consensus rule and nothing else: the
// proof is made for the broken header unless the rule is about the seal or
// the proof itself.
type Breaker struct {
	Name  string
	Block *types.Block
	// Want is the rule's error; Also, if set, a second error it wraps.
	Want, Also error
	// BodyOnly marks a block whose header is valid: only the body breaks a
	// rule, so header verification alone accepts it.
	BodyOnly bool
	// InProcess marks a header that no encoded block can carry: RLP writes a
	// nil optional field followed by set ones as the zero value, so on the
	// wire or in a file this header is a different, valid one. The rule
	// still guards callers that build headers in process.
	InProcess bool
}

// OneBTCWithdrawal would credit 1 BTC (amounts are in gwei) out of nothing
// if a block carrying it were accepted.
var OneBTCWithdrawal = &types.Withdrawal{Index: 0, Validator: 0, Address: common.Address{0xb7}, Amount: 1_000_000_000}

// RuleBreakers builds one Breaker per header and body rule of the engine
// that the network's parameters enable, each a child of parent, which must
// be stored with its state. Every entry path into the chain must refuse
// each of them with its rule's error and store nothing.
func (c *Chain) RuleBreakers(parent *types.Block) []Breaker {
	c.t.Helper()
	mm := c.Spec.MergeMining
	want, err := c.Engine().NextDifficulty(parent.Header())
	if err != nil {
		c.t.Fatal(err)
	}
	nonceErr := consensus.ErrNonZeroNonce
	if mm.Anchor == consensus.AnchorFirstBlock {
		nonceErr = consensus.ErrAnchorTime
	}
	editSeal := func(h *types.Header, edit func(s *consensus.Seal)) {
		s, err := consensus.DecodeSeal(h.Extra)
		if err != nil {
			c.t.Fatal(err)
		}
		edit(s)
		h.Extra = s.Bytes()
	}
	mutate := func(f func(h *types.Header)) Block { return Block{Mutate: f} }
	postSeal := func(f func(s *consensus.Seal)) Block {
		return Block{PostSeal: func(h *types.Header) { editSeal(h, f) }}
	}
	type rule struct {
		name       string
		spec       Block
		want, also error
	}
	rules := []rule{
		{"extra above max size", postSeal(func(s *consensus.Seal) { s.Proof.MerkleProof = make([]byte, mm.MaxExtraSize) }), consensus.ErrExtraTooLarge, nil},
		{"malformed seal: trailing byte", Block{PostSeal: func(h *types.Header) { h.Extra = append(h.Extra, 0) }}, consensus.ErrMalformedSeal, nil},
		{"malformed seal: vanity too long", postSeal(func(s *consensus.Seal) { s.Vanity = make([]byte, consensus.MaxVanitySize+1) }), consensus.ErrVanityTooLong, consensus.ErrMalformedSeal},
		{"difficulty not 0", mutate(func(h *types.Header) { h.Difficulty = big.NewInt(1) }), consensus.ErrNonZeroDifficulty, nil},
		{"nonce not the rule's", mutate(func(h *types.Header) { h.Nonce = types.EncodeNonce(h.Nonce.Uint64() + 1) }), nonceErr, nil},
		{"malformed seal: empty ops list written out", Block{PostSeal: func(h *types.Header) {
			// [..., proof] and an empty Ops list: the same seal, encoded a
			// second way.
			h.Extra = rlpListWithEmpty(c.t, h.Extra)
		}}, consensus.ErrMalformedSeal, nil},
		{"malformed dev operation", Block{PostSeal: func(h *types.Header) {
			// Seal.Bytes encodes what DecodeSeal refuses.
			s, err := consensus.DecodeSeal(h.Extra)
			if err != nil {
				c.t.Fatal(err)
			}
			s.Ops = []consensus.DevOp{{Kind: consensus.OpSetBalance, Address: common.Address{1}, Value: []byte{0, 1}}}
			h.Extra = s.Bytes()
		}}, consensus.ErrMalformedDevOp, consensus.ErrMalformedSeal},
		{"uncle hash", mutate(func(h *types.Header) { h.UncleHash = common.Hash{1} }), consensus.ErrUncles, nil},
		{"time equal to parent's", mutate(func(h *types.Header) { h.Time = parent.Time() }), consensus.ErrTimestamp, nil},
		{"gas limit jump", mutate(func(h *types.Header) { h.GasLimit *= 2 }), consensus.ErrInvalidGasLimit, nil},
		{"gas limit above 2^63-1", mutate(func(h *types.Header) { h.GasLimit = params.MaxGasLimit + 1 }), consensus.ErrInvalidGasLimit, nil},
		{"gas used above limit", mutate(func(h *types.Header) { h.GasUsed = h.GasLimit + 1 }), consensus.ErrInvalidGasUsed, nil},
		{"wrong base fee", mutate(func(h *types.Header) { h.BaseFee = new(big.Int).Add(h.BaseFee, common.Big1) }), consensus.ErrInvalidBaseFee, nil},
		{"missing requests hash", mutate(func(h *types.Header) { h.RequestsHash = nil }), consensus.ErrForkFields, nil},
		{"missing withdrawals hash", mutate(func(h *types.Header) { h.WithdrawalsHash = nil }), consensus.ErrForkFields, nil},
		{"missing beacon root", mutate(func(h *types.Header) { h.ParentBeaconRoot = nil }), consensus.ErrForkFields, nil},
		{"block access list hash", mutate(func(h *types.Header) { h.BlockAccessListHash = &common.Hash{} }), consensus.ErrForkFields, nil},
		{"slot number", mutate(func(h *types.Header) { h.SlotNumber = new(uint64) }), consensus.ErrForkFields, nil},
		{"blob gas used", mutate(func(h *types.Header) { h.BlobGasUsed = ptr(uint64(params.BlobTxBlobGasPerBlob)) }), consensus.ErrBlobGas, nil},
		{"excess blob gas", mutate(func(h *types.Header) { h.ExcessBlobGas = ptr(uint64(1)) }), consensus.ErrBlobGas, nil},
		{"wrong mix digest", mutate(func(h *types.Header) { h.MixDigest = common.Hash{0xde} }), consensus.ErrInvalidMixDigest, nil},
		{"difficulty below the DAA's", mutate(func(h *types.Header) {
			editSeal(h, func(s *consensus.Seal) { s.Difficulty = new(big.Int).Sub(want, common.Big1) })
		}), consensus.ErrWrongDifficulty, nil},
		{"difficulty above the DAA's", mutate(func(h *types.Header) {
			editSeal(h, func(s *consensus.Seal) { s.Difficulty = new(big.Int).Add(want, common.Big1) })
		}), consensus.ErrWrongDifficulty, nil},
		{"no proof", Block{Unsealed: true}, consensus.ErrMissingProof, nil},
		{"proof for another block", postSeal(func(s *consensus.Seal) { s.Proof.Coinbase[len(s.Proof.Coinbase)-1] ^= 1 }), consensus.ErrInvalidProof, mergemine.ErrMerkleRootMismatch},
		{"proof with a short Bitcoin header", postSeal(func(s *consensus.Seal) { s.Proof.BitcoinHeader = s.Proof.BitcoinHeader[:79] }), consensus.ErrInvalidProof, mergemine.ErrHeaderSize},
		{"withdrawal of 1 BTC", Block{Body: &types.Body{Withdrawals: []*types.Withdrawal{OneBTCWithdrawal}}}, consensus.ErrWithdrawals, nil},
		{"parent beacon root not zero", mutate(func(h *types.Header) { h.ParentBeaconRoot = &common.Hash{1} }), consensus.ErrParentBeaconRoot, nil},
	}
	if !mm.Dev {
		// Dev operations and impersonated transactions, valid on dev
		// networks, are refused everywhere else.
		rules = append(rules, rule{"dev operation on a network that is not dev", mutate(func(h *types.Header) {
			editSeal(h, func(s *consensus.Seal) {
				s.Ops = []consensus.DevOp{consensus.SetBalanceOp(common.Address{0xb7}, uint256.NewInt(1e18))}
			})
		}), consensus.ErrDevOperations, nil})
	} else {
		rules = append(rules,
			rule{"gas limit not the declared one", mutate(func(h *types.Header) {
				editSeal(h, func(s *consensus.Seal) { s.Ops = []consensus.DevOp{consensus.GasLimitOp(h.GasLimit * 2)} })
			}), consensus.ErrInvalidGasLimit, nil},
			rule{"base fee not the declared one", mutate(func(h *types.Header) {
				editSeal(h, func(s *consensus.Seal) { s.Ops = []consensus.DevOp{consensus.BaseFeeOp(uint256.NewInt(7))} })
			}), consensus.ErrInvalidBaseFee, nil})
	}
	if drift := mm.MaxFutureDrift; drift > 0 {
		rules = append(rules, rule{"too far in the future", Block{Time: uint64(time.Now().Unix()) + drift + 600}, consensus.ErrFutureBlock, gethconsensus.ErrFutureBlock})
	}
	if drift := int64(mm.MaxBitcoinTimeDrift); drift > 0 {
		rules = append(rules,
			rule{"Bitcoin time at the drift bound, later", Block{BitcoinTimeOffset: drift}, consensus.ErrBitcoinTimeDrift, nil},
			rule{"Bitcoin time at the drift bound, earlier", Block{BitcoinTimeOffset: -drift}, consensus.ErrBitcoinTimeDrift, nil})
	}
	var out []Breaker
	for _, r := range rules {
		out = append(out, Breaker{Name: r.name, Block: c.Build(parent, r.spec), Want: r.want, Also: r.also})
	}
	out = append(out, Breaker{Name: "missing blob gas fields", Block: c.Build(parent, mutate(func(h *types.Header) { h.BlobGasUsed = nil })),
		Want: consensus.ErrBlobGas, InProcess: true})

	// Body rules: the header is valid and commits to an empty body; the
	// body breaks the rule (a peer's body, or a file's, can be anything).
	plain := c.Build(parent, Block{})
	blobTx := c.blobTx()
	blobBody := &types.Body{Transactions: []*types.Transaction{blobTx}, Withdrawals: []*types.Withdrawal{}}
	impersonated := c.impersonatedTx(common.Address{0xb7})
	if !mm.Dev {
		out = append(out, Breaker{Name: "impersonated transaction on a network that is not dev",
			Block: c.Build(parent, Block{Body: &types.Body{Transactions: []*types.Transaction{impersonated}, Withdrawals: []*types.Withdrawal{}}}),
			Want:  consensus.ErrImpersonation, BodyOnly: true})
	}
	// An impersonation signature whose R is no address is refused on every
	// network.
	v, r, s := impersonated.RawSignatureValues()
	badSig := make([]byte, 65)
	new(big.Int).Add(r, new(big.Int).Lsh(common.Big1, 200)).FillBytes(badSig[:32])
	s.FillBytes(badSig[32:64])
	badSig[64] = byte(v.Uint64())
	malformed, err := impersonated.WithSignature(types.LatestSigner(c.BlockChain().Config()), badSig)
	if err != nil {
		c.t.Fatal(err)
	}
	out = append(out, Breaker{Name: "malformed impersonation signature",
		Block: c.Build(parent, Block{Body: &types.Body{Transactions: []*types.Transaction{malformed}, Withdrawals: []*types.Withdrawal{}}}),
		Want:  consensus.ErrImpersonation, BodyOnly: true})
	return append(out,
		Breaker{Name: "withdrawal in the body only", Block: plain.WithBody(types.Body{Withdrawals: []*types.Withdrawal{OneBTCWithdrawal}}), Want: consensus.ErrWithdrawals, BodyOnly: true},
		Breaker{Name: "uncle in the body", Block: plain.WithBody(types.Body{Uncles: []*types.Header{parent.Header()}, Withdrawals: []*types.Withdrawal{}}), Want: consensus.ErrUncles, BodyOnly: true},
		Breaker{Name: "blob transaction", Block: c.Build(parent, Block{Body: blobBody}), Want: consensus.ErrBlobTransaction, BodyOnly: true},
		Breaker{Name: "blob transaction with its blob gas", Block: c.Build(parent, Block{Body: blobBody, Mutate: func(h *types.Header) {
			h.BlobGasUsed = ptr(uint64(params.BlobTxBlobGasPerBlob))
		}}), Want: consensus.ErrBlobGas},
	)
}

// impersonatedTx is a transfer from the first dev account with an
// impersonation signature naming from.
func (c *Chain) impersonatedTx(from common.Address) *types.Transaction {
	cfg := c.BlockChain().Config()
	tx, err := consensus.Impersonate(types.NewTx(&types.DynamicFeeTx{
		ChainID:   uint256.MustFromBig(cfg.ChainID).ToBig(),
		GasTipCap: big.NewInt(params.GWei),
		GasFeeCap: big.NewInt(10 * params.GWei),
		Gas:       21_000,
		To:        &common.Address{0xb8},
		Value:     big.NewInt(1),
	}), from, types.LatestSigner(cfg))
	if err != nil {
		c.t.Fatal(err)
	}
	return tx
}

// rlpListWithEmpty appends an empty list to the RLP list extra.
func rlpListWithEmpty(t testing.TB, extra []byte) []byte {
	t.Helper()
	var items []rlp.RawValue
	if err := rlp.DecodeBytes(extra, &items); err != nil {
		t.Fatal(err)
	}
	items = append(items, rlp.EmptyList)
	out, err := rlp.EncodeToBytes(items)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// blobTx is a blob transaction from the first dev account.
func (c *Chain) blobTx() *types.Transaction {
	cfg := c.BlockChain().Config()
	tx, err := types.SignNewTx(c.Keys[0], types.LatestSigner(cfg), &types.BlobTx{
		ChainID:    uint256.MustFromBig(cfg.ChainID),
		GasTipCap:  uint256.NewInt(params.GWei),
		GasFeeCap:  uint256.NewInt(10 * params.GWei),
		Gas:        21_000,
		To:         common.Address{0xb7},
		BlobFeeCap: uint256.NewInt(params.GWei),
		BlobHashes: []common.Hash{{0x01}},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return tx
}

func ptr[T any](v T) *T { return &v }
