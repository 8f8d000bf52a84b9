// eth_sign follows go-ethereum v1.17.10 internal/ethapi/api.go (TransactionAPI.Sign), which geth keeps internal;
// ported because it cannot be imported. Differs: the keys are the dev accounts' (no account manager), so a node
// without --dev answers "unknown account" as geth does with no keystore. personal_sign and eth_signTypedData_v3/_v4
// are not geth's (it dropped the personal namespace in v1.14 and leaves EIP-712 to clef): they follow anvil 1.7.1's
// parameter order and results, and exist in dev mode only. EIP-712 hashing is geth's signer/core/apitypes.

package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// signWith signs digest with a dev account's key and returns the signature
// with V = 27/28, the form eth_sign, personal_sign, eth_signTypedData and
// `cast wallet sign` all use.
func (s *Service) signWith(addr common.Address, digest []byte) (hexutil.Bytes, error) {
	dev, err := s.devAccount(addr)
	if err != nil {
		return nil, err
	}
	sig, err := dev.SignHash(addr, digest)
	if err != nil {
		return nil, err
	}
	if len(sig) != 65 {
		return nil, fmt.Errorf("signer returned %d bytes, want 65", len(sig))
	}
	sig[64] += 27
	return sig, nil
}

// Sign serves eth_sign: the EIP-191 "\x19Ethereum Signed Message:\n" hash of
// data, signed by a dev account.
func (api *ethAPI) Sign(addr common.Address, data hexutil.Bytes) (hexutil.Bytes, error) {
	return api.s.signWith(addr, accounts.TextHash(data))
}

// personalAPI is the personal namespace of dev mode: personal_sign only,
// because wallets and ethers' JsonRpcSigner.signMessage call it.
type personalAPI struct{ s *Service }

// Sign serves personal_sign. Its parameters are eth_sign's, swapped: data
// first, then the address (MetaMask's and anvil's order). A third,
// password parameter that some clients send is accepted and ignored: dev
// accounts are unlocked.
func (api *personalAPI) Sign(data hexutil.Bytes, addr common.Address, _ *string) (hexutil.Bytes, error) {
	return api.s.signWith(addr, accounts.TextHash(data))
}

// typedDataAPI adds the EIP-712 signing methods to the eth namespace in dev
// mode.
type typedDataAPI struct{ s *Service }

// SignTypedData_v4 serves eth_signTypedData_v4: EIP-712 with arrays and
// nested structs, as MetaMask's v4 and anvil define it. The typed data may
// be a JSON object or a string holding one (ethers and viem send a string).
func (api *typedDataAPI) SignTypedData_v4(addr common.Address, data json.RawMessage) (hexutil.Bytes, error) {
	return api.signTypedData(addr, data, true)
}

// SignTypedData_v3 serves eth_signTypedData_v3, MetaMask's earlier version:
// the same encoding as v4 for data without arrays, which v3 does not
// define, so typed data with an array type is refused rather than signed
// with v4's encoding under v3's name.
func (api *typedDataAPI) SignTypedData_v3(addr common.Address, data json.RawMessage) (hexutil.Bytes, error) {
	return api.signTypedData(addr, data, false)
}

func (api *typedDataAPI) signTypedData(addr common.Address, raw json.RawMessage, arrays bool) (hexutil.Bytes, error) {
	// Check the account first: an unknown account is the caller's first
	// mistake to hear about, whatever the data.
	if _, err := api.s.devAccount(addr); err != nil {
		return nil, err
	}
	td, err := parseTypedData(raw)
	if err != nil {
		return nil, &invalidParamsError{"invalid typed data: " + err.Error()}
	}
	if !arrays {
		for _, name := range slices.Sorted(maps.Keys(td.Types)) {
			for _, f := range td.Types[name] {
				if strings.HasSuffix(f.Type, "]") {
					return nil, &invalidParamsError{fmt.Sprintf("invalid typed data: %s.%s is an array (%s), which eth_signTypedData_v3 does not define; use eth_signTypedData_v4", name, f.Name, f.Type)}
				}
			}
		}
	}
	digest, _, err := apitypes.TypedDataAndHash(*td)
	if err != nil {
		return nil, &invalidParamsError{"invalid typed data: " + err.Error()}
	}
	return api.s.signWith(addr, digest)
}

// eip712DomainFields are the EIP712Domain members in the order EIP-712
// lists them, with their types.
var eip712DomainFields = []apitypes.Type{
	{Name: "name", Type: "string"},
	{Name: "version", Type: "string"},
	{Name: "chainId", Type: "uint256"},
	{Name: "verifyingContract", Type: "address"},
	{Name: "salt", Type: "bytes32"},
}

// parseTypedData decodes EIP-712 typed data given as a JSON object or as a
// JSON string holding one.
func parseTypedData(raw json.RawMessage) (*apitypes.TypedData, error) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = json.RawMessage(text)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Numbers as json.Number: the default float64 would round integers
	// above 2^53, and geth's encoder refuses floats it cannot hold exactly.
	dec.UseNumber()
	var td apitypes.TypedData
	if err := dec.Decode(&td); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the typed data object")
	}
	if td.PrimaryType == "" || td.Types[td.PrimaryType] == nil {
		return nil, fmt.Errorf("primaryType %q is not defined in types", td.PrimaryType)
	}
	if td.Message == nil {
		return nil, fmt.Errorf("no message")
	}
	if _, err := normalize(td.Message); err != nil {
		return nil, err
	}
	// Without an EIP712Domain type, the domain's type is made of the fields
	// it has, in EIP-712's order, as ethers and alloy (cast) derive it.
	if _, ok := td.Types["EIP712Domain"]; !ok {
		present := td.Domain.Map()
		var domainType []apitypes.Type
		for _, f := range eip712DomainFields {
			if _, ok := present[f.Name]; ok {
				domainType = append(domainType, f)
			}
		}
		td.Types["EIP712Domain"] = domainType
	}
	return &td, nil
}

// normalize rewrites, in place, the values of a decoded message into what
// geth's encoder takes: *big.Int for integers, float64 (which it then
// refuses with a clear error) for the other numbers. It refuses a null
// array element, on which geth's encoder panics (reflect.TypeOf(nil)).
func normalize(v any) (any, error) {
	var err error
	switch v := v.(type) {
	case json.Number:
		if i, ok := new(big.Int).SetString(v.String(), 10); ok {
			return i, nil
		}
		f, _ := v.Float64()
		return f, nil
	case map[string]any:
		for k, e := range v {
			if v[k], err = normalize(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range v {
			if e == nil {
				return nil, fmt.Errorf("null array element")
			}
			if v[i], err = normalize(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}
