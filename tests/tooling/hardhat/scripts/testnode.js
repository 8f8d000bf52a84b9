// hardhat run scripts/testnode.js --network mmgeth
// The test-node methods as tests use them: viem's testClient (mode "anvil")
// and Hardhat's network helpers (@nomicfoundation/hardhat-network-helpers),
// each call followed by an assertion on what it changed, read back with
// plain eth_* calls. Run by tests/testnode_test.go against mmgeth --dev, and
// against anvil (MMGETH_E2E_NODE=anvil) to check the script itself.
// Env: RPC_URL; NODE_KIND, "mmgeth" or "anvil": the one difference allowed
// (see CHEAT_BLOCKS). Prints "RESULT <json>"; any failed assertion throws,
// and Hardhat exits non-zero.
import assert from "node:assert/strict";
import { network } from "hardhat";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  numberToHex,
  padHex,
  parseEther,
} from "viem";

const t0 = Date.now();
const step = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);

const kind = process.env.NODE_KIND;
assert.ok(kind === "mmgeth" || kind === "anvil", `NODE_KIND=${kind}: want mmgeth or anvil`);
// Each state cheat (set balance, code, storage, nonce) mines a block of its
// own on mmgeth, so that the change reaches peers inside a real merged-mined
// block; anvil changes its state in place. Reads at "latest" see the change
// at once on both; the block number moves by one on mmgeth, by none on anvil.
const CHEAT_BLOCKS = kind === "mmgeth" ? 1n : 0n;

const connection = await network.getOrCreate();
const { networkHelpers: helpers, provider } = connection;
const rpc = (method, params = []) => provider.request({ method, params });

const transport = http(process.env.RPC_URL);
const chain = defineChain({
  id: Number(await rpc("eth_chainId")),
  name: kind,
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [process.env.RPC_URL] } },
});
const pub = createPublicClient({ chain, transport, pollingInterval: 100 });
const test = createTestClient({ chain, transport, mode: "anvil" });
// JSON-RPC accounts: the node signs (dev account) or sends as the
// impersonated address.
const walletOf = (address) => createWalletClient({ chain, transport, account: address });

const [dev] = await pub.request({ method: "eth_accounts" });
assert.ok(dev, "eth_accounts is empty");
const head = () => pub.getBlockNumber({ cacheTime: 0 });
const latest = () => pub.getBlock({ blockTag: "latest" });
let maxHead = 0n; // highest block seen: a revert may abandon blocks up to it
const seen = async () => {
  const n = await head();
  if (n > maxHead) maxHead = n;
  return n;
};
let checks = 0;
const eq = (got, want, what) => {
  assert.deepEqual(got, want, what);
  checks++;
};

// cheat runs a state cheat and checks how far the block number moved.
async function cheat(what, fn) {
  const before = await seen();
  const result = await fn();
  eq(await seen(), before + CHEAT_BLOCKS, `${what}: block number after the cheat`);
  step(what);
  return result;
}

async function mined(hash) {
  const rc = await pub.waitForTransactionReceipt({ hash, timeout: 60_000, pollingInterval: 100 });
  eq(rc.status, "success", `transaction ${hash} status`);
  await seen();
  return rc;
}

// Runtime code that returns storage slot 0: PUSH0 SLOAD PUSH0 MSTORE
// PUSH1 32 PUSH0 RETURN.
const SLOT0_READER = "0x5f545f5260205ff3";
const slot = (n) => padHex(numberToHex(n), { size: 32 });
const callSlot0 = async (address) => BigInt((await pub.call({ to: address })).data);

// ---------------------------------------------------------------- viem
step(`connected to ${kind}, chain ${chain.id}, dev account ${dev}`);
const whale = "0x00000000000000000000000000000000000a11ce";
const bob = "0x000000000000000000000000000000000000b0b0";
const reader = "0x0000000000000000000000000000000000c0de01";

await cheat("viem setBalance", () => test.setBalance({ address: whale, value: parseEther("1000") }));
eq(await pub.getBalance({ address: whale }), parseEther("1000"), "balance after setBalance");

await cheat("viem setCode", () => test.setCode({ address: reader, bytecode: SLOT0_READER }));
eq(await pub.getCode({ address: reader }), SLOT0_READER, "code after setCode");
eq(await callSlot0(reader), 0n, "slot 0 of fresh code");

await cheat("viem setStorageAt", () => test.setStorageAt({ address: reader, index: 0, value: slot(42) }));
eq(await pub.getStorageAt({ address: reader, slot: slot(0) }), slot(42), "storage after setStorageAt");
eq(await callSlot0(reader), 42n, "the code reads the storage that was set");

await cheat("viem setNonce", () => test.setNonce({ address: whale, nonce: 77 }));
eq(await pub.getTransactionCount({ address: whale }), 77, "nonce after setNonce");

