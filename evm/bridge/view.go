package bridge

import (
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/params"
)

// viewGas is the budget of one view call: verifyInclusion at depth 20 needs
// about 60k, so this leaves room without letting a bad state spin forever.
const viewGas = 10_000_000

// View runs BtcRelay's and the Bridge's view functions, either on a state
// (NewView, for the node and tests) or through any other way of making a
// static call (NewCallView: mmfed's eth_call). Go never reads the contract's storage
// slots itself: the layout lives in Solidity only (PEG.md §8), and the
// decoding of each view's output lives here only.
type View struct {
	call func(to common.Address, input []byte) ([]byte, error)
}

// NewView returns a View over st, run under config's rules. It is not safe
// for concurrent use, and it must not share its StateDB with a goroutine
// that writes it; give it a copy when in doubt.
func NewView(st *state.StateDB, config *params.ChainConfig) *View {
	return &View{call: func(to common.Address, input []byte) ([]byte, error) { return stateCall(st, config, to, input) }}
}

// NewCallView returns a View whose calls go through call, which runs a
// static call of contract to with input and returns its output; it must
// return a revert as a *RevertError (DecodeRevert).
func NewCallView(call func(to common.Address, input []byte) ([]byte, error)) *View {
	return &View{call: call}
}

// stateCall makes a static call and leaves the state as it found it
// (warm-slot and other journal entries are reverted). A revert comes back as
// a *RevertError.
func stateCall(st *state.StateDB, config *params.ChainConfig, to common.Address, input []byte) ([]byte, error) {
	snap := st.Snapshot()
	defer st.RevertToSnapshot(snap)
	// No view reads a block field, so a fixed post-merge context serves.
	blockCtx := vm.BlockContext{
		CanTransfer: core.CanTransfer,
		Transfer:    core.Transfer,
		GetHash:     func(uint64) common.Hash { return common.Hash{} },
		GasLimit:    viewGas,
		BlockNumber: new(big.Int),
		Difficulty:  new(big.Int),
		BaseFee:     new(big.Int),
		BlobBaseFee: new(big.Int),
		Random:      &common.Hash{},
	}
	e := vm.NewEVM(blockCtx, st, config, vm.Config{NoBaseFee: true})
	defer e.Release()
	ret, _, err := e.StaticCall(common.Address{}, to, input, vm.NewGasBudget(viewGas, 0))
	if err := st.Error(); err != nil {
		return nil, err // a failed state read would otherwise look like a revert
	}
	if errors.Is(err, vm.ErrExecutionReverted) {
		return nil, DecodeRevert(ret)
	}
	return ret, err
}

func (v *View) callUnpack(method string, args ...any) ([]any, error) {
	return v.callContract(BtcRelayAddress, &BtcRelayABI, method, args...)
}

func (v *View) callBridge(method string, args ...any) ([]any, error) {
	return v.callContract(BridgeAddress, &BridgeABI, method, args...)
}

func (v *View) callContract(to common.Address, a *abi.ABI, method string, args ...any) ([]any, error) {
	input, err := a.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	ret, err := v.call(to, input)
	if err != nil {
		return nil, err
	}
	return a.Unpack(method, ret)
}

// BestChain is the tip of the best chain.
func (v *View) BestChain() (BestChain, error) {
	out, err := v.callUnpack("bestChain")
	if err != nil {
		return BestChain{}, err
	}
	return BestChain{Hash: out[0].([32]byte), Height: out[1].(uint32), Chainwork: out[2].(*big.Int)}, nil
}

// Checkpoint is the hash and height the relay started from.
func (v *View) Checkpoint() (common.Hash, uint32, error) {
	out, err := v.callUnpack("checkpoint")
	if err != nil {
		return common.Hash{}, 0, err
	}
	return out[0].([32]byte), out[1].(uint32), nil
}

// BlockHashAt is the best-chain block at height, zero when there is none.
func (v *View) BlockHashAt(height uint32) (common.Hash, error) {
	out, err := v.callUnpack("blockHashAt", height)
	if err != nil {
		return common.Hash{}, err
	}
	return out[0].([32]byte), nil
}

// HeaderInfo describes a stored header; Known is false for any other hash.
func (v *View) HeaderInfo(hash common.Hash) (HeaderInfo, error) {
	out, err := v.callUnpack("headerInfo", hash)
	if err != nil {
		return HeaderInfo{}, err
	}
	return HeaderInfo{
		Known: out[0].(bool), Height: out[1].(uint32), Time: out[2].(uint32), Bits: out[3].(uint32),
		Chainwork: out[4].(*big.Int), Prev: out[5].([32]byte), InBestChain: out[6].(bool),
	}, nil
}

// Confirmations is 1 for the tip, 0 for a block not in the best chain.
func (v *View) Confirmations(hash common.Hash) (uint32, error) {
	out, err := v.callUnpack("confirmations", hash)
	if err != nil {
		return 0, err
	}
	return out[0].(uint32), nil
}

