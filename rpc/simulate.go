// Follows go-ethereum v1.17.10 internal/ethapi/simulate.go (eth_simulateV1), which geth keeps internal; ported
// because it cannot be imported. Differs: simulated blocks run this chain's engine Finalize and carry no merged-mining proof.

package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// eth_simulateV1: run calls in a sequence of made-up blocks on top of a real
// one, each block with optional header and state overrides, and return the
// blocks as if they had been mined plus each call's outcome. The blocks are
// built as the node builds real ones (system calls, engine Finalize,
// requests), so fees and state roots come out as on the chain.

const (
	simMaxBlocks        = 256
	simMaxCallsPerBlock = 5000
	simMaxCalls         = 10000
	// simBlockTime is the default spacing of simulated blocks, geth's.
	simBlockTime = 12
)

type simOpts struct {
	BlockStateCalls        []simBlock `json:"blockStateCalls"`
	TraceTransfers         bool       `json:"traceTransfers"`
	Validation             bool       `json:"validation"`
	ReturnFullTransactions bool       `json:"returnFullTransactions"`
}

func (o *simOpts) UnmarshalJSON(input []byte) error {
	type plain simOpts
	return strictUnmarshal(input, (*plain)(o), "simulation payload")
}

type simBlock struct {
	BlockOverrides *BlockOverrides   `json:"blockOverrides"`
	StateOverrides StateOverride     `json:"stateOverrides"`
	Calls          []TransactionArgs `json:"calls"`
}

func (b *simBlock) UnmarshalJSON(input []byte) error {
	type plain simBlock
	return strictUnmarshal(input, (*plain)(b), "block state call")
}

type simCallError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

type simCallResult struct {
	ReturnData hexutil.Bytes  `json:"returnData"`
	Logs       []*types.Log   `json:"logs"`
	GasUsed    hexutil.Uint64 `json:"gasUsed"`
	MaxUsedGas hexutil.Uint64 `json:"maxUsedGas"`
	Status     hexutil.Uint64 `json:"status"`
	Error      *simCallError  `json:"error,omitempty"`
}

// simBlockResult renders as a block object with a "calls" member.
type simBlockResult struct {
	fields map[string]any
}

func (r *simBlockResult) MarshalJSON() ([]byte, error) { return json.Marshal(r.fields) }

// SimulateV1 implements eth_simulateV1 on top of the selected block (latest
// by default).
func (api *ethAPI) SimulateV1(ctx context.Context, opts simOpts, sel *gethrpc.BlockNumberOrHash) ([]*simBlockResult, error) {
	if len(opts.BlockStateCalls) == 0 {
		return nil, &invalidParamsError{"empty input"}
	}
	if len(opts.BlockStateCalls) > simMaxBlocks {
		return nil, &codedError{codeClientLimitExceeded, "too many blocks"}
	}
	total := 0
	for _, b := range opts.BlockStateCalls {
		if len(b.Calls) > simMaxCallsPerBlock {
			return nil, &codedError{codeClientLimitExceeded, fmt.Sprintf("too many calls in block: %d > %d", len(b.Calls), simMaxCallsPerBlock)}
		}
		if total += len(b.Calls); total > simMaxCalls {
			return nil, &codedError{codeClientLimitExceeded, fmt.Sprintf("too many calls: %d > %d", total, simMaxCalls)}
		}
	}
	// Not through readState: sequence fills the caller's block overrides,
	// which a second try on another head would misread.
	st, base, _, err := api.s.b.stateAndHeader(ctx, orLatest(sel))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, api.s.cfg.EVMTimeout)
	defer cancel()
	sim := &simulator{
		s:        api.s,
		cfg:      api.s.b.ChainConfig(),
		state:    st,
		base:     base,
		budget:   api.s.cfg.GasCap,
		opts:     opts,
		byHash:   make(map[common.Hash]*types.Header),
		byNumber: make(map[uint64]*types.Header),
	}
	blocks, err := sim.sequence(opts.BlockStateCalls)
	if err != nil {
		return nil, err
	}
	results := make([]*simBlockResult, len(blocks))
	parent := base
	for i := range blocks {
		res, header, err := sim.processBlock(ctx, &blocks[i], parent)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &codedError{codeTimeout, fmt.Sprintf("execution aborted (timeout = %v)", api.s.cfg.EVMTimeout)}
			}
			return nil, err
		}
		results[i] = res
		parent = header
	}
	return results, nil
}

