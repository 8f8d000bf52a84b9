package consensus_test

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/internal/testchain"
	"github.com/mmgeth/mmgeth/mergemine"
)

func TestPrepare(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	bc := c.BlockChain()
	genesis := bc.Genesis()
	b1 := c.Build(genesis, testchain.Block{Time: testchain.EngineGenesisTime + 1}) // 9 s early
	c.MustInsert(b1)
	b1Seal, err := consensus.DecodeSeal(b1.Extra())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		parent     *types.Block
		vanity     []byte
		mix        common.Hash
		difficulty *big.Int
	}{
		{"child of genesis", genesis, nil, common.Hash{}, big.NewInt(testchain.EngineGenesisDifficulty)},
		// 4000 * 2^(9/60) = 4438.4; the exponent -9830.4/65536 truncates
		// to -9830/65536, and the integer target gives 4437.
		{"child of an early block", b1, []byte("pool"), common.Hash(mergemine.HeaderHash(b1Seal.Proof.BitcoinHeader)), big.NewInt(4437)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &types.Header{
				ParentHash: tt.parent.Hash(),
				Number:     new(big.Int).Add(tt.parent.Number(), common.Big1),
				Time:       tt.parent.Time() + 10,
				Extra:      tt.vanity,
				Difficulty: big.NewInt(99),
				Nonce:      types.EncodeNonce(99),
				MixDigest:  common.Hash{99},
			}
			if err := c.Engine().Prepare(bc, h); err != nil {
				t.Fatal(err)
			}
			s, err := consensus.DecodeSeal(h.Extra)
			if err != nil {
				t.Fatalf("prepared seal: %v", err)
			}
			if h.Difficulty.Sign() != 0 || h.Nonce != (types.BlockNonce{}) || h.MixDigest != tt.mix {
				t.Errorf("difficulty %v, nonce %x, mix %x; want 0, 0, %x", h.Difficulty, h.Nonce, h.MixDigest, tt.mix)
			}
			if s.Proof != nil || s.Difficulty.Cmp(tt.difficulty) != 0 || !bytes.Equal(s.Vanity, tt.vanity) {
				t.Errorf("seal %+v; want difficulty %v, vanity %q, no proof", s, tt.difficulty, tt.vanity)
			}
			if consensus.SealHash(h) != h.Hash() {
				t.Error("a template's seal hash is not its hash")
			}
		})
	}

	t.Run("vanity too long", func(t *testing.T) {
		h := &types.Header{ParentHash: genesis.Hash(), Number: big.NewInt(1), Extra: make([]byte, consensus.MaxVanitySize+1)}
		if err := c.Engine().Prepare(bc, h); !errors.Is(err, consensus.ErrVanityTooLong) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unknown parent", func(t *testing.T) {
		h := &types.Header{ParentHash: common.Hash{1}, Number: big.NewInt(1)}
		if err := c.Engine().Prepare(bc, h); !errors.Is(err, gethconsensus.ErrUnknownAncestor) {
			t.Errorf("got %v", err)
		}
	})
}

