// Package node wires a mmgeth node out of go-ethereum's parts and ours: a
// geth node.Node (datadir, database, IPC server, devp2p) carrying
// the BlockChain with the merged-mining engine and fork choice, the
// transaction pool, the block builder and work server, the dev miner, the
// sync protocol and the JSON-RPC namespaces. It holds no domain logic:
// merge-mining statistics come from miner, whether a network is local from
// its spec, and the namespaces it serves from the APIs it registers.
//
// HTTP is always mmgeth's own server (http.go), whatever --http.api lists;
// geth's node APIs (admin, ...) are reached through it. WebSocket is
// mmgeth's own server too (ws.go), serving mmgeth's namespaces only. Both
// cap their connections (listener.go): geth's do not, and slow clients
// could take the file descriptors the database needs.
//
// Everything that must stop before the databases close is a
// node.Lifecycle: geth closes the databases it opened when the node stops,
// and a BlockChain stopped after that dies writing its journal.
package node
