// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BtcInclusion} from "./IBtcRelay.sol";
import {
    IBridge,
    DepositStatus,
    UtxoState,
    RequestState,
    Policy,
    Federation,
    Deposit,
    PegOutRequest,
    Accounting
} from "./IBridge.sol";
import {BtcTx} from "./lib/BtcTx.sol";
import {BridgeBase} from "./BridgeBase.sol";

/// The two-way peg's EVM side (PEG.md §4, §5, §8). Its balance is the BTC
/// not yet pegged in: a peg-in is a value transfer out of it, so nothing is
/// ever minted (PEG.md D2), and a peg-out request is a value transfer into
/// it. Anyone may register a deposit, build a batch or relay signatures and
/// proofs; the proofs and signatures decide, never the caller.
contract Bridge is BridgeBase, IBridge {
    /// Raised by the constructor only: the genesis builder passed a peg the
    /// rules cannot run with.
    error InvalidConfig();

    /// Runs at genesis build (PEG.md §10.3), at another address and on
    /// another chain than the one the code then lives on: it reads only its
    /// arguments. fedScript is the bytes the genesis builder places, after a
    /// 0x00, at f.fedScript; the change program is derived from them here so
    /// that the two cannot disagree.
    constructor(Policy memory p, Federation memory f, bytes memory fedScript, uint256 unbackedGenesisWei) {
        uint256 n = f.pubkeys.length;
        if (
            p.chainId == 0 || p.pegInConfirmations == 0 || p.minPegInSat <= p.pegInRelayerFeeSat
                || (p.fastConfirmations != 0 && p.fastConfirmations >= p.pegInConfirmations) || n == 0 || n > 15
                || f.signers.length != n || f.threshold <= n / 2 || f.threshold > n || f.emergencyPubkeys.length == 0
                || f.emergencyThreshold == 0 || f.emergencyThreshold > f.emergencyPubkeys.length
                || fedScript.length == 0 || fedScript.length + 27 > 3600 || f.fedScript != _fedScriptAt(0)
                || unbackedGenesisWei > TOTAL_WEI
        ) revert InvalidConfig();
        Layout storage $ = _layout();
        $.policy = p;
        f.scriptLength = uint16(fedScript.length);
        f.changeProgram = sha256(abi.encodePacked(_prefix(p.chainId, address(0)), fedScript));
        Federation storage fs = $.federations[0];
        fs.threshold = f.threshold;
        fs.emergencyThreshold = f.emergencyThreshold;
        fs.csvDelay = f.csvDelay;
        fs.fedScript = f.fedScript;
        fs.scriptLength = f.scriptLength;
        fs.changeProgram = f.changeProgram;
        for (uint256 i; i < n; ++i) {
            fs.pubkeys.push(f.pubkeys[i]);
            fs.signers.push(f.signers[i]);
        }
        for (uint256 i; i < f.emergencyPubkeys.length; ++i) {
            fs.emergencyPubkeys.push(f.emergencyPubkeys[i]);
        }
        $.unbackedGenesisWei = unbackedGenesisWei;
        $.nextRequest = 1;
    }

    /// Value sent without a call would be lost to the ledger: peg-outs go
    /// through requestPegOut (PEG.md §5.1), never a plain transfer.
    receive() external payable {
        revert UseRequestPegOut();
    }

    /// The peg-out functions (IBridgePegOut) run BridgeOut's code at
    /// 0x…01000008 in this contract's storage and balance: one contract does
    /// not fit EIP-170's 24,576 bytes. Unknown selectors revert there.
    fallback() external payable {
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), 0x01000008, 0, calldatasize(), 0, 0) // OUT
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// PEG.md §4.2, checks in order. Credits value × 1e10 wei from this
    /// contract's balance to the recipient, or holds it when the recipient
    /// refuses value; a deposit below the minimum or over the cap is tracked
    /// (no revert) for a refund.
    function registerPegIn(bytes calldata btcTx, BtcInclusion calldata p, uint32 vout, address recipient)
        external
        returns (DepositStatus status)
    {
        // 1. Recipient 0 is the federation's change; the Bridge cannot credit itself.
        if (recipient == address(0) || recipient == address(this)) revert InvalidRecipient();
        (bytes32 txid, uint64 value, uint16 epoch) = _checkOutput(btcTx, vout, recipient);
        _checkInclusion(txid, p, value);
        Layout storage $ = _layout();
        status = _verdict($, value);
        _record($, txid, vout, recipient, value, _utxoMeta(status, epoch), p.height);
        if (status == DepositStatus.CREDITED) {
            status = _credit($, txid, vout, recipient, value);
            emit PegIn(txid, vout, recipient, value, p.height);
        } else {
            _reject($, txid, vout, recipient, value, status, p);
        }
    }

    /// Turns a rejected deposit into a peg-out request of its full value to
    /// btcScript, paid by the peg-out machinery (the Bitcoin fee share is
    /// deducted at batching). Only the deposit's recipient may ask.
    function refundDeposit(bytes32 txid, uint32 vout, bytes calldata btcScript) external returns (uint64 requestId) {
        Layout storage $ = _layout();
        Utxo storage u = $.utxos[_key(txid, vout)];
        DepositStatus s = u.status;
        if (s != DepositStatus.REJECTED_BELOW_MIN && s != DepositStatus.REJECTED_CAP) revert NotRefundable();
        if (msg.sender != u.recipient) revert NotRecipient();
        uint64 value = u.valueSat;
        if (value < _dust(btcScript)) revert RefundBelowDust();
        requestId = ++$.requestCount;
        Request storage r = $.requests[requestId];
        r.requester = msg.sender;
        r.amountSat = value;
        r.state = RequestState.QUEUED;
        r.btcScript = btcScript;
        u.status = DepositStatus.REFUND_REQUESTED;
        u.requestId = requestId;
        $.surplusSat -= value;
        $.pendingOutSat += value;
        emit PegOutRequested(requestId, msg.sender, btcScript, value);
    }

    /// Pays the caller's held credits to `to`, with all the gas it needs.
    function claim(address payable to) external returns (uint256 amountWei) {
        if (to == address(0) || to == address(this)) revert InvalidRecipient();
        Layout storage $ = _layout();
        amountWei = $.held[msg.sender];
        if (amountWei == 0) revert NothingHeld();
        $.held[msg.sender] = 0;
        $.heldWei -= amountWei;
        (bool ok,) = to.call{value: amountWei}("");
        if (!ok) revert TransferFailed();
        emit CreditClaimed(msg.sender, to, amountWei);
    }

    function heldCredit(address who) external view returns (uint256) {
        return _layout().held[who];
    }

    function getDeposit(bytes32 txid, uint32 vout) external view returns (Deposit memory d) {
        Utxo storage u = _layout().utxos[_key(txid, vout)];
        d.status = u.status;
        d.utxoState = u.state;
        d.recipient = u.recipient;
        d.valueSat = u.valueSat;
        d.btcHeight = u.btcHeight;
        d.epoch = u.epoch;
        d.requestId = u.requestId;
    }

    function getPegOutRequest(uint64 id) external view returns (PegOutRequest memory r) {
        Layout storage $ = _layout();
        Request storage q = $.requests[id];
        r.requester = q.requester;
        r.amountSat = q.amountSat;
        r.state = q.state;
        r.btcScript = q.btcScript;
        if (r.state == RequestState.BATCHED || r.state == RequestState.CONFIRMED) r.batchId = _batchOf($, id);
    }

    /// The witness script of recipient's deposit address and its P2WSH program.
    function depositScript(address recipient, uint16 epoch)
        external
        view
        returns (bytes memory script, bytes32 program)
    {
        Layout storage $ = _layout();
        Federation storage f = $.federations[epoch];
        if (f.fedScript == address(0)) revert InvalidConfig();
        script = abi.encodePacked(_prefix($.policy.chainId, recipient), _fedScript(f));
        program = sha256(script);
    }

    function activeEpoch() external view returns (uint16) {
        return _layout().activeEpoch;
    }

    function federation(uint16 epoch) external view returns (Federation memory) {
        return _layout().federations[epoch];
    }

    function policy() external view returns (Policy memory) {
        return _layout().policy;
    }

    /// keccak256(abi.encode(policy(), federation(activeEpoch()))) (PEG.md §7).
    function policyHash() external view returns (bytes32) {
        Layout storage $ = _layout();
        return keccak256(abi.encode($.policy, $.federations[$.activeEpoch]));
    }

    function accounting() external view returns (Accounting memory a) {
        Layout storage $ = _layout();
        a.custodySat = $.custodySat;
        a.pendingOutSat = $.pendingOutSat;
        a.surplusSat = $.surplusSat;
        a.heldWei = $.heldWei;
        a.pegInTotalSat = $.pegInTotalSat;
        a.pegOutTotalSat = $.pegOutTotalSat;
        a.faultSat = $.faultSat;
        a.feeDeficitSat = $.feeDeficitSat;
        a.unbackedGenesisWei = $.unbackedGenesisWei;
        a.balanceWei = address(this).balance;
        a.backedWei = _backedWei($);
        // Both sides moved so that nothing is subtracted: no underflow.
        uint256 lhs = (uint256(a.custodySat) + a.faultSat + a.feeDeficitSat) * SAT + a.balanceWei + a.unbackedGenesisWei;
        uint256 rhs = TOTAL_WEI + a.heldWei + (uint256(a.pendingOutSat) + a.surplusSat) * SAT;
        a.invariantHolds = lhs >= rhs;
        if (a.invariantHolds) a.excessWei = lhs - rhs;
    }

    /// Steps 2–4: the output, read from the whole transaction (the txid is
    /// computed here, never taken from the caller); not seen before; paying
    /// P2WSH(depositScript(chainId, recipient)) of the active federation.
    function _checkOutput(bytes calldata btcTx, uint32 vout, address recipient)
        private
        view
        returns (bytes32 txid, uint64 value, uint16 epoch)
    {
        uint256 scriptOff;
        uint256 scriptLen;
        (value, scriptOff, scriptLen) = BtcTx.output(btcTx, vout);
        txid = _txid(btcTx);
        Layout storage $ = _layout();
        if ($.utxos[_key(txid, vout)].status != DepositStatus.NONE) revert AlreadyProcessed(txid, vout);
        epoch = $.activeEpoch;
        bytes32 program = _program($.policy.chainId, recipient, epoch);
        if (!_paysProgram(scriptOff, scriptLen, program)) revert NotADeposit(vout, program);
    }

    /// Step 5: in the best chain with pegInConfirmations, or with the fast
    /// tier's fewer when the value and this window's cap allow; only a credit
    /// that actually needed the fast tier counts against its cap.
    function _checkInclusion(bytes32 txid, BtcInclusion calldata p, uint64 value) private {
        Layout storage $ = _layout();
        Policy storage pol = $.policy;
        uint32 need = pol.pegInConfirmations;
        uint256 window = p.height / FAST_WINDOW;
        bool fast = pol.fastConfirmations != 0 && value <= pol.fastMaxSat
            && uint256($.fastUsed[window]) + value <= pol.fastCapSatPer100Blocks;
        uint32 confs = _verifyInclusion(txid, p, fast ? pol.fastConfirmations : need);
        if (confs < need) $.fastUsed[window] += value;
    }

    /// Step 7: below the minimum or over the cap, a deposit is tracked
    /// (no revert) for a refund, never credited.
    function _verdict(Layout storage $, uint64 value) private view returns (DepositStatus) {
        Policy storage pol = $.policy;
        if (value < pol.minPegInSat) return DepositStatus.REJECTED_BELOW_MIN;
        uint64 cap = pol.pegInCapSat;
        if (cap != 0 && _backedWei($) + uint256(value) * SAT > uint256(cap) * SAT) return DepositStatus.REJECTED_CAP;
        return DepositStatus.CREDITED;
    }

    /// A rejected deposit's value is custody backing nothing: surplus.
    function _reject(
        Layout storage $,
        bytes32 txid,
        uint32 vout,
        address recipient,
        uint64 value,
        DepositStatus status,
        BtcInclusion calldata p
    ) private {
        $.surplusSat += value;
        uint8 reason = status == DepositStatus.REJECTED_BELOW_MIN ? REASON_BELOW_MIN : REASON_CAP;
        emit PegInRejected(txid, vout, recipient, value, reason);
    }

    /// Step 8: credit with the 2300-gas stipend only, so that the recipient
    /// can neither re-enter nor burn the caller's gas; a refusal holds the
    /// credit for claim(). The record already says CREDITED (effects first).
    function _credit(Layout storage $, bytes32 txid, uint32 vout, address recipient, uint64 value)
        private
        returns (DepositStatus status)
    {
        $.pegInTotalSat += value;
        uint256 fee = uint256($.policy.pegInRelayerFeeSat) * SAT;
        uint256 amount = uint256(value) * SAT - fee;
        status = DepositStatus.CREDITED;
        if (!_send(recipient, amount)) {
            status = DepositStatus.CREDIT_HELD;
            $.utxos[_key(txid, vout)].status = status;
            _hold($, recipient, amount);
        }
        if (fee != 0 && !_send(msg.sender, fee)) _hold($, msg.sender, fee);
    }

    /// BTC pegged in and on the sidechain, in wei: what left the Bridge, plus
    /// what it holds for claimants, minus genesis allocations nothing backs.
    /// Zero rather than negative when wei was forced into the Bridge before
    /// anything was pegged in, so that no view or peg-in reverts over it.
    function _backedWei(Layout storage $) private view returns (uint256) {
        uint256 out = TOTAL_WEI + $.heldWei;
        uint256 kept = address(this).balance + $.unbackedGenesisWei;
        return out > kept ? out - kept : 0;
    }

    /// push25(0x01 ‖ u32be(chainId) ‖ recipient) OP_DROP: a deposit script's first 27 bytes.
    function _prefix(uint32 chainId, address recipient) private pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x19), uint8(0x01), chainId, recipient, uint8(0x75));
    }

    /// sha256(prefix ‖ federation script), the script read from its data
    /// contract (at its fixed address: no storage read) with one
    /// EXTCODECOPY, straight after the prefix in memory.
    function _program(uint32 chainId, address recipient, uint16 epoch) private view returns (bytes32 p) {
        address fed = _fedScriptAt(epoch);
        bytes memory pre = _prefix(chainId, recipient);
        assembly ("memory-safe") {
            let len := sub(extcodesize(fed), 1)
            let buf := mload(0x40)
            mcopy(buf, add(pre, 32), 27)
            extcodecopy(fed, add(buf, 27), 1, len)
            if iszero(staticcall(gas(), 0x02, buf, add(27, len), 0x00, 32)) { revert(0, 0) }
            p := mload(0x00)
        }
    }

    /// FedScript(epoch) = 0x…01000600 + epoch (PEG.md §1).
    function _fedScriptAt(uint16 epoch) private pure returns (address) {
        return address(uint160(FEDSCRIPT_BASE + epoch));
    }

    function _fedScript(Federation storage f) private view returns (bytes memory s) {
        address fed = f.fedScript;
        uint256 len = f.scriptLength;
        s = new bytes(len);
        assembly ("memory-safe") {
            extcodecopy(fed, add(s, 32), 1, len)
        }
    }

    /// scriptPubKey == 0x00 0x20 ‖ program.
    function _paysProgram(uint256 off, uint256 len, bytes32 program) private pure returns (bool ok) {
        if (len != 34) return false;
        bytes32 head;
        bytes32 body;
        assembly ("memory-safe") {
            head := calldataload(off)
            body := calldataload(add(off, 2))
        }
        return uint16(bytes2(head)) == 0x0020 && body == program;
    }
}
