package fed

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/evm/bridge"
)

const (
	// gasMargin: the limit is the estimate plus 1/gasMargin of it. The
	// estimate ran on the latest state; by inclusion another relayer may
	// have stored some of the headers (cheaper) or a sidechain reorg may
	// have moved BtcRelay's tip, and taking a Bitcoin reorg costs about
	// 33.5k gas more per height left (evm/bridge doc).
	gasMargin = 4
	// maxTxGas is EIP-7825's cap on one transaction's gas (Osaka): a batch
	// that needs more is split.
	maxTxGas = 1 << 24
	// receiptTimeout bounds the wait for a transaction to be mined; the
	// transaction stays in the pool and later rounds wait for it.
	receiptTimeout = 2 * time.Minute
	receiptPoll    = 250 * time.Millisecond
)

// errTooMuchGas: the batch needs more gas than one transaction may use.
var errTooMuchGas = errors.New("the batch needs more gas than a transaction may use")

// view is the bridge contracts' views through eth_call at the latest block.
func (r *Relayer) view(ctx context.Context) *bridge.View { return BridgeView(ctx, r.cfg.Sidechain) }

// BridgeView is the bridge contracts' views over side's eth_call at the
// latest block; reverts come back decoded (*bridge.RevertError).
func BridgeView(ctx context.Context, side *ethclient.Client) *bridge.View {
	return bridge.NewCallView(func(to common.Address, input []byte) ([]byte, error) {
		var out []byte
		err := timed(ctx, func(c context.Context) (err error) {
			out, err = side.CallContract(c, ethereum.CallMsg{To: &to, Data: input}, nil)
			return err
		})
		return out, revertOf(err)
	})
}

