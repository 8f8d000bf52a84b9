// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BtcInclusion} from "./IBtcRelay.sol";

/// Where a deposit (one proven Bitcoin output paying a deposit address) stands.
enum DepositStatus {
    NONE,
    CREDITED, // value × 1e10 wei sent to the recipient
    CREDIT_HELD, // the recipient refused value: claim() pays it later
    REJECTED_BELOW_MIN, // below minPegInSat: surplus until refunded
    REJECTED_CAP, // over pegInCapSat: surplus until refunded
    REFUND_REQUESTED // a peg-out request of the full value was made from it
}

/// The Bitcoin output's custody state; peg-out moves it past UNSPENT.
enum UtxoState {
    NONE,
    UNSPENT,
    RESERVED,
    SPENT
}

/// A peg-out request's state; refunds of rejected deposits start QUEUED.
enum RequestState {
    NONE,
    QUEUED,
    BATCHED,
    REFUNDED,
    CONFIRMED
}

/// The peg's parameters (PEG.md §4.5), as the genesis spec's peg section
/// gives them. The first six fields are what every registerPegIn reads: they
/// fill exactly the first storage slot.
struct Policy {
    uint32 chainId; // the sidechain's chain id, committed in every deposit script
    uint32 pegInConfirmations;
    uint32 fastConfirmations; // 0: no fast tier
    uint64 minPegInSat;
    uint64 pegInCapSat; // 0: no cap
    uint32 pegInRelayerFeeSat; // below minPegInSat
    uint64 fastMaxSat;
    uint64 fastCapSatPer100Blocks;
    uint64 minPegOutSat;
    uint64 batchIntervalBlocks;
    uint16 maxInputs;
    uint16 maxOutputs;
    uint64 feeRateMin; // sat/vB
    uint64 feeRateMax;
    uint64 feeRateStart;
    uint32 pegOutConfirmations;
    uint32 rbfAfterBtcBlocks;
    uint64 dailyOutflowCapSat; // 0: no cap
    uint32 refreshAgeBlocks;
}

/// One federation epoch (PEG.md §4.1). Keys are 33-byte compressed points in
/// script (ascending) order; signers[i] is the EVM address ecrecover gives for
/// member i's signatures.
struct Federation {
    uint8 threshold;
    uint8 emergencyThreshold;
    uint32 csvDelay;
    address fedScript; // data contract: code = 0x00 ‖ federation script
    uint16 scriptLength; // of the federation script, without the 0x00
    bytes32 changeProgram; // sha256(depositScript(chainId, 0)): never creditable
    bytes[] pubkeys;
    address[] signers;
    bytes[] emergencyPubkeys;
}

/// getDeposit's answer. btcHeight is where the proof placed the output when it
/// was registered; the block's header is in the registering transaction.
struct Deposit {
    DepositStatus status;
    UtxoState utxoState;
    address recipient;
    uint64 valueSat;
    uint32 btcHeight;
    uint16 epoch;
    uint64 requestId; // the refund's peg-out request, once REFUND_REQUESTED
}

/// A peg-out batch's state. A batch is SIGNING until its newest version has
/// threshold signatures (READY); a fee bump makes a new version, SIGNING
/// again. Every version stays confirmable: they spend the same inputs.
enum BatchState {
    NONE,
    SIGNING,
    READY,
    CONFIRMED
}

/// A peg-out request (requestPegOut, or refundDeposit of a rejected deposit).
/// batchId is the batch paying it once BATCHED or CONFIRMED, else 0.
struct PegOutRequest {
    address requester;
    uint64 amountSat;
    RequestState state;
    bytes btcScript;
    uint64 batchId;
}

