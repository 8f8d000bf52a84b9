package evm

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
)

func TestChainConfigActivatesLatestForks(t *testing.T) {
	cfg := ChainConfig(big.NewInt(5100))
	if err := cfg.CheckConfigForkOrder(); err != nil {
		t.Fatalf("fork order: %v", err)
	}
	rules := cfg.Rules(big.NewInt(0), true, 0)
	for name, on := range map[string]bool{
		"Shanghai": rules.IsShanghai, "Cancun": rules.IsCancun,
		"Prague": rules.IsPrague, "Osaka": rules.IsOsaka,
	} {
		if !on {
			t.Errorf("%s not active at genesis", name)
		}
	}
	if rules.IsAmsterdam {
		t.Error("Amsterdam must stay off")
	}
}

func TestCreditBaseFee(t *testing.T) {
	db := state.NewDatabaseForTesting()
	st, err := state.New(types.EmptyRootHash, db)
	if err != nil {
		t.Fatal(err)
	}
	coinbase := common.HexToAddress("0xc0ffee")
	h := &types.Header{Coinbase: coinbase, BaseFee: big.NewInt(7), GasUsed: 21000}
	CreditBaseFee(st, h)
	if got := st.GetBalance(coinbase).Uint64(); got != 7*21000 {
		t.Fatalf("coinbase got %d, want %d", got, 7*21000)
	}
	empty := common.HexToAddress("0xbeef")
	CreditBaseFee(st, &types.Header{Coinbase: empty, BaseFee: big.NewInt(7)})
	if !st.GetBalance(empty).IsZero() {
		t.Fatal("block with no gas used must credit nothing")
	}
}

func TestDenomination(t *testing.T) {
	if got := new(big.Int).Div(BTC, Satoshi); got.Int64() != 1e8 {
		t.Fatalf("1 BTC = %v sat, want 1e8", got)
	}
	if BTCToWei(21_000_000).String() != "21000000000000000000000000" {
		t.Fatal("21M BTC in wei")
	}
}
