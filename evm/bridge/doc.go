// Package bridge owns the peg's EVM system contracts: their Solidity
// sources, the committed bytecode and ABIs built from them, their genesis
// deployment, and Go bindings for calling them. Today that is BtcRelay, the
// Bitcoin light client at 0x…01000007 (PEG.md §2, §3); the Bridge contract
// (0x…01000006) joins it here. It does not own the Go reference rules
// (btcspv), the genesis spec (genesis/) or any RPC.
//
// # Files
//
//	IBtcRelay.sol        structs (BtcInclusion, RelayParams, Checkpoint), events, errors, interface (PEG.md §8)
//	BtcRelay.sol         the contract
//	lib/BtcHeader.sol    header fields from calldata; CompactToBig, BigToCompact, CalcWork
//	lib/Sha256d.sol      double SHA-256 on precompile 0x02, the only hashing used
//	BtcRelay.bin/.abi.json  creation code and ABI, committed; `make contracts` rebuilds them
//	deploy.go            DeployBtcRelay: the genesis account, by running the constructor
//	abi.go               bindings and custom-error decoding (RevertError)
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
// # Where this departs from PEG.md, and what PEG.md gets wrong
//
//   - Hdr.prev is not written for tip extensions (above). PEG.md §2.5 counts
//     3 new slots per header; 2 suffice, which takes a batched header from
//     75.8k gas (over the 75k goal) to 53.7k and a single one from 134k (over
//     120k) to at most 112k. PEG.md §13 also undercounts the logic: about 8k
//     gas per header (hashing, checks, the median) under the legacy code
//     generator, not 1k.
//   - The price moves to reorgs: each height leaving the best chain costs
//     about 33.5k gas, so one transaction under EIP-7825's 2^24 gas cap
//     reorgs about 490 blocks at most. Mainnet's maxForkDepth of 2016 can
//     therefore not be reached in one call whatever the layout (the mainChain
//     rewrites alone exceed it); deeper reorgs stall the relay, as PEG.md
//     §2.4 already accepts for depths beyond maxForkDepth.
//   - PEG.md §8 names RelayParams and the checkpoint without defining them.
//     They are defined in IBtcRelay.sol; retargetInterval is a uint16 so that
//     everything but powLimit packs in one slot. Checkpoint.prevTimes is
//     newest first.
//   - The constructor refuses what the rules cannot run with, by the one
//     extra error InvalidConfig(): notably a retargeting network whose
//     powLimit × 4T could overflow 256 bits (the real networks are far below),
//     and a checkpoint off a retarget boundary or failing its own PoW.
//   - ForkTooDeep reports the exact fork height: the walk goes down to the
//     best chain (every stored header descends from the checkpoint, which no
//     reorg removes).
//   - PEG.md §12 lists a "header of 79 bytes" among proof faults
//     (BadHeaderLength); a 79-byte receiveHeaders input is BadHeadersLength.
//   - The regtest checkpoint hash in PEG.md §2.1 (0f9188f1…2206) is in display
//     order; BtcRelay holds it byte-reversed, as every hash.
package bridge
