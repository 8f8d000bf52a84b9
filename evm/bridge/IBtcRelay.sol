// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// SPV proof that a transaction is in a best-chain Bitcoin block (PEG.md §3).
/// Hashes are in Bitcoin's internal byte order (as sha256d returns them and as
/// a header's prev field holds them): the reverse of the usual display form.
struct BtcInclusion {
    bytes header; // 80-byte header, wire order
    uint32 height; // claimed height; must match the best-chain index
    uint32 txIndex; // position of the tx in the block; 0 (coinbase) is refused
    bytes txBranch; // sibling hashes bottom-up, 32 bytes each
    bytes32 coinbasePreimage; // SHA256(coinbase non-witness serialization): one round
    bytes coinbaseBranch; // siblings of the coinbase; same length as txBranch
}

/// Bitcoin network parameters, copied from btcd chaincfg by the genesis builder
/// (PEG.md §2.1). Packed by Solidity into two storage slots.
struct RelayParams {
    uint256 powLimit;
    uint32 powLimitBits;
    bool noRetargeting; // regtest: every header carries powLimitBits
    bool reduceMinDifficulty; // testnet: the 20-minute rule
    bool enforceBIP94; // testnet4: timewarp fix, retarget from the first block's bits
    uint32 targetTimespan; // seconds; 1,209,600 on every network
    uint16 retargetInterval; // 2016 on every network
    uint32 bip34Height;
    uint32 bip66Height;
    uint32 bip65Height;
    uint32 maxForkDepth;
    uint16 maxHeadersPerCall;
}

/// The trusted starting point. prevTimes are the timestamps of the blocks
/// just below it, newest first (height-1, height-2, ...), so that the first
/// headers see the same median-time-past as a full node.
struct Checkpoint {
    bytes header;
    uint32 height;
    uint128 chainwork; // cumulative work up to and including this block
    uint32[] prevTimes;
}

/// Bitcoin light client at 0x0000000000000000000000000000000001000007 (PEG.md §8).
interface IBtcRelay {
    event BtcHeadersAccepted(bytes32 indexed bestHash, uint32 bestHeight, uint16 accepted);
    event BtcReorg(bytes32 indexed oldBest, bytes32 indexed newBest, uint32 forkHeight, uint32 depth);

    error BadHeadersLength(uint256 len);
    error TooManyHeaders(uint256 n, uint256 max);
    error UnknownParent(bytes32 prev);
    error BadBits(bytes32 hash, uint32 bits);
    error UnexpectedBits(bytes32 hash, uint32 have, uint32 want);
    error InsufficientPoW(bytes32 hash);
    error TimeTooOld(bytes32 hash, uint32 time, uint32 mtp);
    error TimeTooNew(bytes32 hash, uint32 time, uint256 limit);
    error TimeWarp(bytes32 hash);
    error BadVersion(bytes32 hash, int32 version);
    error ForkTooDeep(bytes32 hash, uint32 forkHeight, uint32 best);
    error ChainworkOverflow();
    error BadHeaderLength();
    error BlockNotInBestChain(bytes32 hash, uint32 height);
    error InsufficientConfirmations(uint32 have, uint32 need);
    error MalformedProof();
    error DepthMismatch();
    error BadTxIndex(uint32 index);
    error MerkleMismatch();
    error CoinbaseProofMismatch();

    function receiveHeaders(bytes calldata headers) external returns (uint16 accepted, uint32 bestHeight);
    function bestChain() external view returns (bytes32 hash, uint32 height, uint128 chainwork);
    function checkpoint() external view returns (bytes32 hash, uint32 height);
    function blockHashAt(uint32 height) external view returns (bytes32);
    function headerInfo(bytes32 hash)
        external
        view
        returns (bool known, uint32 height, uint32 time, uint32 bits, uint128 chainwork, bytes32 prev, bool inBestChain);
    function confirmations(bytes32 hash) external view returns (uint32);
    function verifyInclusion(bytes32 txid, BtcInclusion calldata p, uint32 minConfs)
        external
        view
        returns (uint32 confs);
    function params() external view returns (RelayParams memory);
}
