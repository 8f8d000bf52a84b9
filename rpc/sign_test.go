package rpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// eip712Mail is the example of EIP-712 itself; eip712MailDigest is the
// digest the EIP gives for it.
const eip712Mail = `{
  "types": {
    "EIP712Domain": [
      {"name": "name", "type": "string"},
      {"name": "version", "type": "string"},
      {"name": "chainId", "type": "uint256"},
      {"name": "verifyingContract", "type": "address"}
    ],
    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]
  },
  "primaryType": "Mail",
  "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
  "message": {
    "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
    "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
    "contents": "Hello, Bob!"
  }
}`

var eip712MailDigest = common.FromHex("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")

// recoverSig checks sig has V = 27/28 and returns the address that signed digest.
func recoverSig(t *testing.T, digest []byte, sig hexutil.Bytes) common.Address {
	t.Helper()
	if len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		t.Fatalf("signature %x: want 65 bytes with V 27 or 28", sig)
	}
	raw := common.CopyBytes(sig)
	raw[64] -= 27
	pub, err := crypto.SigToPub(digest, raw)
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(*pub)
}

func TestSignMessage(t *testing.T) {
	tc := newTestChain(t, testOptions{dev: true})
	var ethSig, personalSig hexutil.Bytes
	tc.mustDecode(&ethSig, "eth_sign", addr2, "0xdeadbeef")
	tc.mustDecode(&personalSig, "personal_sign", "0xdeadbeef", addr2)
	if got := recoverSig(t, accounts.TextHash(common.FromHex("0xdeadbeef")), ethSig); got != addr2 {
		t.Errorf("eth_sign recovers to %s, want %s", got, addr2)
	}
	if !bytes.Equal(ethSig, personalSig) {
		t.Errorf("personal_sign %x differs from eth_sign %x of the same data", personalSig, ethSig)
	}
	// Clients that still send personal_sign's password get the same answer.
	tc.mustDecode(&personalSig, "personal_sign", "0xdeadbeef", addr2, "")
	if !bytes.Equal(ethSig, personalSig) {
		t.Errorf("personal_sign with a password: %x, want %x", personalSig, ethSig)
	}
}

func TestSignTypedData(t *testing.T) {
	tc := newTestChain(t, testOptions{dev: true})
	sign := func(method string, data any) hexutil.Bytes {
		t.Helper()
		var sig hexutil.Bytes
		tc.mustDecode(&sig, method, addr1, data)
		return sig
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(eip712Mail), &obj); err != nil {
		t.Fatal(err)
	}
	v4 := sign("eth_signTypedData_v4", obj)
	if got := recoverSig(t, eip712MailDigest, v4); got != addr1 {
		t.Fatalf("eth_signTypedData_v4 of EIP-712's example does not sign its digest: recovers to %s, want %s", got, addr1)
	}
	// The same data as a JSON string (ethers, viem), under v3, with the
	// chain id as a hex string, and without an EIP712Domain type (derived
	// from the domain's fields) all sign the same digest.
	noDomainType := strings.Replace(eip712Mail, `"EIP712Domain": [
      {"name": "name", "type": "string"},
      {"name": "version", "type": "string"},
      {"name": "chainId", "type": "uint256"},
      {"name": "verifyingContract", "type": "address"}
    ],`, "", 1)
	for name, sig := range map[string]hexutil.Bytes{
		"v4 string":              sign("eth_signTypedData_v4", eip712Mail),
		"v3":                     sign("eth_signTypedData_v3", obj),
		"hex chain id":           sign("eth_signTypedData_v4", strings.Replace(eip712Mail, `"chainId": 1`, `"chainId": "0x1"`, 1)),
		"no EIP712Domain type":   sign("eth_signTypedData_v4", noDomainType),
		"EIP712Domain type kept": sign("eth_signTypedData_v4", eip712Mail),
	} {
		if !bytes.Equal(sig, v4) {
			t.Errorf("%s: %x, want %x", name, sig, v4)
		}
	}
	if noDomainType == eip712Mail {
		t.Fatal("the EIP712Domain type was not removed")
	}

	// An integer above 2^53 signs as exactly the value it is, as a decimal
	// string of it does: a float64 on the way would round it.
	const bigTmpl = `{"types": {"EIP712Domain": [{"name": "name", "type": "string"}], "Big": [{"name": "v", "type": "uint256"}]},
		"primaryType": "Big", "domain": {"name": "x"}, "message": {"v": %s}}`
	asNumber := sign("eth_signTypedData_v4", strings.Replace(bigTmpl, "%s", "123456789012345678901234567891", 1))
	asString := sign("eth_signTypedData_v4", strings.Replace(bigTmpl, "%s", `"123456789012345678901234567891"`, 1))
	rounded := sign("eth_signTypedData_v4", strings.Replace(bigTmpl, "%s", `"123456789012345678901234567890"`, 1))
	if !bytes.Equal(asNumber, asString) || bytes.Equal(asString, rounded) {
		t.Errorf("large integer: as number %x, as string %x, off by one %x", asNumber, asString, rounded)
	}

	// Arrays: v4 signs them, v3 (which does not define them) refuses.
	arrays := `{"types": {"EIP712Domain": [{"name": "name", "type": "string"}], "Group": [{"name": "members", "type": "address[]"}]},
		"primaryType": "Group", "domain": {"name": "x"}, "message": {"members": ["0x0000000000000000000000000000000000000001"]}}`
	sign("eth_signTypedData_v4", arrays)
	tc.wantError(codeInvalidParams, "Group.members is an array (address[]), which eth_signTypedData_v3 does not define", "eth_signTypedData_v3", addr1, arrays)
}

