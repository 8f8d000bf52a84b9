// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Tooling} from "../src/Tooling.sol";

/// The cheatcodes this script uses, declared here instead of installing
/// forge-std (no network, no git).
interface Vm {
    function startBroadcast() external;
    function stopBroadcast() external;
}

/// forge script script/Deploy.s.sol --broadcast --rpc-url URL --private-key KEY
/// Deploys Tooling, stores (7, 42) and runs mix(5) on chain; the require()s
/// fail the local simulation, so a node whose EVM disagrees is caught before
/// and after broadcasting (the test re-reads everything with cast).
contract Deploy {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external returns (Tooling tooling) {
        vm.startBroadcast();
        tooling = new Tooling();
        tooling.store(7, 42);
        (uint256 sum, bytes32 copied) = tooling.mix(5);
        vm.stopBroadcast();

        require(tooling.values(7) == 42, "values(7) != 42");
        require(tooling.total() == 42, "total != 42");
        require(sum == 11, "mix(5).sum != 11");
        require(copied == ~bytes32(uint256(5)), "mix(5).copied != ~5");
    }
}