type simulator struct {
	s      *Service
	cfg    *params.ChainConfig
	state  *state.StateDB
	base   *types.Header
	budget uint64 // gas left for the whole request
	opts   simOpts
	// simulated headers already assembled, for BLOCKHASH and the engine
	byHash   map[common.Hash]*types.Header
	byNumber map[uint64]*types.Header
}

// sequence gives every block a number and a time, checks they increase, and
// fills gaps in the numbering with empty blocks.
func (sim *simulator) sequence(in []simBlock) ([]simBlock, error) {
	var (
		out      []simBlock
		prevNum  = sim.base.Number.Uint64()
		prevTime = sim.base.Time
	)
	for _, b := range in {
		if b.BlockOverrides == nil {
			b.BlockOverrides = new(BlockOverrides)
		}
		o := b.BlockOverrides
		if o.Difficulty != nil {
			return nil, &invalidParamsError{"difficulty override is not allowed: difficulty is always 0 on this chain"}
		}
		num := prevNum + 1
		if o.Number != nil {
			if !o.Number.ToInt().IsUint64() {
				return nil, &invalidParamsError{fmt.Sprintf("block number %v out of range", o.Number.ToInt())}
			}
			num = o.Number.ToInt().Uint64()
		}
		if num <= prevNum {
			return nil, &codedError{codeBlockNumberInvalid, fmt.Sprintf("block numbers must be in order: %d <= %d", num, prevNum)}
		}
		if num-sim.base.Number.Uint64() > simMaxBlocks {
			return nil, &codedError{codeClientLimitExceeded, "too many blocks"}
		}
		for n := prevNum + 1; n < num; n++ {
			prevTime += simBlockTime
			gapNum, gapTime := hexutil.Big(*new(big.Int).SetUint64(n)), hexutil.Uint64(prevTime)
			out = append(out, simBlock{BlockOverrides: &BlockOverrides{Number: &gapNum, Time: &gapTime}})
		}
		t := prevTime + simBlockTime
		if o.Time != nil {
			if t = uint64(*o.Time); t <= prevTime {
				return nil, &codedError{codeBlockTimeInvalid, fmt.Sprintf("block timestamps must be in order: %d <= %d", t, prevTime)}
			}
		}
		n, ht := hexutil.Big(*new(big.Int).SetUint64(num)), hexutil.Uint64(t)
		o.Number, o.Time = &n, &ht
		prevNum, prevTime = num, t
		out = append(out, b)
	}
	return out, nil
}

// header builds the header of a simulated block before execution.
func (sim *simulator) header(o *BlockOverrides, parent *types.Header) *types.Header {
	h := &types.Header{
		ParentHash:  parent.Hash(),
		UncleHash:   types.EmptyUncleHash,
		Coinbase:    parent.Coinbase,
		Difficulty:  new(big.Int),
		Number:      o.Number.ToInt(),
		GasLimit:    parent.GasLimit,
		Time:        uint64(*o.Time),
		TxHash:      types.EmptyTxsHash,
		ReceiptHash: types.EmptyReceiptsHash,
	}
	h = o.header(h)
	if sim.cfg.IsLondon(h.Number) && h.BaseFee == nil {
		// Without validation fees are not charged, so the base fee is zero
		// unless given; with it, the base fee follows from the parent.
		h.BaseFee = new(big.Int)
		if sim.opts.Validation {
			h.BaseFee = eip1559.CalcBaseFee(sim.cfg, parent)
		}
	}
	if sim.cfg.IsShanghai(h.Number, h.Time) {
		h.WithdrawalsHash = &types.EmptyWithdrawalsHash
	}
	if sim.cfg.IsCancun(h.Number, h.Time) {
		root := common.Hash{}
		if o.BeaconRoot != nil {
			root = *o.BeaconRoot
		}
		var excess uint64
		if sim.cfg.IsCancun(parent.Number, parent.Time) {
			excess = eip4844.CalcExcessBlobGas(sim.cfg, parent, h.Time)
		}
		h.ParentBeaconRoot, h.ExcessBlobGas, h.BlobGasUsed = &root, &excess, new(uint64)
	}
	return h
}

