package peg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// Hardhat's first dev account, as a deposit recipient.
const hardhat0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"

// The deposit script of hardhat0 on chain 7772 (regtest) under
// genFederation, by hand from §4.1:
//
//	19                 push 25 bytes:
//	  01               deposit format 1
//	  00001e5c         chain id 7772, big-endian
//	  f39f…2266        the recipient
//	75                 OP_DROP
//	63…68              genFederationScript
//
// Its program, SHA-256 of the 177 bytes, and the addresses were checked
// outside Go (Python hashlib and the BIP-173 reference encoder).
const (
	hardhat0Deposit = "19 01 00001e5c f39fd6e51aad88f6f4ce6ab8827279cfffb92266 75" + genFederationScript
	hardhat0Program = "cef4aa8091ff7a3b768867aa9a2fb3e7c8901b81d4b55daacde35dcee5e74eed"
)

var hardhat0Addresses = []struct {
	net  *chaincfg.Params
	addr string
}{
	{&chaincfg.MainNetParams, "bc1qem624qy3laarka5gv74f5tanulyfqxup6j64m2kdudwuae08fmks82x069"},
	{&chaincfg.TestNet4Params, "tb1qem624qy3laarka5gv74f5tanulyfqxup6j64m2kdudwuae08fmksszsqq2"},
	{&chaincfg.RegressionNetParams, "bcrt1qem624qy3laarka5gv74f5tanulyfqxup6j64m2kdudwuae08fmksam6x4s"},
}