func TestSignBadInput(t *testing.T) {
	tc := newTestChain(t, testOptions{dev: true})
	// addr4 has funds in the fixture but is not a dev account.
	tc.wantError(codeServerError, "unknown account", "eth_sign", addr4, "0x00")
	tc.wantError(codeServerError, "unknown account", "personal_sign", "0x00", addr4)
	tc.wantError(codeServerError, "unknown account", "eth_signTypedData_v4", addr4, eip712Mail)
	tc.wantError(codeServerError, "unknown account", "eth_signTypedData_v3", addr4, eip712Mail)
	// personal_sign in eth_sign's order: the address is not 32 bytes of data
	// and the data is not an address.
	tc.wantError(codeInvalidParams, "invalid argument 1", "personal_sign", addr1, "0xdeadbeef")

	for _, c := range []struct{ method, data string }{
		{"eth_sign", "hello"},
		{"eth_sign", "0xabc"},
		{"personal_sign", "hello"},
	} {
		params := []any{addr1, c.data}
		if c.method == "personal_sign" {
			params = []any{c.data, addr1}
		}
		tc.wantError(codeInvalidParams, "invalid argument", c.method, params...)
	}

	for _, c := range []struct{ name, data, want string }{
		{"not JSON", `{"types":`, "invalid typed data: unexpected EOF"},
		{"not an object", `[1, 2]`, "invalid typed data: json: cannot unmarshal array"},
		{"no primaryType", `{"types": {"A": [{"name": "a", "type": "uint8"}]}, "domain": {"name": "x"}, "message": {"a": 1}}`, `primaryType "" is not defined in types`},
		{"undefined primaryType", strings.Replace(eip712Mail, `"primaryType": "Mail"`, `"primaryType": "Letter"`, 1), `primaryType "Letter" is not defined in types`},
		{"no message", strings.Replace(eip712Mail, `"message"`, `"msg"`, 1), "no message"},
		{"value of the wrong type", strings.Replace(eip712Mail, `"Hello, Bob!"`, `7`, 1), "doesn't match type 'string'"},
		{"bad address", strings.Replace(eip712Mail, `0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB`, `0xbB`, 1), "doesn't match type 'address'"},
		{"undefined type", strings.Replace(eip712Mail, `"type": "Person"}, {"name": "contents"`, `"type": "Human"}, {"name": "contents"`, 1), `reference type "Human" is undefined`},
		{"fraction", strings.Replace(eip712Mail, `"chainId": 1`, `"chainId": 1.5`, 1), "invalid typed data"},
		{"no domain", strings.Replace(eip712Mail, `"domain"`, `"realm"`, 1), "domain is undefined"},
		{"trailing data", eip712Mail + `{}`, "trailing data"},
		// geth's encoder panics on it (the server would answer "method handler crashed").
		{"null array element", `{"types": {"G": [{"name": "m", "type": "address[]"}]}, "primaryType": "G", "domain": {"name": "x"}, "message": {"m": [null]}}`, "null array element"},
	} {
		rerr := tc.wantError(codeInvalidParams, c.want, "eth_signTypedData_v4", addr1, c.data)
		t.Logf("%s: %s", c.name, rerr.Message)
	}
	tc.wantError(codeInvalidParams, "missing value for required argument 1", "eth_signTypedData_v4", addr1)
	tc.stillServes()
}

// FuzzTypedData: whatever a client sends as typed data, hashing it returns
// a digest or an error; geth's encoder panics on some shapes (a null array
// element) that parseTypedData must refuse first.
func FuzzTypedData(f *testing.F) {
	f.Add([]byte(eip712Mail))
	f.Add([]byte(`{"types": {"EIP712Domain": [{"name": "name", "type": "string"}], "G": [{"name": "m", "type": "address[][]"}, {"name": "b", "type": "bytes"}]},
		"primaryType": "G", "domain": {"name": "x"}, "message": {"m": [["0x0000000000000000000000000000000000000001"]], "b": "0x00"}}`))
	f.Add([]byte(`{"types": {"G": [{"name": "m", "type": "G[]"}, {"name": "i", "type": "int8"}]}, "primaryType": "G", "domain": {"chainId": "0x1"}, "message": {"m": [{"m": [], "i": -1}], "i": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		td, err := parseTypedData(data)
		if err != nil {
			return
		}
		digest, _, err := apitypes.TypedDataAndHash(*td)
		if err == nil && len(digest) != 32 {
			t.Fatalf("digest of %d bytes", len(digest))
		}
	})
}
