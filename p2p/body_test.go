package p2p

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func TestCheckBody(t *testing.T) {
	blocks := mainChain(t)[:2]
	header, body := blocks[1].Header(), blocks[1].Body()
	withdrawal := &types.Withdrawal{Index: 1, Validator: 2, Address: common.Address{3}, Amount: 4}
	preShanghai := types.CopyHeader(header)
	preShanghai.WithdrawalsHash = nil

	tests := []struct {
		name   string
		header *types.Header
		body   *types.Body
		ok     bool
	}{
		{"matching", header, body, true},
		{"missing transaction", header, &types.Body{Withdrawals: body.Withdrawals}, false},
		{"foreign transaction", header, &types.Body{Transactions: blocks[0].Transactions(), Withdrawals: body.Withdrawals}, false},
		{"uncle", header, &types.Body{Transactions: body.Transactions, Uncles: []*types.Header{blocks[0].Header()}, Withdrawals: body.Withdrawals}, false},
		{"missing withdrawals", header, &types.Body{Transactions: body.Transactions}, false},
		{"extra withdrawal", header, &types.Body{Transactions: body.Transactions, Withdrawals: []*types.Withdrawal{withdrawal}}, false},
		{"withdrawals before shanghai", preShanghai, body, false},
		{"no withdrawals before shanghai", preShanghai, &types.Body{Transactions: body.Transactions}, true},
	}
	for _, tt := range tests {
		err := checkBody(tt.header, tt.body)
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, errBodyMismatch) {
			t.Errorf("%s: err %v, want %v", tt.name, err, errBodyMismatch)
		}
	}
}

// A header committing to nothing gets a body that matches it without a fetch.
func TestEmptyBody(t *testing.T) {
	blocks := mainChain(t)[:1]
	if _, ok := emptyBody(blocks[0].Header()); ok {
		t.Error("a block with a transaction has an empty body")
	}
	for _, withdrawals := range []*common.Hash{nil, &types.EmptyWithdrawalsHash} {
		header := &types.Header{TxHash: types.EmptyTxsHash, UncleHash: types.EmptyUncleHash, WithdrawalsHash: withdrawals}
		body, ok := emptyBody(header)
		if !ok {
			t.Fatal("empty header needs a fetch")
		}
		if err := checkBody(header, body); err != nil {
			t.Errorf("withdrawals hash %v: %v", withdrawals, err)
		}
	}
}