// Impersonation is a setting, not a state change: no block on either node.
let before = await seen();
await test.impersonateAccount({ address: whale });
eq(await seen(), before, "impersonateAccount mines nothing");
const bobBefore = await pub.getBalance({ address: bob });
const impTx = await walletOf(whale).sendTransaction({ to: bob, value: parseEther("1") });
const impRc = await mined(impTx);
eq(impRc.from.toLowerCase(), whale, "impersonated transaction's sender");
eq((await pub.getTransaction({ hash: impTx })).nonce, 77, "impersonated transaction used the set nonce");
eq(await pub.getBalance({ address: bob }), bobBefore + parseEther("1"), "value the impersonated account sent");
eq(await pub.getTransactionCount({ address: whale }), 78, "impersonated sender's nonce");
const whaleLeft = parseEther("999") - impRc.gasUsed * impRc.effectiveGasPrice;
eq(await pub.getBalance({ address: whale }), whaleLeft, "impersonated sender paid value and gas");
await test.stopImpersonatingAccount({ address: whale });
await assert.rejects(walletOf(whale).sendTransaction({ to: bob, value: 1n }), "a send after stopImpersonatingAccount must fail");
checks++;
step("viem impersonateAccount / stopImpersonatingAccount");

// anvil_mine [blocks, interval]: three blocks ten seconds apart.
before = await seen();
const t1 = (await latest()).timestamp;
await test.mine({ blocks: 3, interval: 10 });
eq(await seen(), before + 3n, "block number after mine 3");
for (let i = 1n; i <= 3n; i++) {
  const b = await pub.getBlock({ blockNumber: before + i });
  const prev = i === 1n ? t1 : (await pub.getBlock({ blockNumber: before + i - 1n })).timestamp;
  assert.ok(b.timestamp > prev, `block ${b.number} is not after its parent`);
  if (i > 1n) eq(b.timestamp - prev, 10n, `interval between mined blocks ${b.number - 1n} and ${b.number}`);
}
step("viem mine 3 blocks, interval 10");

let t = (await latest()).timestamp;
await test.increaseTime({ seconds: 3600 });
await test.mine({ blocks: 1 });
let dt = (await latest()).timestamp - t;
assert.ok(dt >= 3600n && dt < 3600n + 120n, `increaseTime 3600 then mine moved the clock by ${dt} s`);
checks++;
step(`viem increaseTime 3600: +${dt} s`);

const at = (await latest()).timestamp + 1000n;
await test.setNextBlockTimestamp({ timestamp: at });
await test.mine({ blocks: 1 });
eq((await latest()).timestamp, at, "timestamp after setNextBlockTimestamp");
step("viem setNextBlockTimestamp");

// snapshot / revert: a balance change and a transaction undone.
const snapBlock = await seen();
const snap = await test.snapshot();
await cheat("viem setBalance in snapshot", () => test.setBalance({ address: bob, value: 5n }));
const gone = await walletOf(dev).sendTransaction({ to: bob, value: 7n });
await mined(gone);
eq(await pub.getBalance({ address: bob }), 12n, "balance inside the snapshot");
await test.revert({ id: snap });
eq(await seen(), snapBlock, "block number after revert");
eq(await pub.getBalance({ address: bob }), bobBefore + parseEther("1"), "balance after revert");
eq(await pub.request({ method: "eth_getTransactionReceipt", params: [gone] }), null, "receipt of a reverted transaction");
step("viem snapshot / revert");

// Drop a pending transaction: automine off, send, drop, mine.
await test.setAutomine(false);
const devNonce = await pub.getTransactionCount({ address: dev });
const dropped = await walletOf(dev).sendTransaction({ to: bob, value: 3n });
eq((await pub.getTransaction({ hash: dropped })).blockNumber, null, "a sent transaction is pending with automine off");
await test.dropTransaction({ hash: dropped });
eq(await pub.request({ method: "eth_getTransactionByHash", params: [dropped] }), null, "dropped transaction");
before = await seen();
await test.mine({ blocks: 1 });
eq(await seen(), before + 1n, "block number after mine");
eq((await latest()).transactions.length, 0, "transactions in the block after the drop");
eq(await pub.request({ method: "eth_getTransactionReceipt", params: [dropped] }), null, "receipt of a dropped transaction");
eq(await pub.getTransactionCount({ address: dev }), devNonce, "sender nonce after the drop");
await test.setAutomine(true);
step("viem setAutomine false / dropTransaction / mine");

// ---------------------------------------------------- Hardhat network helpers
const carol = "0x00000000000000000000000000000000000ca401";
const reader2 = "0x0000000000000000000000000000000000c0de02";

await cheat("helpers setBalance", () => helpers.setBalance(carol, parseEther("50")));
eq(await pub.getBalance({ address: carol }), parseEther("50"), "balance after helpers.setBalance");

await cheat("helpers setCode", () => helpers.setCode(reader2, SLOT0_READER));
eq(await pub.getCode({ address: reader2 }), SLOT0_READER, "code after helpers.setCode");

await cheat("helpers setStorageAt", () => helpers.setStorageAt(reader2, 0, 1234));
eq(BigInt(await helpers.getStorageAt(reader2, 0)), 1234n, "helpers.getStorageAt after setStorageAt");
eq(await callSlot0(reader2), 1234n, "the code reads the storage helpers set");

