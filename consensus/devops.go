package consensus

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// Dev operations and impersonated transactions: how the test-node methods
// of anvil and Hardhat (set balance, code, storage, nonce, base fee, gas
// limit; send from an account without its key) change a dev chain while
// every block stays a real, merged-mined block that a follower verifies and
// executes to the same state. See the package doc, "Dev networks".

// DevOp kinds. A DevOp's fields beyond Kind are set exactly as its kind
// says and are zero otherwise, so that each operation has one encoding.
const (
	// OpSetBalance sets Address's balance to Value (big-endian, no leading
	// zero byte, at most 32 bytes; empty is 0).
	OpSetBalance uint64 = 1
	// OpSetNonce sets Address's nonce to Value (big-endian, no leading zero
	// byte, at most 8 bytes, below 2^64-1 as EIP-2681 requires).
	OpSetNonce uint64 = 2
	// OpSetCode sets Address's code to Value (any length the seal can hold).
	OpSetCode uint64 = 3
	// OpSetStorage sets Address's storage slot Slot to Value (32 bytes).
	OpSetStorage uint64 = 4
	// OpBaseFee declares the block's own base fee, Value (as a balance), in
	// place of EIP-1559's: anvil_setNextBlockBaseFeePerGas. Address zero.
	OpBaseFee uint64 = 5
	// OpGasLimit declares the block's own gas limit, Value (as a nonce), in
	// place of the parent's ±1/1024: anvil_setBlockGasLimit. Address zero.
	OpGasLimit uint64 = 6
)

// DevOp is one dev operation, carried in the seal (Seal.Ops).
type DevOp struct {
	Kind    uint64
	Address common.Address
	Slot    common.Hash
	Value   []byte
}

// Dev-operation and impersonation errors.
var (
	// ErrMalformedDevOp wraps ErrMalformedSeal: a DevOp whose fields do not
	// have the one encoding its kind allows. Enforced by DecodeSeal.
	ErrMalformedDevOp = fmt.Errorf("%w: malformed dev operation", ErrMalformedSeal)
)

// SetBalanceOp, SetNonceOp, SetCodeOp, SetStorageOp, BaseFeeOp and
// GasLimitOp build canonical DevOps.
func SetBalanceOp(addr common.Address, balance *uint256.Int) DevOp {
	return DevOp{Kind: OpSetBalance, Address: addr, Value: balance.Bytes()}
}

func SetNonceOp(addr common.Address, nonce uint64) DevOp {
	return DevOp{Kind: OpSetNonce, Address: addr, Value: new(big.Int).SetUint64(nonce).Bytes()}
}

func SetCodeOp(addr common.Address, code []byte) DevOp {
	return DevOp{Kind: OpSetCode, Address: addr, Value: common.CopyBytes(code)}
}

func SetStorageOp(addr common.Address, slot, value common.Hash) DevOp {
	return DevOp{Kind: OpSetStorage, Address: addr, Slot: slot, Value: value.Bytes()}
}

func BaseFeeOp(fee *uint256.Int) DevOp { return DevOp{Kind: OpBaseFee, Value: fee.Bytes()} }

func GasLimitOp(limit uint64) DevOp {
	return DevOp{Kind: OpGasLimit, Value: new(big.Int).SetUint64(limit).Bytes()}
}

// canonicalUint checks a minimal big-endian unsigned integer of at most max
// bytes (rlp's canonical integer form).
func canonicalUint(v []byte, max int) error {
	switch {
	case len(v) > max:
		return fmt.Errorf("value of %d bytes, at most %d", len(v), max)
	case len(v) > 0 && v[0] == 0:
		return errors.New("value has a leading zero byte")
	}
	return nil
}

// validate checks that op has its kind's one encoding.
func (op *DevOp) validate() error {
	var err error
	switch op.Kind {
	case OpSetBalance, OpBaseFee:
		err = canonicalUint(op.Value, 32)
	case OpSetNonce, OpGasLimit:
		if err = canonicalUint(op.Value, 8); err == nil && new(big.Int).SetBytes(op.Value).Uint64() == ^uint64(0) {
			err = errors.New("value 2^64-1 is not allowed (EIP-2681)")
		}
	case OpSetCode:
	case OpSetStorage:
		if len(op.Value) != common.HashLength {
			err = fmt.Errorf("storage value of %d bytes, want 32", len(op.Value))
		}
	default:
		return fmt.Errorf("unknown kind %d", op.Kind)
	}
	switch {
	case err != nil:
	case op.Kind != OpSetStorage && op.Slot != (common.Hash{}):
		err = errors.New("slot set on an operation that is not a storage write")
	case (op.Kind == OpBaseFee || op.Kind == OpGasLimit) && op.Address != (common.Address{}):
		err = errors.New("address set on a header operation")
	case op.Kind == OpGasLimit && (new(big.Int).SetBytes(op.Value).Uint64() < params.MinGasLimit || new(big.Int).SetBytes(op.Value).Uint64() > params.MaxGasLimit):
		err = fmt.Errorf("gas limit %d outside [%d, %d]", new(big.Int).SetBytes(op.Value).Uint64(), params.MinGasLimit, params.MaxGasLimit)
	}
	if err != nil {
		return fmt.Errorf("kind %d: %w", op.Kind, err)
	}
	return nil
}

