// Follows go-ethereum v1.17.10 internal/ethapi/transaction_args.go (TransactionArgs, setDefaults, ToMessage), which geth keeps internal; ported
// because it cannot be imported. Differs: blob fields are refused, not filled: this chain has no blobs.

package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"
)

// TransactionArgs is the transaction object of eth_call, eth_estimateGas,
// eth_createAccessList, eth_simulateV1 and eth_send/sign/fillTransaction.
// Blob fields are accepted only to refuse them clearly: this chain has no blobs.
type TransactionArgs struct {
	From                 *common.Address `json:"from"`
	To                   *common.Address `json:"to"`
	Gas                  *hexutil.Uint64 `json:"gas"`
	GasPrice             *hexutil.Big    `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big    `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big    `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big    `json:"value"`
	Nonce                *hexutil.Uint64 `json:"nonce"`

	// "input" is the current name; "data" is still sent by older tools.
	Data  *hexutil.Bytes `json:"data"`
	Input *hexutil.Bytes `json:"input"`

	AccessList        *types.AccessList            `json:"accessList,omitempty"`
	ChainID           *hexutil.Big                 `json:"chainId,omitempty"`
	AuthorizationList []types.SetCodeAuthorization `json:"authorizationList"`

	BlobFeeCap *hexutil.Big    `json:"maxFeePerBlobGas"`
	BlobHashes []common.Hash   `json:"blobVersionedHashes,omitempty"`
	Blobs      []hexutil.Bytes `json:"blobs"`
}

func (a *TransactionArgs) from() common.Address {
	if a.From == nil {
		return common.Address{}
	}
	return *a.From
}

func (a *TransactionArgs) data() []byte {
	if a.Input != nil {
		return *a.Input
	}
	if a.Data != nil {
		return *a.Data
	}
	return nil
}

// check rejects what no method accepts: blobs, conflicting call data and
// mixed fee styles.
func (a *TransactionArgs) check() error {
	if a.BlobFeeCap != nil || a.BlobHashes != nil || a.Blobs != nil {
		return errNoBlobs
	}
	if a.Data != nil && a.Input != nil && !bytes.Equal(*a.Data, *a.Input) {
		return &invalidParamsError{`both "data" and "input" are set and not equal; use "input"`}
	}
	if a.GasPrice != nil && (a.MaxFeePerGas != nil || a.MaxPriorityFeePerGas != nil) {
		return &invalidParamsError{"both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified"}
	}
	if a.GasPrice != nil && a.AuthorizationList != nil {
		return &invalidParamsError{"both gasPrice and authorizationList specified"}
	}
	if a.To == nil && a.AuthorizationList != nil {
		return core.ErrSetCodeTxCreate
	}
	return nil
}

// callDefaults fills what a call leaves out: gas up to gasCap (which also
// caps an explicit gas), zero nonce/value, zero fees, and the chain id.
func (a *TransactionArgs) callDefaults(gasCap uint64, baseFee *big.Int, chainID *big.Int) error {
	if err := a.check(); err != nil {
		return err
	}
	if a.ChainID == nil {
		a.ChainID = (*hexutil.Big)(chainID)
	} else if a.ChainID.ToInt().Cmp(chainID) != 0 {
		return &invalidParamsError{fmt.Sprintf("chainId does not match node's (have=%v, want=%v)", a.ChainID.ToInt(), chainID)}
	}
	if gasCap == 0 {
		gasCap = math.MaxUint64 / 2
	}
	if a.Gas == nil || uint64(*a.Gas) > gasCap {
		gas := hexutil.Uint64(gasCap)
		a.Gas = &gas
	}
	if a.Nonce == nil {
		a.Nonce = new(hexutil.Uint64)
	}
	if a.Value == nil {
		a.Value = new(hexutil.Big)
	}
	if baseFee == nil {
		if a.MaxFeePerGas != nil || a.MaxPriorityFeePerGas != nil {
			return &invalidParamsError{"maxFeePerGas and maxPriorityFeePerGas are not valid before London is active"}
		}
		if a.GasPrice == nil {
			a.GasPrice = new(hexutil.Big)
		}
	} else if a.GasPrice == nil {
		if a.MaxFeePerGas == nil {
			a.MaxFeePerGas = new(hexutil.Big)
		}
		if a.MaxPriorityFeePerGas == nil {
			a.MaxPriorityFeePerGas = new(hexutil.Big)
		}
	}
	return nil
}

// toMessage turns defaulted args into an EVM message. Calls are simulations:
// the nonce check is skipped when asked, and the EOA and EIP-7825 per-tx gas
// cap checks always are (eth_call may run code as a contract, with more gas).
func (a *TransactionArgs) toMessage(baseFee *big.Int, skipNonceCheck bool) (*core.Message, error) {
	var price, feeCap, tipCap *uint256.Int
	if baseFee == nil || a.GasPrice != nil {
		p, err := u256(a.GasPrice, "gasPrice")
		if err != nil {
			return nil, err
		}
		price, feeCap, tipCap = p, p, p
	} else {
		var err error
		if feeCap, err = u256(a.MaxFeePerGas, "maxFeePerGas"); err != nil {
			return nil, err
		}
		if tipCap, err = u256(a.MaxPriorityFeePerGas, "maxPriorityFeePerGas"); err != nil {
			return nil, err
		}
		// The price a 1559 message pays: zero when no fee was given at all, so
		// that fee-less calls need no balance.
		price = new(uint256.Int)
		if !feeCap.IsZero() || !tipCap.IsZero() {
			price.Add(tipCap, uint256.MustFromBig(baseFee))
			if price.Cmp(feeCap) > 0 {
				price.Set(feeCap)
			}
		}
	}
	value, err := u256(a.Value, "value")
	if err != nil {
		return nil, err
	}
	var al types.AccessList
	if a.AccessList != nil {
		al = *a.AccessList
	}
	msg := &core.Message{
		From:                  a.from(),
		To:                    a.To,
		Value:                 value,
		Nonce:                 uint64(*a.Nonce),
		GasLimit:              uint64(*a.Gas),
		GasPrice:              price,
		GasFeeCap:             feeCap,
		GasTipCap:             tipCap,
		Data:                  a.data(),
		AccessList:            al,
		SetCodeAuthorizations: a.AuthorizationList,
	}
	if skipNonceCheck {
		msg.SkipNonceCheck()
	}
	return msg.SkipEOACheck().SkipGasLimitCapCheck(), nil
}

// u256 converts an optional big quantity; nil is zero.
func u256(v *hexutil.Big, field string) (*uint256.Int, error) {
	if v == nil {
		return new(uint256.Int), nil
	}
	if v.ToInt().Sign() < 0 {
		return nil, &invalidParamsError{field + " is negative"}
	}
	u, overflow := uint256.FromBig(v.ToInt())
	if overflow {
		return nil, &invalidParamsError{field + " does not fit in 256 bits"}
	}
	return u, nil
}

// toTransaction builds the unsigned transaction of fully defaulted args: a
// legacy one (or 2930 with an access list) when gasPrice is given, a 7702 one
// with an authorization list, otherwise 1559.
func (a *TransactionArgs) toTransaction() (*types.Transaction, error) {
	al := types.AccessList{}
	if a.AccessList != nil {
		al = *a.AccessList
	}
	switch {
	case a.GasPrice != nil && a.AccessList == nil:
		return types.NewTx(&types.LegacyTx{
			To: a.To, Nonce: uint64(*a.Nonce), Gas: uint64(*a.Gas),
			GasPrice: a.GasPrice.ToInt(), Value: a.Value.ToInt(), Data: a.data(),
		}), nil
	case a.GasPrice != nil:
		return types.NewTx(&types.AccessListTx{
			ChainID: a.ChainID.ToInt(), To: a.To, Nonce: uint64(*a.Nonce), Gas: uint64(*a.Gas),
			GasPrice: a.GasPrice.ToInt(), Value: a.Value.ToInt(), Data: a.data(), AccessList: al,
		}), nil
	case a.AuthorizationList != nil:
		chainID, err := u256(a.ChainID, "chainId")
		if err != nil {
			return nil, err
		}
		feeCap, err := u256(a.MaxFeePerGas, "maxFeePerGas")
		if err != nil {
			return nil, err
		}
		tipCap, err := u256(a.MaxPriorityFeePerGas, "maxPriorityFeePerGas")
		if err != nil {
			return nil, err
		}
		value, err := u256(a.Value, "value")
		if err != nil {
			return nil, err
		}
		return types.NewTx(&types.SetCodeTx{
			ChainID: chainID, To: *a.To, Nonce: uint64(*a.Nonce), Gas: uint64(*a.Gas),
			GasFeeCap: feeCap, GasTipCap: tipCap, Value: value, Data: a.data(),
			AccessList: al, AuthList: a.AuthorizationList,
		}), nil
	default:
		return types.NewTx(&types.DynamicFeeTx{
			ChainID: a.ChainID.ToInt(), To: a.To, Nonce: uint64(*a.Nonce), Gas: uint64(*a.Gas),
			GasFeeCap: a.MaxFeePerGas.ToInt(), GasTipCap: a.MaxPriorityFeePerGas.ToInt(),
			Value: a.Value.ToInt(), Data: a.data(), AccessList: al,
		}), nil
	}
}

var errCreateWithoutData = &invalidParamsError{"contract creation without any data provided"}

// checkSendable rejects args that cannot become a transaction to sign.
func (a *TransactionArgs) checkSendable() error {
	if err := a.check(); err != nil {
		return err
	}
	if a.To == nil && len(a.data()) == 0 {
		return errCreateWithoutData
	}
	if a.MaxFeePerGas != nil && a.MaxPriorityFeePerGas != nil && a.MaxFeePerGas.ToInt().Cmp(a.MaxPriorityFeePerGas.ToInt()) < 0 {
		return &invalidParamsError{fmt.Sprintf("maxFeePerGas (%v) < maxPriorityFeePerGas (%v)", a.MaxFeePerGas.ToInt(), a.MaxPriorityFeePerGas.ToInt())}
	}
	if a.MaxFeePerGas != nil && a.MaxFeePerGas.ToInt().Sign() == 0 {
		return &invalidParamsError{"maxFeePerGas must be non-zero"}
	}
	if a.GasPrice != nil && a.GasPrice.ToInt().Sign() == 0 {
		return errors.New("gasPrice must be non-zero after london fork")
	}
	return nil
}
