// Follows go-ethereum v1.17.10 internal/ethapi/override/override.go (StateOverride, BlockOverrides), which geth keeps internal; ported
// because it cannot be imported. Differs: unknown fields are refused; nothing else.

package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// State and block overrides of eth_call, eth_estimateGas, eth_createAccessList
// and eth_simulateV1. Unknown keys are refused: a misspelt override silently
// ignored would make a call answer a question nobody asked.

// strictUnmarshal decodes input into v (a pointer to an alias type without
// UnmarshalJSON), refusing unknown fields.
func strictUnmarshal(input []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid %s: %v", what, err)
	}
	return nil
}

// AccountOverride replaces parts of one account for the duration of a call.
// State replaces all storage, StateDiff only the slots it names.
type AccountOverride struct {
	Nonce            *hexutil.Uint64             `json:"nonce"`
	Code             *hexutil.Bytes              `json:"code"`
	Balance          *hexutil.Big                `json:"balance"`
	State            map[common.Hash]common.Hash `json:"state"`
	StateDiff        map[common.Hash]common.Hash `json:"stateDiff"`
	MovePrecompileTo *common.Address             `json:"movePrecompileToAddress"`
}

func (o *AccountOverride) UnmarshalJSON(input []byte) error {
	type plain AccountOverride
	return strictUnmarshal(input, (*plain)(o), "account override")
}

// StateOverride maps addresses to their overrides.
type StateOverride map[common.Address]AccountOverride

// apply writes the overrides into st and moves precompiles in the given set,
// which the caller then installs in its EVM. Addresses are handled in order so
// that errors do not depend on map iteration.
func (so StateOverride) apply(st *state.StateDB, precompiles vm.PrecompiledContracts) error {
	if so == nil {
		return nil
	}
	movedTo := make(map[common.Address]bool)
	for _, addr := range slices.SortedFunc(maps.Keys(so), common.Address.Cmp) {
		acct := so[addr]
		p, isPrecompile := precompiles[addr]
		if acct.MovePrecompileTo != nil {
			dst := *acct.MovePrecompileTo
			switch {
			case !isPrecompile:
				return &invalidParamsError{fmt.Sprintf("account %s is not a precompile", addr.Hex())}
			case dst == addr:
				return &codedError{codeMovePrecompileSelf, fmt.Sprintf("precompile %s moved to itself", addr.Hex())}
			case movedTo[dst]:
				return &codedError{codeMovePrecompileTwice, fmt.Sprintf("two precompiles moved to %s", dst.Hex())}
			}
			// The destination must be free of overrides: it becomes the
			// precompile for the call.
			if _, overridden := so[dst]; overridden {
				return &invalidParamsError{fmt.Sprintf("account %s is already overridden", dst.Hex())}
			}
			precompiles[dst] = p
			movedTo[dst] = true
		}
		if isPrecompile {
			// Code or a move replaces the precompile; so does any override,
			// as in geth: an overridden precompile address is a plain account.
			delete(precompiles, addr)
		}
		if acct.State != nil && acct.StateDiff != nil {
			return &invalidParamsError{fmt.Sprintf("account %s has both 'state' and 'stateDiff'", addr.Hex())}
		}
		if acct.Nonce != nil {
			st.SetNonce(addr, uint64(*acct.Nonce), tracing.NonceChangeUnspecified)
		}
		if acct.Code != nil {
			st.SetCode(addr, *acct.Code, tracing.CodeChangeUnspecified)
		}
		if acct.Balance != nil {
			bal, overflow := uint256.FromBig(acct.Balance.ToInt())
			if overflow {
				return &invalidParamsError{fmt.Sprintf("account %s: balance does not fit in 256 bits", addr.Hex())}
			}
			st.SetBalance(addr, bal, tracing.BalanceChangeUnspecified)
		}
		if acct.State != nil {
			st.SetStorage(addr, acct.State)
		}
		for k, v := range acct.StateDiff {
			st.SetState(addr, k, v)
		}
	}
	// As if a transaction before the call had made these changes.
	st.Finalise(params.Rules{})
	return nil
}

