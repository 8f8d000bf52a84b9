// Package btcspv is the Go reference of mmgeth's Bitcoin light client: the
// header acceptance rules and best-chain bookkeeping of BtcRelay (PEG.md
// §2), the SPV inclusion proof with its coinbase depth pin and the
// transaction parser (§3). The Solidity contracts are differential-fuzzed
// against it (§10.4), so the rules, their order and their error classes are
// the contract's. It knows nothing of Ethereum; mmfed, the RPC and the tests
// use it directly. It does not fetch anything: callers feed it headers and
// blocks.
//
// # Parameters
//
// Params holds exactly what BtcRelay's constructor receives, derived from
// btcd's chaincfg (NewParams; MainNet, TestNet4, RegTest), with the fork
// depths of PEG.md §4.5 (2016, 144, 100) and 200 headers per call. A Chain
// starts at a Checkpoint: an 80-byte header, its height, its cumulative
// chainwork and the min(10, height) timestamps before it. On retargeting
// networks its height must be a multiple of the retarget interval.
//
// # Header acceptance (Chain.ReceiveHeaders, PEG.md §2.3)
//
// A batch is n×80 bytes, 1 ≤ n ≤ 200 (ErrBadHeadersLength, also for an
// empty batch; ErrTooManyHeaders), parent first. Known headers are skipped.
// Each new header must pass, in this order:
//
//  1. its parent is stored (ErrUnknownParent);
//  2. nBits decodes (btcd blockchain.CompactToBig) to a target in
//     (0, powLimit] (ErrBadBits; btcd validate.go checkProofOfWork);
//  3. LE256(sha256d(header)) ≤ target (ErrInsufficientPoW; same function);
//  4. nBits is the required difficulty (ErrUnexpectedBits; btcd
//     difficulty.go calcNextRequiredDifficulty): powLimitBits on regtest;
//     off a retarget height the parent's bits, or with the testnet rule
//     powLimitBits when the header is more than 20 minutes after its parent
//     and else the parent's lastRealBits (the nearest ancestor that is a
//     retarget block or not at powLimitBits: the O(1) form of btcd's
//     findPrevTestNetDifficulty); at a retarget height, with first the
//     ancestor at height−interval, span = clamp(parent.time − first.time,
//     T/4, 4T) as a signed number, and the new target is
//     min(target(old) × span / T, powLimit) in btcd's BigToCompact, where
//     old is first's bits under BIP-94 and the parent's otherwise;
//  5. time > the median of the last 11 timestamps of the header's own
//     branch ending at its parent, fewer near the checkpoint with the upper
//     middle of an even count (ErrTimeTooOld; btcd blockindex.go
//     CalcPastMedianTime);
//  6. time ≤ now + 7200 (ErrTimeTooNew; btcd CheckBlockHeaderSanity);
//  7. under BIP-94, at a retarget height, time ≥ parent.time − 600
//     (ErrTimeWarp; btcd validate.go assertNoTimeWarp);
//  8. version ≥ 2, 3, 4 from the BIP-34, 66, 65 heights, the version read as
//     a signed int32 (ErrBadVersion; btcd CheckBlockHeaderContext);
//  9. forkPoint(parent) + maxForkDepth ≥ best.height, where the fork point
//     is the parent itself if it is in the best chain, else where its branch
//     leaves it (ErrForkTooDeep; no btcd counterpart);
//  10. parent.chainwork + work(bits) < 2^128 (ErrChainworkOverflow; work is
//     btcd blockchain.CalcWork).
//
// The header is then stored; if its chainwork exceeds the tip's it becomes
// the tip (equal work: the first seen stays). A child of the tip extends the
// best-chain index; any other new tip rewrites the index from the fork point
// up, deletes the entries above it if the new branch is shorter, and is
// reported as a Reorg (old tip, new tip, fork height, depth = old height −
// fork height), BtcRelay's BtcReorg event (§2.4). A batch is atomic: at the
// first bad header the whole chain state is restored, as the contract's
// revert does, and the error names the header's index and hash.
//
// Why not call btcd's CheckBlockHeaderContext, as PEG.md §2.3 suggests:
// calcNextRequiredDifficulty is unexported, so btcd cannot say which bits it
// wanted (the contract's UnexpectedBits(have, want)); it reports bad and
// unexpected bits under one code; and it checks the future-time rule in
// CheckBlockHeaderSanity, before the context rules, while §2.3 puts it
// after the median-time rule. The rules are implemented here with btcd's
// CompactToBig, BigToCompact, HashToBig and CalcWork; the tests run the
// 14,131 real mainnet headers, every header of the rule tests and the
// fuzzer's through btcd's CheckBlockHeaderSanity and CheckBlockHeaderContext,
// via their own HeaderCtx and ChainCtx, and require the same verdict.
//
// # Views
//
// BestChain, BestHeight, BlockHashAt, HeaderInfo and Confirmations (0 off
// the best chain) answer what BtcRelay's views do (§2.6).
//
// # Inclusion proofs (PEG.md §3)
//
// VerifyInclusion(index, txid, proof, minConfs) checks, in order: the header
// is 80 bytes (ErrBadHeaderLength); its hash is the best chain's block at the
// claimed height (ErrBlockNotInBestChain, also for unknown blocks); the
// confirmations best − height + 1 reach minConfs
// (ErrInsufficientConfirmations); the tx branch is d whole hashes with
// d ≤ 20 (ErrMalformedProof); the coinbase branch has the same length
// (ErrDepthMismatch); 1 ≤ txIndex < 2^d (ErrBadTxIndex); txid folded along
// the branch by the bits of txIndex is the header's merkle root
// (ErrMerkleMismatch); sha256(coinbasePreimage) folded along the coinbase
// branch at index 0 is that root too (ErrCoinbaseProofMismatch). CheckProof
// makes the store-free checks, FoldBranch is the bare fold, and
// BuildInclusion builds a proof from a raw block with btcd's
// BuildMerkleTreeStore. The hot path does not allocate.
//
// ParseTx reads the non-witness serialization: 64 bytes are refused
// (ErrTx64Bytes), then more than 100,000 bytes, non-canonical compactSizes,
// zero inputs (the segwit marker: strip the witness), zero outputs,
// truncation and trailing bytes are *TxError (ErrMalformedTx) with the
// offset of the field that failed.
//
// # Where PEG.md is wrong or incomplete, and what this package does
//
//   - §2.3 ForkTooDeep, "forkPoint ≥ best.height − maxForkDepth", wraps in
//     uint32 while best.height < maxForkDepth, i.e. on every fresh regtest
//     relay: it is computed as forkPoint + maxForkDepth ≥ best.height.
//   - §2.3 retarget: parent.time − first.time can be negative (timestamps
//     only have to beat the median), so it is signed before the clamp, as in
//     btcd (int64). Likewise parent.time − 600 for BIP-94.
//   - §2.2/§2.3 median time past: the mtpRing of best-chain timestamps only
//     serves headers that extend the tip. A header on a side branch needs the
//     timestamps of its own ancestors (btcd walks Parent()), and the first 10
//     blocks after the checkpoint need its previous timestamps on any branch.
//   - §2.3 says the Go reference calls CheckBlockHeaderContext; see above for
//     why it is the tests' oracle instead.
//   - §3 step 6: the coinbase pin stops the deeper forgery (a fake leaf under
//     a real 64-byte transaction), not a shallower one. Any inner node of
//     the tree passes VerifyInclusion as a "txid" one level up, with the
//     coinbase preimage sha256(left ‖ right) of the coinbase's own pair,
//     which anyone can compute. Peg-ins are safe because the Bridge hashes
//     the transaction bytes itself and refuses 64-byte ones, and
//     confirmPegOut because the txid is the contract's own; but the public
//     verifyInclusion view (§2.6) proves only "this hash is a node of the
//     tree" for a caller-supplied txid, and must say so.
//     TestDepthPin64ByteTx shows both directions.
//   - §3 checks txIndex < 2^d, not < the block's transaction count: an index
//     past the last transaction that lands on Bitcoin's duplicated last node
//     proves that same transaction. Harmless while replay keys are
//     (txid, vout), never the index.
//   - §3 names BuildInclusion(*wire.MsgBlock, txid); the block does not know
//     its height, so BuildInclusion takes it too.
//   - §8's ABI has no error for an empty batch: it is BadHeadersLength(0).
//   - §10.4: blk_0_to_14131's seven retargets all clamp to the limit, so
//     the retarget arithmetic is tested on synthetic networks and on laid-out
//     mainnet-difficulty chains against btcd; real testnet4 vectors remain
//     to be captured.
package btcspv
