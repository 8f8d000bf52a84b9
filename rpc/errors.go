// Follows go-ethereum v1.17.10 internal/ethapi/errors.go (error codes and revert data), which geth keeps internal; ported
// because it cannot be imported. Differs: only the codes this node returns.

package rpc

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/vm"
)

// JSON-RPC error codes beyond the -327xx protocol ones that gethrpc emits.
// geth's are kept where geth has one, so that clients keyed on them work.
const (
	codeReverted            = 3      // geth, EIP-1474: execution reverted, data = revert bytes
	codeServerError         = -32000 // generic; also EIP-1898 "invalid input" (non-canonical hash)
	codeResourceNotFound    = -32001 // EIP-1474/EIP-1898: unknown block
	codeLimitExceeded       = -32005 // EIP-1474: request exceeds a server limit
	codeInvalidParams       = -32602
	codeInternal            = -32603
	codeVMError             = -32015 // eth_simulateV1: call failed without revert
	codeTimeout             = -32016 // eth_simulateV1: ran out of time
	codeNonceTooLow         = -38010
	codeNonceTooHigh        = -38011
	codeBaseFeeTooLow       = -38012
	codeIntrinsicGas        = -38013
	codeInsufficientFunds   = -38014
	codeBlockGasLimit       = -38015
	codeBlockNumberInvalid  = -38020
	codeBlockTimeInvalid    = -38021
	codeMovePrecompileSelf  = -38022
	codeMovePrecompileTwice = -38023
	codeSenderNotEOA        = -38024
	codeMaxInitCodeSize     = -38025
	codeClientLimitExceeded = -38026
)

var (
	errHeaderNotFound = &codedError{codeResourceNotFound, "header not found"}
	errHashNotFound   = &codedError{codeResourceNotFound, "header for hash not found"}
	errNotCanonical   = &codedError{codeServerError, "hash is not currently canonical"}
	errUnknownAccount = errors.New("unknown account")
	errNoBlobs        = &invalidParamsError{"blob transactions are not supported on this chain"}
)

// codedError is an error with its own JSON-RPC code.
type codedError struct {
	code int
	msg  string
}

func (e *codedError) Error() string  { return e.msg }
func (e *codedError) ErrorCode() int { return e.code }

// invalidParamsError is a -32602 for arguments that parse but make no sense.
type invalidParamsError struct{ msg string }

func (e *invalidParamsError) Error() string  { return e.msg }
func (e *invalidParamsError) ErrorCode() int { return codeInvalidParams }

// stateUnavailableError: the block exists but its state is not readable.
// archive is geth's reason on an archive node: out of the --history.state
// window, or histories not indexed yet (geth indexes them in the
// background; on a node that has just started on a chain whose head is old,
// dev's included, that takes about a minute).
type stateUnavailableError struct {
	number  uint64
	archive error
}

func (e *stateUnavailableError) Error() string {
	if e.archive != nil {
		return fmt.Sprintf("historical state of block %d is not available: %v", e.number, e.archive)
	}
	return fmt.Sprintf("historical state of block %d is not available (pruned: this node keeps the state of the newest 128 blocks; --gcmode archive keeps all)", e.number)
}
func (e *stateUnavailableError) ErrorCode() int { return codeServerError }

// revertError is an EVM revert: code 3, the raw revert bytes as data (what
// ethers, viem and cast decode against their own ABIs, so it stays the bare
// hex string), and the reason in the message: the node's decoding of a
// custom error (Config.DecodeRevert, e.g. "InsufficientConfirmations(have=1,
// need=3)") or else the Error(string) reason, when there is one.
type revertError struct {
	msg  string
	data string
}

func newRevertError(revert []byte, decode func([]byte) string) *revertError {
	msg := vm.ErrExecutionReverted.Error()
	if reason := decodeReason(revert, decode); reason != "" {
		msg += ": " + reason
	}
	return &revertError{msg: msg, data: hexutil.Encode(revert)}
}

func decodeReason(revert []byte, decode func([]byte) string) string {
	if decode != nil {
		if reason := decode(revert); reason != "" {
			return reason
		}
	}
	if reason, err := abi.UnpackRevert(revert); err == nil {
		return reason
	}
	return ""
}

func (e *revertError) Error() string          { return e.msg }
func (e *revertError) ErrorCode() int         { return codeReverted }
func (e *revertError) ErrorData() interface{} { return e.data }

// txValidationError classifies a message that could not even start executing
// (nonce, funds, fees...) with the -380xx codes eth_simulateV1 specifies.
func txValidationError(err error) *codedError {
	code := codeInternal
	switch {
	case errors.Is(err, core.ErrNonceTooHigh):
		code = codeNonceTooHigh
	case errors.Is(err, core.ErrNonceTooLow):
		code = codeNonceTooLow
	case errors.Is(err, core.ErrSenderNoEOA):
		code = codeSenderNotEOA
	case errors.Is(err, core.ErrFeeCapVeryHigh), errors.Is(err, core.ErrTipVeryHigh), errors.Is(err, core.ErrTipAboveFeeCap):
		code = codeInvalidParams
	case errors.Is(err, core.ErrFeeCapTooLow):
		code = codeBaseFeeTooLow
	case errors.Is(err, core.ErrInsufficientFunds), errors.Is(err, core.ErrInsufficientFundsForTransfer):
		code = codeInsufficientFunds
	case errors.Is(err, core.ErrIntrinsicGas):
		code = codeIntrinsicGas
	case errors.Is(err, vm.ErrMaxInitCodeSizeExceeded):
		code = codeMaxInitCodeSize
	}
	return &codedError{code, err.Error()}
}
