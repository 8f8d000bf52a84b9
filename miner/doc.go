// Package miner turns the transaction pool into merge-mineable work and
// merge-mined proofs into blocks.
//
// A Builder executes pending transactions on top of the head and produces a
// Template: a complete block whose seal still lacks its proof, identified by
// its seal hash (the hash miners commit to in a Bitcoin coinbase). The
// WorkServer keeps the recent templates, hands the newest out as work and
// turns a submitted Bitcoin header, coinbase and merkle proof into a sealed
// block that goes through the engine's verification and fork choice like any
// block from a peer. The DevMiner is a built-in merge-miner for dev networks:
// it builds a synthetic Bitcoin block committing to the template, grinds its
// nonce to the sidechain target and submits it through the same WorkServer.
package miner