func (sim *simulator) processBlock(ctx context.Context, block *simBlock, parent *types.Header) (*simBlockResult, *types.Header, error) {
	header := sim.header(block.BlockOverrides, parent)
	chain := &simChain{sim: sim}
	blockCtx := core.NewEVMBlockContext(header, chain, nil)
	if o := block.BlockOverrides; o.BlobBaseFee != nil {
		blockCtx.BlobBaseFee = o.BlobBaseFee.ToInt()
	}
	rules := sim.cfg.Rules(header.Number, true, header.Time)
	precompiles := vm.ActivePrecompiledContracts(rules)
	if err := block.StateOverrides.apply(sim.state, precompiles); err != nil {
		return nil, nil, err
	}
	tracer := newSimTracer(sim.opts.TraceTransfers, header.Number.Uint64(), header.Time)
	hooked := state.NewHookedState(sim.state, tracer.hooks())
	evm := vm.NewEVM(blockCtx, hooked, sim.cfg, vm.Config{NoBaseFee: !sim.opts.Validation, Tracer: tracer.hooks()})
	defer evm.Release()
	evm.SetPrecompiles(precompiles)
	stop := context.AfterFunc(ctx, evm.Cancel)
	defer stop()
	core.PreExecution(ctx, header.ParentBeaconRoot, parent, sim.cfg, evm, header.Number, header.Time)

	var (
		gp       = core.NewGasPool(header.GasLimit)
		txs      = make([]*types.Transaction, len(block.Calls))
		receipts = make([]*types.Receipt, len(block.Calls))
		calls    = make([]simCallResult, len(block.Calls))
		senders  = make(map[common.Hash]common.Address, len(block.Calls))
		allLogs  []*types.Log
	)
	for i := range block.Calls {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		call := block.Calls[i]
		capped, err := sim.prepareCall(&call, header, gp)
		if err != nil {
			return nil, nil, err
		}
		tx, err := call.toTransaction()
		if err != nil {
			return nil, nil, err
		}
		txs[i], senders[tx.Hash()] = tx, call.from()
		tracer.startTx(tx.Hash(), uint(i))
		sim.state.SetTxContext(tx.Hash(), i, uint32(i+1))
		msg, err := call.toMessage(header.BaseFee, !sim.opts.Validation)
		if err != nil {
			return nil, nil, err
		}
		if !sim.opts.Validation {
			msg.SkipExecutionGasCapCheck()
		}
		res, err := core.ApplyMessage(evm, msg, gp)
		if err != nil {
			if evm.Cancelled() {
				return nil, nil, ctx.Err()
			}
			return nil, nil, txValidationError(err)
		}
		hooked.Finalise(evm.GetRules())
		receipts[i] = core.MakeReceipt(evm, res, sim.state, header.Number, common.Hash{}, header.Time, tx, gp.CumulativeUsed(), nil)
		if res.UsedGas > sim.budget {
			return nil, nil, &codedError{codeClientLimitExceeded, fmt.Sprintf("RPC gas cap exhausted: need %d, remaining %d", res.UsedGas, sim.budget)}
		}
		sim.budget -= res.UsedGas
		calls[i] = sim.callResult(res, tracer.txLogs(), capped)
		if res.Err == nil {
			allLogs = append(allLogs, calls[i].Logs...)
		}
	}
	header.GasUsed = gp.Used()
	body := &types.Body{Transactions: txs}
	if sim.cfg.IsShanghai(header.Number, header.Time) {
		body.Withdrawals = types.Withdrawals{}
		if w := block.BlockOverrides.Withdrawals; w != nil {
			body.Withdrawals = *w
		}
	}
	requests, _, err := core.PostExecution(ctx, sim.cfg, header.Number, header.Time, allLogs, body.Withdrawals, evm, uint32(len(txs)+1))
	if err != nil {
		return nil, nil, err
	}
	if requests != nil {
		h := types.CalcRequestsHash(requests)
		header.RequestsHash = &h
	}
	sim.s.b.Engine().Finalize(chain, header, hooked, body)
	b := core.AssembleBlock(chain, header, sim.state, body, receipts, nil)
	for i := range calls {
		for _, l := range calls[i].Logs {
			l.BlockHash = b.Hash()
		}
	}
	sim.byHash[b.Hash()], sim.byNumber[b.NumberU64()] = b.Header(), b.Header()

	fields := marshalBlock(b, sim.opts.ReturnFullTransactions, sim.cfg, nil)
	if sim.opts.ReturnFullTransactions {
		// The transactions are unsigned: their senders are the calls' from.
		for _, t := range fields["transactions"].([]any) {
			rt := t.(*rpcTransaction)
			rt.From = senders[rt.Hash]
		}
	}
	fields["calls"] = calls
	return &simBlockResult{fields}, b.Header(), nil
}

