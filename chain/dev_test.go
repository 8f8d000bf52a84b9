package chain_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestDevBlocksFollowed builds dev blocks that set state by fiat (every
// kind of dev operation) and carry an impersonated transaction, sends them
// to a second chain as a peer would (RLP-decoded: fresh objects, no cached
// senders) and checks that it verifies, executes and agrees on every state
// root, and that the operations and the impersonated sender took effect.
func TestDevBlocksFollowed(t *testing.T) {
	leader := testchain.New(t, testchain.Options{})
	follower := testchain.New(t, testchain.Options{})
	cfg := leader.BlockChain().Config()

	var (
		whale   = common.HexToAddress("0x00000000000000000000000000000000000a11ce")
		target  = common.HexToAddress("0x000000000000000000000000000000000000b0b0")
		code    = []byte{0x60, 0x2a, 0x60, 0x00, 0x55, 0x00} // PUSH1 42 PUSH1 0 SSTORE STOP
		slot    = common.Hash{31: 7}
		value   = common.Hash{31: 9}
		balance = uint256.MustFromDecimal("5000000000000000000000")
	)
	b1 := leader.Build(leader.HeadBlock(), testchain.Block{Ops: []consensus.DevOp{
		consensus.SetBalanceOp(whale, balance),
		consensus.SetNonceOp(whale, 5),
		consensus.SetCodeOp(target, code),
		consensus.SetStorageOp(target, slot, value),
		consensus.GasLimitOp(60_000_000),
		consensus.BaseFeeOp(uint256.NewInt(params.GWei)),
	}})
	leader.MustInsert(b1)
	tx, err := consensus.Impersonate(types.NewTx(&types.DynamicFeeTx{
		ChainID: cfg.ChainID, Nonce: 5, GasTipCap: big.NewInt(params.GWei), GasFeeCap: big.NewInt(100 * params.GWei),
		Gas: 100_000, To: &target,
	}), whale, types.LatestSigner(cfg))
	if err != nil {
		t.Fatal(err)
	}
	b2 := leader.Build(b1, testchain.Block{Txs: []*types.Transaction{tx}})
	leader.MustInsert(b2)
	if b1.GasLimit() != 60_000_000 || b1.BaseFee().Uint64() != params.GWei {
		t.Fatalf("declared header values not used: gas limit %d, base fee %v", b1.GasLimit(), b1.BaseFee())
	}

	var wire []*types.Block
	for _, b := range []*types.Block{b1, b2} {
		enc, err := rlp.EncodeToBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		var dec types.Block
		if err := rlp.DecodeBytes(enc, &dec); err != nil {
			t.Fatal(err)
		}
		wire = append(wire, &dec)
	}
	follower.MustInsert(wire...)
	if got, want := follower.HeadBlock().Root(), leader.HeadBlock().Root(); got != want || follower.HeadBlock().Hash() != b2.Hash() {
		t.Fatalf("follower head %x root %x, leader head %x root %x", follower.HeadBlock().Hash(), got, b2.Hash(), want)
	}
	st, err := follower.BlockChain().State()
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNonce(whale) != 6 {
		t.Errorf("whale nonce %d, want 6 (set to 5, then its impersonated transaction)", st.GetNonce(whale))
	}
	if st.GetState(target, common.Hash{}) != (common.Hash{31: 42}) || st.GetState(target, slot) != value {
		t.Errorf("target storage: slot 0 %x (the impersonated call's SSTORE), slot 7 %x", st.GetState(target, common.Hash{}), st.GetState(target, slot))
	}
	if !st.GetBalance(whale).Lt(balance) {
		t.Errorf("whale balance %v did not pay the impersonated transaction's gas", st.GetBalance(whale))
	}
	receipt := follower.BlockChain().GetReceiptsByHash(b2.Hash())[0]
	if receipt.Status != types.ReceiptStatusSuccessful {
		t.Errorf("impersonated transaction failed")
	}
}

// TestFirstBlockAnchor runs the regtest network's difficulty adjustment,
// anchored at block 1: blocks 1 and 2 keep the genesis difficulty, every
// header's nonce is block 1's time, a chain on schedule keeps its
// difficulty and one running at three times the target rate sees it rise
// by 2^(2*spacing*n/halfLife), as ASERT says, wherever the genesis time.
func TestFirstBlockAnchor(t *testing.T) {
	spec, err := genesis.Load("regtest")
	if err != nil {
		t.Fatal(err)
	}
	c := testchain.New(t, testchain.Options{Spec: spec})
	mm := spec.MergeMining
	difficulty := func(b *types.Block) *big.Int {
		s, err := consensus.DecodeSeal(b.Extra())
		if err != nil {
			t.Fatal(err)
		}
		return s.Difficulty
	}
	const start = 1_750_000_000 // far after the genesis time, 0
	b1 := c.Build(c.HeadBlock(), testchain.Block{Time: start})
	c.MustInsert(b1)
	if b1.Nonce() != start {
		t.Fatalf("block 1 nonce %d, want its time %d", b1.Nonce(), start)
	}
	onSchedule := c.Extend(b1, 20, mm.TargetSpacing)
	for _, b := range onSchedule {
		if b.Nonce() != start {
			t.Fatalf("block %d nonce %d, want the anchor time %d", b.NumberU64(), b.Nonce(), start)
		}
		if difficulty(b).Cmp(spec.GenesisDifficulty) != 0 {
			t.Fatalf("block %d on schedule: difficulty %v, want the genesis difficulty %v", b.NumberU64(), difficulty(b), spec.GenesisDifficulty)
		}
	}
	fast := c.Extend(onSchedule[len(onSchedule)-1], 30, 1)
	last := fast[len(fast)-1]
	// The parent of last is 29 blocks of 1 s into the fast run: 2*29 s
	// ahead of schedule.
	ahead := 2 * 29.0
	want := float64(spec.GenesisDifficulty.Int64()) * math.Pow(2, ahead/float64(mm.HalfLife))
	got, _ := new(big.Float).SetInt(difficulty(last)).Float64()
	if got < want*0.99 || got > want*1.01 {
		t.Fatalf("difficulty after 30 fast blocks %v, want about %.0f", got, want)
	}
}
