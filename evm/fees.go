package evm

import (
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/holiman/uint256"
)

// CreditBaseFee pays baseFee*gasUsed to the block's coinbase. geth's state
// transition takes the base fee from the sender and credits only the tip, so
// without this the base fee would be burnt and the BTC supply, which only the
// peg may change, would shrink with every transaction. Called from the
// engine's Finalize, after all transactions of the block have run.
func CreditBaseFee(state vm.StateDB, header *types.Header) {
	if header.BaseFee == nil || header.GasUsed == 0 {
		return
	}
	fee, overflow := uint256.FromBig(header.BaseFee)
	if overflow {
		return // unreachable: the engine bounds the base fee by EIP-1559's rules
	}
	fee.Mul(fee, uint256.NewInt(header.GasUsed))
	state.AddBalance(header.Coinbase, fee, tracing.BalanceIncreaseRewardTransactionFee)
}
