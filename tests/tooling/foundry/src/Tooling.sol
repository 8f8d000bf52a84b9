// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Tooling
/// @notice What the end-to-end tooling tests deploy: storage writes with
/// events, and the post-Cancun opcodes a Prague chain must execute. Compiled
/// for evm_version "prague", solc emits PUSH0 everywhere; the `transient`
/// lock compiles to TSTORE/TLOAD; mix() spells out TSTORE, TLOAD and MCOPY.
contract Tooling {
    event Stored(address indexed from, uint256 indexed key, uint256 value);

    mapping(uint256 => uint256) public values;
    uint256 public total;
    uint256 transient private locked;

    modifier nonReentrant() {
        require(locked == 0, "reentered");
        locked = 1;
        _;
        locked = 0;
    }

    function store(uint256 key, uint256 value) external nonReentrant {
        values[key] = value;
        total += value;
        emit Stored(msg.sender, key, value);
    }

    /// @return sum x + (x + 1), the second term read back from transient slot 1
    /// @return copied ~x, moved by MCOPY from the second word of a buffer
    function mix(uint256 x) external returns (uint256 sum, bytes32 copied) {
        bytes memory buf = abi.encode(x, ~x);
        assembly ("memory-safe") {
            tstore(1, add(x, 1))
            let dst := mload(0x40)
            mcopy(dst, add(buf, 0x40), 0x20)
            copied := mload(dst)
            sum := add(x, tload(1))
        }
    }

    /// @notice Transient slot 1 as seen by a fresh transaction or call: always
    /// zero, since transient storage is cleared at the end of every transaction.
    function peek() external view returns (uint256 v) {
        assembly ("memory-safe") {
            v := tload(1)
        }
    }
}
