// Follows go-ethereum v1.17.10 internal/ethapi/api.go (DoCall, DoEstimateGas, CreateAccessList) and internal/ethapi/errors.go (revertError), which geth keeps internal; ported
// because it cannot be imported. Differs: the gas cap and timeout come from Config; Finalize is this chain's engine (base fee to the coinbase).

package rpc

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/gasestimator"
	"github.com/ethereum/go-ethereum/eth/tracers/logger"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// Message execution without a transaction: eth_call, eth_estimateGas,
// eth_createAccessList. Each runs on a throw-away copy of a block's state.

// estimateErrorRatio is how far above the exact minimum an estimate may stop
// (geth's 1.5%): wallets add more margin than that anyway.
const estimateErrorRatio = 0.015

// callEnv is the state, header and EVM block context a call runs in, with the
// caller's overrides applied.
type callEnv struct {
	state       *state.StateDB
	header      *types.Header
	blockCtx    vm.BlockContext
	precompiles vm.PrecompiledContracts
}

// callEnv is called inside readState, with the state it opened.
func (s *Service) callEnv(st *state.StateDB, header *types.Header, so StateOverride, bo *BlockOverrides) (*callEnv, error) {
	blockCtx := core.NewEVMBlockContext(header, s.b.chain, nil)
	header, err := bo.applyCall(&blockCtx, header)
	if err != nil {
		return nil, err
	}
	rules := s.b.ChainConfig().Rules(blockCtx.BlockNumber, blockCtx.Random != nil, blockCtx.Time)
	precompiles := vm.ActivePrecompiledContracts(rules)
	if err := so.apply(st, precompiles); err != nil {
		return nil, err
	}
	return &callEnv{state: st, header: header, blockCtx: blockCtx, precompiles: precompiles}, nil
}

// run executes args in env under the gas cap and the EVM timeout. A non-nil
// error means the message could not run at all (bad nonce, no funds...);
// a revert or out-of-gas is in the result.
func (s *Service) run(ctx context.Context, env *callEnv, args TransactionArgs, tracer *vm.Config) (*core.ExecutionResult, error) {
	if err := args.callDefaults(s.cfg.GasCap, env.blockCtx.BaseFee, s.cfg.ChainID); err != nil {
		return nil, err
	}
	msg, err := args.toMessage(env.header.BaseFee, true)
	if err != nil {
		return nil, err
	}
	msg.SkipExecutionGasCapCheck()
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.EVMTimeout)
	defer cancel()

	blockCtx := env.blockCtx
	// A call without a gas price pays nothing; drop the base fee too so that
	// price >= basefee holds inside the EVM (GASPRICE, BASEFEE read zero).
	if msg.GasPrice.IsZero() {
		blockCtx.BaseFee = new(big.Int)
	}
	vmCfg := vm.Config{NoBaseFee: true}
	if tracer != nil {
		vmCfg = *tracer
	}
	evm := vm.NewEVM(blockCtx, env.state, s.b.ChainConfig(), vmCfg)
	defer evm.Release()
	evm.SetPrecompiles(env.precompiles)
	// Each call's EVM would analyse the called code's jump destinations
	// again (3% of an eth_call to a token's balanceOf); the chain's cache
	// holds it for every code it executed.
	evm.SetJumpDestCache(s.b.chain.JumpDestCache())
	// Not a goroutine waiting per call (geth's DoCall): eth_call is a hot
	// read, and the EVM is only cancelled when the context ends.
	stop := context.AfterFunc(callCtx, evm.Cancel)
	defer stop()
	res, err := core.ApplyMessage(evm, msg, core.NewGasPool(msg.GasLimit))
	if err := env.state.Error(); err != nil {
		return nil, err // a state read failure would otherwise pose as a VM error
	}
	if evm.Cancelled() {
		// The client left (or the server gave up on it) before the EVM
		// timeout: say so, not "timeout", which would blame the call.
		if ctx.Err() != nil {
			return nil, errCancelled
		}
		return nil, &codedError{codeServerError, fmt.Sprintf("execution aborted (timeout = %v)", s.cfg.EVMTimeout)}
	}
	if err != nil {
		return nil, fmt.Errorf("err: %w (supplied gas %d)", err, msg.GasLimit)
	}
	return res, nil
}

// Call executes a message and returns its output. A revert is error code 3
// with the revert bytes as data; other EVM failures (out of gas, invalid
// opcode) are -32000 with the EVM's message.
func (api *ethAPI) Call(ctx context.Context, args TransactionArgs, sel *gethrpc.BlockNumberOrHash, so *StateOverride, bo *BlockOverrides) (hexutil.Bytes, error) {
	res, err := readState(ctx, api.s.b, orLatest(sel), func(st *state.StateDB, h *types.Header) (*core.ExecutionResult, error) {
		env, err := api.s.callEnv(st, h, derefOverride(so), bo)
		if err != nil {
			return nil, err
		}
		return api.s.run(ctx, env, args, nil)
	})
	if err != nil {
		return nil, err
	}
	if errors.Is(res.Err, vm.ErrExecutionReverted) {
		return nil, newRevertError(res.Revert(), api.s.cfg.DecodeRevert)
	}
	return res.Return(), res.Err
}

