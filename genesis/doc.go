// Package genesis owns the network specs: for each network (dev, testnet,
// regtest) its chain and network ids, merged-mining parameters, finality
// depth, gas limit and genesis allocation, embedded as JSON so that a node
// binary carries every network it can join.
//
// Every genesis holds the whole BTC supply: 21,000,000 BTC, in the bridge
// account (0x…01000006) except for the dev accounts' share on dev networks.
// Supply never changes afterwards except through the peg.
package genesis