/// getPegOutBatch's answer. Per-version fields are arrays indexed by version.
/// A refresh batch (buildRefreshBatch) pays no request: nRequests 0.
struct PegOutBatch {
    BatchState state;
    bool refresh;
    uint16 epoch; // the federation whose change output it pays and whose members sign
    uint64 createdBlock; // the sidechain block that built it: the signing gate waits for its finality
    uint64 firstRequest;
    uint16 nRequests; // requests firstRequest.. firstRequest+nRequests-1, those REFUNDED as dust excepted
    uint64 shareSat; // fee share taken from each paid request
    uint64 requestedSat; // Σ amounts of the paid requests
    uint64 inSat; // Σ input values
    bytes32[] inputKeys; // the UTXOs spent, in input order
    bytes32[] txids;
    uint64[] feeSat;
    uint64[] changeSat; // 0: no change output
    uint32[] feeRate; // sat/vB the version was built at
    uint16[] signedBitmap; // bit m: member m signed every input of the version
    uint32[] readyBtcHeight; // BtcRelay's best height when the version became READY, 0 before
}

/// One custody record in FIFO order (utxos()).
struct UtxoInfo {
    bytes32 key;
    bytes32 txid;
    uint32 vout;
    uint64 valueSat;
    address recipient; // 0: federation change
    UtxoState state;
    uint32 btcHeight;
    uint16 epoch;
    uint64 batchId; // the batch reserving or spending it, 0 if none
}

/// The custody ledger and the supply invariant (PEG.md §8):
///   custodySat·1e10 ≥ (TOTAL − balance + heldWei − unbackedGenesisWei)
///                     + (pendingOutSat + surplusSat − faultSat − feeDeficitSat)·1e10
/// with TOTAL = 21,000,000 BTC in wei. It is an equality unless wei was forced
/// into the Bridge (SELFDESTRUCT, a coinbase): that surplus is excessWei. The
/// view computes both sides; invariantHolds is their comparison.
struct Accounting {
    uint64 custodySat; // every deposit output the federation holds for the peg
    uint64 pendingOutSat; // requested out (refunds included), not yet paid on Bitcoin
    uint64 surplusSat; // custody backing nothing: rejected, unrefunded deposits
    uint256 heldWei; // credits waiting for claim(), still in the Bridge's balance
    uint64 pegInTotalSat; // credited (or held) peg-ins, ever
    uint64 pegOutTotalSat; // peg-outs confirmed on Bitcoin, ever
    uint64 faultSat; // custody lost to an unauthorized spend
    uint64 feeDeficitSat; // Bitcoin fees custody paid beyond the requests' shares
    uint256 unbackedGenesisWei; // genesis allocations outside the Bridge (dev only)
    uint256 balanceWei; // the Bridge's balance now
    uint256 backedWei; // TOTAL − balance + heldWei − unbackedGenesisWei: BTC pegged in, on the sidechain
    uint256 excessWei; // left side minus right side when it holds
    bool invariantHolds;
}

/// The Bridge's events and errors, shared by its two code halves.
interface IBridgeEvents {

    event PegIn(bytes32 indexed txid, uint32 vout, address indexed recipient, uint64 valueSat, uint32 btcHeight);
    event PegInCreditHeld(address indexed recipient, uint256 amountWei);
    /// reason: 1 below minPegInSat, 2 over pegInCapSat.
    event PegInRejected(bytes32 indexed txid, uint32 vout, address indexed recipient, uint64 valueSat, uint8 reason);
    event PegOutRequested(uint64 indexed requestId, address indexed requester, bytes btcScript, uint64 amountSat);
    event CreditClaimed(address indexed recipient, address indexed to, uint256 amountWei);
    /// reason 1: the output would be dust after the request's fee share.
    event PegOutRefunded(uint64 indexed requestId, uint8 reason);
    event PegOutBatchCreated(
        uint64 indexed batchId,
        uint8 version,
        bytes32 txid,
        uint64 firstRequest,
        uint16 nRequests,
        uint64 feeSat,
        bytes unsignedTx
    );
    event PegOutSignatures(uint64 indexed batchId, uint8 indexed member, uint8 version, bytes sigs);
    event PegOutReady(uint64 indexed batchId, uint8 version, bytes32 txid);
    event PegOutConfirmed(uint64 indexed batchId, uint8 version, bytes32 txid, uint32 btcHeight);
    event FeeRateVote(uint8 indexed member, uint32 satPerVByte);
    event FederationFault(bytes32 indexed btcTxid, bytes32 utxoKey);

