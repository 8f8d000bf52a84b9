package tests

// Node-side signing with the dev accounts, checked against the tools that
// define the expected bytes: `cast wallet sign` (alloy) for the same key and
// input, and ethers' JsonRpcSigner, whose signatures must recover to the
// account it asked to sign.
//
//	go test ./tests/ -run 'TestSigning' -timeout 30m
//	MMGETH_E2E_NODE=anvil go test ./tests/ -run 'TestSigning' -timeout 30m # the reference node

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// typedDataVectors are EIP-712 inputs covering what the encoding has:
// nested structs, arrays of structs and of addresses, every domain field,
// signed and unsigned integers, fixed and dynamic bytes, and a domain
// whose type is left to the signer to derive.
var typedDataVectors = map[string]string{
	"EIP-712 example": `{
	  "types": {
	    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
	    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
	    "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]
	  },
	  "primaryType": "Mail",
	  "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
	  "message": {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"}, "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}, "contents": "Hello, Bob!"}
	}`,
	"arrays": `{
	  "types": {
	    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
	    "Person": [{"name": "name", "type": "string"}, {"name": "wallets", "type": "address[]"}],
	    "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person[]"}, {"name": "contents", "type": "string"}],
	    "Group": [{"name": "name", "type": "string"}, {"name": "members", "type": "Person[]"}]
	  },
	  "primaryType": "Mail",
	  "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
	  "message": {
	    "from": {"name": "Cow", "wallets": ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", "0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"]},
	    "to": [{"name": "Bob", "wallets": ["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", "0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57", "0xB0B0b0b0b0b0B000000000000000000000000000"]}],
	    "contents": "Hello, Bob!"
	  }
	}`,
	"primitives and salt": `{
	  "types": {
	    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}, {"name": "salt", "type": "bytes32"}],
	    "Order": [{"name": "amount", "type": "uint256"}, {"name": "delta", "type": "int256"}, {"name": "small", "type": "uint8"}, {"name": "flag", "type": "bool"}, {"name": "blob", "type": "bytes"}, {"name": "id", "type": "bytes32"}, {"name": "note", "type": "string"}]
	  },
	  "primaryType": "Order",
	  "domain": {"name": "Exchange", "version": "2", "chainId": 31337, "verifyingContract": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "salt": "0xf2d857f4a3edcb9b78b4d503bfe733db1e3f6cdc2b7971ee739626c97e86a558"},
	  "message": {"amount": "123456789012345678901234567890", "delta": -42, "small": 255, "flag": true, "blob": "0xdeadbeef", "id": "0x00000000000000000000000000000000000000000000000000000000000000ff", "note": "héllo ✓"}
	}`,
	"domain type derived": `{
	  "types": {"Permit": [{"name": "owner", "type": "address"}, {"name": "value", "type": "uint256"}]},
	  "primaryType": "Permit",
	  "domain": {"name": "Token", "chainId": 31337},
	  "message": {"owner": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "value": 1000}
	}`,
}

func TestSigningMatchesCast(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	node := startDevNode(t)
	dir := t.TempDir()
	castSign := func(args ...string) string {
		t.Helper()
		return tools.run(t, dir, nil, "cast", append([]string{"wallet", "sign", "--private-key", devKey}, args...)...)
	}
	nodeSign := func(method string, params ...any) string {
		t.Helper()
		var sig hexutil.Bytes
		if err := rpcCall(context.Background(), node.HTTPURL, &sig, method, params...); err != nil {
			t.Fatal(err)
		}
		return hexutil.Encode(sig)
	}

	// Messages: cast takes text, or bytes when it starts with 0x; the RPC
	// methods take bytes.
	for _, msg := range []string{"hello", "0xdeadbeef", "héllo ✓", strings.Repeat("long message; ", 20)} {
		data := hexutil.Encode([]byte(msg))
		if strings.HasPrefix(msg, "0x") {
			data = msg
		}
		want := castSign(msg)
		if got := nodeSign("eth_sign", devAddress, data); got != want {
			t.Errorf("eth_sign %q = %s, cast wallet sign = %s", msg, got, want)
		}
		if got := nodeSign("personal_sign", data, devAddress); got != want {
			t.Errorf("personal_sign %q = %s, cast wallet sign = %s", msg, got, want)
		}
	}

	for name, data := range typedDataVectors {
		want := castSign("--data", data)
		// As an object, and as the string ethers and viem send.
		if got := nodeSign("eth_signTypedData_v4", devAddress, json.RawMessage(data)); got != want {
			t.Errorf("%s: eth_signTypedData_v4 = %s, cast wallet sign --data = %s", name, got, want)
		}
		if got := nodeSign("eth_signTypedData_v4", devAddress, data); got != want {
			t.Errorf("%s: eth_signTypedData_v4 of the JSON string = %s, cast wallet sign --data = %s", name, got, want)
		}
		// anvil leaves eth_signTypedData_v3 unimplemented; v3 defines no arrays.
		if node.Kind == "mmgeth" && name != "arrays" {
			if got := nodeSign("eth_signTypedData_v3", devAddress, json.RawMessage(data)); got != want {
				t.Errorf("%s: eth_signTypedData_v3 = %s, cast wallet sign --data = %s", name, got, want)
			}
		}
	}
}

func TestSigningBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if kind := os.Getenv("MMGETH_E2E_NODE"); kind != "" && kind != "mmgeth" {
		// anvil words these errors its own way (and answers -32602 for an
		// unknown account where geth, and so mmgeth, answer -32000).
		t.Skip("checks mmgeth's error messages")
	}
	node := startDevNode(t)
	// An address with no key on the node (not one of the dev accounts).
	const stranger = "0x000000000000000000000000000000000000dEaD"
	mail := typedDataVectors["EIP-712 example"]
	for _, c := range []struct {
		name   string
		method string
		params []any
		code   int
		want   string
	}{
		{"unknown account", "eth_sign", []any{stranger, "0xdeadbeef"}, -32000, "unknown account"},
		{"unknown account", "personal_sign", []any{"0xdeadbeef", stranger}, -32000, "unknown account"},
		{"unknown account", "eth_signTypedData_v4", []any{stranger, json.RawMessage(mail)}, -32000, "unknown account"},
		{"non-hex data", "eth_sign", []any{devAddress, "hello"}, -32602, "invalid argument 1"},
		{"non-hex data", "personal_sign", []any{"hello", devAddress}, -32602, "invalid argument 0"},
		{"odd-length hex", "eth_sign", []any{devAddress, "0xabc"}, -32602, "invalid argument 1"},
		{"malformed JSON", "eth_signTypedData_v4", []any{devAddress, `{"types": {`}, -32602, "invalid typed data"},
		{"undefined primary type", "eth_signTypedData_v4", []any{devAddress, json.RawMessage(strings.Replace(mail, `"primaryType": "Mail"`, `"primaryType": "Letter"`, 1))}, -32602, `primaryType "Letter" is not defined`},
		{"value of the wrong type", "eth_signTypedData_v4", []any{devAddress, json.RawMessage(strings.Replace(mail, `"Hello, Bob!"`, `{"x": 1}`, 1))}, -32602, "doesn't match type 'string'"},
		{"arrays under v3", "eth_signTypedData_v3", []any{devAddress, json.RawMessage(typedDataVectors["arrays"])}, -32602, "use eth_signTypedData_v4"},
	} {
		var res json.RawMessage
		err := rpcCall(context.Background(), node.HTTPURL, &res, c.method, c.params...)
		var rerr *rpcError
		if !errors.As(err, &rerr) || rerr.Code != c.code || !strings.Contains(rerr.Message, c.want) {
			t.Errorf("%s %s: got %s, %v; want error %d containing %q", c.method, c.name, res, err, c.code, c.want)
			continue
		}
		t.Logf("%s %s: %d %s", c.method, c.name, rerr.Code, rerr.Message)
	}
	// The node still serves, and still signs.
	var sig hexutil.Bytes
	if err := rpcCall(context.Background(), node.HTTPURL, &sig, "eth_sign", devAddress, "0xdeadbeef"); err != nil || len(sig) != 65 {
		t.Fatalf("eth_sign after the bad requests: %x, %v", sig, err)
	}
}

// TestSigningEthers runs ethers' JsonRpcSigner, the signer of
// `provider.getSigner(0)`, which asks the node to sign (personal_sign,
// eth_signTypedData_v4), and compares with cast for the same key.
func TestSigningEthers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	node := startDevNode(t)
	dir := tools.hardhatProject(t)
	out := tools.run(t, dir, []string{"RPC_URL=" + node.HTTPURL}, "node", "scripts/sign.js")
	line, ok := lastLineWithPrefix(out, "RESULT ")
	if !ok {
		t.Fatalf("scripts/sign.js printed no RESULT line:\n%s", out)
	}
	var result struct {
		Address   string          `json:"address"`
		Message   string          `json:"message"`
		MessageTo string          `json:"messageSignature"`
		Payload   json.RawMessage `json:"typedPayload"`
		TypedSig  string          `json:"typedSignature"`
	}
	decodeJSON(t, line, &result)
	if !strings.EqualFold(result.Address, devAddress.Hex()) {
		t.Fatalf("getSigner(0) is %s, want the first dev account %s", result.Address, devAddress)
	}
	// The script checked recovery itself; the bytes must also be cast's.
	castSign := func(args ...string) string {
		return tools.run(t, dir, nil, "cast", append([]string{"wallet", "sign", "--private-key", devKey}, args...)...)
	}
	if want := castSign(result.Message); result.MessageTo != want {
		t.Errorf("ethers signMessage %s, cast wallet sign %s", result.MessageTo, want)
	}
	if want := castSign("--data", string(result.Payload)); result.TypedSig != want {
		t.Errorf("ethers signTypedData %s, cast wallet sign --data %s", result.TypedSig, want)
	}
}