// TestEngineFixedAnswers covers the Engine methods that do not depend on
// the chain.
func TestEngineFixedAnswers(t *testing.T) {
	e := consensus.New(testchain.EngineParams, testchain.NewEngineNet(t, nil).BlockChain().Genesis().Header())
	h := &types.Header{Coinbase: common.Address{7}, Number: big.NewInt(1), Extra: (&consensus.Seal{Version: 1, Difficulty: big.NewInt(5)}).Bytes()}
	if a, err := e.Author(h); err != nil || a != h.Coinbase {
		t.Errorf("Author = %x, %v", a, err)
	}
	if err := e.Seal(nil, types.NewBlockWithHeader(h), nil, nil); !errors.Is(err, consensus.ErrSealNotSupported) {
		t.Errorf("Seal = %v", err)
	}
	if d := e.CalcDifficulty(nil, 0, h); d.Sign() != 0 {
		t.Errorf("CalcDifficulty = %v", d)
	}
	if e.SealHash(h) != consensus.SealHash(h) {
		t.Error("Engine.SealHash differs from SealHash")
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	p := e.Params()
	p.MinDifficulty.SetInt64(1)
	if e.Params().MinDifficulty.Cmp(testchain.EngineParams.MinDifficulty) != 0 {
		t.Error("Params exposes the engine's MinDifficulty")
	}
}

func TestParamsValidate(t *testing.T) {
	edit := func(f func(p *consensus.Params)) consensus.Params {
		p := testchain.EngineParams
		f(&p)
		return p
	}
	tests := []struct {
		name  string
		p     consensus.Params
		valid bool
	}{
		{"test network", testchain.EngineParams, true},
		{"no tag", edit(func(p *consensus.Params) { p.Tag = "" }), false},
		{"no spacing", edit(func(p *consensus.Params) { p.TargetSpacing = 0 }), false},
		{"no half-life", edit(func(p *consensus.Params) { p.HalfLife = 0 }), false},
		{"no min difficulty", edit(func(p *consensus.Params) { p.MinDifficulty = nil }), false},
		{"zero min difficulty", edit(func(p *consensus.Params) { p.MinDifficulty = new(big.Int) }), false},
		{"min difficulty above 2^256", edit(func(p *consensus.Params) { p.MinDifficulty = new(big.Int).Lsh(big.NewInt(1), 257) }), false},
		{"no extra size", edit(func(p *consensus.Params) { p.MaxExtraSize = 0 }), false},
		{"drift checks off", edit(func(p *consensus.Params) { p.MaxFutureDrift, p.MaxBitcoinTimeDrift = 0, 0 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.valid != (err == nil) || (err != nil && !errors.Is(err, consensus.ErrInvalidParams)) {
				t.Errorf("Validate = %v, want valid=%v", err, tt.valid)
			}
		})
	}
}

// TestInvalidParamsRefuseEverything: an engine built from bad parameters
// does not panic; it refuses every header and template.
func TestInvalidParamsRefuseEverything(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	bc := c.BlockChain()
	b1 := c.Build(bc.Genesis(), testchain.Block{})
	bad := consensus.New(consensus.Params{}, bc.Genesis().Header())
	if err := bad.VerifyHeader(bc, b1.Header()); !errors.Is(err, consensus.ErrInvalidParams) {
		t.Errorf("VerifyHeader = %v", err)
	}
	_, results := bad.VerifyHeaders(bc, []*types.Header{b1.Header()})
	if err := <-results; !errors.Is(err, consensus.ErrInvalidParams) {
		t.Errorf("VerifyHeaders = %v", err)
	}
	if err := bad.Prepare(bc, &types.Header{ParentHash: bc.Genesis().Hash(), Number: big.NewInt(1)}); !errors.Is(err, consensus.ErrInvalidParams) {
		t.Errorf("Prepare = %v", err)
	}
	if _, err := bad.NextDifficulty(bc.Genesis().Header()); !errors.Is(err, consensus.ErrInvalidParams) {
		t.Errorf("NextDifficulty = %v", err)
	}
}

// TestDifficultyFollowsBlockTimes checks the DAA on a real chain: blocks on
// schedule keep the genesis difficulty, late ones lower it down to the
// floor (TestPrepare has an early one raise it).
func TestDifficultyFollowsBlockTimes(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	steps := []struct {
		offset uint64 // block time - genesis time
		want   int64  // difficulty of the next block
	}{
		{10, 4000},  // on schedule
		{20, 4000},  // on schedule
		{90, 2000},  // one half-life late
		{220, 1000}, // three half-lives late: the floor (500 < 1000)
	}
	parent := c.BlockChain().Genesis()
	for _, s := range steps {
		b := c.Build(parent, testchain.Block{Time: testchain.EngineGenesisTime + s.offset})
		c.MustInsert(b)
		got, err := c.Engine().NextDifficulty(b.Header())
		if err != nil {
			t.Fatal(err)
		}
		if got.Int64() != s.want {
			t.Fatalf("after block at +%d s: difficulty %v, want %d", s.offset, got, s.want)
		}
		parent = b
	}
}
