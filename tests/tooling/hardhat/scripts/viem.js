// hardhat run scripts/viem.js --network mmgeth
// Env: WS_URL, the node's WebSocket endpoint, for an eth_subscribe check.
// Prints "RESULT <json>" for the Go test; any failed assertion throws, and
// Hardhat exits non-zero.
import assert from "node:assert/strict";
import { network } from "hardhat";
import { createPublicClient, maxUint256, numberToHex, parseEther, webSocket } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";

// Progress, with seconds since start: shows where a slow or failing run is.
const t0 = Date.now();
const step = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);

const { viem } = await network.getOrCreate();
const publicClient = await viem.getPublicClient({ pollingInterval: 200 });
const [wallet] = await viem.getWalletClients({ pollingInterval: 200 });
const me = wallet.account.address;
const chainId = await publicClient.getChainId();

async function mined(hash, confirmations = 1) {
  const rc = await publicClient.waitForTransactionReceipt({ hash, confirmations, timeout: 60_000 });
  assert.equal(rc.status, "success", `transaction ${hash} reverted`);
  assert.equal(rc.type, "eip1559", `transaction ${hash} is ${rc.type}`);
  return rc;
}

// Automine seals a block only when a transaction arrives: a 0-value transfer
// to self is the node-independent way to get one more block.
async function nextBlock() {
  await mined(await wallet.sendTransaction({ to: me, value: 0n }));
}

step("connected");
const tooling = await viem.deployContract("Tooling", [], { client: { public: publicClient, wallet } });
assert.ok((await publicClient.getCode({ address: tooling.address })).length > 2, "no code at the deployed address");

step(`deployed Tooling at ${tooling.address}`);

// A log filter (eth_newFilter) installed before the events it must return;
// without fromBlock, eth_getFilterLogs would search the latest block only.
const filter = await publicClient.createContractEventFilter({
  address: tooling.address,
  abi: tooling.abi,
  eventName: "Stored",
  fromBlock: await publicClient.getBlockNumber(),
});

const rc5 = await mined(await tooling.write.store([5n, 55n]));
const hash6 = await tooling.write.store([6n, 66n]);
const rc6 = await mined(hash6);
await nextBlock();
const rc6b = await mined(hash6, 2);
assert.equal(rc6b.blockHash, rc6.blockHash, "receipt moved to another block");

step("stored (5, 55) and (6, 66), 2 confirmations");
const changes = await publicClient.getFilterChanges({ filter });
assert.deepEqual(changes.map((l) => l.args.key), [5n, 6n], "eth_getFilterChanges");
assert.deepEqual(await publicClient.getFilterChanges({ filter }), [], "filter changes not consumed");
const filterLogs = await publicClient.getFilterLogs({ filter });
assert.equal(filterLogs.length, 2, "eth_getFilterLogs");
assert.ok(await publicClient.uninstallFilter({ filter }), "eth_uninstallFilter");

const events = await publicClient.getContractEvents({
  address: tooling.address,
  abi: tooling.abi,
  eventName: "Stored",
  args: { from: me },
  fromBlock: rc5.blockNumber,
  toBlock: rc6.blockNumber,
});
assert.deepEqual(events.map((e) => [e.args.key, e.args.value]), [[5n, 55n], [6n, 66n]], "getContractEvents");

assert.equal(await tooling.read.values([6n]), 66n);
assert.equal(await tooling.read.total(), 121n);

step("filter, events and reads checked");

// Transient storage and MCOPY, through eth_call.
const { result } = await publicClient.simulateContract({
  address: tooling.address,
  abi: tooling.abi,
  functionName: "mix",
  args: [7n],
  account: wallet.account,
});
assert.deepEqual(result, [15n, numberToHex(maxUint256 - 7n, { size: 32 })]);
assert.equal(await tooling.read.peek(), 0n);

// A value transfer to a fresh address.
const to = privateKeyToAddress(generatePrivateKey());
await mined(await wallet.sendTransaction({ to, value: parseEther("0.25") }));
assert.equal(await publicClient.getBalance({ address: to }), parseEther("0.25"));

step("mix and transfer checked");

// Over WebSocket: a log subscription (eth_subscribe) sees the next event.
const wsClient = createPublicClient({ transport: webSocket(process.env.WS_URL, { timeout: 10_000 }) });
assert.equal(await wsClient.getChainId(), chainId, "chain id over WebSocket");
const seen = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no Stored event over eth_subscribe")), 30_000);
  const unwatch = wsClient.watchContractEvent({
    address: tooling.address,
    abi: tooling.abi,
    eventName: "Stored",
    onLogs: (logs) => {
      clearTimeout(timer);
      unwatch();
      resolve(logs[0]);
    },
    onError: reject,
  });
});
// Give the subscription time to be installed before the event exists.
await new Promise((r) => setTimeout(r, 500));
const hash8 = await tooling.write.store([8n, 88n]);
const log = await seen;
assert.equal(log.transactionHash, hash8);
assert.equal(log.args.value, 88n);
await mined(hash8);
await wsClient.transport.getRpcClient().then((c) => c.close());

step("eth_subscribe checked");
console.log("RESULT " + JSON.stringify({ chainId, address: tooling.address, storeTx: hash6 }));
