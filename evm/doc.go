// Package evm holds the execution rules that make the chain ours on top of
// go-ethereum's core: the fork schedule (every Ethereum fork through Prague
// and Osaka active at genesis, blobs refused), the BTC denomination, and the
// fee policy that conserves supply (no subsidy; the base fee is credited to
// the block's coinbase instead of being burnt).
//
// With Cancun and Prague active, geth runs four system calls in every block:
// EIP-4788 (the zero parent beacon root) and EIP-2935 before the
// transactions, EIP-7002 and EIP-7251 after them. They are consensus, not
// overhead to trim: their contracts are in every genesis
// (core.SystemContractAllocs), their storage is state, the requests hash
// commits to the last two, and EIP-2935's history is what anchor proofs
// prove a block hash against. Skipping them means dropping those forks.
// Measured on a dev block of one transfer: about a fifth of its build CPU.
package evm
