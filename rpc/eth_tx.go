// Follows go-ethereum v1.17.10 internal/ethapi/api.go (TransactionAPI: lookups, receipts, SendRawTransaction), which geth keeps internal; ported
// because it cannot be imported. Differs: no pending block; receipts of pooled transactions are null (on an automining dev node, after waiting for the next block).

package rpc

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// Transactions: lookups by hash and position, receipts, submission.

// errTxIndexing: the transaction may exist but the index is not built yet.
var errTxIndexing = &codedError{codeServerError, "transaction indexing is in progress"}

// GetTransactionByHash finds a transaction in the canonical chain, else in the
// pool; null when neither has it.
func (api *ethAPI) GetTransactionByHash(ctx context.Context, hash common.Hash) (*rpcTransaction, error) {
	b := api.s.b
	canonical := func() (*rpcTransaction, error) {
		found, tx, blockHash, number, index := b.GetCanonicalTransaction(hash)
		if !found {
			return nil, nil
		}
		header := b.chain.GetHeader(blockHash, number)
		if header == nil {
			return nil, fmt.Errorf("header of block %x not found", blockHash)
		}
		return newRPCTransaction(tx, blockHash, number, header.Time, index, header.BaseFee, b.ChainConfig()), nil
	}
	if rt, err := canonical(); rt != nil || err != nil {
		return rt, err
	}
	if tx := b.pool.Get(hash); tx != nil {
		return newPendingTransaction(tx, b.CurrentHeader(), b.ChainConfig()), nil
	}
	// A block written between the two lookups took the transaction out of
	// the pool after the chain was read: read the chain again, or a
	// transaction being mined would be null for a moment.
	if rt, err := canonical(); rt != nil || err != nil {
		return rt, err
	}
	if b.txIndexPending() {
		return nil, errTxIndexing
	}
	return nil, nil
}

// GetTransactionReceipt returns the receipt of a canonical transaction or null.
func (api *ethAPI) GetTransactionReceipt(ctx context.Context, hash common.Hash) (*rpcReceipt, error) {
	b := api.s.b
	found, tx, blockHash, number, index := b.GetCanonicalTransaction(hash)
	if !found && api.s.awaitAutomined(ctx, hash) {
		found, tx, blockHash, number, index = b.GetCanonicalTransaction(hash)
	}
	if !found {
		// A transaction still in the pool has no receipt yet, whatever the
		// indexer's progress: geth writes the lookup entries of every new
		// head block itself, so only old blocks can await the indexer.
		if b.txIndexPending() && !b.pool.Has(hash) {
			return nil, errTxIndexing
		}
		return nil, nil
	}
	receipt, err := b.chain.GetCanonicalReceipt(tx, blockHash, number, index)
	if err != nil {
		return nil, err
	}
	var signer types.Signer = types.LatestSigner(b.ChainConfig())
	if from, ok := api.s.senders.Get(hash); ok {
		signer = knownSender{Signer: signer, from: from}
	}
	return marshalReceipt(receipt, blockHash, number, signer, tx, int(index)), nil
}

// automineWait bounds how long a receipt query waits for the dev miner.
const automineWait = 100 * time.Millisecond

// awaitAutomined waits, on a dev node that automines, for the next block
// when hash is still in the pool, and reports whether hash is now in the
// canonical chain. anvil seals a transaction before eth_sendRawTransaction
// returns, so a client's first receipt query finds the receipt; here the
// miner seals it a moment after, and clients polling the receipt (viem,
// ethers, Foundry) slept a poll interval for each transaction: the larger
// part of a send-then-receipt loop. The wait is for one head at most, so a
// transaction the miner leaves out (underpriced, a nonce gap) costs a query
// one block or automineWait, and the answer is the one the query would give
// a moment later.
func (s *Service) awaitAutomined(ctx context.Context, hash common.Hash) bool {
	if s.cfg.Dev == nil || !s.cfg.Dev.Automine() || !s.b.pool.Has(hash) {
		return false
	}
	heads := make(chan core.ChainHeadEvent, 1)
	sub := s.b.chain.SubscribeChainHeadEvent(heads)
	defer sub.Unsubscribe()
	// The block may have come between the caller's lookup and the
	// subscription.
	if found, _, _, _, _ := s.b.GetCanonicalTransaction(hash); found {
		return true
	}
	timer := time.NewTimer(automineWait)
	defer timer.Stop()
	select {
	case <-heads:
	case <-timer.C:
	case <-ctx.Done():
	}
	found, _, _, _, _ := s.b.GetCanonicalTransaction(hash)
	return found
}

