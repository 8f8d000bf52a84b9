// Package genesis owns the network specs: for each network (dev, testnet,
// regtest) its chain and network ids, merged-mining parameters, finality
// depth, gas limit and genesis allocation, embedded as JSON so that a node
// binary carries every network it can join.
//
// Every genesis holds the whole BTC supply: 21,000,000 BTC, in the bridge
// account (0x…01000006) except for the dev accounts' share on dev networks.
// Supply never changes afterwards except through the peg.
//
// Dev's genesis and minimum difficulty are 3, the floor below which the
// proof-of-work rule counts any difficulty as 3 (mergemine.Target): the dev
// miner grinds a real synthetic share for every block, and at 256 that
// grind (~256 double-SHA256 hashes) was 15% of a dev block's mining CPU.
// The proof is still built and verified by the same rules; dev blocks carry
// 3 units of work each.
package genesis
