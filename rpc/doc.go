// Package rpc serves the node's standard JSON-RPC namespaces: eth, net, web3,
// txpool, debug and, in dev mode only, evm and personal (personal_sign).
//
// It owns:
//   - one backend adapter over core.BlockChain and txpool.TxPool that satisfies
//     the interfaces of geth's reusable RPC packages (eth/filters, eth/tracers,
//     eth/gasprice, eth/gasestimator), so logs, filters, subscriptions, tracing,
//     fee suggestions and gas estimation come from geth itself;
//   - the filtermaps log index driver that keeps eth_getLogs indexed;
//   - everything geth keeps in its non-importable internal/ethapi: block,
//     transaction and receipt JSON, eth_call with state and block overrides,
//     access lists, proofs, eth_simulateV1, transaction defaults and the error
//     codes clients rely on (3 with revert data, -32602, -380xx...).
//
// Block tags: "pending" is "latest" (there is no pending block); "safe" and
// "finalized" are what Config.Finality says: the node passes the chain's
// Bitcoin-anchored finality (PEG.md §6), and without one both are the block
// buried under Config.Confirmations blocks.
//
// The mm namespace (mm.go: mm_getBtcLightClient, mm_getFinality,
// mm_getAnchorProof) reads the node through the MMBackend interface it
// defines; its answers are the JSON types of mm.go. Its peg methods
// (mmpeg.go: mm_getPegPolicy, mm_getDepositAddress,
// mm_verifyDepositAddress, mm_getPegInStatus, mm_getPegInProof,
// mm_getPegAudit, mm_watchedDeposits) read PegBackend; their own failures
// are code -33100 (PEG.md §9).
//
// Reverts (code 3) keep the raw revert bytes as data, which ethers, viem and
// cast decode, and name the error in the message: Config.DecodeRevert (the
// node decodes the bridge contracts' custom errors, "execution reverted:
// InsufficientConfirmations(have=1, need=3)"), else Solidity's
// Error(string). eth_sendRawTransaction executes nothing, so it has no
// revert to report: a mined transaction that reverted has receipt status 0,
// and debug_traceTransaction (callTracer) gives its revert data.
//
// State at a block: the newest 128 blocks' states are live in geth's path
// database; older ones only on an archive (Config.Archive, geth's
// ArchiveMode), read through core.BlockChain.HistoricState, which rebuilds
// accounts and storage from the indexed state histories and trie nodes (so
// eth_getProof) from the trie-node histories. eth_call, the state getters,
// eth_getProof and tracing (the transactions before the traced one are
// replayed on that read-only state) all take that path; nothing is
// re-executed from an older base state. The chain's state flush drops the
// live states below the head (package chain); a read it overtakes runs
// once more (readState), so "latest" answers from the new head and a full
// node says a lower block's state is gone instead of "layer stale".
//
// The mining namespace (mnr) is not here: it lives beside the work server in
// package miner. This package imports no mmgeth package; the node fills the
// interfaces it defines.
package rpc
