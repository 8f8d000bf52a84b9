// Package bridge owns the peg's EVM system contracts: their Solidity
// sources, the committed bytecode and ABIs built from them, their genesis
// deployment, and Go bindings for calling them: BtcRelay, the Bitcoin light
// client at 0x…01000007 (PEG.md §2, §3), and the Bridge at 0x…01000006 with
// its FedScript data contract at 0x…01000600 and its peg-out half BridgeOut
// at 0x…01000008 (PEG.md §4, §5, §8).
// It does not own the Go reference rules (btcspv, peg), the genesis spec
// (genesis/) or any RPC.
//
// # Files
//
//	IBtcRelay.sol        structs (BtcInclusion, RelayParams, Checkpoint), events, errors, interface (PEG.md §8)
//	BtcRelay.sol         the light client
//	IBridge.sol          the Bridge's enums, structs, events and errors (IBridgeEvents), IBridge, IBridgePegOut
//	BridgeBase.sol       the storage layout, constants and helpers both halves share
//	Bridge.sol           peg-in: registerPegIn, refundDeposit, claim, views; fallback → BridgeOut
//	BridgeOut.sol        peg-out (PEG.md §5), run by DELEGATECALL in the Bridge's storage
//	lib/PegOutTx.sol     the peg-out serialization and BIP-143 sighashes (= peg.BuildPegOut, btcd)
//	lib/BtcHeader.sol    header fields from calldata; CompactToBig, BigToCompact, CalcWork
//	lib/BtcTx.sol        the transaction parser, bit-exact with btcspv.ParseTx
//	lib/Sha256d.sol      double SHA-256 on precompile 0x02, the only hashing used
//	*.bin/*.abi.json     creation code and ABIs, committed; `make contracts` rebuilds them
//	deploy.go            DeployBtcRelay, DeployPeg: the genesis accounts, by running the constructors
//	abi.go               BtcRelay bindings and custom-error decoding (RevertError, both ABIs)
//	bridge.go            Bridge bindings: Go twins of its structs, calldata, PolicyHash
//	pegout.go            peg-out bindings: calldata, PegOutBatch, UtxoInfo, views
//	proof.go             NewPegInProof: registerPegIn's arguments from a raw block
//	view.go              View: read-only calls on a *state.StateDB
//	gen.go               go:generate entry for internal/gencontracts
//
// Builds need no Solidity compiler: the bytecode is committed.
// internal/solc compiles with the pinned solc-js 0.8.30 (optimizer on, 200
// runs, evmVersion prague, no CBOR metadata trailer so that comments do not
// change genesis), and TestBytecodeUpToDate fails when the committed bytes
// differ from a fresh compile (it skips when the tooling is not installed).
//
// # Storage (ERC-7201 namespace mmgeth.btcrelay.v1)
//
// The base slot is keccak256(abi.encode(uint256(keccak256("mmgeth.btcrelay.v1")) - 1)) & ~0xff
// = 0xea00…7600 (TestLayoutSlot); fields follow in Solidity's order:
//
//	+0  mapping(bytes32 => Hdr) headers      Hdr{prev, packed}: 2 slots
//	        packed = chainwork:128 | height:32 | time:32 | bits:32 | lastRealBits:32
//	+1  mapping(uint32 => bytes32) mainChain best-chain index; zero above the tip
//	+2  bytes32 bestHash
//	+3  uint256[2] mtpRing                   11 newest best-chain times, newest first:
//	        [0] = t0..t7 (t_i at bit 32i), [1] = t8..t10 | count << 224
//	+5  RelayParams params                   2 slots: powLimit; the rest packed
//	+7  bytes32 checkpointHash
//	+8  uint32 checkpointHeight
//	+9  uint256[2] checkpointRing            mtpRing as of the checkpoint (fork walks reaching it)
//
// Hdr.prev is zero for a header accepted as the child of the best tip while
// it stays on the best chain: its parent is mainChain[height-1]. It is written
// when a header is stored anywhere else, and when a reorg moves a header off
// the best chain. Go never reads these slots: the layout lives in Solidity.
//
// All hashes (block hashes, txids, merkle roots) are in Bitcoin's internal
// byte order, as sha256d returns them and as a header's prev field holds them
// (chainhash.Hash's bytes); explorers display them reversed.
//
// # receiveHeaders: the rules, in order (PEG.md §2.3)
//
// The batch is 1..maxHeadersPerCall headers of 80 bytes (BadHeadersLength,
// TooManyHeaders), parent first, atomic. Known headers are skipped. Then:
//
//  1. hash = sha256d(header); parent must be stored         UnknownParent(prev)
//  2. 0 < CompactToBig(bits) <= powLimit                    BadBits (btcd checkProofOfWork)
//  3. LE256(hash) <= target                                 InsufficientPoW
//  4. bits == calcNextRequiredDifficulty(parent, time)      UnexpectedBits(have, want)
//     regtest: powLimitBits; off-boundary: parent bits, or with the testnet rule powLimitBits
//     after 20 minutes, else the last real bits (O(1) findPrevTestNetDifficulty); at a
//     boundary: old × clamp(span, T/4, 4T) / T capped at powLimit, old = first.bits with BIP-94
//  5. time > median of the 11 times ending at the parent    TimeTooOld(time, mtp) (CalcPastMedianTime)
//  6. time <= block.timestamp + 7200                        TimeTooNew (sidechain time for adjusted time)
//  7. BIP-94 boundary: time >= parent.time - 600            TimeWarp
//  8. version >= 2/3/4 from the BIP-34/66/65 heights        BadVersion
//  9. fork point >= best.height - maxForkDepth              ForkTooDeep(forkHeight, best)
//  10. chainwork = parent + CalcWork fits in 128 bits       ChainworkOverflow
//
// The header is stored; with more chainwork than the best tip it becomes the
// tip (equal work: first seen stays). A tip on another branch rewrites
// mainChain down to the fork point, clears heights above a shorter new tip,
// and emits BtcReorg(oldBest, newBest, forkHeight, depth). One
// BtcHeadersAccepted(bestHash, bestHeight, accepted) closes a call that
// stored anything. A batch keeps the tip, its time window and the previous
// header in memory, so a chain of headers reads no storage after the first
// and writes bestHash and mtpRing once.
//
// verifyInclusion(txid, p, minConfs) checks PEG.md §3 in order:
// BadHeaderLength, BlockNotInBestChain(hash, height), InsufficientConfirmations(have, need),
// MalformedProof (branch not 32·d bytes or d > 20), DepthMismatch (coinbase
// branch of another depth), BadTxIndex (0 or >= 2^d), MerkleMismatch,
// CoinbaseProofMismatch.
//
// # Genesis
//
// DeployBtcRelay(NewRelayParams(net, maxForkDepth, maxHeadersPerCall), checkpoint)
// runs the creation code in a throwaway in-memory EVM under post-merge rules
// and returns the types.Account (runtime code and the storage the
// constructor wrote) to place at BtcRelayAddress. Constructors therefore
// must not read address(this), msg.sender, block or chain fields
// (TestConstructorsAreGenesisSafe). Network rules come from btcd chaincfg
// only; GenesisCheckpoint(net) is the network's genesis at height 0 (regtest
// and dev); mainnet and testnet4 take a retarget-boundary checkpoint built
// with NewCheckpoint.
//
// # Gas (measured: go test ./evm/bridge/ -run TestGas -v)
//
// Batches of 200 mainnet headers: about 53.7k gas per header; one header per
// transaction: about 100k, 112k at worst (a retarget boundary); a 1-deep
// reorg header 165k, and about 33.5k more per extra level of depth.
//
// # Differential tests (PEG.md §10.4)
//
// diff_test.go runs the same calls through btcspv and through this bytecode
// on an in-memory state and requires the same verdict, error class (one
// table, diffRules, maps btcspv's sentinels to the custom errors) and error
// values, and on acceptance the same best chain, BtcReorg events, mainChain
// entries and headerInfo; for proofs the same confirmations.
// diff_headers_test.go sends real mainnet headers and their systematic
// mutations, forks and rule scenarios on regtest and on grindable
// retargeting networks (testnet 20-minute rule, BIP-94), and holds
// FuzzDiffReceiveHeaders, whose input is a program of header operations
// (diff_gen_test.go); diff_inclusion_test.go mutates real proofs and holds
// FuzzDiffVerifyInclusion. `make fuzz` runs both.
//
// # Bridge: registerPegIn (PEG.md §4.2), checks in order
//
//  1. recipient ≠ 0 and ≠ the Bridge                          InvalidRecipient
//  2. btcTx parses (lib/BtcTx.sol = btcspv.ParseTx)             Tx64Bytes, MalformedTx(offset), VoutOutOfRange(vout)
//     txid = sha256d(btcTx), computed by the contract
//  3. no record at keccak256(txid ‖ u32le(vout))                AlreadyProcessed(txid, vout)
//  4. output == 0x0020 ‖ sha256(19 01 chainId recipient 75 ‖ EXTCODECOPY(FedScript(activeEpoch)))
//     NotADeposit(vout, wantProgram)
//  5. BtcRelay.verifyInclusion(txid, p, N), its errors passed on (N: pegInConfirmations, or the
//     fast tier's when value ≤ fastMaxSat and the 100-block window's cap allows; only a credit
//     that needed the fast tier counts against the cap)
//  6. record (3 slots) + FIFO entry; custodySat += value
//  7. value < minPegInSat → REJECTED_BELOW_MIN, over pegInCapSat → REJECTED_CAP: surplusSat,
//     PegInRejected(reason 1 or 2), no revert
//  8. CREDITED: value × 1e10 wei (less the relayer fee, 0 by default) sent from the Bridge's
//     balance with the 2300-gas stipend only; a refusal holds it (CREDIT_HELD, PegInCreditHeld)
//     for claim(to). PegIn either way.
//
// refundDeposit(txid, vout, btcScript): a REJECTED_* deposit (else NotRefundable), by its
// recipient only (NotRecipient), to a P2PKH/P2SH/P2WPKH/P2WSH/P2TR script (UnsupportedScript)
// its value is not below the dust of (RefundBelowDust), becomes peg-out request n (ids from 1,
// QUEUED, with the script) for the peg-out machinery to pay; surplusSat moves to pendingOutSat.
// claim(to) pays the caller's held wei with all gas (NothingHeld; InvalidRecipient for 0 and the
// Bridge itself, which would hide wei from the ledger; TransferFailed).
//
// # Bridge storage (ERC-7201 namespace mmgeth.bridge.v1, base 0xe0a6…c800)
//
//	+0   Policy            2 slots+; the first holds every field a peg-in reads
//	+k   custodySat | pegInTotalSat | fifoLength | activeEpoch      one slot, read and written by every peg-in
//	     pendingOutSat | surplusSat | requestCount | pegOutTotalSat; faultSat | feeDeficitSat; heldWei; unbackedGenesisWei
//	     federations[epoch], utxos[key] (txid; recipient|value|status|state|epoch; btcHeight|vout|requestId),
//	     fifo[i] = key, requests[id], held[addr], fastUsed[height/100]
//
// accounting() returns the ledger, the Bridge's balance, backedWei = 21M BTC − balance + heldWei −
// unbackedGenesisWei (BTC pegged in and on the sidechain), and the §8 invariant
// custodySat·1e10 ≥ backedWei + (pendingOutSat + surplusSat − faultSat − feeDeficitSat)·1e10,
// evaluated with both sides moved so that nothing underflows; excessWei is wei forced into the
// Bridge. The tests require it to hold as an equality after every operation, and recompute it
// from the balance in Go.
//
// # Gas (measured: go test ./evm/bridge/ -run TestPegInGas -v)
//
// registerPegIn of a 257-byte deposit at merkle depth 12 credited to an existing account:
// 199.6k gas (goal 200k). To an account that did not exist: 224.6k (EIP-161's 25,000 for the
// new account). The chain's first peg-in pays 17k more (its ledger slots start at zero).
// Where it goes: 21k base, 19.4k calldata, 88.4k for four new slots (the record's three and the
// FIFO's one, what peg-out needs), about 15k of cold reads and ledger writes, 9k value transfer,
// about 9k for the call into BtcRelay and its reads, 10k of merkle hashing, the rest ABI
// decoding and parsing. PEG.md §13's 152k–177k estimate leaves out the BtcRelay call and the
// ledger and policy slots.
//
// # Bridge: peg-out (PEG.md §5), in BridgeOut.sol
//
// One contract does not fit EIP-170: with the peg-out side the Bridge's creation code was
// 36 KB. Moving only pure helpers to 0x…01000008 (§10.3) would not do, the peg-out logic
// itself is about 20 KB, so the peg-out half is a second contract whose code the Bridge's
// fallback runs by DELEGATECALL: one address, one balance, one ERC-7201 namespace, declared
// once in BridgeBase.sol. BridgeOut at its own address refuses every state change
// (NotDelegated). Runtime sizes: Bridge 13.5 KB, BridgeOut 24.4 KB of 24,576 (tight: the
// next peg-out feature needs a third half or fewer views). Go's BridgeABI merges both ABIs.
//
// requestPegOut(script): NotSatoshiMultiple, BelowMinimumPegOut(sat), UnsupportedScript (the
// five standard kinds), PegOutsHalted; pendingOutSat += amount; a plain transfer reverts
// UseRequestPegOut. Request ids are shared with refunds of rejected deposits.
//
// buildPegOutBatch(): PegOutsHalted, NothingToBatch, TooManyInflight (4), BatchIntervalNotElapsed
// (unless maxOutputs requests wait, or it is the first batch). Candidates: the oldest
// min(pending, maxOutputs) requests. Inputs: UNSPENT records in FIFO order until Σin ≥
// Σrequested (InsufficientFederationFunds(need, have) past maxInputs). change = Σin −
// Σrequested, an output only if ≥ 330; vsize by §5.2's formula over exactly the outputs
// made; fee = feeRate() × vsize; share = ceil(fee/k). A candidate whose amount − share is
// below its script's dust is refunded in wei (PegOutRefunded(id, 1)) and the plan redone;
// all refunded: no batch, id 0. Stored: inputs (their fifo positions, four a slot), per
// version txid, fee, change, rate,
// vsize and one sighash slot per input; the bytes are logged (PegOutBatchCreated) and rebuilt
// by pegOutTx(). Inputs RESERVED with the batch id.
//
// addSignatures(batch, version, member, r‖s‖v…): UnknownBatch, WrongState, NotMember,
// BadSigLength, AlreadySigned (per version), HighS(i), BadSignature(i) (v ∉ {27,28} or
// ecrecover ≠ signer). Only the bitmap is stored; the signatures are in PegOutSignatures.
// At the threshold: PegOutReady, readyBtcHeight = BtcRelay's best height (the RBF clock),
// and READY if it is the newest version.
//
// confirmPegOut(batch, version, proof): any version (they spend the same inputs), at
// pegOutConfirmations, txid as stored (a wrong one is MerkleMismatch). Inputs SPENT, change
// recorded UNSPENT at vout = number of paid outputs (usable from now on), requests
// CONFIRMED; custodySat −= Σin − change, pendingOutSat −= Σrequested, pegOutTotalSat +=
// Σrequested; what custody paid beyond the shares (dropped change, bumps, refreshes) comes
// from surplusSat, the rest is feeDeficitSat. The invariant holds as an equality throughout.
//
// bumpPegOutFee(batch): READY, rbfAfterBtcBlocks Bitcoin blocks after the newest version
// became READY (TooEarlyToBump(left)); rate = max(median, ceil(1.25 × old)) capped at
// feeRateMax; the extra (rate − old) × vsize comes from change (CannotBump below 330 + extra).
// buildRefreshBatch(): the UNSPENT records at least refreshAgeBlocks deep (FIFO, ≤ maxInputs)
// to one change output at feeRate() (NothingToRefresh, InsufficientFederationFunds).
// voteFeeRate(member, rate, nonce, sig): keccak256("mmgeth/feevote/v1" ‖ u32 chainId ‖ u8
// member ‖ u32 rate ‖ u64 nonce) signed by the member (StaleVote for an old nonce or rate 0);
// feeRate() is the lower median, a silent member counting feeRateStart, clamped.
// reportUnauthorizedSpend(tx, proof, input): parsed as registerPegIn parses (InputOutOfRange);
// the outpoint must be UNSPENT or RESERVED (NotFederationUtxo) and the tx no version of the
// reserving batch (AuthorizedSpend(batch)); the UTXO becomes SPENT, custody → faultSat,
// pegOutsHalted for good (requestPegOut, builds: PegOutsHalted), FederationFault.
//
// # Gas (measured: go test ./evm/bridge/ -run TestPegOutGas -v)
//
// buildPegOutBatch: 255k for one input and one output with change; 55.7k per further input
// (goal 60k; inputs 5 to 9: SSTORE 33.0k — the sighash slot 22.1k, the record's state and
// batch id 5.8k, a quarter of a slot of fifo positions —, SLOAD 9.7k — cold reads of the fifo
// entry and the record —, the rest BIP-143 hashing and the serialization; it was 71.5k while
// each input's 32-byte key took a slot of its own), 14.5k per output (goal 15k).
// addSignatures: 53.4k for one input; 7.4k per further input per member (goal 8k).
// confirmPegOut of one input with change: 183k.
//
// # Where this departs from PEG.md, and what PEG.md gets wrong
//
//   - Bridge: getDeposit has no btcBlock: storing it would cost every deposit 22,100 gas (the
//     goal would be out of reach); the registering transaction's calldata holds the header, and
//     btcHeight is stored. Deposit gains epoch and requestId (the refund's request).
//
//   - Bridge: the policy is a struct of PEG.md §4.5's numbers (IBridge.sol Policy), the federation
//     one of its keys, signers, thresholds, FedScript address, script length and change program;
//     §8 names them without fields. policyHash() = keccak256(abi.encode(policy(),
//     federation(activeEpoch()))), and bridge.PolicyHash computes the same in Go.
//     pegInRelayerFeeSat is 32 bits so that every field a peg-in reads fits one slot.
//
//   - Bridge: extra errors InvalidConfig (constructor), TransferFailed (claim), and event
//     CreditClaimed.
//
//   - Bridge: the active epoch's FedScript is found at 0x…01000600 + epoch and its length by
//     EXTCODESIZE, not from storage (one cold read less); the constructor refuses a federation
//     whose fedScript is not FedScript(0).
//
//   - Bridge: BtcRelay's proof is forwarded as the caller encoded it (the tuple's bytes from its
//     start to the end of calldata), not re-encoded: same decoding, 1.4k gas less.
//
//   - Bridge: §4.2 step 2's "vout < 65536" needs no check of its own: a 100,000-byte transaction
//     holds at most 11,111 outputs, so VoutOutOfRange covers it.
//
//   - Bridge: refundDeposit's dust is Bitcoin Core's per script type (546 P2PKH, 540 P2SH, 294
//     P2WPKH, 330 P2WSH and P2TR), checked against the full value; the fee share is peg-out's.
//
//   - Hdr.prev is not written for tip extensions (above). PEG.md §2.5 counts
//     3 new slots per header; 2 suffice, which takes a batched header from
//     75.8k gas (over the 75k goal) to 53.7k and a single one from 134k (over
//     120k) to at most 112k. PEG.md §13 also undercounts the logic: about 8k
//     gas per header (hashing, checks, the median) under the legacy code
//     generator, not 1k.
//
//   - The price moves to reorgs: each height leaving the best chain costs
//     about 33.5k gas, so one transaction under EIP-7825's 2^24 gas cap
//     reorgs about 490 blocks at most. Mainnet's maxForkDepth of 2016 can
//     therefore not be reached in one call whatever the layout (the mainChain
//     rewrites alone exceed it); deeper reorgs stall the relay, as PEG.md
//     §2.4 already accepts for depths beyond maxForkDepth.
//
//   - PEG.md §8 names RelayParams and the checkpoint without defining them.
//     They are defined in IBtcRelay.sol; retargetInterval is a uint16 so that
//     everything but powLimit packs in one slot. Checkpoint.prevTimes is
//     newest first.
//
//   - The constructor refuses what the rules cannot run with, by the one
//     extra error InvalidConfig(): notably a retargeting network whose
//     powLimit × 4T could overflow 256 bits (the real networks are far below),
//     and a checkpoint off a retarget boundary or failing its own PoW.
//
//   - ForkTooDeep reports the exact fork height: the walk goes down to the
//     best chain (every stored header descends from the checkpoint, which no
//     reorg removes).
//
//   - Peg-out, §5.2 step 2: inputs cover Σrequested, not Σrequested + fee. Step 4 takes
//     the fee from the requests' shares, so the outputs already leave it; requiring the fee
//     again holds back change and refuses batches custody can pay. It also makes the vsize
//     exact: selection no longer depends on the fee, so whether a change output exists is
//     known before the fee is computed, and the fee is feeRate × the vsize of the real
//     transaction (with change dropped to the fee, no phantom change output is paid for).
//
//   - Peg-out, §8: PegOutBatch is defined (per-version arrays), getPegOutRequest gains
//     batchId (found by a binary search over batches, not stored: a slot per output would cost
//     22.1k), extra views feeRate, feeVotes, pegOutQueue, and errors NothingToRefresh,
//     InputOutOfRange, NotFederationUtxo, AuthorizedSpend, NotDelegated. Refunds of dust
//     requests are paid in wei at batching. requestPegOut refuses while halted.
//
//   - Peg-out: a request far larger than maxInputs UTXOs can hold blocks the queue
//     (InsufficientFederationFunds) until deposits or change consolidate; refresh batches
//     consolidate.
//
//   - PEG.md §12 lists a "header of 79 bytes" among proof faults
//     (BadHeaderLength); a 79-byte receiveHeaders input is BadHeadersLength.
//
//   - The regtest checkpoint hash in PEG.md §2.1 (0f9188f1…2206) is in display
//     order; BtcRelay holds it byte-reversed, as every hash.
package bridge
