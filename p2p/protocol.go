package p2p

import (
	"errors"
	"fmt"
	"time"

	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

const (
	// ProtocolName is the devp2p capability name of the sub-protocol.
	ProtocolName = "mmg"
	// ProtocolVersion is the only version spoken so far.
	ProtocolVersion = 1

	// protocolLength is the number of message codes of mmg/1.
	protocolLength = 8
)

// Message codes of mmg/1.
const (
	statusMsg          = 0x00
	newBlockHashesMsg  = 0x01
	transactionsMsg    = 0x02
	getBlockHeadersMsg = 0x03
	blockHeadersMsg    = 0x04
	getBlockBodiesMsg  = 0x05
	blockBodiesMsg     = 0x06
	newBlockMsg        = 0x07
)

const (
	// DefaultMaxMessageSize caps messages that carry blocks, headers, bodies or
	// transactions (the same 10 MiB every devp2p client enforces).
	DefaultMaxMessageSize = 10 * 1024 * 1024

	// Caps for messages whose size is known from their shape: anything bigger
	// is junk and is refused before decoding.
	maxStatusSize         = 512
	maxGetHeadersSize     = 128
	maxGetBodiesSize      = maxBodiesServe*33 + 32
	maxNewBlockHashesSize = maxAnnounces*(33+9+33+3) + 8
	softResponseLimit     = 2 * 1024 * 1024 // target size of header/body replies
	maxTxBroadcastSize    = 512 * 1024      // target size of one Transactions message
	maxWorkBits           = 256             // cumulative work above 2^256 is a lie
	maxHeadersServe       = 1024            // headers per reply
	maxBodiesServe        = 1024            // bodies per reply
	maxAnnounces          = 256             // entries per NewBlockHashes
	maxTxsPerMsg          = 4096            // transactions per Transactions message
	maxHeaderFetch        = 192             // headers asked per sync request
	maxBodyFetch          = 64              // bodies asked per request
	importAhead           = 2               // sync batches downloaded and verified ahead of the import (see importBatches)
	ancestorProbe         = 16              // headers in the first common-ancestor probe
	handshakeTimeout      = 5 * time.Second
	forceSyncCycle        = 10 * time.Second
	syncReportInterval    = 8 * time.Second
	maxKnownBlocks        = 1024
	maxKnownTxs           = 32768
	maxQueuedBlocks       = 16 // per-peer broadcast queues: what does not fit is dropped
	maxQueuedTxBatches    = 64
	maxQueuedRequests     = 16
	maxPendingImports     = 64 // propagated blocks waiting for import
	maxAnnounceFetches    = 16 // announced blocks being fetched at once
)

// Request timeouts follow each peer's measured round trip (see peer.rtt). A
// request unanswered after stallScale round trips is re-sent to another peer
// and its peer is passed over until it answers; one still unanswered after
// dropScale round trips costs the peer its connection. The floors keep a
// garbage-collection pause or a cold database read on an honest peer from
// looking like silence (a false stall only costs a duplicate request); the
// ceilings bound what a peer that measured slow once can hold up.
const (
	stallScale      = 4
	minStallTimeout = 250 * time.Millisecond
	maxStallTimeout = 5 * time.Second
	dropScale       = 16
	minDropTimeout  = 5 * time.Second
	maxDropTimeout  = 30 * time.Second
)

var (
	errMsgTooLarge      = errors.New("message too large")
	errInvalidMsgCode   = errors.New("invalid message code")
	errUnexpectedStatus = errors.New("status message after handshake")
	errNoStatus         = errors.New("first message is not a status")
	errVersionMismatch  = errors.New("protocol version mismatch")
	errNetworkMismatch  = errors.New("network id mismatch")
	errGenesisMismatch  = errors.New("genesis mismatch")
	errTooManyItems     = errors.New("too many items")
	errInvalidWork      = errors.New("invalid cumulative work")
	errPeerGone         = errors.New("peer disconnected")
	errTimeout          = errors.New("request timed out")
	errUnsolicited      = errors.New("response to no outstanding request")
	errFlooding         = errors.New("request flood")
	errQuitting         = errors.New("handler stopped")
	errBadResponse      = errors.New("response does not answer the request")
	errBodyMismatch     = errors.New("block body does not match its header")
	errBrokenChain      = errors.New("headers do not form a chain")
	errNoBodies         = errors.New("no peer could deliver the block bodies")
	errNoHeaders        = errors.New("peer returned no headers it should have")
)

// peerError ties an error to the reason the peer is disconnected with. geth's
// p2p layer only recognises a bare DiscReason as a disconnect reason, so the
// protocol handler logs the error and returns the reason.
type peerError struct {
	reason gethp2p.DiscReason
	err    error
}

func (e *peerError) Error() string { return fmt.Sprintf("%v: %v", e.reason, e.err) }
func (e *peerError) Unwrap() error { return e.err }

// protocolError marks a breach of the wire protocol.
func protocolError(format string, args ...any) error {
	return &peerError{reason: gethp2p.DiscProtocolError, err: fmt.Errorf(format, args...)}
}

// uselessError marks a peer that is honest about the wire format but of no use
// to us: another network, or invalid chain data.
func uselessError(err error) error {
	return &peerError{reason: gethp2p.DiscUselessPeer, err: err}
}
