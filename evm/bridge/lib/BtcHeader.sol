// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Fields of an 80-byte Bitcoin header read straight from calldata, and the
/// compact-target arithmetic, bit-exact with btcd blockchain.CompactToBig,
/// BigToCompact and CalcWork (btcd blockchain/internal/workmath).
library BtcHeader {
    uint256 internal constant MANTISSA = 0x007fffff;
    uint256 internal constant SIGN = 0x00800000;

    function version(uint256 off) internal pure returns (int32) {
        return int32(_le32(off));
    }

    function prev(uint256 off) internal pure returns (bytes32 p) {
        assembly ("memory-safe") {
            p := calldataload(add(off, 4))
        }
    }

    function merkleRoot(uint256 off) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            r := calldataload(add(off, 36))
        }
    }

    function time(uint256 off) internal pure returns (uint32) {
        return _le32(off + 68);
    }

    function bits(uint256 off) internal pure returns (uint32) {
        return _le32(off + 72);
    }

    /// CompactToBig restricted to what a header may carry: negative values
    /// and zero come back as 0, values past 2^256 as type(uint256).max, so
    /// that one `t == 0 || t > powLimit` test rejects everything btcd's
    /// checkProofOfWork rejects.
    function toTarget(uint32 compact) internal pure returns (uint256 t) {
        // btcd's result is <= 0 whenever the sign bit is set.
        if (compact & SIGN != 0) return 0;
        uint256 m = compact & MANTISSA;
        uint256 e = compact >> 24;
        if (e <= 3) return m >> (8 * (3 - e));
        if (m == 0) return 0;
        uint256 s = 8 * (e - 3);
        if (s >= 256) return type(uint256).max;
        t = m << s;
        if (t >> s != m) return type(uint256).max;
    }

    /// BigToCompact for 0 <= n < 2^256 (btcd returns 0 for 0).
    function toCompact(uint256 n) internal pure returns (uint32) {
        if (n == 0) return 0;
        uint256 size = _byteLen(n);
        uint256 m = size <= 3 ? n << (8 * (3 - size)) : n >> (8 * (size - 3));
        // A mantissa with the sign bit set would read back negative: move one
        // byte into the exponent, as btcd does.
        if (m & SIGN != 0) {
            m >>= 8;
            size++;
        }
        return uint32((size << 24) | m);
    }

    /// CalcWork: 2^256 / (target + 1) without a 257-bit numerator, as
    /// ~target / (target + 1) + 1 (target >= 1 here, and < 2^256 - 1).
    function work(uint256 target) internal pure returns (uint256) {
        unchecked {
            return ~target / (target + 1) + 1;
        }
    }

    /// The header hash as the little-endian number that PoW compares.
    function hashValue(bytes32 h) internal pure returns (uint256 v) {
        v = uint256(h);
        v = ((v >> 8) & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
            | ((v & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff) << 8);
        v = ((v >> 16) & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
            | ((v & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff) << 16);
        v = ((v >> 32) & 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff)
            | ((v & 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff) << 32);
        v = ((v >> 64) & 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff)
            | ((v & 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff) << 64);
        v = (v >> 128) | (v << 128);
    }

    /// A little-endian u32 from its four bytes read as a big-endian number.
    function le32(uint256 be) internal pure returns (uint32) {
        return uint32(((be & 0xff) << 24) | ((be & 0xff00) << 8) | ((be >> 8) & 0xff00) | (be >> 24));
    }

    function _le32(uint256 off) private pure returns (uint32) {
        uint256 be;
        assembly ("memory-safe") {
            be := shr(224, calldataload(off))
        }
        return le32(be);
    }

    function _byteLen(uint256 n) private pure returns (uint256 len) {
        while (n != 0) {
            n >>= 8;
            len++;
        }
    }
}
