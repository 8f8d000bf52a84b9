// Package btcd runs btcd in regression-test mode for mmgeth's end-to-end
// tests.
//
// Install puts pinned btcd and btcctl binaries in the repository's
// .cache/bin (once; later calls reuse them). Start runs a fresh node on free
// 127.0.0.1 ports with its own temporary data and home directories, a
// deterministic mining address, and 101 blocks already mined (btcd refuses
// getblocktemplate while its tip is older than a day, and the first coinbase
// matures at 100 confirmations); the node is stopped when the test ends.
package btcd
