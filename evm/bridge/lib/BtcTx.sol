// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBridgeEvents} from "../IBridge.sol";

/// Bitcoin transaction parsing from calldata, bit-exact with btcspv.ParseTx
/// (same checks, same order, same offsets in MalformedTx):
///
///   version(4) ‖ cs(nIn ≥ 1) ‖ nIn × (outpoint(36) ‖ cs(len) ‖ script ‖ sequence(4))
///              ‖ cs(nOut ≥ 1) ‖ nOut × (value(8) ‖ cs(len) ‖ script) ‖ locktime(4)
///
/// cs is a canonical compactSize. Only the non-witness serialization parses:
/// a witness one has the marker 0x00 where nIn is, which is "zero inputs".
library BtcTx {
    uint256 internal constant MAX_SIZE = 100_000; // 400,000 WU of standard weight, all non-witness
    uint256 private constant MIN_IN = 41; // outpoint, empty script, sequence
    uint256 private constant MIN_OUT = 9; // value, empty script

    /// Parses the whole transaction and returns output `vout`: its value and
    /// where its script is in calldata. Reverts Tx64Bytes, MalformedTx(offset)
    /// or VoutOutOfRange(vout).
    function output(bytes calldata raw, uint32 vout)
        internal
        pure
        returns (uint64 value, uint256 scriptOff, uint256 scriptLen)
    {
        uint256 len = raw.length;
        if (len == 64) revert IBridgeEvents.Tx64Bytes();
        if (len > MAX_SIZE) revert IBridgeEvents.MalformedTx(MAX_SIZE);
        if (len < 4) revert IBridgeEvents.MalformedTx(0);
        uint256 base;
        assembly ("memory-safe") {
            base := raw.offset
        }
        uint256 off = 4;
        uint256 n;
        (n, off) = _count(base, len, off, MIN_IN);
        if (n == 0) revert IBridgeEvents.MalformedTx(4);
        for (uint256 i; i < n; ++i) {
            off = _skip(len, off, 36);
            (, off) = _script(base, len, off);
            off = _skip(len, off, 4);
        }
        uint256 at = off;
        (n, off) = _count(base, len, off, MIN_OUT);
        if (n == 0) revert IBridgeEvents.MalformedTx(at);
        bool found;
        for (uint256 i; i < n; ++i) {
            uint256 valueOff = off;
            off = _skip(len, off, 8);
            (uint256 start, uint256 end) = _script(base, len, off);
            if (i == vout) {
                found = true;
                value = uint64(_le(base + valueOff, 8));
                scriptOff = base + start;
                scriptLen = end - start;
            }
            off = end;
        }
        off = _skip(len, off, 4);
        if (off != len) revert IBridgeEvents.MalformedTx(off);
        if (!found) revert IBridgeEvents.VoutOutOfRange(vout);
    }

    /// Parses the whole transaction as output() does and returns the outpoint
    /// input `index` spends. Reverts as output() does, or InputOutOfRange.
    function input(bytes calldata raw, uint32 index) internal pure returns (bytes32 prevTxid, uint32 prevVout) {
        output(raw, 0); // the whole-transaction checks; every valid transaction has output 0
        uint256 len = raw.length;
        uint256 base;
        assembly ("memory-safe") {
            base := raw.offset
        }
        (uint256 n, uint256 off) = _compactSize(base, len, 4);
        if (index >= n) revert IBridgeEvents.InputOutOfRange(index);
        for (uint256 i; i < index; ++i) {
            (, off) = _script(base, len, off + 36);
            off += 4;
        }
        assembly ("memory-safe") {
            prevTxid := calldataload(add(base, off))
        }
        prevVout = uint32(_le(base + off + 32, 4));
    }

    /// Advances past n bytes, or reverts at the field's start.
    function _skip(uint256 len, uint256 off, uint256 n) private pure returns (uint256) {
        if (n > len - off) revert IBridgeEvents.MalformedTx(off);
        return off + n;
    }

    /// A canonical compactSize (btcd wire.ReadVarInt's rule).
    function _compactSize(uint256 base, uint256 len, uint256 off) private pure returns (uint256 v, uint256 next) {
        uint256 at = off;
        next = _skip(len, off, 1);
        uint256 prefix = _le(base + at, 1);
        uint256 size;
        uint256 floor;
        if (prefix == 0xfd) (size, floor) = (2, 0xfd);
        else if (prefix == 0xfe) (size, floor) = (4, 1 << 16);
        else if (prefix == 0xff) (size, floor) = (8, 1 << 32);
        else return (prefix, next);
        uint256 start = next;
        next = _skip(len, next, size);
        v = _le(base + start, size);
        if (v < floor) revert IBridgeEvents.MalformedTx(at);
    }

    /// An item count the remaining bytes can hold at minSize bytes an item.
    function _count(uint256 base, uint256 len, uint256 off, uint256 minSize)
        private
        pure
        returns (uint256 n, uint256 next)
    {
        (n, next) = _compactSize(base, len, off);
        if (n > (len - next) / minSize) revert IBridgeEvents.MalformedTx(off);
    }

    /// A length-prefixed script: where its bytes start and end.
    function _script(uint256 base, uint256 len, uint256 off) private pure returns (uint256 start, uint256 end) {
        uint256 n;
        (n, start) = _compactSize(base, len, off);
        if (n > len - start) revert IBridgeEvents.MalformedTx(off);
        end = start + n;
    }

    /// n ≤ 8 little-endian bytes at calldata position p.
    function _le(uint256 p, uint256 n) private pure returns (uint256 v) {
        uint256 w;
        assembly ("memory-safe") {
            w := calldataload(p)
        }
        for (uint256 i; i < n; ++i) {
            v |= ((w >> (248 - 8 * i)) & 0xff) << (8 * i);
        }
    }
}
