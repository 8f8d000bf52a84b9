// Package evm holds the execution rules that make the chain ours on top of
// go-ethereum's core: the fork schedule (every Ethereum fork through Prague
// and Osaka active at genesis, blobs refused), the BTC denomination, and the
// fee policy that conserves supply (no subsidy; the base fee is credited to
// the block's coinbase instead of being burnt).
package evm
