// Package mergemine owns the Bitcoin side of merged mining: the proof a
// sidechain block carries that a Bitcoin miner committed to it, its byte
// codecs, its verification, and the miner-side helpers that build it.
//
// The formats are Rootstock's, byte for byte, so that existing pool software
// works and real Rootstock mainnet proofs serve as test vectors. A proof has
// three parts:
//
//   - the 80-byte Bitcoin header, in wire order. Only its proof of work is
//     checked here, against the sidechain difficulty; its nBits, version and
//     parent are not, since most proofs are pool shares rather than Bitcoin
//     blocks.
//   - the RSKIP-92 merkle proof: the coinbase's sibling hashes from the bottom
//     of the tree to the top, each stored byte-reversed (display order). The
//     coinbase is always the leftmost leaf, so no path is needed.
//   - the compressed coinbase: u64be byteCount ‖ 8×u32be SHA-256 chaining
//     state ‖ tail. The state is the SHA-256 midstate after the first
//     byteCount bytes of the non-witness coinbase; the tail is the rest, and
//     it holds the commitment: the network's tag followed by the 32-byte seal
//     hash of the sidechain block.
//
// Verify applies Rootstock's ProofOfWorkRule to a proof; every rule it can
// break has its own exported error (see errors.go). The package knows nothing
// of Ethereum types: the committed hash is just 32 bytes.
package mergemine
