// Hardhat 3 project driven by tests/tooling_test.go against a dev node:
// `hardhat build`, `hardhat ignition deploy`, and `hardhat run` of the ethers
// and viem scripts, and of the test-node script (Hardhat's network helpers
// and viem's testClient), all with `--network mmgeth`. Offline: solc is solc-js's
// soljson.js from node_modules, never a download.
import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatIgnitionEthers from "@nomicfoundation/hardhat-ignition-ethers";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatViem from "@nomicfoundation/hardhat-viem";

const require = createRequire(import.meta.url);

// The first dev account of the "test test ... junk" mnemonic.
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export default defineConfig({
  plugins: [hardhatEthers, hardhatIgnitionEthers, hardhatNetworkHelpers, hardhatViem],
  solidity: {
    version: "0.8.30",
    path: require.resolve("solc/soljson.js"),
    settings: { evmVersion: "prague" },
  },
  networks: {
    mmgeth: {
      type: "http",
      chainType: "l1",
      url: process.env.RPC_URL ?? "http://127.0.0.1:8545",
      accounts: [process.env.PRIVATE_KEY ?? DEV_KEY],
    },
  },
});
