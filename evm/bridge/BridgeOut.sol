// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBtcRelay, BtcInclusion} from "./IBtcRelay.sol";
import {
    IBridgePegOut,
    DepositStatus,
    UtxoState,
    RequestState,
    BatchState,
    Federation,
    Policy,
    PegOutBatch,
    UtxoInfo
} from "./IBridge.sol";
import {BtcTx} from "./lib/BtcTx.sol";
import {PegOutTx, PegOutIn, PegOutOut} from "./lib/PegOutTx.sol";
import {BridgeBase} from "./BridgeBase.sol";

/// The Bridge's peg-out half (PEG.md §5), at 0x0000000000000000000000000000000001000008.
/// Its code runs only through the Bridge's fallback (DELEGATECALL), in the
/// Bridge's storage and with the Bridge's balance; called at its own address
/// it refuses every state change (NotDelegated), so no value can be sent to
/// it by mistake.
contract BridgeOut is BridgeBase, IBridgePegOut {
    error NotDelegated();

    modifier delegated() {
        _delegated();
        _;
    }

    /// PEG.md §5.1: msg.value goes back to the un-pegged supply (this
    /// balance) and is owed on Bitcoin to btcScript, less a fee share.
    function requestPegOut(bytes calldata btcScript) external payable delegated returns (uint64 requestId) {
        if (msg.value % SAT != 0) revert NotSatoshiMultiple();
        Layout storage $ = _layout();
        uint256 sat = msg.value / SAT;
        if (sat < $.policy.minPegOutSat) revert BelowMinimumPegOut(uint64(sat));
        _dust(btcScript);
        // Nothing could pay it: refuse the value rather than hold it.
        if ($.pegOutsHalted) revert PegOutsHalted();
        requestId = ++$.requestCount;
        Request storage r = $.requests[requestId];
        r.requester = msg.sender;
        r.amountSat = uint64(sat);
        r.state = RequestState.QUEUED;
        r.btcScript = btcScript;
        $.pendingOutSat += uint64(sat);
        emit PegOutRequested(requestId, msg.sender, btcScript, uint64(sat));
    }

    /// Working state of one buildPegOutBatch: the candidate requests and
    /// the inputs selected for those still paid.
    struct Plan {
        uint64 first;
        uint256 k; // candidates: requests first .. first+k-1
        uint64[] amounts;
        uint256[] dust;
        uint256[] outBytes; // 8 + cs(len) + len of each candidate's output
        bool[] refunded;
        uint256 nPaid;
        uint64 requested;
        uint256[] pos; // fifo positions of the inputs
        uint256 nIn;
        uint64 inSat;
        uint64 change; // 0 when below MIN_CHANGE (it goes to the fee)
        uint64 share;
        uint64 fee;
        uint32 rate;
        uint32 vsize;
    }

    /// PEG.md §5.2, deterministic: the oldest requests (≤ maxOutputs), the
    /// oldest UNSPENT UTXOs until they cover the requests, fee = median vote
    /// × the exact vsize, an equal share of it taken from every output. A
    /// request whose output would be dust after its share is refunded here
    /// and the plan redone without it; when none is left, the refunds stand
    /// and no batch is made (batchId 0).
    function buildPegOutBatch() external delegated returns (uint64 batchId) {
        Layout storage $ = _layout();
        if ($.pegOutsHalted) revert PegOutsHalted();
        Plan memory pl;
        pl.first = $.nextRequest;
        uint256 pending = $.requestCount + 1 - pl.first;
        if (pending == 0) revert NothingToBatch();
        if ($.inflight >= MAX_INFLIGHT) revert TooManyInflight();
        Policy storage pol = $.policy;
        uint256 due = uint256($.lastBatchBlock) + pol.batchIntervalBlocks;
        if (pending < pol.maxOutputs && $.lastBatchBlock != 0 && block.number < due) {
            revert BatchIntervalNotElapsed(due);
        }
        pl.k = pending < pol.maxOutputs ? pending : pol.maxOutputs;
        _loadRequests($, pl);
        pl.rate = _feeRate($);
        uint16 epoch = $.activeEpoch;
        uint256 threshold = $.federations[epoch].threshold;
        uint256 scriptLen = 27 + $.federations[epoch].scriptLength;
        _skipSpent($);
        while (true) {
            if (pl.nPaid == 0) break;
            _selectInputs($, pl, pl.requested);
            pl.change = pl.inSat - pl.requested;
            uint256 outBytes = pl.change >= MIN_CHANGE ? CHANGE_OUT_BYTES : 0;
            for (uint256 i; i < pl.k; ++i) {
                if (!pl.refunded[i]) outBytes += pl.outBytes[i];
            }
            pl.vsize = uint32(_vsize(pl.nIn, outBytes, pl.nPaid + (pl.change >= MIN_CHANGE ? 1 : 0), threshold, scriptLen));
            uint256 fee = uint256(pl.rate) * pl.vsize;
            pl.share = uint64((fee + pl.nPaid - 1) / pl.nPaid);
            bool again;
            for (uint256 i; i < pl.k; ++i) {
                if (!pl.refunded[i] && pl.amounts[i] < uint256(pl.share) + pl.dust[i]) {
                    pl.refunded[i] = true;
                    pl.nPaid--;
                    pl.requested -= pl.amounts[i];
                    again = true;
                    break;
                }
            }
            if (!again) break;
        }
        $.nextRequest = pl.first + uint64(pl.k);
        $.lastBatchBlock = uint64(block.number);
        _settleRequests($, pl);
        if (pl.nPaid == 0) return 0;
        pl.fee = pl.share * uint64(pl.nPaid);
        if (pl.change < MIN_CHANGE) {
            pl.fee += pl.change;
            pl.change = 0;
        }
        batchId = _newBatch($, pl, epoch, false);
    }

    /// PEG.md §5.2's refresh: every UNSPENT UTXO (≤ maxInputs, FIFO) that has
    /// waited refreshAgeBlocks Bitcoin blocks goes to one change output before
    /// the emergency branch's CSV opens. Its fee is custody's: surplus pays
    /// it at confirmation, a shortfall is feeDeficitSat.
    function buildRefreshBatch() external delegated returns (uint64 batchId) {
        Layout storage $ = _layout();
        if ($.pegOutsHalted) revert PegOutsHalted();
        if ($.inflight >= MAX_INFLIGHT) revert TooManyInflight();
        Policy storage pol = $.policy;
        uint256 best = _bestHeight();
        _skipSpent($);
        Plan memory pl;
        pl.first = $.nextRequest;
        pl.pos = new uint256[](pol.maxInputs);
        for (uint256 pos = $.fifoHead; pos < $.fifoLength && pl.nIn < pol.maxInputs; ++pos) {
            Utxo storage u = $.utxos[$.fifo[pos]];
            if (u.state == UtxoState.UNSPENT && uint256(u.btcHeight) + pol.refreshAgeBlocks <= best) {
                pl.pos[pl.nIn++] = pos;
                pl.inSat += u.valueSat;
            }
        }
        if (pl.nIn == 0) revert NothingToRefresh();
        uint16 epoch = $.activeEpoch;
        Federation storage f = $.federations[epoch];
        pl.rate = _feeRate($);
        pl.vsize = uint32(_vsize(pl.nIn, CHANGE_OUT_BYTES, 1, f.threshold, 27 + uint256(f.scriptLength)));
        pl.fee = uint64(uint256(pl.rate) * pl.vsize);
        if (pl.inSat < pl.fee + MIN_CHANGE) revert InsufficientFederationFunds(uint64(pl.fee + MIN_CHANGE), pl.inSat);
        pl.change = pl.inSat - pl.fee;
        batchId = _newBatch($, pl, epoch, true);
    }

    /// PEG.md §5.3: member's signature of every input of a version, r ‖ s ‖ v
    /// each, checked with ecrecover against the member's signer, low-S.
    /// Anyone may relay them. The signatures go to the log only.
    function addSignatures(uint64 batchId, uint8 version, uint8 member, bytes calldata sigs)
        external
        delegated
        returns (uint8 signers)
    {
        Layout storage $ = _layout();
        Batch storage b = _batch($, batchId);
        if (b.state == BatchState.CONFIRMED || version >= b.versions) revert WrongState();
        Federation storage f = $.federations[b.epoch];
        if (member >= f.signers.length) revert NotMember(member);
        uint256 n = b.nInputs;
        if (sigs.length != 65 * n) revert BadSigLength();
        Version storage ver = b.vers[version];
        uint16 bitmap = ver.signedBitmap;
        if (bitmap & (1 << member) != 0) revert AlreadySigned(member);
        address signer = f.signers[member];
        for (uint256 i; i < n; ++i) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            assembly ("memory-safe") {
                let o := add(sigs.offset, mul(65, i))
                r := calldataload(o)
                s := calldataload(add(o, 32))
                v := byte(0, calldataload(add(o, 64)))
            }
            if (uint256(s) > HALF_N) revert HighS(i);
            if ((v != 27 && v != 28) || ecrecover(ver.sighash[i], v, r, s) != signer || signer == address(0)) {
                revert BadSignature(i);
            }
        }
        bitmap |= uint16(1 << member);
        ver.signedBitmap = bitmap;
        emit PegOutSignatures(batchId, member, version, sigs);
        signers = _popcount(bitmap);
        if (signers == f.threshold) {
            ver.readyBtcHeight = uint32(_bestHeight());
            if (version + 1 == b.versions) b.state = BatchState.READY;
            emit PegOutReady(batchId, version, ver.txid);
        }
    }

    /// PEG.md §5.4: version `version` of the batch is in Bitcoin's best chain
    /// with pegOutConfirmations; its inputs leave custody, its change enters
    /// it (usable from now on), the paid requests are done. Fees beyond the
    /// requests' shares (change too small to keep, bumps, refreshes) are paid
    /// from surplus, then recorded as feeDeficitSat.
    function confirmPegOut(uint64 batchId, uint8 version, BtcInclusion calldata p) external delegated {
        Layout storage $ = _layout();
        Batch storage b = _batch($, batchId);
        if (b.state == BatchState.CONFIRMED || version >= b.versions) revert WrongState();
        Version storage ver = b.vers[version];
        bytes32 txid = ver.txid;
        _verifyInclusion(txid, p, $.policy.pegOutConfirmations);
        b.state = BatchState.CONFIRMED;
        $.inflight--;
        for (uint256 i; i < b.nInputs; ++i) {
            $.utxos[_inputKey($, b, i)].state = UtxoState.SPENT;
        }
        uint64 first = b.firstRequest;
        for (uint64 id = first; id < first + b.nRequests; ++id) {
            Request storage r = $.requests[id];
            if (r.state == RequestState.BATCHED) r.state = RequestState.CONFIRMED;
        }
        uint64 change = ver.changeSat;
        $.custodySat -= b.inSat;
        if (change != 0) {
            _record($, txid, b.nPaid, address(0), change, _utxoMeta(DepositStatus.NONE, b.epoch), p.height);
        }
        uint64 requested = b.requestedSat;
        $.pendingOutSat -= requested;
        $.pegOutTotalSat += requested;
        _payFromSurplus($, b.inSat - change - requested);
        emit PegOutConfirmed(batchId, version, txid, p.height);
    }

    /// PEG.md §5.4 RBF: a READY batch unconfirmed rbfAfterBtcBlocks Bitcoin
    /// blocks after its newest version became READY gets version v+1 at
    /// max(median vote, 1.25 × old rate) (capped at feeRateMax), the extra
    /// fee taken from change. Every version stays confirmable; there is no
    /// cancel.
    function bumpPegOutFee(uint64 batchId) external delegated returns (uint8 version) {
        Layout storage $ = _layout();
        Batch storage b = _batch($, batchId);
        if (b.state != BatchState.READY) revert WrongState();
        Version storage last = b.vers[b.versions - 1];
        uint256 due = uint256(last.readyBtcHeight) + $.policy.rbfAfterBtcBlocks;
        uint256 best = _bestHeight();
        if (best < due) revert TooEarlyToBump(uint32(due - best));
        uint256 rate = (uint256(last.feeRate) * 5 + 3) / 4;
        uint256 median = _feeRate($);
        if (median > rate) rate = median;
        if (rate > $.policy.feeRateMax) rate = $.policy.feeRateMax;
        uint256 extra = (rate - last.feeRate) * last.vsize; // rate ≥ old: votes are clamped to the same bounds
        if (extra == 0 || last.changeSat < extra + MIN_CHANGE || b.versions == type(uint8).max) revert CannotBump();
        version = b.versions++;
        Version storage ver = b.vers[version];
        ver.feeSat = last.feeSat + uint64(extra);
        ver.changeSat = last.changeSat - uint64(extra);
        ver.feeRate = uint32(rate);
        ver.vsize = last.vsize;
        b.state = BatchState.SIGNING;
        _buildVersion($, b, batchId, version);
    }

    /// PEG.md §5.2 fee votes: member's signature over keccak256("mmgeth/feevote/v1"
    /// ‖ u32 chainId ‖ u8 member ‖ u32 rate ‖ u64 nonce), nonces increasing.
    /// The batch rate is the median of the members' last votes.
    function voteFeeRate(uint8 member, uint32 satPerVByte, uint64 nonce, bytes calldata sig65) external delegated {
        Layout storage $ = _layout();
        Federation storage f = $.federations[$.activeEpoch];
        if (member >= f.signers.length) revert NotMember(member);
        if (sig65.length != 65) revert BadSigLength();
        if (nonce <= $.votes[member].nonce || satPerVByte == 0) revert StaleVote();
        bytes32 digest = keccak256(abi.encodePacked(VOTE_DOMAIN, $.policy.chainId, member, satPerVByte, nonce));
        bytes32 r = bytes32(sig65[0:32]);
        bytes32 s = bytes32(sig65[32:64]);
        uint8 v = uint8(sig65[64]);
        if (uint256(s) > HALF_N) revert HighS(0);
        if ((v != 27 && v != 28) || ecrecover(digest, v, r, s) != f.signers[member]) revert BadSignature(0);
        $.votes[member] = Vote(satPerVByte, nonce);
        emit FeeRateVote(member, satPerVByte);
    }

    /// PEG.md §5.4 fault: a proven Bitcoin transaction spends a federation
    /// UTXO and is no version of the batch that reserved it. The UTXO leaves
    /// custody as faultSat and peg-outs halt for good (a hard fork decides
    /// what follows).
    function reportUnauthorizedSpend(bytes calldata btcTx, BtcInclusion calldata p, uint32 input) external delegated {
        (bytes32 txid, bytes32 prevTxid, uint32 prevVout) = _spentOutpoint(btcTx, input);
        Layout storage $ = _layout();
        _verifyInclusion(txid, p, $.policy.pegOutConfirmations);
        bytes32 key = _key(prevTxid, prevVout);
        Utxo storage u = $.utxos[key];
        UtxoState st = u.state;
        if (st != UtxoState.UNSPENT && st != UtxoState.RESERVED) revert NotFederationUtxo(key);
        if (st == UtxoState.RESERVED) {
            Batch storage b = $.batches[u.batchId];
            for (uint256 v; v < b.versions; ++v) {
                if (b.vers[v].txid == txid) revert AuthorizedSpend(u.batchId);
            }
        }
        u.state = UtxoState.SPENT;
        $.custodySat -= u.valueSat;
        $.faultSat += u.valueSat;
        $.pegOutsHalted = true;
        emit FederationFault(txid, key);
    }

    function getPegOutBatch(uint64 id) external view returns (PegOutBatch memory o) {
        Layout storage $ = _layout();
        Batch storage b = _batch($, id);
        o.state = b.state;
        o.refresh = b.refresh;
        o.epoch = b.epoch;
        o.createdBlock = b.createdBlock;
        o.firstRequest = b.firstRequest;
        o.nRequests = b.nRequests;
        o.shareSat = b.shareSat;
        o.requestedSat = b.requestedSat;
        o.inSat = b.inSat;
        o.inputKeys = new bytes32[](b.nInputs);
        for (uint256 i; i < b.nInputs; ++i) {
            o.inputKeys[i] = _inputKey($, b, i);
        }
        uint256 n = b.versions;
        o.txids = new bytes32[](n);
        o.feeSat = new uint64[](n);
        o.changeSat = new uint64[](n);
        o.feeRate = new uint32[](n);
        o.signedBitmap = new uint16[](n);
        o.readyBtcHeight = new uint32[](n);
        for (uint256 v; v < n; ++v) {
            Version storage ver = b.vers[v];
            o.txids[v] = ver.txid;
            o.feeSat[v] = ver.feeSat;
            o.changeSat[v] = ver.changeSat;
            o.feeRate[v] = ver.feeRate;
            o.signedBitmap[v] = ver.signedBitmap;
            o.readyBtcHeight[v] = ver.readyBtcHeight;
        }
    }

    /// The unsigned transaction of a batch version, rebuilt from the batch's
    /// records (the bytes PegOutBatchCreated logged), its txid and sighashes.
    function pegOutTx(uint64 batchId, uint8 version)
        external
        view
        returns (bytes memory unsignedTx, bytes32 txid, bytes32[] memory sighashes)
    {
        Layout storage $ = _layout();
        Batch storage b = _batch($, batchId);
        if (version >= b.versions) revert WrongState();
        (PegOutIn[] memory ins, PegOutOut[] memory outs) = _txParts($, b, version);
        (unsignedTx,,) = PegOutTx.build($.policy.chainId, ins, outs, false);
        Version storage ver = b.vers[version];
        txid = ver.txid;
        sighashes = new bytes32[](ins.length);
        for (uint256 i; i < ins.length; ++i) {
            sighashes[i] = ver.sighash[i];
        }
    }

    /// Custody records in FIFO order from cursor, every state; next is 0 at the end.
    function utxos(uint256 cursor, uint256 count) external view returns (UtxoInfo[] memory list, uint256 next) {
        Layout storage $ = _layout();
        uint256 end = $.fifoLength;
        if (cursor > end) cursor = end;
        if (count < end - cursor) end = cursor + count;
        list = new UtxoInfo[](end - cursor);
        for (uint256 i; i < list.length; ++i) {
            bytes32 key = $.fifo[cursor + i];
            Utxo storage u = $.utxos[key];
            list[i] = UtxoInfo(key, u.txid, u.vout, u.valueSat, u.recipient, u.state, u.btcHeight, u.epoch, u.batchId);
        }
        next = end < $.fifoLength ? end : 0;
    }

    /// The rate the next batch is built at: the median of the members' last
    /// votes (feeRateStart for a member yet to vote), within the bounds.
    function feeRate() external view returns (uint32) {
        return _feeRate(_layout());
    }

    function feeVotes() external view returns (uint32[] memory rates, uint64[] memory nonces) {
        Layout storage $ = _layout();
        uint256 n = $.federations[$.activeEpoch].signers.length;
        rates = new uint32[](n);
        nonces = new uint64[](n);
        for (uint256 m; m < n; ++m) {
            rates[m] = $.votes[uint8(m)].rate;
            nonces[m] = $.votes[uint8(m)].nonce;
        }
    }

    function pegOutQueue()
        external
        view
        returns (uint64 next, uint64 last, uint64 batches, uint64 lastBatchBlock, uint8 inflight, bool halted)
    {
        Layout storage $ = _layout();
        return ($.nextRequest, $.requestCount, $.batchCount, $.lastBatchBlock, $.inflight, $.pegOutsHalted);
    }

    /// The candidates' amounts, dust limits and output sizes (Plan).
    function _loadRequests(Layout storage $, Plan memory pl) private view {
        uint256 k = pl.k;
        pl.amounts = new uint64[](k);
        pl.dust = new uint256[](k);
        pl.outBytes = new uint256[](k);
        pl.refunded = new bool[](k);
        pl.pos = new uint256[]($.policy.maxInputs);
        for (uint256 i; i < k; ++i) {
            Request storage r = $.requests[pl.first + uint64(i)];
            bytes memory s = r.btcScript;
            pl.amounts[i] = r.amountSat;
            pl.dust[i] = _dust(s);
            pl.outBytes[i] = 8 + 1 + s.length; // standard scripts are under 0xfd bytes
            pl.requested += r.amountSat;
        }
        pl.nPaid = k;
    }

    /// Moves fifoHead past records already spent, so that scans start at
    /// the oldest record still in custody.
    function _skipSpent(Layout storage $) private {
        uint64 head = $.fifoHead;
        uint64 end = $.fifoLength;
        uint64 pos = head;
        while (pos < end && $.utxos[$.fifo[pos]].state == UtxoState.SPENT) ++pos;
        if (pos != head) $.fifoHead = pos;
    }

    /// UNSPENT records in FIFO order until they hold `need`, at most maxInputs.
    /// The fee is not part of need: the requests' shares pay it out of the
    /// requested amounts, so Σin ≥ Σrequested suffices (see evm/bridge doc).
    function _selectInputs(Layout storage $, Plan memory pl, uint64 need) private view {
        uint256 max = pl.pos.length;
        pl.nIn = 0;
        pl.inSat = 0;
        uint256 end = $.fifoLength;
        for (uint256 pos = $.fifoHead; pos < end && pl.nIn < max && pl.inSat < need; ++pos) {
            Utxo storage u = $.utxos[$.fifo[pos]];
            if (u.state == UtxoState.UNSPENT) {
                pl.pos[pl.nIn++] = pos;
                pl.inSat += u.valueSat;
            }
        }
        if (pl.inSat < need) revert InsufficientFederationFunds(need, pl.inSat);
    }

    /// Candidates become BATCHED, or REFUNDED with their value sent back to
    /// the requester (2300-gas stipend; held for claim() when refused).
    function _settleRequests(Layout storage $, Plan memory pl) private {
        for (uint256 i; i < pl.k; ++i) {
            uint64 id = pl.first + uint64(i);
            Request storage r = $.requests[id];
            if (!pl.refunded[i]) {
                r.state = RequestState.BATCHED;
                continue;
            }
            r.state = RequestState.REFUNDED;
            $.pendingOutSat -= pl.amounts[i];
            uint256 amount = uint256(pl.amounts[i]) * SAT;
            if (!_send(r.requester, amount)) _hold($, r.requester, amount);
            emit PegOutRefunded(id, REASON_DUST_AFTER_FEE);
        }
    }

    /// Records a planned batch, reserves its inputs and builds version 0.
    function _newBatch(Layout storage $, Plan memory pl, uint16 epoch, bool refresh) private returns (uint64 batchId) {
        batchId = ++$.batchCount;
        Batch storage b = $.batches[batchId];
        b.state = BatchState.SIGNING;
        b.refresh = refresh;
        b.versions = 1;
        b.epoch = epoch;
        b.nInputs = uint16(pl.nIn);
        b.nRequests = refresh ? 0 : uint16(pl.k);
        b.nPaid = uint16(pl.nPaid);
        b.createdBlock = uint64(block.number);
        b.firstRequest = pl.first;
        b.shareSat = pl.share;
        b.requestedSat = pl.requested;
        b.inSat = pl.inSat;
        for (uint256 i; i < pl.nIn; ++i) {
            b.inputPos[i >> 2] |= pl.pos[i] << ((i & 3) << 6);
            Utxo storage u = $.utxos[$.fifo[pl.pos[i]]];
            u.state = UtxoState.RESERVED;
            u.batchId = batchId;
        }
        Version storage ver = b.vers[0];
        ver.feeSat = pl.fee;
        ver.changeSat = pl.change;
        ver.feeRate = pl.rate;
        ver.vsize = pl.vsize;
        $.inflight++;
        _buildVersion($, b, batchId, 0);
    }

    /// Serializes a version with BtcLib, stores its txid and sighashes, logs it.
    function _buildVersion(Layout storage $, Batch storage b, uint64 batchId, uint8 version) private {
        (PegOutIn[] memory ins, PegOutOut[] memory outs) = _txParts($, b, version);
        (bytes memory tx, bytes32 txid, bytes32[] memory sighashes) =
            PegOutTx.build($.policy.chainId, ins, outs, true);
        Version storage ver = b.vers[version];
        ver.txid = txid;
        for (uint256 i; i < sighashes.length; ++i) {
            ver.sighash[i] = sighashes[i];
        }
        emit PegOutBatchCreated(batchId, version, txid, b.firstRequest, b.nRequests, ver.feeSat, tx);
    }

    /// A version's inputs and outputs from the records: the reserved UTXOs in
    /// order; the paid requests in id order, each less the share; change last.
    function _txParts(Layout storage $, Batch storage b, uint8 version)
        private
        view
        returns (PegOutIn[] memory ins, PegOutOut[] memory outs)
    {
        ins = new PegOutIn[](b.nInputs);
        for (uint256 i; i < ins.length; ++i) {
            Utxo storage u = $.utxos[_inputKey($, b, i)];
            ins[i] = PegOutIn(u.txid, u.vout, u.valueSat, u.recipient, u.epoch);
        }
        uint64 change = b.vers[version].changeSat;
        outs = new PegOutOut[](b.nPaid + (change != 0 ? 1 : 0));
        uint256 o;
        uint64 first = b.firstRequest;
        uint64 share = b.shareSat;
        for (uint64 id = first; id < first + b.nRequests; ++id) {
            Request storage r = $.requests[id];
            if (r.state == RequestState.REFUNDED) continue;
            outs[o++] = PegOutOut(r.amountSat - share, r.btcScript);
        }
        if (change != 0) {
            outs[o] = PegOutOut(change, abi.encodePacked(uint16(0x0020), $.federations[b.epoch].changeProgram));
        }
    }

    /// PEG.md §5.2 step 3, shared with peg.VSize: outBytes is Σ(8 + cs(len) + len)
    /// over the nOut outputs, t the threshold, scriptLen the deposit script's.
    function _vsize(uint256 nIn, uint256 outBytes, uint256 nOut, uint256 t, uint256 scriptLen)
        private
        pure
        returns (uint256)
    {
        uint256 base = 4 + _csLen(nIn) + 41 * nIn + _csLen(nOut) + outBytes + 4;
        uint256 wit = _csLen(t + 3) + 1 + 74 * t + 2 + _csLen(scriptLen) + scriptLen;
        return (4 * base + 2 + nIn * wit + 3) / 4;
    }

    function _csLen(uint256 n) private pure returns (uint256) {
        return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
    }

    /// Median (the lower one for an even count) of the active members' last
    /// votes, feeRateStart standing in for a member yet to vote, clamped.
    function _feeRate(Layout storage $) private view returns (uint32) {
        Policy storage pol = $.policy;
        uint256 n = $.federations[$.activeEpoch].signers.length;
        uint256[] memory r = new uint256[](n);
        for (uint256 m; m < n; ++m) {
            uint256 v = $.votes[uint8(m)].rate;
            if (v == 0) v = pol.feeRateStart;
            uint256 j = m;
            for (; j > 0 && r[j - 1] > v; --j) {
                r[j] = r[j - 1];
            }
            r[j] = v;
        }
        uint256 rate = r[(n - 1) / 2];
        if (rate < pol.feeRateMin) rate = pol.feeRateMin;
        if (rate > pol.feeRateMax) rate = pol.feeRateMax;
        return uint32(rate);
    }

    /// Fees custody pays beyond the requests' shares: from surplus first.
    function _payFromSurplus(Layout storage $, uint64 sat) private {
        uint64 take = sat < $.surplusSat ? sat : $.surplusSat;
        $.surplusSat -= take;
        $.feeDeficitSat += sat - take;
    }

    /// Input i's UTXO key, through its fifo position (Batch.inputPos).
    function _inputKey(Layout storage $, Batch storage b, uint256 i) private view returns (bytes32) {
        return $.fifo[uint64(b.inputPos[i >> 2] >> ((i & 3) << 6))];
    }

    function _batch(Layout storage $, uint64 id) private view returns (Batch storage b) {
        if (id == 0 || id > $.batchCount) revert UnknownBatch(id);
        return $.batches[id];
    }

    function _bestHeight() private view returns (uint256 height) {
        (, height,) = IBtcRelay(address(uint160(RELAY_ADDRESS))).bestChain();
    }

    function _spentOutpoint(bytes calldata btcTx, uint32 input)
        private
        view
        returns (bytes32 txid, bytes32 prevTxid, uint32 prevVout)
    {
        (prevTxid, prevVout) = BtcTx.input(btcTx, input);
        txid = _txid(btcTx);
    }

    function _popcount(uint16 x) private pure returns (uint8 c) {
        for (; x != 0; x &= x - 1) ++c;
    }

    function _delegated() private view {
        if (address(this) != BRIDGE) revert NotDelegated();
    }
}
