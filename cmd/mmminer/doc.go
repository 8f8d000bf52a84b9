// Command mmminer is the reference merge-miner of mmgeth: it mines Bitcoin
// and the sidechain with the same hashes, on the CPU.
//
// It polls a Bitcoin node's getblocktemplate (btcd or bitcoind, JSON-RPC with
// basic auth) and mmgeth's mnr_getWork, and builds one job from both: the
// template's coinbase (btcd's coinbasetxn, or one paying --btc.address from
// coinbasevalue) with an extranonce appended to its scriptSig and the
// sidechain commitment (OP_RETURN of tag‖hashForMergedMining) as its last
// output, the merkle root with the template's transactions, and the header.
// Worker goroutines grind the nonce, then the extranonce when the nonce space
// runs out. A hash under the sidechain target goes to mmgeth through
// mnr_submitBitcoinBlockPartialMerkle, exactly as Rootstock pools send it; a
// hash under Bitcoin's target (from the template's bits) goes to the Bitcoin
// node as a whole block through submitblock. With --btc.anchors-only a hash
// goes to the Bitcoin node only if it also seals a sidechain block: on
// regtest, whose Bitcoin target is far easier than the sidechain's, each
// Bitcoin block is then an anchor of Bitcoin-anchored finality, as on
// mainnet, and no Bitcoin block is mined while mmgeth is away.
//
// Either endpoint may go away and come back: failures are logged and retried
// with backoff, and only bad flags make the miner exit. While mmgeth is
// unreachable it mines Bitcoin only; while the Bitcoin node is, it keeps
// making sidechain shares on the last template it got (it needs one
// template to start).
//
// Files: template.go parses getblocktemplate, coinbase.go builds coinbases,
// merkle.go computes the coinbase branch and root, target.go compares hashes
// with targets, job.go assembles a job and its solutions, hasher.go and
// worker.go grind, miner.go polls, schedules and submits, siderpc.go is the
// sidechain client; the Bitcoin node's is internal/btcrpc, shared with mmfed
// (both HTTP only).
package main