    error InvalidRecipient();
    error MalformedTx(uint256 offset);
    error Tx64Bytes();
    error VoutOutOfRange(uint32 vout);
    error NotADeposit(uint32 vout, bytes32 wantProgram);
    error AlreadyProcessed(bytes32 txid, uint32 vout);
    error NotRecipient();
    error NotRefundable();
    error RefundBelowDust();
    error UnsupportedScript();
    error NothingHeld();
    error TransferFailed();
    error UseRequestPegOut();
    error NotSatoshiMultiple();
    error BelowMinimumPegOut(uint64 sat);
    error NothingToBatch();
    error BatchIntervalNotElapsed(uint256 nextBlock);
    error TooManyInflight();
    error InsufficientFederationFunds(uint64 needSat, uint64 haveSat);
    error UnknownBatch(uint64 id);
    error WrongState();
    error NotMember(uint8 m);
    error BadSignature(uint256 input);
    error HighS(uint256 input);
    error AlreadySigned(uint8 m);
    error BadSigLength();
    error TooEarlyToBump(uint32 btcBlocksLeft);
    error CannotBump();
    error PegOutsHalted();
    error StaleVote();
    error NothingToRefresh();
    error InputOutOfRange(uint32 input);
    error NotFederationUtxo(bytes32 key);
    error AuthorizedSpend(uint64 batchId);
}

/// The peg at 0x0000000000000000000000000000000001000006 (PEG.md §8):
/// deposits are credited from the Bridge's own balance, which is the supply
/// not yet pegged in; peg-outs return value to it and are paid on Bitcoin by
/// deterministic batches the federation signs on chain.
interface IBridge is IBridgeEvents {

    function registerPegIn(bytes calldata btcTx, BtcInclusion calldata p, uint32 vout, address recipient)
        external
        returns (DepositStatus);
    function refundDeposit(bytes32 txid, uint32 vout, bytes calldata btcScript) external returns (uint64 requestId);
    function claim(address payable to) external returns (uint256 amountWei);
    function heldCredit(address who) external view returns (uint256);
    function getDeposit(bytes32 txid, uint32 vout) external view returns (Deposit memory);
    function getPegOutRequest(uint64 id) external view returns (PegOutRequest memory);
    function depositScript(address recipient, uint16 epoch) external view returns (bytes memory script, bytes32 program);
    function activeEpoch() external view returns (uint16);
    function federation(uint16 epoch) external view returns (Federation memory);
    function policy() external view returns (Policy memory);
    function policyHash() external view returns (bytes32);
    function accounting() external view returns (Accounting memory);
}

/// The Bridge's peg-out functions (PEG.md §5, §8), served at the Bridge's
/// address by BridgeOut's code through the Bridge's fallback (DELEGATECALL).
interface IBridgePegOut is IBridgeEvents {
    function requestPegOut(bytes calldata btcScript) external payable returns (uint64 requestId);
    function buildPegOutBatch() external returns (uint64 batchId);
    function buildRefreshBatch() external returns (uint64 batchId);
    function addSignatures(uint64 batchId, uint8 version, uint8 member, bytes calldata sigs)
        external
        returns (uint8 signers);
    function confirmPegOut(uint64 batchId, uint8 version, BtcInclusion calldata p) external;
    function bumpPegOutFee(uint64 batchId) external returns (uint8 version);
    function reportUnauthorizedSpend(bytes calldata btcTx, BtcInclusion calldata p, uint32 input) external;
    function voteFeeRate(uint8 member, uint32 satPerVByte, uint64 nonce, bytes calldata sig65) external;
    function getPegOutBatch(uint64 id) external view returns (PegOutBatch memory);
    function pegOutTx(uint64 batchId, uint8 version)
        external
        view
        returns (bytes memory unsignedTx, bytes32 txid, bytes32[] memory sighashes);
    function utxos(uint256 cursor, uint256 count) external view returns (UtxoInfo[] memory list, uint256 next);
    function feeRate() external view returns (uint32);
    function feeVotes() external view returns (uint32[] memory rates, uint64[] memory nonces);
    function pegOutQueue() external view returns (uint64 next, uint64 last, uint64 batches, uint64 lastBatchBlock, uint8 inflight, bool halted);
}
