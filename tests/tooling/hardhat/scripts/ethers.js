// hardhat run scripts/ethers.js --network mmgeth
// Env: IGNITION_ADDRESS, the Tooling that `hardhat ignition deploy` made.
// Prints "RESULT <json>" for the Go test; any failed assertion throws, and
// Hardhat exits non-zero.
import assert from "node:assert/strict";
import { network } from "hardhat";

// Progress, with seconds since start: shows where a slow or failing run is.
const t0 = Date.now();
const step = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);

const { ethers } = await network.getOrCreate();
const [signer] = await ethers.getSigners();
const { chainId } = await ethers.provider.getNetwork();

// Automine seals a block only when a transaction arrives: a 0-value transfer
// to self is the node-independent way to get one more block.
async function nextBlock() {
  const filler = await signer.sendTransaction({ to: signer.address, value: 0n });
  const rc = await filler.wait(1, 60_000);
  assert.equal(rc.status, 1, "filler transfer failed");
}

step("connected");

// The Ignition deployment, and the store(1, 100) its module called.
const ignitionAddress = process.env.IGNITION_ADDRESS;
assert.ok(ethers.isAddress(ignitionAddress), `IGNITION_ADDRESS=${ignitionAddress}`);
const deployed = await ethers.getContractAt("Tooling", ignitionAddress);
assert.equal(await deployed.values(1n), 100n, "ignition call store(1, 100) not visible");

step("ignition deployment checked");

// Deploy with an EIP-1559 transaction.
const tooling = await ethers.deployContract("Tooling");
await tooling.waitForDeployment();
const address = await tooling.getAddress();
const deployTx = tooling.deploymentTransaction();
assert.equal(deployTx.type, 2, "deployment was not a type-2 transaction");
assert.ok((await ethers.provider.getCode(address)).length > 2, "no code at the deployed address");

step(`deployed Tooling at ${address}`);

// A state change with an event, then two confirmations.
const tx = await tooling.store(3n, 33n);
const rc = await tx.wait(1, 60_000);
assert.equal(rc.status, 1);
assert.equal(rc.type, 2);
assert.ok(rc.gasPrice > 0n, "receipt without effectiveGasPrice");
await nextBlock();
const rc2 = await tx.wait(2, 60_000);
assert.equal(rc2.blockHash, rc.blockHash, "receipt moved to another block");
const confirmations = await rc2.confirmations();
assert.ok(confirmations >= 2, `confirmations = ${confirmations}`);

step("stored (3, 33), 2 confirmations");

// The event, three ways: from the receipt, queryFilter, and a raw log query.
const parsed = tooling.interface.parseLog(rc.logs[0]);
assert.equal(parsed.name, "Stored");
assert.deepEqual([...parsed.args], [signer.address, 3n, 33n]);
const events = await tooling.queryFilter(tooling.filters.Stored(signer.address, 3n), rc.blockNumber, rc.blockNumber);
assert.equal(events.length, 1, "queryFilter");
assert.equal(events[0].args.value, 33n);
assert.equal(events[0].transactionHash, rc.hash);
const topic = tooling.interface.getEvent("Stored").topicHash;
const logs = await ethers.provider.getLogs({ address, topics: [topic], fromBlock: 0, toBlock: "latest" });
assert.equal(logs.length, 1, "getLogs");
assert.equal(logs[0].topics[2], ethers.toBeHex(3n, 32));

assert.equal(await tooling.values(3n), 33n);
assert.equal(await tooling.total(), 33n);

step("events checked");

// Transient storage and MCOPY: same values in a call and in a transaction,
// and nothing left in transient storage after the transaction.
const [sum, copied] = await tooling.mix.staticCall(5n);
assert.equal(sum, 11n);
assert.equal(copied, ethers.toBeHex(ethers.MaxUint256 - 5n, 32));
const mixRc = await (await tooling.mix(5n)).wait(1, 60_000);
assert.equal(mixRc.status, 1);
assert.equal(await tooling.peek(), 0n, "transient storage survived the transaction");

step("mix checked");

// A plain value transfer.
const to = ethers.Wallet.createRandom().address;
const transferRc = await (await signer.sendTransaction({ to, value: ethers.parseEther("1.5") })).wait(1, 60_000);
assert.equal(transferRc.status, 1);
assert.equal(await ethers.provider.getBalance(to), ethers.parseEther("1.5"));

const fee = await ethers.provider.getFeeData();
assert.ok(fee.maxFeePerGas > 0n && fee.maxPriorityFeePerGas !== null, "no EIP-1559 fee data");

step("transfer and fee data checked");
console.log("RESULT " + JSON.stringify({
  chainId: chainId.toString(),
  address,
  storeTx: rc.hash,
  storeBlock: rc.blockNumber,
  confirmations,
}));
