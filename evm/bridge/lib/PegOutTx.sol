// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

struct PegOutIn {
    bytes32 txid; // internal byte order
    uint32 vout;
    uint64 valueSat;
    address recipient; // 0: federation change
    uint16 epoch;
}

struct PegOutOut {
    uint64 valueSat;
    bytes script;
}

/// The peg-out transaction's serialization and BIP-143 sighashes (PEG.md
/// §5.2 steps 5–6), byte for byte what peg.BuildPegOut and btcd's
/// txscript.CalcWitnessSigHash produce (evm/bridge differential tests). It
/// reads only the FedScript data contracts.
library PegOutTx {
    uint256 private constant FEDSCRIPT_BASE = 0x01000600;
    uint32 private constant SEQUENCE = 0xfffffffd; // RBF, no BIP-68 lock (§5.2 step 5)

    /// The unsigned peg-out of PEG.md §5.2 step 5: version 2, inputs with
    /// empty scriptSig and nSequence 0xfffffffd, outputs in order, locktime 0;
    /// its txid; and, when asked, the BIP-143 SIGHASH_ALL digest of every
    /// input (step 6), whose scriptCode is the input's deposit script
    /// 19 01 chainId recipient 75 ‖ FedScript(epoch).
    function build(uint32 chainId, PegOutIn[] memory ins, PegOutOut[] memory outs, bool withSighashes)
        internal
        view
        returns (bytes memory tx, bytes32 txid, bytes32[] memory sighashes)
    {
        uint256 nIn = ins.length;
        uint256 size = 4 + _csLen(nIn) + 41 * nIn + _csLen(outs.length) + 4;
        for (uint256 i; i < outs.length; ++i) {
            size += 8 + _csLen(outs[i].script.length) + outs[i].script.length;
        }
        tx = new bytes(size);
        uint256 p;
        assembly ("memory-safe") {
            p := add(tx, 32)
        }
        p = _le(p, 2, 4);
        p = _cs(p, nIn);
        for (uint256 i; i < nIn; ++i) {
            p = _outpoint(p, ins[i]);
            p = _le(p, 0, 1); // empty scriptSig
            p = _le(p, SEQUENCE, 4);
        }
        p = _cs(p, outs.length);
        uint256 outStart = p;
        for (uint256 i; i < outs.length; ++i) {
            p = _le(p, outs[i].valueSat, 8);
            bytes memory s = outs[i].script;
            p = _cs(p, s.length);
            assembly ("memory-safe") {
                mcopy(p, add(s, 32), mload(s))
            }
            p += s.length;
        }
        uint256 outEnd = p;
        _le(p, 0, 4);
        txid = _sha256dMem(tx);
        if (withSighashes) sighashes = _sighashes(chainId, ins, outStart, outEnd - outStart);
    }

    // ----------------------------------------------------------- internals

    /// BIP-143: sha256d(version ‖ hashPrevouts ‖ hashSequence ‖ outpoint ‖
    /// cs(L) ‖ scriptCode ‖ value ‖ nSequence ‖ hashOutputs ‖ locktime ‖ 01000000).
    function _sighashes(uint32 chainId, PegOutIn[] memory ins, uint256 outs, uint256 outsLen)
        private
        view
        returns (bytes32[] memory h)
    {
        uint256 nIn = ins.length;
        bytes memory buf = new bytes(36 * nIn);
        uint256 p;
        assembly ("memory-safe") {
            p := add(buf, 32)
        }
        for (uint256 i; i < nIn; ++i) {
            p = _outpoint(p, ins[i]);
        }
        bytes32 hashPrevouts = _sha256dMem(buf);
        buf = new bytes(4 * nIn);
        assembly ("memory-safe") {
            p := add(buf, 32)
        }
        for (uint256 i; i < nIn; ++i) {
            p = _le(p, SEQUENCE, 4);
        }
        bytes32 hashSequence = _sha256dMem(buf);
        bytes32 hashOutputs = _sha256d(outs, outsLen);
        h = new bytes32[](nIn);
        for (uint256 i; i < nIn; ++i) {
            h[i] = _sighash(chainId, ins[i], hashPrevouts, hashSequence, hashOutputs);
        }
    }

    function _sighash(uint32 chainId, PegOutIn memory input, bytes32 hashPrevouts, bytes32 hashSequence, bytes32 hashOutputs)
        private
        view
        returns (bytes32)
    {
        address fed = address(uint160(FEDSCRIPT_BASE + input.epoch));
        uint256 fedLen = fed.code.length - 1; // the data contract's code is 0x00 ‖ script
        uint256 scriptLen = 27 + fedLen;
        bytes memory buf = new bytes(4 + 32 + 32 + 36 + _csLen(scriptLen) + scriptLen + 8 + 4 + 32 + 4 + 4);
        uint256 p;
        assembly ("memory-safe") {
            p := add(buf, 32)
        }
        p = _le(p, 2, 4);
        p = _word(p, hashPrevouts);
        p = _word(p, hashSequence);
        p = _outpoint(p, input);
        p = _cs(p, scriptLen);
        p = _le(p, 0x19, 1); // push 25: format 1, chain id, recipient
        p = _le(p, 0x01, 1);
        // Whole words written, then the pointer moved back to the field's
        // end: the bytes past it are overwritten by what follows.
        p = _word(p, bytes32(uint256(chainId) << 224)) - 28;
        p = _word(p, bytes32(uint256(uint160(input.recipient)) << 96)) - 12;
        p = _le(p, 0x75, 1); // OP_DROP
        assembly ("memory-safe") {
            extcodecopy(fed, p, 1, fedLen)
        }
        p += fedLen;
        p = _le(p, input.valueSat, 8);
        p = _le(p, SEQUENCE, 4);
        p = _word(p, hashOutputs);
        p = _le(p, 0, 4); // locktime
        _le(p, 1, 4); // SIGHASH_ALL
        return _sha256dMem(buf);
    }

    /// txid (32, internal order) ‖ u32le(vout).
    function _outpoint(uint256 p, PegOutIn memory input) private pure returns (uint256) {
        return _le(_word(p, input.txid), input.vout, 4);
    }

    /// Writes 32 bytes at p. Only ever followed by writes that cover or
    /// stay within the buffer, which always extends past p + 32 here.
    function _word(uint256 p, bytes32 w) private pure returns (uint256) {
        assembly ("memory-safe") {
            mstore(p, w)
        }
        return p + 32;
    }

    /// n little-endian bytes of v at p.
    function _le(uint256 p, uint256 v, uint256 n) private pure returns (uint256) {
        for (uint256 i; i < n; ++i) {
            assembly ("memory-safe") {
                mstore8(add(p, i), shr(mul(8, i), v))
            }
        }
        return p + n;
    }

    /// Bitcoin's CompactSize of n at p.
    function _cs(uint256 p, uint256 n) private pure returns (uint256) {
        if (n < 0xfd) return _le(p, n, 1);
        if (n <= 0xffff) return _le(_le(p, 0xfd, 1), n, 2);
        return _le(_le(p, 0xfe, 1), n, 4);
    }

    function _csLen(uint256 n) private pure returns (uint256) {
        return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
    }

    function _sha256dMem(bytes memory b) private view returns (bytes32) {
        uint256 p;
        assembly ("memory-safe") {
            p := add(b, 32)
        }
        return _sha256d(p, b.length);
    }

    function _sha256d(uint256 p, uint256 len) private view returns (bytes32 h) {
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), 0x02, p, len, 0x00, 32)) { revert(0, 0) }
            if iszero(staticcall(gas(), 0x02, 0x00, 32, 0x00, 32)) { revert(0, 0) }
            h := mload(0x00)
        }
    }
}
