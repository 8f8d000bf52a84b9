// Package miner turns the transaction pool into merge-mineable work and
// merge-mined proofs into blocks, and serves both over Rootstock's mnr_*
// JSON-RPC API.
//
// A Builder executes pending transactions on top of the head and produces a
// Template: a complete block whose seal still lacks its proof, identified by
// its seal hash (the hash miners commit to in a Bitcoin coinbase). The
// WorkServer keeps the recent templates and hands the newest out as work.
// The API (api.go) parses each submission once, at the edge, into a Share:
// the coinbase is deserialized once and scanned for the tag once, which
// yields both the seal hash it commits to and the proof. The WorkServer
// finds the template by that hash and checks the proof against the
// template's seal hash, difficulty and time with the engine (VerifyProof,
// mergemine.Verify underneath) before it assembles the block; only a valid
// proof becomes a block, inserted through chain.Chain's one door, whose
// header verification does not check the remembered proof again.
//
// Errors a pool sees (code -33000): unknown work ("Cannot publish block,
// could not find hash … in the cache"), ErrInvalidBlock for the share's or
// the block's fault (a rule error), ErrNotImported for a valid block this
// node failed to import (disk, shutdown): a pool is never told "invalid"
// for a local fault. A refused share writes nothing.
//
// The DevMiner is a built-in merge-miner for dev networks: it builds a
// synthetic Bitcoin block committing to the template, grinds its nonce to
// the sidechain target and submits it through the same WorkServer. On
// automine it seals on the pool's new-transaction event, without the forced
// pool sync other builds start with (BuildOptions.Automine), and never seals
// an empty block for it; like the WorkServer, it takes the pool's events on
// a goroutine of their own, so the pool never waits on a miner that seals.
// When transactions came in while it sealed, a client is streaming them,
// and it seals the next blocks on a thread of lower priority (nice 10, on
// Linux) so that the client's requests are served first.
// MeasureMergeMining (stats.go) reads the merged-mining statistics the
// node exports as metrics: proof age, difficulty, implied hash rate and the
// share of proofs that are whole Bitcoin blocks.
package miner
