// Package btcrpc is a minimal Bitcoin JSON-RPC client for btcd and
// bitcoind, shared by mmminer and mmfed (PEG.md §5.5, §10.2).
//
// btcd's rpcclient has no per-call context, and a hung Bitcoin node must not
// hang a miner or a relayer, so every call here is one HTTP POST under the
// caller's context. The client holds no connection state: a node that is down
// at start is retried exactly like one that goes away later.
//
// It owns the wire format of the few calls mmgeth's tools make and nothing
// else: no retries (callers back off on their own schedule), no wallet calls.
// Hashes go in and out as chainhash.Hash (internal byte order); the node's
// display order stays inside this package.
//
// An error the node answered with is an *Error (errors.As), a block the node
// refused wraps ErrBlockRejected, and anything else is a transport failure.
package btcrpc