// revertOf turns a node's "execution reverted" answer into a
// *bridge.RevertError naming BtcRelay's custom error; other errors pass
// unchanged.
func revertOf(err error) error {
	var de gethrpc.DataError
	if !errors.As(err, &de) {
		return err
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	data, derr := hexutil.Decode(s)
	if derr != nil {
		return err
	}
	return bridge.DecodeRevert(data)
}

// nextBlockCall runs eth_call or eth_estimateGas of a call to contract to
// as the next block would: on the latest state, at the time now. BtcRelay
// refuses headers over two hours ahead of the block's time (TimeTooNew),
// and the latest block of a quiet chain (a dev node sealing on demand, a
// network still at its genesis) may be far older than the Bitcoin tip.
func (r *Relayer) nextBlockCall(ctx context.Context, method string, to common.Address, input []byte, result any) error {
	args := map[string]any{"from": r.from, "to": to, "data": hexutil.Bytes(input)}
	next := map[string]any{"time": hexutil.Uint64(time.Now().Unix())}
	return revertOf(timed(ctx, func(c context.Context) error {
		return r.cfg.Sidechain.Client().CallContext(c, result, method, args, "latest", nil, next)
	}))
}

// submit sends one receiveHeaders transaction with headers and waits for
// its receipt. Nothing is sent when the pre-check reverts.
func (r *Relayer) submit(ctx context.Context, headers []wire.BlockHeader) (*types.Receipt, error) {
	return r.send(ctx, "receiveHeaders", bridge.BtcRelayAddress, bridge.ReceiveHeadersInput(serialize(headers)))
}

// send sends a transaction calling method of contract to with input and
// waits for its receipt. It is pre-checked with eth_call: a revert (a
// *bridge.RevertError) sends nothing and spends no gas.
func (r *Relayer) send(ctx context.Context, method string, to common.Address, input []byte) (*types.Receipt, error) {
	eth := r.cfg.Sidechain
	if err := r.nextBlockCall(ctx, "eth_call", to, input, new(hexutil.Bytes)); err != nil {
		return nil, fmt.Errorf("pre-check (eth_call %s): %w", method, err)
	}
	var estimate hexutil.Uint64
	if err := r.nextBlockCall(ctx, "eth_estimateGas", to, input, &estimate); err != nil {
		return nil, fmt.Errorf("eth_estimateGas: %w", err)
	}
	gas := uint64(estimate)
	var (
		nonce, pending uint64
		tip            *big.Int
		head           *types.Header
	)
	if err := timed(ctx, func(c context.Context) (err error) {
		if nonce, err = eth.NonceAt(c, r.from, nil); err != nil {
			return err
		}
		if pending, err = eth.PendingNonceAt(c, r.from); err != nil {
			return err
		}
		if tip, err = eth.SuggestGasTipCap(c); err != nil {
			return err
		}
		head, err = eth.HeaderByNumber(c, nil)
		return err
	}); err != nil {
		return nil, err
	}
	if gas > maxTxGas {
		return nil, fmt.Errorf("%w (%s needs %d gas)", errTooMuchGas, method, gas)
	}
	if pending > nonce {
		// Sent before a restart, or by another process with this key:
		// wait for them rather than queue behind them.
		return nil, fmt.Errorf("%d transactions of %s are pending; waiting for them to be mined", pending-nonce, r.from)
	}
	if head.BaseFee == nil {
		return nil, errors.New("the sidechain's latest block has no base fee")
	}
	// Twice the base fee keeps the transaction includable through six
	// blocks of base-fee rises (12.5% each), as geth's own default does.
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx, err := types.SignNewTx(r.cfg.Key, r.signer, &types.DynamicFeeTx{
		ChainID: r.chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: min(gas+gas/gasMargin, maxTxGas), To: &to, Data: input,
	})
	if err != nil {
		return nil, err
	}
	if err := timed(ctx, func(c context.Context) error { return eth.SendTransaction(c, tx) }); err != nil {
		return nil, fmt.Errorf("eth_sendRawTransaction: %w", err)
	}
	receipt, err := r.waitReceipt(ctx, tx)
	if err != nil {
		return nil, err
	}
	if receipt.Status != types.ReceiptStatusSuccessful {
		return nil, fmt.Errorf("%s transaction %s reverted in block %d: the contract's state moved after the pre-check "+
			"(another relayer or a sidechain reorg); the next round starts over", method, tx.Hash(), receipt.BlockNumber)
	}
	return receipt, nil
}

// errDropped: the node no longer has a transaction it was sent.
var errDropped = errors.New("the sidechain node no longer knows the transaction (restarted, or evicted it from its pool); the next round starts over")

// waitReceipt polls for tx's receipt until receiptTimeout, or until the
// node shows it has dropped tx: a node killed and restarted loses its pool,
// and waiting out the timeout for a receipt that cannot come would leave
// BtcRelay that long behind.
func (r *Relayer) waitReceipt(ctx context.Context, tx *types.Transaction) (*types.Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, receiptTimeout)
	defer cancel()
	for {
		var receipt *types.Receipt
		err := timed(ctx, func(c context.Context) (err error) {
			receipt, err = r.cfg.Sidechain.TransactionReceipt(c, tx.Hash())
			return err
		})
		// Not found is the normal answer until the transaction is mined; a
		// node briefly away is retried the same way.
		if err == nil {
			return receipt, nil
		}
		// The account's next nonce, pool included, is past tx once it is
		// pending or mined; asked after the receipt, so that tx mined in
		// between counts as mined. A transaction just added waits in the
		// pool's queue until its next reorg promotes it (late on a busy
		// node), so an unmoved nonce is checked against the lookup by hash,
		// which finds queued transactions too; a node still indexing
		// answers that with an error, and is waited for.
		var next uint64
		if timed(ctx, func(c context.Context) (err error) {
			next, err = r.cfg.Sidechain.PendingNonceAt(c, r.from)
			return err
		}) == nil && next <= tx.Nonce() {
			unknown := timed(ctx, func(c context.Context) error {
				_, _, err := r.cfg.Sidechain.TransactionByHash(c, tx.Hash())
				return err
			})
			if errors.Is(unknown, ethereum.NotFound) {
				return nil, fmt.Errorf("transaction %s: %w", tx.Hash(), errDropped)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not mined within %v (last: %v); later rounds wait for it", tx.Hash(), receiptTimeout, err)
		case <-time.After(receiptPoll):
		}
	}
}
