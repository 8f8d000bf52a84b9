// node scripts/sign.js (plain Node, not `hardhat run`: Hardhat's provider
// would sign with the configured key itself and never ask the node).
// Env: RPC_URL. ethers' JsonRpcSigner, what `provider.getSigner(0)` returns,
// has the node sign with its first account: personal_sign for signMessage,
// eth_signTypedData_v4 for signTypedData. Each signature must recover to
// that account; the Go test compares the bytes with `cast wallet sign`.
// Prints "RESULT <json>"; a failed assertion exits non-zero.
import assert from "node:assert/strict";
import { ethers } from "ethers";

const provider = new ethers.JsonRpcProvider(process.env.RPC_URL);
const signer = await provider.getSigner(0);
const address = await signer.getAddress();
const [first] = await provider.send("eth_accounts", []);
assert.equal(address.toLowerCase(), first.toLowerCase(), "getSigner(0) is not eth_accounts[0]");

const message = "Sign in to mmgeth: nonce 42";
const messageSignature = await signer.signMessage(message);
assert.equal(ethers.verifyMessage(message, messageSignature), address, "signMessage does not recover to the signer");

// A permit-like message with a nested struct and an array, on this chain.
const { chainId } = await provider.getNetwork();
const domain = { name: "mmgeth test", version: "1", chainId, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const types = {
  Spender: [{ name: "who", type: "address" }, { name: "limits", type: "uint256[]" }],
  Permit: [{ name: "owner", type: "address" }, { name: "spender", type: "Spender" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }],
};
const value = {
  owner: address,
  spender: { who: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", limits: [1n, 10n ** 30n] },
  nonce: 7n,
  deadline: 1893456000n,
};
const typedSignature = await signer.signTypedData(domain, types, value);
assert.equal(ethers.verifyTypedData(domain, types, value, typedSignature), address, "signTypedData does not recover to the signer");

console.log("RESULT " + JSON.stringify({
  address,
  message,
  messageSignature,
  typedPayload: ethers.TypedDataEncoder.getPayload(domain, types, value),
  typedSignature,
}));
