// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBtcRelay, BtcInclusion, RelayParams, Checkpoint} from "./IBtcRelay.sol";
import {BtcHeader} from "./lib/BtcHeader.sol";
import {Sha256d} from "./lib/Sha256d.sol";

/// Bitcoin light client: the header chain from a checkpoint, its best chain by
/// chainwork, and SPV inclusion proofs against it (PEG.md §2, §3). Anyone may
/// submit headers; gas is the only rate limit (PEG.md D7). The rules are those
/// of btcd's CheckBlockHeaderContext and checkProofOfWork, checked in the order
/// of PEG.md §2.3, each with its own error.
contract BtcRelay is IBtcRelay {
    struct Hdr {
        // Zero while the header sits on the best chain where it was first
        // accepted as the tip's child: mainChain[height - 1] is its parent
        // then, and skipping this slot saves 22,100 gas per header. Written
        // when the header is first stored off the tip, or when a reorg moves
        // it off the best chain (see _prevOf).
        bytes32 prev;
        // chainwork:128 | height:32 | time:32 | bits:32 | lastRealBits:32
        uint256 packed;
    }

    /// Storage is one ERC-7201 namespace so that a hard-fork code replacement
    /// (PEG.md D11) can add fields without colliding with these.
    /// @custom:storage-location erc7201:mmgeth.btcrelay.v1
    struct Layout {
        mapping(bytes32 => Hdr) headers;
        mapping(uint32 => bytes32) mainChain;
        bytes32 bestHash;
        // The 11 newest best-chain timestamps, newest first: slot 0 holds
        // times 0..7, slot 1 times 8..10 in its low 96 bits and their count
        // in its top 32 bits.
        uint256[2] mtpRing;
        RelayParams params;
        bytes32 checkpointHash;
        uint32 checkpointHeight;
        // mtpRing as it was at the checkpoint: fork walks that reach the
        // checkpoint continue into the blocks below it from here.
        uint256[2] checkpointRing;
    }

    // keccak256(abi.encode(uint256(keccak256("mmgeth.btcrelay.v1")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant LAYOUT = 0xea00e15881a9f9844dca76186b3f43c160b771871e202c5e0a3d7fcc732f7600;

    uint256 private constant MTP_SPAN = 11; // btcd medianTimeBlocks
    uint256 private constant MAX_FUTURE = 7200; // btcd maxTimeOffsetSeconds: 2 hours
    uint256 private constant MIN_DIFF_GAP = 1200; // chaincfg MinDiffReductionTime on testnets
    uint256 private constant MAX_TIME_WARP = 600; // BIP-94
    uint256 private constant ADJUST = 4; // chaincfg RetargetAdjustmentFactor on every network
    uint256 private constant MAX_DEPTH = 20; // a 4 MWU block holds fewer than 2^15 transactions
    uint256 private constant MASK96 = (1 << 96) - 1;

    /// Raised by the constructor only: the genesis builder passed parameters
    /// the rules cannot run with.
    error InvalidConfig();

    /// What a batch keeps in memory so that consecutive headers need no
    /// storage reads: the best tip (written back once, at the end) and the
    /// previous header of the batch (the usual parent of the next one).
    struct Batch {
        bytes32 bestHash;
        uint256 bestPacked;
        uint256 bestLo;
        uint256 bestHi;
        bool curValid;
        uint32 curFork;
        bytes32 curHash;
        uint256 curPacked;
        uint256 curLo;
        uint256 curHi;
    }

    /// The header being checked and what is known about its parent; one
    /// instance per batch, reused, so memory does not grow with the batch.
    struct Pending {
        uint256 off;
        bytes32 hash;
        bytes32 prev;
        uint256 parent;
        uint256 lo; // timestamps ending at the parent, as in mtpRing
        uint256 hi;
        bool forkKnown;
        uint32 fork; // where the parent's branch leaves the best chain
    }

    constructor(RelayParams memory p, Checkpoint memory cp) {
        bytes memory h = cp.header;
        if (
            p.powLimit == 0 || p.powLimit == type(uint256).max || p.retargetInterval == 0
                || p.maxHeadersPerCall == 0 || h.length != 80 || cp.prevTimes.length >= MTP_SPAN || cp.chainwork == 0
        ) revert InvalidConfig();
        // Retargeting multiplies a target by up to 4T: it must not overflow,
        // and the checkpoint must carry real (retarget-boundary) bits.
        if (
            !p.noRetargeting
                && (
                    p.targetTimespan < ADJUST || p.powLimit > type(uint256).max / (uint256(p.targetTimespan) * ADJUST)
                        || cp.height % p.retargetInterval != 0
                )
        ) revert InvalidConfig();

        bytes32 hash = sha256(abi.encodePacked(sha256(h)));
        bytes32 prev;
        uint256 timeBE;
        uint256 bitsBE;
        assembly ("memory-safe") {
            prev := mload(add(h, 36))
            timeBE := shr(224, mload(add(h, 100)))
            bitsBE := shr(224, mload(add(h, 104)))
        }
        uint32 time = BtcHeader.le32(timeBE);
        uint32 bits = BtcHeader.le32(bitsBE);
        uint256 target = BtcHeader.toTarget(bits);
        if (target == 0 || target > p.powLimit || BtcHeader.hashValue(hash) > target) revert InvalidConfig();

        uint256 lo = time;
        uint256 hi;
        for (uint256 i; i < cp.prevTimes.length; ++i) {
            (lo, hi) = _set(lo, hi, i + 1, cp.prevTimes[i]);
        }
        hi |= (cp.prevTimes.length + 1) << 224;

        Layout storage $ = _layout();
        $.params = p;
        $.headers[hash] = Hdr(prev, _pack(cp.chainwork, cp.height, time, bits, bits));
        $.mainChain[cp.height] = hash;
        $.bestHash = hash;
        $.mtpRing = [lo, hi];
        $.checkpointHash = hash;
        $.checkpointHeight = cp.height;
        $.checkpointRing = [lo, hi];
    }

    // ---------------------------------------------------------------- headers

    function receiveHeaders(bytes calldata headers) external returns (uint16 accepted, uint32 bestHeight) {
        uint256 len = headers.length;
        if (len == 0 || len % 80 != 0) revert BadHeadersLength(len);
        Layout storage $ = _layout();
        RelayParams memory p = $.params;
        uint256 n = len / 80;
        if (n > p.maxHeadersPerCall) revert TooManyHeaders(n, p.maxHeadersPerCall);

        Batch memory b;
        b.bestHash = $.bestHash;
        b.bestPacked = $.headers[b.bestHash].packed;
        b.bestLo = $.mtpRing[0];
        b.bestHi = $.mtpRing[1];
        bytes32 startBest = b.bestHash;

        Pending memory w;
        uint256 off;
        assembly ("memory-safe") {
            off := headers.offset
        }
        for (uint256 i; i < n; ++i) {
            w.off = off + i * 80;
            if (_accept($, p, b, w)) ++accepted;
        }

        if (b.bestHash != startBest) {
            $.bestHash = b.bestHash;
            $.mtpRing[0] = b.bestLo;
            $.mtpRing[1] = b.bestHi;
        }
        bestHeight = _height(b.bestPacked);
        if (accepted != 0) emit BtcHeadersAccepted(b.bestHash, bestHeight, accepted);
    }

    /// Checks and stores one header; false if it was already known.
    function _accept(Layout storage $, RelayParams memory p, Batch memory b, Pending memory w) private returns (bool) {
        w.hash = Sha256d.header(w.off);
        if ($.headers[w.hash].packed != 0) {
            b.curValid = false;
            return false;
        }
        w.prev = BtcHeader.prev(w.off);
        _loadParent($, b, w);
        uint256 packed = _check($, p, b, w);

        (uint256 lo, uint256 hi) = _push(w.lo, w.hi, _time(packed));
        if (w.prev == b.bestHash) {
            // A child of the tip always has more work: it extends the best
            // chain, so its parent is implied by mainChain.
            $.headers[w.hash].packed = packed;
            $.mainChain[_height(packed)] = w.hash;
        } else {
            $.headers[w.hash] = Hdr(w.prev, packed);
        }
        // Equal work keeps the first-seen tip, as Bitcoin Core does.
        if (packed >> 128 > b.bestPacked >> 128) {
            if (w.prev != b.bestHash) _reorg($, b.bestHash, _height(b.bestPacked), w.hash, _height(packed));
            b.bestHash = w.hash;
            b.bestPacked = packed;
            b.bestLo = lo;
            b.bestHi = hi;
            b.curFork = _height(packed);
        } else {
            b.curFork = w.fork;
        }
        b.curValid = true;
        b.curHash = w.hash;
        b.curPacked = packed;
        b.curLo = lo;
        b.curHi = hi;
        return true;
    }

    function _loadParent(Layout storage $, Batch memory b, Pending memory w) private view {
        if (b.curValid && w.prev == b.curHash) {
            w.parent = b.curPacked;
            w.lo = b.curLo;
            w.hi = b.curHi;
            w.forkKnown = true;
            w.fork = b.curFork;
            return;
        }
        uint256 parent = $.headers[w.prev].packed;
        if (parent == 0) revert UnknownParent(w.prev);
        w.parent = parent;
        if (w.prev == b.bestHash) {
            w.lo = b.bestLo;
            w.hi = b.bestHi;
            w.forkKnown = true;
            w.fork = _height(parent);
        } else {
            (w.lo, w.hi) = _timesBack($, w.prev);
            w.forkKnown = false;
        }
    }

    /// PEG.md §2.3 in order; returns the new header's packed word.
    function _check(Layout storage $, RelayParams memory p, Batch memory b, Pending memory w)
        private
        view
        returns (uint256)
    {
        uint256 off = w.off;
        uint32 bits = BtcHeader.bits(off);
        uint256 target = BtcHeader.toTarget(bits);
        if (target == 0 || target > p.powLimit) revert BadBits(w.hash, bits);
        if (BtcHeader.hashValue(w.hash) > target) revert InsufficientPoW(w.hash);

        uint32 height = _height(w.parent) + 1;
        uint32 time = BtcHeader.time(off);
        uint32 want = _expectedBits($, p, w, height, time);
        if (bits != want) revert UnexpectedBits(w.hash, bits, want);
        uint32 mtp = _median(w.lo, w.hi);
        if (time <= mtp) revert TimeTooOld(w.hash, time, mtp);
        // Sidechain time stands in for btcd's network-adjusted time.
        if (time > block.timestamp + MAX_FUTURE) revert TimeTooNew(w.hash, time, block.timestamp + MAX_FUTURE);
        bool boundary = height % p.retargetInterval == 0;
        if (p.enforceBIP94 && boundary && uint256(time) + MAX_TIME_WARP < _time(w.parent)) revert TimeWarp(w.hash);
        _checkVersion(p, w.hash, height, BtcHeader.version(off));
        _checkForkDepth($, p, b, w);

        uint256 chainwork = (w.parent >> 128) + BtcHeader.work(target);
        if (chainwork > type(uint128).max) revert ChainworkOverflow();
        // O(1) form of btcd findPrevTestNetDifficulty: the last bits that
        // were not a 20-minute minimum-difficulty exception.
        uint32 lastReal = p.reduceMinDifficulty && !boundary && bits == p.powLimitBits ? _lastReal(w.parent) : bits;
        return _pack(chainwork, height, time, bits, lastReal);
    }

    /// btcd calcNextRequiredDifficulty.
    function _expectedBits(Layout storage $, RelayParams memory p, Pending memory w, uint32 height, uint32 time)
        private
        view
        returns (uint32)
    {
        if (p.noRetargeting) return p.powLimitBits;
        uint256 parent = w.parent;
        if (height % p.retargetInterval != 0) {
            if (!p.reduceMinDifficulty) return _bits(parent);
            if (uint256(time) > uint256(_time(parent)) + MIN_DIFF_GAP) return p.powLimitBits;
            return _lastReal(parent);
        }
        uint256 first = $.headers[_ancestor($, w.prev, height - 1, height - p.retargetInterval)].packed;
        uint256 tt = p.targetTimespan;
        uint256 last = _time(parent);
        uint256 start = _time(first);
        uint256 span;
        if (last < start + tt / ADJUST) span = tt / ADJUST;
        else if (last - start > tt * ADJUST) span = tt * ADJUST;
        else span = last - start;
        uint256 old = BtcHeader.toTarget(p.enforceBIP94 ? _bits(first) : _bits(parent));
        uint256 next = old * span / tt;
        if (next > p.powLimit) next = p.powLimit;
        return BtcHeader.toCompact(next);
    }

    function _checkVersion(RelayParams memory p, bytes32 hash, uint32 height, int32 v) private pure {
        if (
            (v < 2 && height >= p.bip34Height) || (v < 3 && height >= p.bip66Height)
                || (v < 4 && height >= p.bip65Height)
        ) revert BadVersion(hash, v);
    }

    function _checkForkDepth(Layout storage $, RelayParams memory p, Batch memory b, Pending memory w) private view {
        uint32 best = _height(b.bestPacked);
        uint32 floor = best > p.maxForkDepth ? best - p.maxForkDepth : 0;
        if (!w.forkKnown) {
            w.fork = _forkPoint($, w.prev, _height(w.parent));
            w.forkKnown = true;
        }
        if (w.fork < floor) revert ForkTooDeep(w.hash, w.fork, best);
    }

    /// Height where the branch through h joins the best chain. Terminates:
    /// every stored header descends from the checkpoint, which a reorg never
    /// removes from mainChain.
    function _forkPoint(Layout storage $, bytes32 h, uint32 ht) private view returns (uint32) {
        while ($.mainChain[ht] != h) {
            h = $.headers[h].prev;
            --ht;
        }
        return ht;
    }

    /// Hash of the ancestor at height `want` of h (at height ht >= want).
    function _ancestor(Layout storage $, bytes32 h, uint32 ht, uint32 want) private view returns (bytes32) {
        while (ht > want && $.mainChain[ht] != h) {
            h = $.headers[h].prev;
            --ht;
        }
        return ht == want ? h : $.mainChain[want];
    }

    /// Makes `tip` the best chain when it does not extend the current tip:
    /// clears heights above a shorter new tip, then rewrites mainChain down
    /// to the fork point (at most maxForkDepth deep, checked before). Going
    /// downwards, mainChain[x - 1] still holds the old chain when the block
    /// at x leaves it, so its parent can be recorded then.
    function _reorg(Layout storage $, bytes32 oldBest, uint32 oldHeight, bytes32 tip, uint32 height) private {
        for (uint32 x = oldHeight; x > height; --x) {
            _demote($, $.mainChain[x], $.mainChain[x - 1]);
            delete $.mainChain[x];
        }
        bytes32 h = tip;
        uint32 ht = height;
        bytes32 old;
        while ((old = $.mainChain[ht]) != h) {
            if (old != 0) _demote($, old, $.mainChain[ht - 1]);
            $.mainChain[ht] = h;
            h = $.headers[h].prev;
            --ht;
        }
        emit BtcReorg(oldBest, tip, ht, oldHeight - ht);
    }

    /// Records the parent of a header leaving the best chain, unless it was
    /// stored when the header arrived.
    function _demote(Layout storage $, bytes32 h, bytes32 parent) private {
        Hdr storage x = $.headers[h];
        if (x.prev == 0) x.prev = parent;
    }

    /// A header's parent. Only the genesis block has a zero parent, and it
    /// can only be a checkpoint at height 0.
    function _prevOf(Layout storage $, bytes32 stored, uint32 height) private view returns (bytes32) {
        if (stored != 0 || height == 0) return stored;
        return $.mainChain[height - 1];
    }

    /// Timestamps ending at a header that is not the best tip, read back
    /// along `prev` (and into the checkpoint's own history if reached).
    function _timesBack(Layout storage $, bytes32 h) private view returns (uint256 lo, uint256 hi) {
        bytes32 cp = $.checkpointHash;
        uint256 c;
        while (c < MTP_SPAN) {
            if (h == cp) {
                uint256 clo = $.checkpointRing[0];
                uint256 chi = $.checkpointRing[1];
                uint256 cc = chi >> 224;
                for (uint256 k; k < cc && c < MTP_SPAN; ++k) {
                    (lo, hi) = _set(lo, hi, c++, _get(clo, chi, k));
                }
                break;
            }
            Hdr storage x = $.headers[h];
            uint256 pk = x.packed;
            (lo, hi) = _set(lo, hi, c++, _time(pk));
            h = _prevOf($, x.prev, _height(pk));
        }
        hi |= c << 224;
    }

    /// btcd CalcPastMedianTime: the middle of the sorted timestamps (index
    /// count/2 of the ascending order).
    function _median(uint256 lo, uint256 hi) private pure returns (uint32 med) {
        assembly ("memory-safe") {
            let c := shr(224, hi)
            // Scratch past the free memory pointer, not kept.
            let buf := mload(0x40)
            // Insertion sort, oldest first: Bitcoin timestamps mostly rise,
            // so most insertions stop at once.
            for { let i := c } gt(i, 0) {} {
                i := sub(i, 1)
                let t := 0
                switch lt(i, 8)
                case 1 { t := and(shr(mul(32, i), lo), 0xffffffff) }
                default { t := and(shr(mul(32, sub(i, 8)), hi), 0xffffffff) }
                let j := sub(sub(c, 1), i)
                for {} gt(j, 0) {} {
                    let q := mload(add(buf, mul(32, sub(j, 1))))
                    if iszero(gt(q, t)) { break }
                    mstore(add(buf, mul(32, j)), q)
                    j := sub(j, 1)
                }
                mstore(add(buf, mul(32, j)), t)
            }
            med := mload(add(buf, mul(32, shr(1, c))))
        }
    }

    // ------------------------------------------------------------------ views

    function bestChain() external view returns (bytes32 hash, uint32 height, uint128 chainwork) {
        Layout storage $ = _layout();
        hash = $.bestHash;
        uint256 pk = $.headers[hash].packed;
        height = _height(pk);
        chainwork = uint128(pk >> 128);
    }

    function checkpoint() external view returns (bytes32 hash, uint32 height) {
        Layout storage $ = _layout();
        return ($.checkpointHash, $.checkpointHeight);
    }

    function blockHashAt(uint32 height) external view returns (bytes32) {
        return _layout().mainChain[height];
    }

    function headerInfo(bytes32 hash)
        external
        view
        returns (bool known, uint32 height, uint32 time, uint32 bits, uint128 chainwork, bytes32 prev, bool inBestChain)
    {
        Layout storage $ = _layout();
        Hdr storage x = $.headers[hash];
        uint256 pk = x.packed;
        if (pk == 0) return (false, 0, 0, 0, 0, bytes32(0), false);
        known = true;
        height = _height(pk);
        time = _time(pk);
        bits = _bits(pk);
        chainwork = uint128(pk >> 128);
        prev = _prevOf($, x.prev, height);
        inBestChain = $.mainChain[height] == hash;
    }

    function confirmations(bytes32 hash) external view returns (uint32) {
        Layout storage $ = _layout();
        uint256 pk = $.headers[hash].packed;
        if (pk == 0) return 0;
        uint32 height = _height(pk);
        if ($.mainChain[height] != hash) return 0;
        return _bestHeight($) - height + 1;
    }

    /// PEG.md §3. The coinbase branch pins the tree depth, so an inner node
    /// cannot pass as a 64-byte transaction (BIP-53/54).
    function verifyInclusion(bytes32 txid, BtcInclusion calldata p, uint32 minConfs)
        external
        view
        returns (uint32 confs)
    {
        bytes calldata header = p.header;
        if (header.length != 80) revert BadHeaderLength();
        uint256 hoff;
        assembly ("memory-safe") {
            hoff := header.offset
        }
        bytes32 h = Sha256d.header(hoff);
        Layout storage $ = _layout();
        if ($.mainChain[p.height] != h) revert BlockNotInBestChain(h, p.height);
        // mainChain holds nothing above the tip, so height <= best here.
        confs = _bestHeight($) - p.height + 1;
        if (confs < minConfs) revert InsufficientConfirmations(confs, minConfs);

        uint256 bl = p.txBranch.length;
        if (bl % 32 != 0 || bl > MAX_DEPTH * 32) revert MalformedProof();
        if (p.coinbaseBranch.length != bl) revert DepthMismatch();
        if (p.txIndex == 0 || uint256(p.txIndex) >> (bl / 32) != 0) revert BadTxIndex(p.txIndex);

        bytes32 root = BtcHeader.merkleRoot(hoff);
        if (_fold(txid, p.txBranch, p.txIndex) != root) revert MerkleMismatch();
        if (_fold(Sha256d.once(p.coinbasePreimage), p.coinbaseBranch, 0) != root) revert CoinbaseProofMismatch();
    }

    function params() external view returns (RelayParams memory) {
        return _layout().params;
    }

    // -------------------------------------------------------------- internals

    function _fold(bytes32 cur, bytes calldata branch, uint256 index) private view returns (bytes32) {
        uint256 off;
        assembly ("memory-safe") {
            off := branch.offset
        }
        uint256 end = off + branch.length;
        for (; off < end; off += 32) {
            bytes32 s;
            assembly ("memory-safe") {
                s := calldataload(off)
            }
            cur = index & 1 == 0 ? Sha256d.pair(cur, s) : Sha256d.pair(s, cur);
            index >>= 1;
        }
        return cur;
    }

    function _bestHeight(Layout storage $) private view returns (uint32) {
        return _height($.headers[$.bestHash].packed);
    }

    function _layout() private pure returns (Layout storage $) {
        assembly ("memory-safe") {
            $.slot := LAYOUT
        }
    }

    function _pack(uint256 chainwork, uint32 height, uint32 time, uint32 bits, uint32 lastReal)
        private
        pure
        returns (uint256)
    {
        return chainwork << 128 | uint256(height) << 96 | uint256(time) << 64 | uint256(bits) << 32 | lastReal;
    }

    function _height(uint256 pk) private pure returns (uint32) {
        return uint32(pk >> 96);
    }

    function _time(uint256 pk) private pure returns (uint32) {
        return uint32(pk >> 64);
    }

    function _bits(uint256 pk) private pure returns (uint32) {
        return uint32(pk >> 32);
    }

    function _lastReal(uint256 pk) private pure returns (uint32) {
        return uint32(pk);
    }

    /// Prepends t to a timestamp window, dropping the oldest past 11.
    function _push(uint256 lo, uint256 hi, uint32 t) private pure returns (uint256, uint256) {
        uint256 c = hi >> 224;
        if (c < MTP_SPAN) ++c;
        return ((lo << 32) | t, (((hi << 32) | (lo >> 224)) & MASK96) | (c << 224));
    }

    function _get(uint256 lo, uint256 hi, uint256 i) private pure returns (uint32) {
        return uint32(i < 8 ? lo >> (32 * i) : hi >> (32 * (i - 8)));
    }

    function _set(uint256 lo, uint256 hi, uint256 i, uint32 t) private pure returns (uint256, uint256) {
        if (i < 8) return (lo | uint256(t) << (32 * i), hi);
        return (lo, hi | uint256(t) << (32 * (i - 8)));
    }
}