await cheat("helpers setNonce", () => helpers.setNonce(carol, 5));
eq(await pub.getTransactionCount({ address: carol }), 5, "nonce after helpers.setNonce");

before = await seen();
await helpers.impersonateAccount(carol);
eq(await seen(), before, "helpers.impersonateAccount mines nothing");
// Sent straight to the node: Hardhat's provider for an http network with
// `accounts` refuses a sender it holds no key for (HHE716, "not managed by
// the node"), on anvil as on mmgeth.
const carolTx = await walletOf(carol).sendTransaction({ to: reader2, value: parseEther("2") });
const carolRc = await mined(carolTx);
eq(carolRc.from.toLowerCase(), carol, "sender of the helpers-impersonated transaction");
eq(await pub.getBalance({ address: reader2 }), parseEther("2"), "value sent by the impersonated account");
eq(await pub.getTransactionCount({ address: carol }), 6, "impersonated sender's nonce");
await helpers.stopImpersonatingAccount(carol);
step("helpers impersonateAccount");

before = await seen();
t = (await latest()).timestamp;
await helpers.mine(5); // interval 1 s by default
eq(await seen(), before + 5n, "block number after helpers.mine(5)");
eq((await latest()).timestamp - t >= 5n, true, "helpers.mine(5) moved time at least 1 s a block");
step("helpers mine 5");

before = await seen();
t = await helpers.time.latest();
const now = await helpers.time.increase(86_400);
eq(BigInt(now), BigInt(t) + 86_400n, "helpers.time.increase(1 day) result");
eq((await latest()).timestamp, BigInt(t) + 86_400n, "latest timestamp after time.increase");
eq(await seen(), before + 1n, "time.increase mines one block");
step("helpers time.increase 1 day");

const snapHead = await seen();
const snapshot = await helpers.takeSnapshot();
await cheat("helpers setStorageAt in snapshot", () => helpers.setStorageAt(reader2, 0, 9));
await cheat("helpers setBalance in snapshot", () => helpers.setBalance(carol, 1n));
await helpers.mine(3);
await snapshot.restore();
eq(await seen(), snapHead, "block number after restore");
eq(await callSlot0(reader2), 1234n, "storage after restore");
eq(await pub.getBalance({ address: carol }) > parseEther("47"), true, "balance after restore");
// restore re-takes the snapshot: it works a second time.
await cheat("helpers setNonce in snapshot", () => helpers.setNonce(carol, 100));
await snapshot.restore();
eq(await pub.getTransactionCount({ address: carol }), 6, "nonce after the second restore");
eq(await seen(), snapHead, "block number after the second restore");
step("helpers takeSnapshot / restore (twice)");

await rpc("evm_setAutomine", [false]);
const pendingBefore = await pub.getTransactionCount({ address: dev });
// Signed by Hardhat's local account (the dev key) and sent raw.
const dropTx = await rpc("eth_sendTransaction", [{ from: dev, to: carol, value: "0x1" }]);
eq((await pub.getTransaction({ hash: dropTx })).blockNumber, null, "pending before helpers.dropTransaction");
if (kind === "anvil") {
  // anvil answers hardhat_dropTransaction as anvil_dropTransaction: the
  // dropped hash (null when unknown) where Hardhat answers true/false, and the
  // helper rejects that answer (HHE100). anvil has dropped the transaction
  // all the same. mmgeth's hardhat_* methods answer Hardhat's shapes.
  await assert.rejects(helpers.dropTransaction(dropTx), /either true or false/);
  checks++;
} else {
  eq(await helpers.dropTransaction(dropTx), true, "helpers.dropTransaction of a pending transaction");
}
eq(await pub.request({ method: "eth_getTransactionByHash", params: [dropTx] }), null, "the dropped transaction");
if (kind === "mmgeth") {
  eq(await helpers.dropTransaction(dropTx), false, "helpers.dropTransaction of an unknown transaction");
}
await helpers.mine();
eq((await latest()).transactions.length, 0, "transactions mined after helpers.dropTransaction");
eq(await pub.getTransactionCount({ address: dev }), pendingBefore, "sender nonce after helpers.dropTransaction");
await rpc("evm_setAutomine", [true]);
step("helpers dropTransaction");

// Blocks up to here may have been abandoned by a revert (on mmgeth, a rewind).
const abandonedMax = maxHead;

// A last impersonated transaction and a plain one, so the chain ends on blocks
// with transactions in them.
await test.impersonateAccount({ address: whale });
await mined(await walletOf(whale).sendTransaction({ to: carol, value: parseEther("1") }));
await test.stopImpersonatingAccount({ address: whale });
await mined(await walletOf(dev).sendTransaction({ to: whale, value: 1n }));

const end = await latest();
console.log(
  "RESULT " +
    JSON.stringify({
      checks,
      head: Number(end.number),
      maxHead: Number(abandonedMax),
      hash: end.hash,
      stateRoot: end.stateRoot,
      impersonatedTx: impTx,
      whale,
      whaleBalance: (await pub.getBalance({ address: whale })).toString(),
      reader,
      reader2,
    }),
);
