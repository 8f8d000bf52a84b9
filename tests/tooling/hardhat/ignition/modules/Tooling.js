import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

// Deploys Tooling and stores (1, 100) through an Ignition call future;
// scripts/ethers.js checks the stored value at the deployed address.
export default buildModule("ToolingModule", (m) => {
  const tooling = m.contract("Tooling");
  m.call(tooling, "store", [1n, 100n]);
  return { tooling };
});
