// Package btcd runs btcd in regression-test mode for mmgeth's end-to-end
// tests.
//
// Install puts pinned btcd and btcctl binaries in the repository's
// .cache/bin (once; later calls reuse them). Start runs a fresh node on a
// free 127.0.0.1 port with its own temporary data directory, a deterministic
// mining address (MiningAddress, from MiningKey), and 101 blocks already
// mined (btcd refuses getblocktemplate while its tip is older than a day,
// and the first coinbase matures at 100 confirmations); the node is stopped
// when the test ends. Proxy stands between a client and a node so that a
// test can make the node go away and come back: restarting btcd itself
// would wipe its regtest chain. Branch grinds regtest blocks on any parent,
// for side branches and reorgs handed to btcd with submitblock.
package btcd
