package evm

import "math/big"

// The gas token is BTC with Ethereum's 18 decimals, so wallets and tools
// that assume 10^18 base units per coin show amounts correctly.
var (
	// Satoshi is the smallest Bitcoin unit in wei: 10^10.
	Satoshi = big.NewInt(1e10)
	// BTC is one bitcoin in wei: 10^18.
	BTC = big.NewInt(1e18)
)

// BTCToWei converts a whole number of BTC to wei.
func BTCToWei(btc int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(btc), BTC)
}
