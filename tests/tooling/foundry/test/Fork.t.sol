// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// The cheatcodes this test uses, declared here instead of installing
/// forge-std (no network, no git).
interface Vm {
    function envUint(string calldata name) external view returns (uint256);
    function envAddress(string calldata name) external view returns (address);
}

/// forge test --fork-url URL --fork-block-number N, run by
/// tests/devdefaults_test.go with FORK_BLOCK, FORK_ACCOUNT and FORK_BALANCE
/// set: the fork must see the chain as it was at block N, hundreds of blocks
/// below the node's head, whose state only an archive keeps.
contract ForkTest {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function testStateAtForkBlock() external view {
        require(block.number == vm.envUint("FORK_BLOCK"), "block.number is not the fork block");
        require(vm.envAddress("FORK_ACCOUNT").balance == vm.envUint("FORK_BALANCE"), "balance differs from the fork block's");
    }
}
