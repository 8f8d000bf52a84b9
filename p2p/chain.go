package p2p

import (
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Chain is what the protocol needs from the node's chain. *core.BlockChain
// provides every method but Work, VerifyHeaders and InsertBlocks, which belong
// to the node because they involve the merged-mining engine and fork choice.
// All methods must be safe for concurrent use.
type Chain interface {
	// Genesis returns the genesis block.
	Genesis() *types.Block
	// CurrentBlock returns the header of the head block: the best block whose
	// body and state are present, which is what we can serve and build on
	// (core.BlockChain.CurrentBlock, not CurrentHeader, which may run ahead of
	// it after a crash).
	CurrentBlock() *types.Header
	// Work returns the cumulative work of the chain up to and including the
	// block, or nil if the block is unknown.
	Work(hash common.Hash) *big.Int

	GetHeaderByHash(hash common.Hash) *types.Header
	// GetHeaderByNumber returns the canonical header at number.
	GetHeaderByNumber(number uint64) *types.Header
	GetBody(hash common.Hash) *types.Body
	HasBlock(hash common.Hash, number uint64) bool

	// VerifyHeaders checks a contiguous run of headers extending parent with
	// the consensus engine (proofs, difficulty, timestamps...), in parallel
	// where it can. parent is in the chain or passed VerifyHeaders itself:
	// sync verifies a batch while the one before it is imported. It returns
	// the first failure.
	VerifyHeaders(parent *types.Header, headers []*types.Header) error
	// VerifyBlock runs on a block every rule that reads no state, as
	// InsertBlocks does before writing: the header against parent (stored,
	// or verified but not stored yet), the body against the header and the
	// engine's body rules. It returns the cumulative work the chain would
	// have at the block. Only what passes it is relayed before execution.
	VerifyBlock(parent *types.Header, block *types.Block) (*big.Int, error)
	// InsertBlocks imports a contiguous run of blocks through fork choice;
	// the parent of blocks[0] is in the chain and the headers passed
	// VerifyHeaders. On failure it returns the index of the first block that
	// was not imported and why. Only a failure that is the block's fault
	// (see blockFault) costs its sender the connection; a local one (disk,
	// shutdown) does not.
	InsertBlocks(blocks []*types.Block) (int, error)
}

// blockFault reports whether err says the block itself is at fault: the
// chain marks such errors with a BlockFault method (chain.RuleError), so
// that a peer is never blamed for the receiver's disk or shutdown.
func blockFault(err error) bool {
	var fault interface{ BlockFault() }
	return errors.As(err, &fault)
}

// TxPool is what transaction gossip needs from the node's pool; geth's
// *txpool.TxPool satisfies it as is.
type TxPool interface {
	// Add queues remote transactions; errors are per transaction, and only
	// those listed in peerTxFaults are held against the sender (a stale nonce
	// is not misbehaviour).
	Add(txs []*types.Transaction, sync bool) []error
	Has(hash common.Hash) bool
	// SubscribeTransactions reports transactions entering the pool; the
	// handler gossips them.
	SubscribeTransactions(ch chan<- core.NewTxsEvent, reorgs bool) event.Subscription
}