// prepareCall fills a call's nonce and gas, refusing one that wants more gas
// than the block has left, and clamps it to the request's gas budget. It
// reports whether the budget cut the call's gas.
func (sim *simulator) prepareCall(call *TransactionArgs, header *types.Header, gp *core.GasPool) (bool, error) {
	if call.Nonce == nil {
		n := hexutil.Uint64(sim.state.GetNonce(call.from()))
		call.Nonce = &n
	}
	left := gp.Available(false)
	if call.Gas == nil {
		g := hexutil.Uint64(left)
		call.Gas = &g
	}
	if uint64(*call.Gas) > left {
		return false, &codedError{codeBlockGasLimit, fmt.Sprintf("block gas limit reached: remaining: %d, required: %d", left, uint64(*call.Gas))}
	}
	capped := false
	if uint64(*call.Gas) > sim.budget {
		g := hexutil.Uint64(sim.budget)
		call.Gas, capped = &g, true
	}
	return capped, call.callDefaults(0, header.BaseFee, sim.cfg.ChainID)
}

// callResult renders one call's outcome. Failures carry code 3 and the revert
// data for reverts, -32015 with the EVM's reason otherwise.
func (sim *simulator) callResult(res *core.ExecutionResult, logs []*types.Log, capped bool) simCallResult {
	out := simCallResult{
		ReturnData: res.Return(),
		Logs:       logs,
		GasUsed:    hexutil.Uint64(res.UsedGas),
		MaxUsedGas: hexutil.Uint64(res.MaxUsedGas),
		Status:     hexutil.Uint64(types.ReceiptStatusSuccessful),
	}
	if out.Logs == nil {
		out.Logs = []*types.Log{}
	}
	if res.Err == nil {
		return out
	}
	out.Status = hexutil.Uint64(types.ReceiptStatusFailed)
	if errors.Is(res.Err, vm.ErrExecutionReverted) {
		rev := newRevertError(res.Revert(), sim.s.cfg.DecodeRevert)
		out.Error = &simCallError{Code: codeReverted, Message: rev.msg, Data: rev.data}
		return out
	}
	msg := "vm execution error: " + res.Err.Error()
	if capped {
		msg += " (gas limit was capped by the RPC server's global gas cap)"
	}
	out.Error = &simCallError{Code: codeVMError, Message: msg}
	return out
}