// looseHash is a 32-byte value given either as a full hash or as a shorter
// quantity (the spec writes prevRandao as a quantity, geth as a hash).
type looseHash common.Hash

func (h *looseHash) UnmarshalJSON(input []byte) error {
	var s string
	if err := json.Unmarshal(input, &s); err != nil {
		return err
	}
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return errors.New("hex string without 0x prefix")
	}
	v, _, err := decodeStorageKey(s)
	if err != nil {
		return err
	}
	*h = looseHash(v)
	return nil
}

// BlockOverrides replaces fields of the block a call runs in.
type BlockOverrides struct {
	Number        *hexutil.Big       `json:"number"`
	Difficulty    *hexutil.Big       `json:"difficulty"`
	Time          *hexutil.Uint64    `json:"time"`
	GasLimit      *hexutil.Uint64    `json:"gasLimit"`
	FeeRecipient  *common.Address    `json:"feeRecipient"`
	PrevRandao    *looseHash         `json:"prevRandao"`
	BaseFeePerGas *hexutil.Big       `json:"baseFeePerGas"`
	BlobBaseFee   *hexutil.Big       `json:"blobBaseFee"`
	BeaconRoot    *common.Hash       `json:"beaconRoot"`
	Withdrawals   *types.Withdrawals `json:"withdrawals"`
}

func (o *BlockOverrides) UnmarshalJSON(input []byte) error {
	type plain BlockOverrides
	return strictUnmarshal(input, (*plain)(o), "block override")
}

// applyCall applies the overrides allowed for a single call to its block
// context and returns the matching header (so that gas price logic sees the
// overridden base fee). beaconRoot and withdrawals only mean something to
// eth_simulateV1; difficulty is meaningless after the merge and ignored.
func (o *BlockOverrides) applyCall(ctx *vm.BlockContext, h *types.Header) (*types.Header, error) {
	if o == nil {
		return h, nil
	}
	if o.BeaconRoot != nil {
		return nil, &invalidParamsError{`block override "beaconRoot" is not supported for this RPC method`}
	}
	if o.Withdrawals != nil {
		return nil, &invalidParamsError{`block override "withdrawals" is not supported for this RPC method`}
	}
	if o.Number != nil {
		ctx.BlockNumber = o.Number.ToInt()
	}
	if o.Time != nil {
		ctx.Time = uint64(*o.Time)
	}
	if o.GasLimit != nil {
		ctx.GasLimit = uint64(*o.GasLimit)
	}
	if o.FeeRecipient != nil {
		ctx.Coinbase = *o.FeeRecipient
	}
	if o.PrevRandao != nil {
		r := common.Hash(*o.PrevRandao)
		ctx.Random = &r
	}
	if o.BaseFeePerGas != nil {
		ctx.BaseFee = o.BaseFeePerGas.ToInt()
	}
	if o.BlobBaseFee != nil {
		ctx.BlobBaseFee = o.BlobBaseFee.ToInt()
	}
	h = o.header(h)
	return h, nil
}

// header returns a copy of h with the overridden fields.
func (o *BlockOverrides) header(h *types.Header) *types.Header {
	h = types.CopyHeader(h)
	if o.Number != nil {
		h.Number = o.Number.ToInt()
	}
	if o.Time != nil {
		h.Time = uint64(*o.Time)
	}
	if o.GasLimit != nil {
		h.GasLimit = uint64(*o.GasLimit)
	}
	if o.FeeRecipient != nil {
		h.Coinbase = *o.FeeRecipient
	}
	if o.PrevRandao != nil {
		h.MixDigest = common.Hash(*o.PrevRandao)
	}
	if o.BaseFeePerGas != nil {
		h.BaseFee = o.BaseFeePerGas.ToInt()
	}
	return h
}
