// Package p2p owns mmgeth's block and transaction exchange: the "mmg" devp2p
// sub-protocol, block propagation and headers-first chain synchronisation.
//
// Transport, discovery, node identities and peer management are geth's
// (p2p.Server, RLPx, enode); this package only supplies the sub-protocol that
// runs on top of them. The node registers Handler.Protocols() with its
// p2p.Server (node.Node.RegisterProtocols) and Handler itself as a
// node.Lifecycle.
//
// # Wire protocol ("mmg/1")
//
// Every connection starts with a Status exchange (protocol version, network
// id, genesis hash, head hash and number, cumulative work of the head); peers
// on another network or genesis are disconnected as useless. After that:
//
//   - NewBlock carries a whole block and the sender's cumulative work at it;
//     NewBlockHashes announces (hash, number, work) triples.
//   - GetBlockHeaders/BlockHeaders and GetBlockBodies/BlockBodies are
//     request/response pairs tied together by a request id. A response is a
//     prefix of what was asked: a server stops at the first item it does not
//     have or at its size limits, so item i always answers request item i.
//   - Transactions gossips whole transactions.
//
// Every message has a size cap checked before decoding and every list a count
// cap checked before its items are decoded. A response's request id is read
// first: one that answers no outstanding request of its kind is refused
// before its items are decoded, and its items may not outnumber what was
// asked. A peer that sends a malformed message, a response nobody asked for or
// one that does not fit its request, or more than maxQueuedServes requests
// without waiting for answers, is disconnected with DiscProtocolError; one that
// sends a block with an invalid proof or an invalid body, or a transaction no
// honest node relays (peerTxFaults: no recoverable sender, impossible fees),
// is disconnected with DiscUselessPeer, and its block or transaction never
// reaches the chain or the pool. Failures that can be ours or a race (a full
// disk, a full pool, a nonce already used) never cost a peer its connection.
//
// # Timeouts and limits
//
// Each peer's round trip is measured (first from its status, then from every
// answer) and its request timeouts follow it within a floor and a ceiling
// (protocol.go). A request unanswered after the stall timeout is given up by
// its caller, which asks another peer at once; the peer is passed over for
// sync and bodies until it answers, and a request still unanswered at the
// drop timeout disconnects it with DiscReadTimeout. A request stays
// outstanding until it is answered or its peer dropped, which is why any
// answer with an unknown id is made up.
//
// Header and body requests are answered by a serve loop per peer, beside its
// read loop, within token buckets on requests and bytes per second
// (servelimit.go): a peer that asks faster is answered late.
//
// # Propagation
//
// The node calls Handler.BroadcastBlock for every block it mines, after
// inserting it. The whole block goes to the square root of the peers that do
// not know it yet and its hash to the rest. A NewBlock is read with only its
// header decoded; a known block, or one whose parent is unknown (which
// triggers a sync), goes no further. Otherwise its header is verified
// (Chain.VerifyHeaders), then its body decoded and the whole block checked
// by every rule that needs no state (Chain.VerifyBlock). A block that makes
// a heavier chain than our head's is then sent whole to the square root of
// the peers before it is executed, so that each hop adds a proof check, not
// an execution, to its propagation, as geth's pre-merge block fetcher did;
// it is inserted through Chain.InsertBlocks and, once it is our head,
// announced to the other peers. Its execution failing costs its sender
// nothing: an honest relayer would have sent it on as well.
//
// # Synchronisation
//
// Sync is headers-first from the peer that announced the greatest cumulative
// work above ours: find the common ancestor (a short probe below the lower head,
// then a binary search), fetch headers in batches, verify each batch with
// Chain.VerifyHeaders, fetch the bodies from several peers in parallel, and
// import with Chain.InsertBlocks. Download and import are a pipeline: while
// the importer works, the downloader verifies the next batches against the
// last header of the batch before (verified, not yet stored) and fetches
// their bodies, up to importAhead batches ahead; the importer then takes
// every batch waiting in one InsertBlocks, so that a sync pays the chain's
// per-call costs (a WAL sync, the head events) about as often as an import
// of a chain file. A restart simply syncs again from the
// local head. Progress is exposed through Handler.Syncing.
package p2p
