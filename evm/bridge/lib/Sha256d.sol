// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Bitcoin's double SHA-256 on the SHA-256 precompile (0x02), the only
/// hashing the relay uses (PEG.md D1). Written in assembly so that hashing a
/// header or a merkle pair copies nothing into newly allocated memory: a
/// batch of 200 headers would otherwise pay quadratic memory expansion.
library Sha256d {
    /// Double SHA-256 of the 80 calldata bytes at `off` (a block header).
    function header(uint256 off) internal view returns (bytes32 h) {
        assembly ("memory-safe") {
            // Scratch past the free memory pointer: never read after return.
            let buf := mload(0x40)
            calldatacopy(buf, off, 80)
            if iszero(staticcall(gas(), 0x02, buf, 80, 0x00, 32)) { revert(0, 0) }
            if iszero(staticcall(gas(), 0x02, 0x00, 32, 0x00, 32)) { revert(0, 0) }
            h := mload(0x00)
        }
    }

    /// Double SHA-256 of a‖b: one merkle tree node.
    function pair(bytes32 a, bytes32 b) internal view returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            if iszero(staticcall(gas(), 0x02, 0x00, 64, 0x00, 32)) { revert(0, 0) }
            if iszero(staticcall(gas(), 0x02, 0x00, 32, 0x00, 32)) { revert(0, 0) }
            h := mload(0x00)
        }
    }

    /// Single SHA-256 of one word: the second round of a txid whose first
    /// round the prover supplies (the coinbase preimage of PEG.md §3).
    function once(bytes32 a) internal view returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            if iszero(staticcall(gas(), 0x02, 0x00, 32, 0x00, 32)) { revert(0, 0) }
            h := mload(0x00)
        }
    }
}