func derefOverride(so *StateOverride) StateOverride {
	if so == nil {
		return nil
	}
	return *so
}

// EstimateGas finds the lowest gas limit with which the message succeeds,
// capped by args.gas and the node's gas cap. A message that reverts at any
// limit is error 3 with the revert data.
func (api *ethAPI) EstimateGas(ctx context.Context, args TransactionArgs, sel *gethrpc.BlockNumberOrHash, so *StateOverride, bo *BlockOverrides) (hexutil.Uint64, error) {
	s := api.s
	return readState(ctx, s.b, orLatest(sel), func(st *state.StateDB, h *types.Header) (hexutil.Uint64, error) {
		args := args // each try defaults its own copy
		env, err := s.callEnv(st, h, derefOverride(so), bo)
		if err != nil {
			return 0, err
		}
		// Without an explicit gas the search starts from the block gas limit
		// rather than from the cap: a zero limit tells the estimator so.
		if args.Gas == nil {
			args.Gas = new(hexutil.Uint64)
		}
		if err := args.callDefaults(s.cfg.GasCap, env.header.BaseFee, s.cfg.ChainID); err != nil {
			return 0, err
		}
		msg, err := args.toMessage(env.header.BaseFee, true)
		if err != nil {
			return 0, err
		}
		opts := &gasestimator.Options{
			Config:     s.b.ChainConfig(),
			Chain:      s.b.chain,
			Header:     env.header,
			State:      env.state,
			ErrorRatio: estimateErrorRatio,
		}
		if bo != nil && bo.BlobBaseFee != nil {
			opts.BlobBaseFee = bo.BlobBaseFee.ToInt()
		}
		gas, revert, err := gasestimator.Estimate(ctx, msg, opts, s.cfg.GasCap)
		if err != nil {
			if errors.Is(err, vm.ErrExecutionReverted) {
				return 0, newRevertError(revert, s.cfg.DecodeRevert)
			}
			return 0, err
		}
		return hexutil.Uint64(gas), nil
	})
}

type accessListResult struct {
	AccessList *types.AccessList `json:"accessList"`
	Error      string            `json:"error,omitempty"`
	GasUsed    hexutil.Uint64    `json:"gasUsed"`
}

// CreateAccessList runs the message repeatedly, each time with the access list
// the previous run touched, until the list stops changing (EIP-2930). The
// sender, recipient, precompiles and authorities are never listed: they are
// warm anyway. A failing message still yields its list, with error set.
func (api *ethAPI) CreateAccessList(ctx context.Context, args TransactionArgs, sel *gethrpc.BlockNumberOrHash, so *StateOverride) (*accessListResult, error) {
	s := api.s
	return readState(ctx, s.b, orLatest(sel), func(st *state.StateDB, h *types.Header) (*accessListResult, error) {
		args := args // each try defaults its own copy
		env, err := s.callEnv(st, h, derefOverride(so), nil)
		if err != nil {
			return nil, err
		}
		if args.Nonce == nil {
			n := hexutil.Uint64(env.state.GetNonce(args.from()))
			args.Nonce = &n
		}
		if err := args.callDefaults(s.cfg.GasCap, env.header.BaseFee, s.cfg.ChainID); err != nil {
			return nil, err
		}
		to := crypto.CreateAddress(args.from(), uint64(*args.Nonce))
		if args.To != nil {
			to = *args.To
		}
		exclude := map[common.Address]struct{}{args.from(): {}, to: {}}
		for addr := range env.precompiles {
			exclude[addr] = struct{}{}
		}
		for _, auth := range args.AuthorizationList {
			if authority, err := auth.Authority(); err == nil {
				exclude[authority] = struct{}{}
			}
		}
		var list types.AccessList
		if args.AccessList != nil {
			list = *args.AccessList
		}
		prev := logger.NewAccessListTracer(list, exclude)
		base := env.state
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			list = prev.AccessList()
			args.AccessList = &list
			tracer := logger.NewAccessListTracer(list, exclude)
			env.state = base.Copy()
			res, err := s.run(ctx, env, args, &vm.Config{Tracer: tracer.Hooks(), NoBaseFee: true})
			if err != nil {
				return nil, fmt.Errorf("failed to apply transaction: %v", err)
			}
			if tracer.Equal(prev) {
				out := &accessListResult{AccessList: &list, GasUsed: hexutil.Uint64(res.UsedGas)}
				if res.Err != nil {
					out.Error = res.Err.Error()
				}
				return out, nil
			}
			prev = tracer
		}
	})
}
