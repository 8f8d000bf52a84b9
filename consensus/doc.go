// Package consensus is the merged-mining consensus engine of mmgeth: an
// implementation of go-ethereum's consensus.Engine and nothing else. Fork
// choice, the work store and crash replay are package chain's.
//
// It owns:
//   - the seal carried in header.Extra (Seal, DecodeSeal, SealHash): the
//     sidechain difficulty, an optional vanity and the merged-mining proof;
//   - the header and body rules (Engine): proof of work through package
//     mergemine, the ASERT difficulty adjustment anchored at genesis (the
//     anchor is read once, by New) or, on networks whose genesis time is a
//     fixed past value, at block 1 (daa.go), timestamps, EIP-1559 gas limit and base
//     fee, no blobs, no uncles, no withdrawals, and the fixed values of the
//     header fields geth keeps for proof of stake;
//   - the fee rule of Finalize: the base fee goes to the coinbase, so supply
//     is conserved (see package evm) on every network but dev ones;
//   - dev operations and impersonated transactions (devops.go), valid on
//     dev networks only.
//
// A header that passed every rule is remembered by hash (a hash commits to
// the parent and every field), so a block verified when it arrived is not
// verified again when geth's InsertChain asks: each proof is checked once.
//
// # Every field has a rule
//
// Each field of go-ethereum v1.17.10's types.Header and types.Body, its one
// valid value or the rule that checks it, where that rule is enforced, and
// the test that a block breaking it is refused (TestFieldTable fails if
// geth adds a field this table lacks). "verifyHeader" runs for every header
// on every entry path (Chain.Insert verifies before writing; geth's
// InsertChain, peers' blocks, mined blocks and chain files all pass there);
// "core" means geth's BlockValidator (ValidateBody before execution,
// ValidateState after), which every executed block passes; side blocks,
// stored unexecuted, get the state-free part of ValidateBody in chain.
//
//	Header field         rule                                              enforced by                 test (chain/rules_test.go unless noted)
//	ParentHash           a stored block; Number = parent's + 1             verifyHeaderAt, verifyHeader TestHeaderRules, TestVerifyHeadersBatch (consensus)
//	UncleHash            the empty list's hash (ErrUncles)                 verifyHeader                TestHeaderRules "uncle hash"
//	Coinbase             free: the merged miner's fee recipient            -                           -
//	Root                 the state after execution                         core ValidateState          core's own tests
//	TxHash               the body's transactions                           core ValidateBody; checkBody TestBodyRules, TestInvalidBlockDropsPeer (p2p)
//	ReceiptHash, Bloom   the receipts and logs of execution                core ValidateState          core's own tests
//	Difficulty           0 (ErrNonZeroDifficulty)                          verifyHeader                TestHeaderRules "difficulty not 0"
//	Number               parent's + 1, uint64 (ErrInvalidNumber)           verifyHeader                TestVerifyHeadersBatch (consensus)
//	GasLimit             parent's ± 1/1024, ≤ 2^63-1 (ErrInvalidGasLimit)  verifyHeader                TestHeaderRules "gas limit ..."
//	GasUsed              ≤ GasLimit (ErrInvalidGasUsed); = execution's     verifyHeader; core          TestHeaderRules "gas used above limit"
//	Time                 > parent's, ≤ clock + drift (ErrTimestamp,        verifyHeader                TestHeaderRules "time ...", "too far in the future"
//	                     ErrFutureBlock); |Bitcoin time - Time| < 300 s
//	                     (ErrBitcoinTimeDrift)
//	Extra                the seal: version, ASERT difficulty, vanity ≤ 32, verifyHeader, DecodeSeal    TestHeaderRules "extra ...", "malformed seal ...",
//	                     a valid proof; ≤ MaxExtraSize; canonical RLP;                                 "difficulty ... DAA's", "no proof", "proof ...",
//	                     dev operations well formed (ErrMalformedDevOp)                                "malformed dev operation", "dev operation on a
//	                     and only on dev networks (ErrDevOperations)                                   network that is not dev" (RuleBreakers, non-dev)
//	GasLimit, BaseFee    on dev, a declared OpGasLimit/OpBaseFee replaces  verifyHeader                RuleBreakers (dev) "... not the declared one",
//	  (dev)              the ±1/1024 and EIP-1559 rules                                                TestDevBlocksFollowed
//	MixDigest            SHA256d of the parent's Bitcoin header            verifyHeader                TestHeaderRules "wrong mix digest"
//	Nonce                0 (ErrNonZeroNonce); anchored at block 1: block   verifyHeader                TestRuleBreakersRefused "nonce not the rule's"
//	                     1's time (ErrAnchorTime), daa.go                                              (chain, testchain.RuleBreakers), TestFirstBlockAnchor
//	BaseFee              EIP-1559's for the parent (ErrInvalidBaseFee)     verifyHeader                TestHeaderRules "wrong base fee"
//	WithdrawalsHash      the empty list's root (ErrWithdrawals)            verifyHeader                TestHeaderRules "withdrawal of 1 BTC"
//	BlobGasUsed          0 (ErrBlobGas)                                    verifyHeader                TestHeaderRules "blob gas used"
//	ExcessBlobGas        0 (ErrBlobGas)                                    verifyHeader                TestHeaderRules "excess blob gas"
//	ParentBeaconRoot     the zero hash (ErrParentBeaconRoot)               verifyHeader                TestHeaderRules "parent beacon root not zero"
//	RequestsHash         present (ErrForkFields); = execution's requests   verifyHeader; core          TestHeaderRules "missing requests hash"
//	BlockAccessListHash  absent: Amsterdam unsupported (ErrForkFields)     verifyForkFields            TestFieldTable (consensus)
//	SlotNumber           absent: Amsterdam unsupported (ErrForkFields)     verifyForkFields            TestFieldTable (consensus)
//
//	Body field           rule                                              enforced by                 test
//	Transactions         match TxHash; no blob transactions                VerifyBody, core, checkBody TestBodyRules "blob transaction ..."
//	                     (ErrBlobTransaction); each valid in execution;                                RuleBreakers "impersonated transaction on a
//	                     impersonation signatures only on dev networks                                 network that is not dev", "malformed
//	                     and well formed (ErrImpersonation)                                            impersonation signature"
//	Uncles               none (ErrUncles)                                  VerifyBody                  TestBodyRules "uncle in body"
//	Withdrawals          none (ErrWithdrawals): core would credit them,    VerifyBody                  TestBodyRules "withdrawal in the body only",
//	                     minting BTC                                                                   TestHeaderRules "withdrawal of 1 BTC"
//
// # Dev networks: cheats in real blocks
//
// anvil and Hardhat change a dev chain's state by fiat (set balance, code,
// storage, nonce; the next base fee; the gas limit) and send transactions
// from accounts whose keys they do not hold. Here every such change travels
// inside a block that is merged-mined like any other, so that a follower of
// the dev network (mmgeth init --dev, --bootnodes) verifies and executes it
// to the same state root:
//
//   - State changes are dev operations (DevOp) in the seal's Ops list, part
//     of header.Extra and so of the seal hash the proof commits to. Each
//     kind has one encoding (DecodeSeal refuses others). Finalize applies
//     them in order, after the transactions and the base-fee credit; the
//     dev miner seals them in blocks without pool transactions, so they act
//     on the state the caller saw. OpBaseFee and OpGasLimit declare the
//     block's own base fee and gas limit, which then replace EIP-1559's
//     value and the ±1/1024 bound for that block.
//   - An impersonated transaction is an ordinary body transaction whose
//     signature is an impersonation signature: S is a fixed marker, R the
//     sender's address, the parity 0. Its one meaning is "sent by R".
//     geth recovers senders from signatures, so the chain (every path into
//     InsertChain) and the RPC backend put the sender in geth's
//     per-transaction sender cache first (CacheSenders); geth then executes
//     it, with receipt and logs, as a transaction of that account.
//   - Only networks whose Params.Dev is set accept either: elsewhere a seal
//     with Ops fails with ErrDevOperations and a body with an impersonation
//     signature with ErrImpersonation. On dev networks balances change by
//     fiat, so the supply invariant (package evm) holds on non-dev networks
//     only; the supply tests run on networks without Dev.
//
// Rewinds (evm_revert, anvil_reset) stay local: they shorten the dev
// node's chain, and followers, choosing by work, keep the longer one.
//
// header.Difficulty stays 0 on every block: geth selects the post-merge EVM
// (PUSH0, TSTORE, ...) only for Difficulty == 0. The work of a block is the
// difficulty in its seal.
package consensus