// simChain is the chain as seen from inside a simulation: the real chain up to
// the base block, then the simulated blocks already assembled.
type simChain struct{ sim *simulator }

func (c *simChain) Config() *params.ChainConfig { return c.sim.cfg }
func (c *simChain) Engine() consensus.Engine    { return c.sim.s.b.Engine() }
func (c *simChain) CurrentHeader() *types.Header {
	return c.sim.s.b.CurrentHeader()
}

func (c *simChain) GetHeader(hash common.Hash, number uint64) *types.Header {
	if h := c.sim.byHash[hash]; h != nil {
		return h
	}
	return c.sim.s.b.chain.GetHeader(hash, number)
}

func (c *simChain) GetHeaderByNumber(number uint64) *types.Header {
	if number > c.sim.base.Number.Uint64() {
		return c.sim.byNumber[number]
	}
	return c.sim.s.b.chain.GetHeaderByNumber(number)
}

func (c *simChain) GetHeaderByHash(hash common.Hash) *types.Header {
	if h := c.sim.byHash[hash]; h != nil {
		return h
	}
	return c.sim.s.b.chain.GetHeaderByHash(hash)
}

// simTracer collects each call's logs, dropping those of reverted frames,
// and with traceTransfers adds an ERC-7528 Transfer log (from the pseudo-token
// 0xEeee...EEeE) for every value transfer, in execution order.
type simTracer struct {
	transfers    bool
	number, time uint64
	txHash       common.Hash
	txIndex      uint
	frames       [][]*types.Log // logs per open call frame
	done         []*types.Log   // the finished transaction's logs
	nextIndex    uint           // block-wide log index
}

var (
	transferTopic   = common.HexToHash("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef") // Transfer(address,address,uint256)
	transferAddress = common.HexToAddress("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE")
)

func newSimTracer(transfers bool, number, time uint64) *simTracer {
	return &simTracer{transfers: transfers, number: number, time: time}
}

func (t *simTracer) hooks() *tracing.Hooks {
	return &tracing.Hooks{OnEnter: t.onEnter, OnExit: t.onExit, OnLog: t.onLog}
}

func (t *simTracer) startTx(hash common.Hash, index uint) {
	t.txHash, t.txIndex, t.frames, t.done = hash, index, nil, nil
}

func (t *simTracer) txLogs() []*types.Log { return t.done }

func (t *simTracer) onEnter(depth int, typ byte, from, to common.Address, input []byte, gas uint64, value *big.Int) {
	t.frames = append(t.frames, nil)
	op := vm.OpCode(typ)
	if t.transfers && op != vm.DELEGATECALL && op != vm.CALLCODE && value != nil && value.Sign() > 0 {
		t.add(transferAddress, []common.Hash{transferTopic, common.BytesToHash(from[:]), common.BytesToHash(to[:])}, common.BigToHash(value).Bytes())
	}
}

func (t *simTracer) onExit(depth int, output []byte, gasUsed uint64, err error, reverted bool) {
	top := len(t.frames) - 1
	if top < 0 {
		return
	}
	logs := t.frames[top]
	t.frames = t.frames[:top]
	if reverted {
		// Their indices were the last handed out: give them back.
		t.nextIndex -= uint(len(logs))
		logs = nil
	}
	if top == 0 {
		t.done = logs
		return
	}
	t.frames[top-1] = append(t.frames[top-1], logs...)
}

func (t *simTracer) onLog(l *types.Log) { t.add(l.Address, l.Topics, l.Data) }

func (t *simTracer) add(addr common.Address, topics []common.Hash, data []byte) {
	if len(t.frames) == 0 {
		return // system calls run outside any transaction
	}
	top := len(t.frames) - 1
	t.frames[top] = append(t.frames[top], &types.Log{
		Address: addr, Topics: topics, Data: data,
		BlockNumber: t.number, BlockTimestamp: t.time,
		TxHash: t.txHash, TxIndex: t.txIndex, Index: t.nextIndex,
	})
	t.nextIndex++
}