// VerifyInclusion checks an SPV proof (PEG.md §3) and returns the block's
// confirmations; a failed check is a *RevertError naming the rule.
func (v *View) VerifyInclusion(txid common.Hash, p BtcInclusion, minConfs uint32) (uint32, error) {
	out, err := v.callUnpack("verifyInclusion", txid, p, minConfs)
	if err != nil {
		return 0, err
	}
	return out[0].(uint32), nil
}

// Params are the network parameters the relay was built with.
func (v *View) Params() (RelayParams, error) {
	out, err := v.callUnpack("params")
	if err != nil {
		return RelayParams{}, err
	}
	return *abi.ConvertType(out[0], new(RelayParams)).(*RelayParams), nil
}

// GetDeposit is the Bridge's record of output vout of txid (internal byte
// order); Status is StatusNone for an output never registered.
func (v *View) GetDeposit(txid common.Hash, vout uint32) (Deposit, error) {
	out, err := v.callBridge("getDeposit", txid, vout)
	if err != nil {
		return Deposit{}, err
	}
	// abi decodes enums as uint8 and cannot fill named types itself.
	raw := *abi.ConvertType(out[0], new(depositABI)).(*depositABI)
	return Deposit{
		Status: DepositStatus(raw.Status), UtxoState: UtxoState(raw.UtxoState), Recipient: raw.Recipient,
		ValueSat: raw.ValueSat, BtcHeight: raw.BtcHeight, Epoch: raw.Epoch, RequestID: raw.RequestID,
	}, nil
}

// PegOutRequest is a peg-out request (requestPegOut, or a refund of a
// rejected deposit); a request never made has State RequestNone.
func (v *View) PegOutRequest(id uint64) (PegOutRequest, error) {
	out, err := v.callBridge("getPegOutRequest", id)
	if err != nil {
		return PegOutRequest{}, err
	}
	raw := *abi.ConvertType(out[0], new(requestABI)).(*requestABI)
	return PegOutRequest{Requester: raw.Requester, AmountSat: raw.AmountSat, State: RequestState(raw.State),
		BtcScript: raw.BtcScript, BatchID: raw.BatchID}, nil
}

// HeldCredit is the wei held for who, which claim() pays out.
func (v *View) HeldCredit(who common.Address) (*big.Int, error) {
	out, err := v.callBridge("heldCredit", who)
	if err != nil {
		return nil, err
	}
	return out[0].(*big.Int), nil
}

// Accounting is the custody ledger with the supply invariant's verdict.
func (v *View) Accounting() (Accounting, error) {
	out, err := v.callBridge("accounting")
	if err != nil {
		return Accounting{}, err
	}
	return *abi.ConvertType(out[0], new(Accounting)).(*Accounting), nil
}

// Policy is the peg policy the Bridge holds.
func (v *View) Policy() (Policy, error) {
	out, err := v.callBridge("policy")
	if err != nil {
		return Policy{}, err
	}
	return *abi.ConvertType(out[0], new(Policy)).(*Policy), nil
}

// ActiveEpoch is the federation epoch deposits pay to.
func (v *View) ActiveEpoch() (uint16, error) {
	out, err := v.callBridge("activeEpoch")
	if err != nil {
		return 0, err
	}
	return out[0].(uint16), nil
}

// Federation is an epoch's federation as the Bridge holds it.
func (v *View) Federation(epoch uint16) (Federation, error) {
	out, err := v.callBridge("federation", epoch)
	if err != nil {
		return Federation{}, err
	}
	return *abi.ConvertType(out[0], new(Federation)).(*Federation), nil
}

// PolicyHash is keccak256(abi.encode(policy(), federation(active))), the
// policy JSON's policyHash (PEG.md §7).
func (v *View) PolicyHash() (common.Hash, error) {
	out, err := v.callBridge("policyHash")
	if err != nil {
		return common.Hash{}, err
	}
	return out[0].([32]byte), nil
}

// DepositScript is the witness script of recipient's deposit address under
// an epoch, and its P2WSH program, as the Bridge builds them.
func (v *View) DepositScript(recipient common.Address, epoch uint16) ([]byte, common.Hash, error) {
	out, err := v.callBridge("depositScript", recipient, epoch)
	if err != nil {
		return nil, common.Hash{}, err
	}
	return out[0].([]byte), out[1].([32]byte), nil
}

// depositABI and requestABI are Deposit and PegOutRequest as abi decodes
// them: enums as uint8, which it cannot put in named types.
type (
	depositABI struct {
		Status, UtxoState uint8
		Recipient         common.Address
		ValueSat          uint64
		BtcHeight         uint32
		Epoch             uint16
		RequestID         uint64
	}
	requestABI struct {
		Requester common.Address
		AmountSat uint64
		State     uint8
		BtcScript []byte
		BatchID   uint64 `abi:"batchId"`
	}
)
