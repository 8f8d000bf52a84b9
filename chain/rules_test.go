package chain_test

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestRuleBreakersRefused takes one block per header and body rule
// (testchain.RuleBreakers), each breaking that rule alone, and checks that
// VerifyHeader and VerifyHeaders refuse it with the rule's error (header
// rules), and that the chain's Insert does too, as the block's fault, with
// nothing stored and the head and balances unchanged. The node's tests send
// the same blocks from a peer and in a chain file.
func TestRuleBreakersRefused(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	c.insert(b1)
	head := c.bc.CurrentBlock().Hash()
	st, err := c.bc.State()
	if err != nil {
		t.Fatal(err)
	}
	for _, br := range c.RuleBreakers(b1) {
		t.Run(br.Name, func(t *testing.T) {
			check := func(how string, err error) {
				t.Helper()
				if !errors.Is(err, br.Want) || (br.Also != nil && !errors.Is(err, br.Also)) {
					t.Errorf("%s: got %v, want %v", how, err, br.Want)
				}
			}
			if !br.BodyOnly {
				check("VerifyHeader", c.engine.VerifyHeader(c.bc, br.Block.Header()))
				abort, results := c.engine.VerifyHeaders(c.bc, []*types.Header{br.Block.Header()})
				check("VerifyHeaders", <-results)
				close(abort)
			}
			n, err := c.fc.Insert([]*types.Block{br.Block})
			check("Insert", err)
			var fault *chain.RuleError
			if isFault := errors.As(err, &fault); isFault == errors.Is(err, gethconsensus.ErrFutureBlock) {
				t.Errorf("Insert: RuleError %v for %v; a block from the future is the receiver's clock's matter, every other rule the block's fault", isFault, err)
			}
			if n != 0 || c.bc.CurrentBlock().Hash() != head || c.bc.HasBlock(br.Block.Hash(), br.Block.NumberU64()) || c.fc.WorkOf(br.Block.Hash()) != nil {
				t.Errorf("refused block left a trace: n=%d head moved=%v stored=%v work=%v",
					n, c.bc.CurrentBlock().Hash() != head, c.bc.HasBlock(br.Block.Hash(), br.Block.NumberU64()), c.fc.WorkOf(br.Block.Hash()))
			}
			now, err := c.bc.State()
			if err != nil {
				t.Fatal(err)
			}
			for _, addr := range []common.Address{addrA, addrB, testchain.OneBTCWithdrawal.Address} {
				if !now.GetBalance(addr).Eq(st.GetBalance(addr)) {
					t.Errorf("balance of %s changed", addr)
				}
			}
		})
	}
}

// TestRuleEdgesAccepted: blocks at the edges of the rules pass and import.
func TestRuleEdgesAccepted(t *testing.T) {
	c := newTestChain(t, nil)
	b1 := c.mine(c.bc.Genesis(), blockSpec{})
	c.insert(b1)
	valid := []struct {
		name string
		spec blockSpec
	}{
		{"plain", blockSpec{}},
		{"Bitcoin time 299 s later", blockSpec{BitcoinTimeOffset: 299}},
		{"Bitcoin time 299 s earlier", blockSpec{BitcoinTimeOffset: -299}},
		{"32-byte vanity", blockSpec{Mutate: func(h *types.Header) {
			s, err := consensus.DecodeSeal(h.Extra)
			if err != nil {
				t.Fatal(err)
			}
			s.Vanity = make([]byte, consensus.MaxVanitySize)
			h.Extra = s.Bytes()
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
	if err := c.engine.VerifyUncles(c.bc, b1); err != nil {
		t.Errorf("VerifyUncles on a plain block: %v", err)
	}
}
