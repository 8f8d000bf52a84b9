// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBtcRelay, BtcInclusion} from "./IBtcRelay.sol";
import {
    IBridgeEvents,
    DepositStatus,
    UtxoState,
    RequestState,
    BatchState,
    Policy,
    Federation
} from "./IBridge.sol";

/// What the Bridge's two code halves share: the storage layout (one ERC-7201
/// namespace, read and written by both, since BridgeOut's code runs in the
/// Bridge's storage through DELEGATECALL), the constants and the helpers
/// both use. Neither half declares storage of its own.
abstract contract BridgeBase is IBridgeEvents {
    /// A deposit output in custody: three slots, written at registration,
    /// holding what peg-out needs to spend it (txid, vout, value, epoch) and
    /// to refresh it before its emergency branch opens (btcHeight). The
    /// block's hash is not kept: a fourth slot would cost every deposit
    /// 22,100 gas, and the registering transaction's calldata holds the
    /// header.
    struct Utxo {
        bytes32 txid;
        // recipient:160 | valueSat:64 | status:8 | state:8 | epoch:16
        address recipient;
        uint64 valueSat;
        DepositStatus status;
        UtxoState state;
        uint16 epoch;
        // btcHeight:32 | vout:32 | requestId:64 | batchId:64
        uint32 btcHeight;
        uint32 vout;
        uint64 requestId;
        uint64 batchId; // the batch that reserved it; kept once SPENT
    }

    /// A peg-out request as stored; getPegOutRequest adds its batch.
    struct Request {
        address requester;
        uint64 amountSat;
        RequestState state;
        bytes btcScript;
    }

    /// One transaction of a batch. Versions after 0 are fee bumps (RBF):
    /// same inputs and paid outputs, less change.
    struct Version {
        bytes32 txid;
        // feeSat:64 | changeSat:64 | feeRate:32 | vsize:32 | signedBitmap:16 | readyBtcHeight:32
        uint64 feeSat;
        uint64 changeSat; // 0: no change output
        uint32 feeRate;
        uint32 vsize;
        uint16 signedBitmap;
        uint32 readyBtcHeight;
        mapping(uint256 => bytes32) sighash;
    }

    struct Batch {
        // state:8 | refresh:8 | versions:8 | epoch:16 | nInputs:16 | nRequests:16 | nPaid:16 | createdBlock:64 | firstRequest:64
        BatchState state;
        bool refresh;
        uint8 versions;
        uint16 epoch;
        uint16 nInputs;
        uint16 nRequests;
        uint16 nPaid;
        uint64 createdBlock;
        uint64 firstRequest;
        // shareSat:64 | requestedSat:64 | inSat:64
        uint64 shareSat;
        uint64 requestedSat;
        uint64 inSat;
        // The inputs' fifo positions, 64 bits each, four a slot (input i
        // in slot i/4 at bit 64·(i%4)): a key (keccak of the outpoint) a
        // slot would cost each input a new slot, 22,100 gas.
        mapping(uint256 => uint256) inputPos;
        mapping(uint256 => Version) vers;
    }

    /// A member's last fee-rate vote; rate 0 until the first.
    struct Vote {
        uint32 rate;
        uint64 nonce;
    }

    /// Storage is one ERC-7201 namespace so that a hard-fork code replacement
    /// (PEG.md D11) can add fields after these without moving them.
    /// @custom:storage-location erc7201:mmgeth.bridge.v1
    struct Layout {
        Policy policy;
        // One slot that every peg-in reads and writes.
        uint64 custodySat;
        uint64 pegInTotalSat;
        uint64 fifoLength;
        uint16 activeEpoch;
        // The rest of the ledger.
        uint64 pendingOutSat;
        uint64 surplusSat;
        uint64 requestCount; // request ids start at 1
        uint64 pegOutTotalSat;
        uint64 faultSat;
        uint64 feeDeficitSat;
        uint256 heldWei;
        uint256 unbackedGenesisWei;
        mapping(uint16 => Federation) federations;
        mapping(bytes32 => Utxo) utxos; // key(txid, vout)
        mapping(uint256 => bytes32) fifo; // custody order, for peg-out input selection
        mapping(uint64 => Request) requests;
        mapping(address => uint256) held;
        mapping(uint256 => uint64) fastUsed; // sat credited on the fast tier, per 100 Bitcoin blocks
        // Peg-out. nextRequest: the oldest request not yet batched (ids from 1);
        // fifoHead: no UNSPENT record before it in fifo.
        uint64 nextRequest;
        uint64 fifoHead;
        uint64 batchCount; // batch ids start at 1
        uint64 lastBatchBlock;
        uint8 inflight; // batches built and not confirmed
        bool pegOutsHalted; // set for good by a proven unauthorized spend
        mapping(uint64 => Batch) batches;
        mapping(uint8 => Vote) votes;
    }

    // keccak256(abi.encode(uint256(keccak256("mmgeth.bridge.v1")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant LAYOUT = 0xe0a6508d1b094b3853965a2bc6b7019c8f85b487982442f1e5fc7a0a2660c800;

    uint256 internal constant RELAY_ADDRESS = 0x01000007; // BtcRelay
    uint256 internal constant FEDSCRIPT_BASE = 0x01000600;
    uint256 internal constant SAT = 1e10; // wei per satoshi: both chains count 1e8 sat a BTC
    uint256 internal constant TOTAL_WEI = 21_000_000 * 1e18; // Bitcoin's supply, all of it on this chain
    uint256 internal constant FAST_WINDOW = 100; // Bitcoin blocks per fast-tier cap window
    uint8 internal constant REASON_BELOW_MIN = 1;
    uint8 internal constant REASON_CAP = 2;
    uint8 internal constant REASON_DUST_AFTER_FEE = 1;
    address internal constant BRIDGE = address(0x01000006);
    address internal constant OUT = address(0x01000008); // BridgeOut: the peg-out half
    uint256 internal constant MAX_INFLIGHT = 4;
    uint256 internal constant MIN_CHANGE = 330; // P2WSH dust: less change goes to the fee
    uint256 internal constant CHANGE_OUT_BYTES = 43; // value 8 ‖ cs 1 ‖ 0x0020 ‖ program 32
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    bytes internal constant VOTE_DOMAIN = "mmgeth/feevote/v1";

    /// The batch paying request id: the newest batch starting at or before
    /// it (batches take requests in id order; a refresh batch starts at the
    /// next unbatched request, so never before a request already batched).
    function _batchOf(Layout storage $, uint64 id) internal view returns (uint64 found) {
        uint64 lo = 1;
        uint64 hi = $.batchCount;
        while (lo <= hi) {
            uint64 mid = (lo + hi) / 2;
            if ($.batches[mid].firstRequest <= id) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
    }

    /// BtcRelay.verifyInclusion(txid, p, minConfs), its revert data passed on
    /// unchanged. The proof's ABI encoding is forwarded as it came: a tuple's
    /// offsets are relative to its start and point forward, so the bytes
    /// from its start to the end of calldata decode, in BtcRelay, to the p
    /// this contract reads. Re-encoding it would cost ~2k gas more.
    function _verifyInclusion(bytes32 txid, BtcInclusion calldata p, uint32 minConfs)
        internal
        view
        returns (uint32 confs)
    {
        bytes4 selector = IBtcRelay.verifyInclusion.selector;
        assembly ("memory-safe") {
            let buf := mload(0x40)
            let tail := sub(calldatasize(), p)
            mstore(buf, selector)
            mstore(add(buf, 4), txid)
            mstore(add(buf, 36), 0x60) // the tuple follows the three head words
            mstore(add(buf, 68), minConfs)
            calldatacopy(add(buf, 100), p, tail)
            if iszero(staticcall(gas(), RELAY_ADDRESS, buf, add(100, tail), 0x00, 0x20)) {
                returndatacopy(buf, 0, returndatasize())
                revert(buf, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) }
            confs := mload(0x00)
            if gt(confs, 0xffffffff) { revert(0, 0) }
        }
    }

    /// Step 6: the output enters custody whatever becomes of the credit. The
    /// record's three slots are written whole, in Solidity's packing of Utxo
    /// (the tests read them back through getDeposit).
    function _record(
        Layout storage $,
        bytes32 txid,
        uint32 vout,
        address recipient,
        uint64 value,
        uint256 meta,
        uint32 height
    ) internal {
        bytes32 key = _key(txid, vout);
        Utxo storage u = $.utxos[key];
        uint256 word1 = uint256(uint160(recipient)) | uint256(value) << 160 | meta << 224;
        uint256 word2 = uint256(height) | uint256(vout) << 32;
        assembly ("memory-safe") {
            let slot := u.slot
            sstore(slot, txid)
            sstore(add(slot, 1), word1)
            sstore(add(slot, 2), word2)
        }
        $.fifo[$.fifoLength++] = key;
        $.custodySat += value;
    }

    /// status:8 | state:8 | epoch:16, the top 32 bits of a record's second slot.
    function _utxoMeta(DepositStatus status, uint16 epoch) internal pure returns (uint256) {
        return uint256(uint8(status)) | uint256(uint8(UtxoState.UNSPENT)) << 8 | uint256(epoch) << 16;
    }

    function _hold(Layout storage $, address who, uint256 amount) internal {
        $.held[who] += amount;
        $.heldWei += amount;
        emit PegInCreditHeld(who, amount);
    }

    /// A value transfer with the 2300-gas stipend only.
    function _send(address to, uint256 amount) internal returns (bool ok) {
        assembly ("memory-safe") {
            ok := call(0, to, amount, 0, 0, 0, 0)
        }
    }

    /// keccak256(txid ‖ u32le(vout)), txid in internal byte order (PEG.md §4.2).
    function _key(bytes32 txid, uint32 vout) internal pure returns (bytes32 k) {
        uint32 le = ((vout & 0xff) << 24) | ((vout & 0xff00) << 8) | ((vout >> 8) & 0xff00) | (vout >> 24);
        return keccak256(abi.encodePacked(txid, le));
    }

    /// sha256d of the transaction, hashed in place from calldata.
    function _txid(bytes calldata raw) internal view returns (bytes32 h) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            calldatacopy(buf, raw.offset, raw.length)
            if iszero(staticcall(gas(), 0x02, buf, raw.length, 0x00, 32)) { revert(0, 0) }
            if iszero(staticcall(gas(), 0x02, 0x00, 32, 0x00, 32)) { revert(0, 0) }
            h := mload(0x00)
        }
    }

    /// The smallest output Bitcoin Core relays for each standard script a
    /// refund may pay (its GetDustThreshold at 3 sat/vB); anything else is
    /// UnsupportedScript.
    function _dust(bytes memory s) internal pure returns (uint256) {
        uint256 n = s.length;
        if (n == 25 && s[0] == 0x76 && s[1] == 0xa9 && s[2] == 0x14 && s[23] == 0x88 && s[24] == 0xac) return 546; // P2PKH
        if (n == 23 && s[0] == 0xa9 && s[1] == 0x14 && s[22] == 0x87) return 540; // P2SH
        if (n == 22 && s[0] == 0x00 && s[1] == 0x14) return 294; // P2WPKH
        if (n == 34 && s[0] == 0x00 && s[1] == 0x20) return 330; // P2WSH
        if (n == 34 && s[0] == 0x51 && s[1] == 0x20) return 330; // P2TR
        revert UnsupportedScript();
    }

    function _layout() internal pure returns (Layout storage $) {
        assembly ("memory-safe") {
            $.slot := LAYOUT
        }
    }
}
