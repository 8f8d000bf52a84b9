// Follows go-ethereum v1.17.10 internal/ethapi/api.go (TransactionAPI: FillTransaction, SendTransaction, SignTransaction), which geth keeps internal; ported
// because it cannot be imported. Differs: signing is by the dev accounts only (no keystore or account manager).

package rpc

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// Node-side transaction building: eth_fillTransaction for anyone, and the
// signing methods for dev accounts (the only keys a node of this project holds).

// addrLocker serialises nonce assignment per sender, so that two concurrent
// eth_sendTransaction calls from one account do not pick the same nonce.
type addrLocker struct {
	mu    sync.Mutex
	locks map[common.Address]*sync.Mutex
}

func (l *addrLocker) lock(addr common.Address) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[common.Address]*sync.Mutex)
	}
	m, ok := l.locks[addr]
	if !ok {
		m = new(sync.Mutex)
		l.locks[addr] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// setSendDefaults fills what a transaction to sign needs: fees from the
// oracle (maxFee = tip + 2 x base fee, to survive base fee rises), the pool
// nonce, a gas estimate and the chain id.
func (s *Service) setSendDefaults(ctx context.Context, args *TransactionArgs) error {
	if err := args.checkSendable(); err != nil {
		return err
	}
	if args.GasPrice == nil && (args.MaxFeePerGas == nil || args.MaxPriorityFeePerGas == nil) {
		if args.MaxPriorityFeePerGas == nil {
			tip, err := s.gpo.SuggestTipCap(ctx)
			if err != nil {
				return err
			}
			args.MaxPriorityFeePerGas = (*hexutil.Big)(tip)
		}
		if args.MaxFeePerGas == nil {
			fee := new(big.Int)
			if baseFee := s.b.CurrentHeader().BaseFee; baseFee != nil {
				fee.Mul(baseFee, big.NewInt(2))
			}
			args.MaxFeePerGas = (*hexutil.Big)(fee.Add(fee, args.MaxPriorityFeePerGas.ToInt()))
		}
		if args.MaxFeePerGas.ToInt().Cmp(args.MaxPriorityFeePerGas.ToInt()) < 0 {
			return &invalidParamsError{fmt.Sprintf("maxFeePerGas (%v) < maxPriorityFeePerGas (%v)", args.MaxFeePerGas.ToInt(), args.MaxPriorityFeePerGas.ToInt())}
		}
	}
	if args.Value == nil {
		args.Value = new(hexutil.Big)
	}
	if args.Nonce == nil {
		n := hexutil.Uint64(s.b.pool.PoolNonce(args.from()))
		args.Nonce = &n
	}
	if args.ChainID == nil {
		args.ChainID = (*hexutil.Big)(s.cfg.ChainID)
	} else if args.ChainID.ToInt().Cmp(s.cfg.ChainID) != 0 {
		return &invalidParamsError{fmt.Sprintf("chainId does not match node's (have=%v, want=%v)", args.ChainID.ToInt(), s.cfg.ChainID)}
	}
	if args.Gas == nil {
		// Estimate with the same fields but without nonce and gas, on latest.
		data := hexutil.Bytes(args.data())
		est := TransactionArgs{
			From: args.From, To: args.To, GasPrice: args.GasPrice,
			MaxFeePerGas: args.MaxFeePerGas, MaxPriorityFeePerGas: args.MaxPriorityFeePerGas,
			Value: args.Value, Input: &data, AccessList: args.AccessList,
			AuthorizationList: args.AuthorizationList,
		}
		gas, err := (&ethAPI{s}).EstimateGas(ctx, est, nil, nil, nil)
		if err != nil {
			return err
		}
		args.Gas = &gas
	}
	return nil
}

// signedTxResult is a transaction as bytes and as a transaction object.
type signedTxResult struct {
	Raw hexutil.Bytes   `json:"raw"`
	Tx  *rpcTransaction `json:"tx"`
}

// newTxResult renders tx, signed or not, as sent from from.
func (s *Service) newTxResult(tx *types.Transaction, from common.Address) (*signedTxResult, error) {
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, err
	}
	obj := newPendingTransaction(tx, s.b.CurrentHeader(), s.b.ChainConfig())
	obj.From = from
	return &signedTxResult{raw, obj}, nil
}

// FillTransaction returns the transaction the node would sign for args,
// unsigned, for an external signer.
func (api *ethAPI) FillTransaction(ctx context.Context, args TransactionArgs) (*signedTxResult, error) {
	if err := api.s.setSendDefaults(ctx, &args); err != nil {
		return nil, err
	}
	tx, err := args.toTransaction()
	if err != nil {
		return nil, err
	}
	return api.s.newTxResult(tx, args.from())
}

// devAccount returns the dev node if it holds addr's key.
func (s *Service) devAccount(addr common.Address) (Dev, error) {
	if s.cfg.Dev == nil || !slices.Contains(s.cfg.Dev.Accounts(), addr) {
		return nil, errUnknownAccount
	}
	return s.cfg.Dev, nil
}

// SendTransaction fills, signs with a dev account (or, from an impersonated
// account, gives an impersonation signature) and submits a transaction.
func (api *ethAPI) SendTransaction(ctx context.Context, args TransactionArgs) (common.Hash, error) {
	dev, err := api.s.devAccount(args.from())
	if err != nil && api.s.cfg.Dev != nil && api.s.cfg.Dev.Impersonating(args.from()) {
		dev, err = api.s.cfg.Dev, nil
	}
	if err != nil {
		return common.Hash{}, err
	}
	if args.Nonce == nil {
		defer api.s.nonceLock.lock(args.from())()
	}
	if err := api.s.setSendDefaults(ctx, &args); err != nil {
		return common.Hash{}, err
	}
	tx, err := args.toTransaction()
	if err != nil {
		return common.Hash{}, err
	}
	signed, err := dev.SignTx(args.from(), tx)
	if err != nil {
		return common.Hash{}, err
	}
	return api.s.submit(signed)
}

// SignTransaction signs without sending. Like geth it wants gas, fees and the
// nonce given: a signature over guessed values is a trap.
func (api *ethAPI) SignTransaction(ctx context.Context, args TransactionArgs) (*signedTxResult, error) {
	switch {
	case args.Gas == nil:
		return nil, &invalidParamsError{"gas not specified"}
	case args.GasPrice == nil && (args.MaxPriorityFeePerGas == nil || args.MaxFeePerGas == nil):
		return nil, &invalidParamsError{"missing gasPrice or maxFeePerGas/maxPriorityFeePerGas"}
	case args.Nonce == nil:
		return nil, &invalidParamsError{"nonce not specified"}
	}
	dev, err := api.s.devAccount(args.from())
	if err != nil {
		return nil, err
	}
	if err := api.s.setSendDefaults(ctx, &args); err != nil {
		return nil, err
	}
	tx, err := args.toTransaction()
	if err != nil {
		return nil, err
	}
	if err := checkTxFee(tx.GasPrice(), tx.Gas(), api.s.cfg.TxFeeCap); err != nil {
		return nil, err
	}
	signed, err := dev.SignTx(args.from(), tx)
	if err != nil {
		return nil, err
	}
	return api.s.newTxResult(signed, args.from())
}
