// Package anchorproof builds and checks anchor proofs (PEG.md §6.4): that a
// sidechain block X, and so its state root, is committed by a Bitcoin
// block, for a verifier who knows only Bitcoin headers.
//
// A proof names an anchor A (a canonical block at or above X whose seal
// proof's Bitcoin header is a whole Bitcoin block), A's header, and that
// Bitcoin header. The Bitcoin block's coinbase commits to A's seal hash
// (mergemine.Verify), which commits to every field of A: its state root and
// its parent. X is tied to A by one of:
//
//   - X == A: nothing more;
//   - A-8191 <= X < A: storage proofs, against A's state root, of the
//     EIP-2935 history contract's account and of its slot X mod 8191, which
//     holds X's hash (geth core ProcessParentBlockHash stores the parent's
//     hash at (n-1) mod 8191 while executing block n, params
//     .HistoryServeWindow); checked with geth's trie.VerifyProof;
//   - X < A-8191: the headers A-1 ... X+1, each the parent of the one
//     before.
//
// Verify checks everything but the Bitcoin header's standing: the caller
// must see sha256d(header) in its own Bitcoin node's best chain, K deep.
// VerifyOnBitcoin does both, asking that node; `mmgeth proof verify-anchor
// --btc.rpc` and mmfed's strict signer use it. VerifyAccount and VerifySlot
// check eth_getProof's proofs against a state root the proof established
// (the history proof is one). The proof shows that X
// is committed; it cannot show that no conflicting anchor exists (PEG.md
// §6.5, §15).
//
// Verify is strict so that a proof has one encoding: headers must be the
// canonical RLP of what they decode to, every hash and number given must
// match what it names, and every trie node given must be used. Any changed
// byte of a valid proof therefore makes it invalid.
//
// Departures from PEG.md §6.4: the fallback header list excludes X (the
// target already carries it), and the Bitcoin hash is in display order
// without 0x, as Bitcoin nodes print and take it.
package anchorproof