// validateOps checks every operation and that the header operations appear
// at most once each.
func validateOps(ops []DevOp) error {
	var baseFee, gasLimit bool
	for i := range ops {
		if err := ops[i].validate(); err != nil {
			return fmt.Errorf("%w: operation %d: %w", ErrMalformedDevOp, i, err)
		}
		dup := false
		switch ops[i].Kind {
		case OpBaseFee:
			dup, baseFee = baseFee, true
		case OpGasLimit:
			dup, gasLimit = gasLimit, true
		}
		if dup {
			return fmt.Errorf("%w: operation %d: a second kind %d", ErrMalformedDevOp, i, ops[i].Kind)
		}
	}
	return nil
}

// headerOverrides returns the base fee and gas limit a seal's operations
// declare for their block, nil where none.
func headerOverrides(ops []DevOp) (baseFee *big.Int, gasLimit *uint64) {
	for _, op := range ops {
		switch op.Kind {
		case OpBaseFee:
			baseFee = new(big.Int).SetBytes(op.Value)
		case OpGasLimit:
			v := new(big.Int).SetBytes(op.Value).Uint64()
			gasLimit = &v
		}
	}
	return baseFee, gasLimit
}

// applyOps applies the state operations in order. Balances change by fiat:
// the supply invariant of package evm holds on non-dev networks only.
func applyOps(state vm.StateDB, ops []DevOp) {
	for _, op := range ops {
		switch op.Kind {
		case OpSetBalance:
			want := new(uint256.Int).SetBytes(op.Value)
			have := state.GetBalance(op.Address)
			if want.Gt(have) {
				state.AddBalance(op.Address, new(uint256.Int).Sub(want, have), tracing.BalanceChangeUnspecified)
			} else if have.Gt(want) {
				state.SubBalance(op.Address, new(uint256.Int).Sub(have, want), tracing.BalanceChangeUnspecified)
			}
		case OpSetNonce:
			state.SetNonce(op.Address, new(big.Int).SetBytes(op.Value).Uint64(), tracing.NonceChangeUnspecified)
		case OpSetCode:
			state.SetCode(op.Address, op.Value, tracing.CodeChangeUnspecified)
		case OpSetStorage:
			state.SetState(op.Address, op.Slot, common.BytesToHash(op.Value))
		}
	}
}

// impersonationS is the S value of an impersonation signature: the ASCII of
// "mmgeth impersonated", far below secp256k1's n/2. A real signature has
// this S with probability 2^-256.
var impersonationS = new(big.Int).SetBytes([]byte("mmgeth impersonated"))

// maxAddress bounds R of an impersonation signature: R is the sender.
var maxAddress = new(big.Int).Lsh(common.Big1, 160)

// ErrImpersonation: a transaction carries an impersonation signature on a
// network that is not a dev network, or one that is malformed (R above
// 2^160, or a parity other than 0). Enforced by Engine.VerifyBody.
var ErrImpersonation = errors.New("impersonated transaction")

// ImpersonatedSender returns the sender an impersonation signature names:
// the signature's S is impersonationS, its R the sender's address as an
// integer, its parity 0. ok is false for every other transaction; err is
// set for an impersonation signature that breaks that form.
func ImpersonatedSender(tx *types.Transaction) (from common.Address, ok bool, err error) {
	v, r, s := tx.RawSignatureValues()
	if s == nil || s.Cmp(impersonationS) != 0 {
		return common.Address{}, false, nil
	}
	if r.Cmp(maxAddress) >= 0 {
		return common.Address{}, true, fmt.Errorf("%w: R %x is not an address", ErrImpersonation, r)
	}
	parity := v
	if tx.Type() == types.LegacyTxType && tx.Protected() {
		parity = new(big.Int).Sub(v, new(big.Int).Add(new(big.Int).Mul(tx.ChainId(), big.NewInt(2)), big.NewInt(35)))
	} else if tx.Type() == types.LegacyTxType {
		parity = new(big.Int).Sub(v, big.NewInt(27))
	}
	if parity.Sign() != 0 {
		return common.Address{}, true, fmt.Errorf("%w: parity %v, want 0", ErrImpersonation, parity)
	}
	return common.BigToAddress(r), true, nil
}

// Impersonate returns tx carrying the impersonation signature of from, with
// its sender cached for signer (see CacheSenders).
func Impersonate(tx *types.Transaction, from common.Address, signer types.Signer) (*types.Transaction, error) {
	sig := make([]byte, crypto.SignatureLength) // R || S || parity 0
	copy(sig[32-common.AddressLength:32], from[:])
	impersonationS.FillBytes(sig[32:64])
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return nil, err
	}
	CacheSenders(signer, []*types.Transaction{signed})
	return signed, nil
}

// CacheSenders makes geth take the sender of each impersonated transaction
// of txs from its signature's R rather than from ecrecover, which would give
// an unrelated address: geth's types.Sender answers from a per-transaction
// cache whenever the cached signer is Equal to the one asked with, and the
// signer cached here is equal to signer (and so to every signer of the same
// chain and forks). Call it on every transaction object geth will execute or
// index on a dev network (the chain does for every block it inserts); on
// other networks the engine refuses such transactions instead.
func CacheSenders(signer types.Signer, txs []*types.Transaction) {
	for _, tx := range txs {
		if from, ok, err := ImpersonatedSender(tx); ok && err == nil {
			_, _ = types.Sender(impersonationSigner{Signer: signer, from: from}, tx) // never fails
		}
	}
}

// impersonationSigner is signer with the sender fixed: what CacheSenders
// stores in a transaction's sender cache.
type impersonationSigner struct {
	types.Signer
	from common.Address
}

func (s impersonationSigner) Sender(*types.Transaction) (common.Address, error) { return s.from, nil }

// Equal delegates to the wrapped signer, so that geth's lookups with the
// chain's own signer hit the cache.
func (s impersonationSigner) Equal(other types.Signer) bool { return s.Signer.Equal(other) }
