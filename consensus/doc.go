// Package consensus is the merged-mining consensus engine of mmgeth.
//
// It owns:
//   - the seal carried in header.Extra (Seal, DecodeSeal, SealHash): the
//     sidechain difficulty, an optional vanity and the merged-mining proof;
//   - the header rules (Engine, an implementation of go-ethereum's
//     consensus.Engine): proof of work through package mergemine, the ASERT
//     difficulty adjustment anchored at genesis, timestamps, EIP-1559 gas
//     limit and base fee, no blobs, no uncles, and the fixed values of the
//     header fields geth keeps for proof of stake (Difficulty, Nonce,
//     MixDigest);
//   - the fee rule of Finalize: the base fee goes to the coinbase, so supply
//     is conserved (see package evm);
//   - fork choice by cumulative work (ForkChoice), with the work of every
//     block stored in the chain database under its own key prefix, and the
//     start-up replay that restores the head after a crash.
//
// header.Difficulty stays 0 on every block: geth selects the post-merge EVM
// (PUSH0, TSTORE, ...) only for Difficulty == 0. The work of a block is the
// difficulty in its seal.
package consensus
