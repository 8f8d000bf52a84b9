// Package consensus is the merged-mining consensus engine of mmgeth: an
// implementation of go-ethereum's consensus.Engine and nothing else. Fork
// choice, the work store and crash replay are package chain's.
//
// It owns:
//   - the seal carried in header.Extra (Seal, DecodeSeal, SealHash): the
//     sidechain difficulty, an optional vanity and the merged-mining proof;
//   - the header and body rules (Engine): proof of work through package
//     mergemine, the ASERT difficulty adjustment anchored at genesis (the
//     anchor is read once, by New), timestamps, EIP-1559 gas limit and base
//     fee, no blobs, no uncles, no withdrawals, and the fixed values of the
//     header fields geth keeps for proof of stake;
//   - the fee rule of Finalize: the base fee goes to the coinbase, so supply
//     is conserved (see package evm).
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
//	                     a valid proof; ≤ MaxExtraSize                                                 "difficulty ... DAA's", "no proof", "proof ..."
//	MixDigest            SHA256d of the parent's Bitcoin header            verifyHeader                TestHeaderRules "wrong mix digest"
//	Nonce                0 (ErrNonZeroNonce)                               verifyHeader                TestHeaderRules "nonce not 0"
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
//	                     (ErrBlobTransaction); each valid in execution
//	Uncles               none (ErrUncles)                                  VerifyBody                  TestBodyRules "uncle in body"
//	Withdrawals          none (ErrWithdrawals): core would credit them,    VerifyBody                  TestBodyRules "withdrawal in the body only",
//	                     minting BTC                                                                   TestHeaderRules "withdrawal of 1 BTC"
//
// header.Difficulty stays 0 on every block: geth selects the post-merge EVM
// (PUSH0, TSTORE, ...) only for Difficulty == 0. The work of a block is the
// difficulty in its seal.
package consensus