func (api *ethAPI) GetTransactionByBlockNumberAndIndex(ctx context.Context, number gethrpc.BlockNumber, index hexutil.Uint) (*rpcTransaction, error) {
	block, err := api.s.b.BlockByNumber(ctx, number)
	if block == nil || err != nil {
		return nil, err
	}
	return txAtIndex(block, uint64(index), api.s.b.ChainConfig()), nil
}

func (api *ethAPI) GetTransactionByBlockHashAndIndex(ctx context.Context, hash common.Hash, index hexutil.Uint) (*rpcTransaction, error) {
	block, err := api.s.b.BlockByHash(ctx, hash)
	if block == nil || err != nil {
		return nil, err
	}
	return txAtIndex(block, uint64(index), api.s.b.ChainConfig()), nil
}

func txAtIndex(block *types.Block, index uint64, cfg *params.ChainConfig) *rpcTransaction {
	txs := block.Transactions()
	if index >= uint64(len(txs)) {
		return nil
	}
	return newRPCTransaction(txs[index], block.Hash(), block.NumberU64(), block.Time(), index, block.BaseFee(), cfg)
}

// SendRawTransaction submits a signed transaction to the pool. Rejections carry
// the pool's own message (nonce too low, insufficient funds, invalid sender,
// transaction type not supported...), which is what wallets match on.
func (api *ethAPI) SendRawTransaction(ctx context.Context, input hexutil.Bytes) (common.Hash, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(input); err != nil {
		return common.Hash{}, &invalidParamsError{"invalid transaction encoding: " + err.Error()}
	}
	return api.s.submit(tx)
}

// submit checks the node's own limits, then hands tx to the pool.
func (s *Service) submit(tx *types.Transaction) (common.Hash, error) {
	if tx.Type() == types.BlobTxType {
		return common.Hash{}, &codedError{codeServerError, errNoBlobs.msg}
	}
	if err := checkTxFee(tx.GasPrice(), tx.Gas(), s.cfg.TxFeeCap); err != nil {
		return common.Hash{}, err
	}
	if !tx.Protected() && !s.cfg.AllowUnprotectedTxs {
		// A transaction without EIP-155 replay protection could be replayed
		// on any chain where its sender has funds.
		return common.Hash{}, &codedError{codeServerError, "only replay-protected (EIP-155) transactions allowed over RPC"}
	}
	if err := s.b.pool.Add([]*types.Transaction{tx}, false)[0]; err != nil {
		return common.Hash{}, err
	}
	// The pool's validation cached the sender in tx.
	if from, err := types.Sender(types.LatestSigner(s.b.ChainConfig()), tx); err == nil {
		s.senders.Add(tx.Hash(), from)
	}
	log.Debug("Submitted transaction", "hash", tx.Hash(), "nonce", tx.Nonce(), "to", tx.To())
	return tx.Hash(), nil
}

// knownSender is a signer whose sender is already known.
type knownSender struct {
	types.Signer
	from common.Address
}

func (s knownSender) Sender(*types.Transaction) (common.Address, error) { return s.from, nil }

// checkTxFee refuses a transaction whose gasPrice*gas exceeds capBTC; a cap
// of zero or less means no cap.
func checkTxFee(price *big.Int, gas uint64, capBTC float64) error {
	if capBTC <= 0 {
		return nil
	}
	fee := new(big.Float).Quo(new(big.Float).SetInt(new(big.Int).Mul(price, new(big.Int).SetUint64(gas))), big.NewFloat(params.Ether))
	if f, _ := fee.Float64(); f > capBTC {
		return &codedError{codeServerError, fmt.Sprintf("tx fee (%.8f BTC) exceeds the configured cap (%.8f BTC)", f, capBTC)}
	}
	return nil
}