func genScript(t testing.TB) []byte {
	t.Helper()
	s, err := FederationScript(genFederation(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustRecipient(t testing.TB, s string) [20]byte {
	t.Helper()
	r, err := ParseRecipient(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDepositScriptGolden(t *testing.T) {
	r := mustRecipient(t, hardhat0)
	script, err := DepositScript(7772, r, genScript(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, hardhat0Deposit); !bytes.Equal(script, want) {
		t.Fatalf("deposit script\n %x\nwant\n %x", script, want)
	}
	prog := WitnessProgram(script)
	if !bytes.Equal(prog[:], unhex(t, hardhat0Program)) {
		t.Fatalf("program %x", prog)
	}
	if pk := PkScript(script); !bytes.Equal(pk, unhex(t, "0020"+hardhat0Program)) {
		t.Fatalf("pkScript %x", pk)
	}
	for _, v := range hardhat0Addresses {
		addr, ws, err := DepositAddress(v.net, 7772, r, genScript(t))
		if err != nil || addr != v.addr || !bytes.Equal(ws, script) {
			t.Errorf("%s: %s, %v; want %s", v.net.Name, addr, err, v.addr)
		}
		got, err := ParseDepositAddress(v.net, v.addr)
		if err != nil || !bytes.Equal(got[:], prog[:]) {
			t.Errorf("%s: parsed %x, %v", v.net.Name, got, err)
		}
		// BIP-173 allows the all-uppercase form (QR codes use it).
		if got, err := ParseDepositAddress(v.net, strings.ToUpper(v.addr)); err != nil || got != prog {
			t.Errorf("%s uppercase: %x, %v", v.net.Name, got, err)
		}
	}
}

// The chain id and the recipient are both committed: changing either
// changes the address.
func TestDepositAddressCommitsChainAndRecipient(t *testing.T) {
	fs := genScript(t)
	net := &chaincfg.RegressionNetParams
	base, _, err := DepositAddress(net, 7772, mustRecipient(t, hardhat0), fs)
	if err != nil {
		t.Fatal(err)
	}
	other := mustRecipient(t, hardhat0)
	other[19] ^= 1
	for name, addr := range map[string]func() (string, []byte, error){
		"chain 7771":      func() (string, []byte, error) { return DepositAddress(net, 7771, mustRecipient(t, hardhat0), fs) },
		"other recipient": func() (string, []byte, error) { return DepositAddress(net, 7772, other, fs) },
	} {
		a, _, err := addr()
		if err != nil || a == base {
			t.Errorf("%s: %s, %v", name, a, err)
		}
	}
}

func TestDepositAddressRefusesUncreditable(t *testing.T) {
	for name, r := range map[string][20]byte{"zero": {}, "bridge": BridgeAddress} {
		_, _, err := DepositAddress(&chaincfg.RegressionNetParams, 7772, r, genScript(t))
		if ruleOf(err) != ErrInvalidRecipient {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDepositScriptSizeLimit(t *testing.T) {
	max := make([]byte, MaxWitnessScriptSize-27)
	if s, err := DepositScript(1, [20]byte{}, max); err != nil || len(s) != MaxWitnessScriptSize {
		t.Fatalf("%d bytes, %v", len(s), err)
	}
	if _, err := DepositScript(1, [20]byte{}, append(max, 0)); ruleOf(err) != ErrScriptTooLarge {
		t.Fatalf("3601 bytes: %v", err)
	}
}

func TestParseDepositAddressRejects(t *testing.T) {
	regtest := &chaincfg.RegressionNetParams
	p2wpkh, _ := address.NewAddressWitnessPubKeyHash(make([]byte, 20), regtest)
	p2tr, _ := address.NewAddressTaproot(make([]byte, 32), regtest)
	p2pkh, _ := address.NewAddressPubKeyHash(make([]byte, 20), regtest)
	p2sh, _ := address.NewAddressScriptHashFromHash(make([]byte, 20), regtest)
	good := hardhat0Addresses[2].addr
	for _, tc := range []struct {
		name, addr string
		want       error
	}{
		{"empty", "", ErrAddressEncoding},
		{"bad checksum", good[:len(good)-1] + "q", ErrAddressEncoding},
		{"mixed case", strings.ToUpper(good[:10]) + good[10:], ErrAddressEncoding},
		{"truncated", good[:len(good)-8], ErrAddressEncoding},
		{"mainnet address", hardhat0Addresses[0].addr, ErrWrongNetwork},
		{"testnet4 address", hardhat0Addresses[1].addr, ErrWrongNetwork},
		{"p2wpkh", p2wpkh.EncodeAddress(), ErrNotP2WSH},
		{"p2tr", p2tr.EncodeAddress(), ErrNotP2WSH},
		{"p2pkh", p2pkh.EncodeAddress(), ErrNotP2WSH},
		{"p2sh", p2sh.EncodeAddress(), ErrNotP2WSH},
		{"raw pubkey", g1, ErrNotP2WSH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDepositAddress(regtest, tc.addr)
			if ruleOf(err) != tc.want {
				t.Fatalf("%s: err %v, want %v", tc.addr, err, tc.want)
			}
		})
	}
}

func TestParseRecipient(t *testing.T) {
	r := mustRecipient(t, hardhat0)
	if lower := mustRecipient(t, strings.ToLower(hardhat0)); lower != r {
		t.Fatal("case matters")
	}
	if upper := mustRecipient(t, "0X"+strings.ToUpper(hardhat0[2:])); upper != r {
		t.Fatal("0X prefix refused")
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{hardhat0[2:], ErrRecipientHex},
		{"0x" + hardhat0[3:], ErrRecipientHex},
		{"0xzz" + hardhat0[4:], ErrRecipientHex},
		{"", ErrRecipientHex},
		{"0x", ErrRecipientLength},
		{hardhat0[:40], ErrRecipientLength},
		{hardhat0 + "00", ErrRecipientLength},
		{"0x" + strings.Repeat("00", 32), ErrRecipientLength},
	} {
		if _, err := ParseRecipient(tc.in); ruleOf(err) != tc.want {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestNetwork(t *testing.T) {
	for _, name := range []string{"mainnet", "testnet4", "regtest"} {
		if p, err := Network(name); err != nil || p.Name != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"testnet3", "signet", "simnet", "", "Mainnet"} {
		if _, err := Network(name); !errors.Is(err, ErrUnsupportedNetwork) {
			t.Errorf("%q: %v", name, err)
		}
	}
}
