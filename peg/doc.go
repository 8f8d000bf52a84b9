// Package peg owns the Bitcoin side of the two-way peg that Go computes:
// the federation and deposit witness scripts, their P2WSH addresses, the
// machine-readable peg policy (mm_getPegPolicy) and its checks, and the
// public dev/regtest federation keys. It is pure: it reads no chain, no
// contract and no network. The Solidity Bridge is its twin for the deposit
// script (it prefixes and hashes the same bytes) and is tested against it.
// It does not own the Bridge's storage, the SPV proofs (btcspv) or the
// federator daemon (peg/fed).
//
// # Federation script (§4.1)
//
// Keys are 33-byte compressed points, each list in ascending byte order (a
// member's index is its position, which is also CHECKMULTISIG's signature
// order). n/2 < t ≤ n ≤ 15, 1 ≤ m ≤ e ≤ 15, 1 ≤ csv ≤ 65535, no key twice
// in or across the lists. Numbers are minimal pushes (OP_1…OP_16, else a
// minimal CScriptNum: 144 is 02 9000).
//
//	63                          OP_IF
//	  50+t  (21 pk)×n  50+n  ae   t-of-n OP_CHECKMULTISIG
//	67                          OP_ELSE
//	  <csv> b2 75                 OP_CHECKSEQUENCEVERIFY OP_DROP
//	  50+m  (21 epk)×e 50+e  ae   m-of-e OP_CHECKMULTISIG
//	68                          OP_ENDIF
//
// # Deposit script and address (§4.1)
//
//	19 01 <chainId u32be> <recipient 20> 75 <federation script>
//
// a push of 25 bytes (format 1, chain id, recipient) dropped at once, then
// the federation script. The address is P2WSH: 0x0020 ‖ SHA-256(script),
// bech32 with bc / tb / bcrt on mainnet / testnet4 / regtest. Recipient 0
// is the federation's change script; it and the Bridge (0x…01000006) are
// never credited, so no address is handed out or verified for them. The
// spend witnesses are [<>, sig_1…sig_t, 01, script] for members and
// [<>, esig_1…esig_m, <>, script] for the emergency branch (nSequence =
// csv, tx version 2).
//
// Example, 2-of-{G,2G,3G} and 1-of-{4G} after 144 blocks, chain 7772,
// recipient 0xf39f…2266 (every byte is spelled out in the tests):
//
//	190100001e5cf39fd6e51aad88f6f4ce6ab8827279cfffb9226675
//	63 52 21 0279be…1798 21 02c604…9ee5 21 02f930…36f9 53 ae
//	67 029000 b2 75 51 21 02e493…cd13 51 ae 68
//	→ bcrt1qem624qy3laarka5gv74f5tanulyfqxup6j64m2kdudwuae08fmksam6x4s
//
// # Policy (§7)
//
// DerivePolicy builds the policy a genesis holds from a network's peg
// Params; the node then puts what the contracts hold in its on-chain fields
// and runs CheckPolicy, which reports the eight checks of §7 separately.
// Each check reads only its own fields, so tampering shows in the check
// concerned (TestCheckPolicyTampering lists which fail together):
// scriptBuiltFromKeys (script and disassembly rebuilt from keys,
// thresholds, csv), fedScriptCodeMatches (keccak256(00 ‖ script) is the
// FedScript code hash), changeProgramMatches (change program and address
// re-derived from chain id, script and network), signersMatchPubkeys
// (keccak of each key's 64-byte point, indexes in order),
// pubkeysSortedUnique, thresholdsSane, refreshBeforeCsv (1 ≤ refresh ≤
// csv − max(6, csv/8)) and scriptStandard (deposit script ≤ 3600 bytes,
// parses, template of format 1, change address of the network).
//
// # Peg-out (§5.2, §5.4)
//
// BuildPegOut is the Go twin of the Bridge's buildPegOutBatch: requests in
// id order (≤ maxOutputs); FIFO inputs (≤ maxInputs) until Σin ≥
// Σrequested; change Σin − Σrequested, kept last if ≥ 330 sat (else to the
// fee); fee = feeRate × VSize of exactly those outputs; each output pays
// amount − ceil(fee/k); a request whose output would be below its script's
// dust (546 P2PKH, 540 P2SH, 294 P2WPKH, 330 P2WSH and P2TR) is refunded and
// the batch planned again without it. Version 2, every nSequence
// 0xfffffffd, locktime 0. BuildRefresh is buildRefreshBatch's twin,
// MedianFeeRate feeRate()'s. VSize is
//
//	base  = 4 + cs(m) + 41m + cs(k) + Σ(8 + cs(len spk) + len spk) + 4
//	wit   = cs(t+3) + 1 + 74t + 2 + cs(L) + L
//	vsize = ceil((4·base + 2 + m·wit) / 4)
//
// for m inputs, k outputs, threshold t and deposit script length L; it
// counts 72-byte signatures, so it errs high by at most about one vbyte per
// two signatures. Batch.Sighashes are btcd's BIP-143 SIGHASH_ALL digests,
// AssembleWitness puts the first t member signatures in member order,
// WitnessFromRSV does it from the Bridge's r‖s‖v signatures (SignRSV makes
// them: RFC 6979, low-S, v = 27 + recid; SignatureFromRSV refuses what the
// Bridge refuses), and Batch.VerifySpend runs btcd's script engine with its
// standard flags on every input. Batch.PSBT is the batch as a BIP-174
// packet (btcd psbt/v2) with the signatures so far, for other wallets;
// FinalizePSBT completes it with the member witness, which btcd's own
// finalizer refuses to build (it knows bare multisig scripts only), and
// extracts the transaction with btcd's psbt.Extract. FeeVoteDigest is what
// voteFeeRate checks.
//
// # Dev keys
//
// DevFederation derives the §4.5 dev/regtest federation (2-of-3, 1-of-1,
// csv 144) from the published mnemonic "test test test test test test test
// test test test test junk" (BIP-39 seed, empty passphrase; BIP-32 through
// internal/devkey, shared with the genesis dev accounts): member keys at
// m/84'/1'/7'/0/i, i = 0…2, and the emergency key at m/84'/1'/7'/1/0.
// Sorted into script order, members 0, 1, 2 are derivation indexes 2, 0, 1.
// These keys are public: anyone can sign with them. Dev and regtest only.
// DeriveFederation derives any t-of-n, m-of-e federation the same way;
// testnet's genesis holds DeriveFederation(DevMnemonic, 3, 5, 2, 3, 4320),
// a placeholder with public keys until its federators' keys exist.
//
// # Where this differs from PEG.md
//
//   - §4.1 writes the emergency branch "OP_e <epk_1>…<epk_m> OP_m" and its
//     witness with e signatures, but names the threshold m (§0 D4 "m-of-e",
//     §7 "1 ≤ m ≤ e", the JSON's emergency.threshold). CHECKMULTISIG takes
//     the threshold first, so the branch is OP_m <e keys> OP_e and an
//     emergency witness holds m signatures.
//   - §7's 3600-byte limit applies to the witness script that is actually
//     spent: the deposit script, 27 bytes longer than the federation script.
//   - §7's JSON has nothing for fedScriptCodeMatches and
//     changeProgramMatches to compare with. The policy adds
//     federation.fedScriptCodeHash (the FedScript account's code hash,
//     provable with eth_getProof) and federation.changeProgram (the Bridge's
//     stored program). changeAddress is the bare address, not §7's
//     "bcrt1q…  (internal: never send here)": a value with a note in it is
//     no address; the warning is in this documentation and in §4.3.
//   - witnessScriptAsm is btcd's disassembly (txscript.DisasmString): data
//     pushes are hex, so csv 144 reads 9000, and CSV is spelled
//     OP_CHECKSEQUENCEVERIFY.
//   - A key in both lists is refused (ErrDuplicateKey): with it, one member
//     could open the emergency branch alone after the delay.
//   - PEG.md gives one path for "federation keys"; emergency keys take the
//     next BIP-32 chain of the same account.
//   - §5.2 step 2 selects inputs until Σin ≥ Σrequested + fee, yet step 4
//     takes the fee from the requests' shares. Decided: Σin ≥ Σrequested
//     (here and in the Bridge). The outputs already leave the fee, so the
//     old rule held back at least the fee as change and refused batches
//     custody could pay; and with selection independent of the fee, whether
//     change exists is known first, so the fee pays for the exact vsize.
//   - §5.3's signer is keccak256 of the 64-byte point (no 0x04 prefix),
//     as ecrecover returns it; "uncompressed pubkey" read literally would
//     include the prefix.
package peg
