package peg

import (
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

var fuzzNets = []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet4Params, &chaincfg.RegressionNetParams}

// FuzzParseDepositAddress: no input panics, every failure names one rule,
// and whatever parses is the canonical encoding of its program (up to
// BIP-173's all-uppercase form), so two strings never parse to one deposit.
func FuzzParseDepositAddress(f *testing.F) {
	for _, v := range hardhat0Addresses {
		f.Add(uint8(0), v.addr)
		f.Add(uint8(2), strings.ToUpper(v.addr))
	}
	f.Add(uint8(2), "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
	f.Add(uint8(1), "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c")
	f.Add(uint8(0), "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
	f.Add(uint8(2), g1)
	f.Add(uint8(2), "bcrt1")
	f.Fuzz(func(t *testing.T, n uint8, addr string) {
		net := fuzzNets[int(n)%len(fuzzNets)]
		prog, err := ParseDepositAddress(net, addr)
		if err != nil {
			if ruleOf(err) == nil {
				t.Fatalf("%q: error matches no single rule: %v", addr, err)
			}
			return
		}
		a, err := address.NewAddressWitnessScriptHash(prog[:], net)
		if err != nil {
			t.Fatal(err)
		}
		if canon := a.EncodeAddress(); addr != canon && addr != strings.ToUpper(canon) {
			t.Fatalf("%q parses on %s but encodes as %s", addr, net.Name, canon)
		}
	})
}

// FuzzVerifyDepositAddress: any address and recipient strings give nil or
// one rule, and nil only for the exact address Deposit hands out.
func FuzzVerifyDepositAddress(f *testing.F) {
	p := regtestPolicy(f)
	for _, v := range hardhat0Addresses {
		f.Add(v.addr, hardhat0)
	}
	d, err := p.Deposit(mustRecipient(f, hardhat0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d.Address, hardhat0)
	f.Add(p.Federation.ChangeAddress, "0x0000000000000000000000000000000000000000")
	f.Add(d.Address, "0x0000000000000000000000000000000001000006")
	f.Add(d.Address, "f39fd6e51aad88f6f4ce6ab8827279cfffb92266")
	f.Fuzz(func(t *testing.T, addr, recipient string) {
		err := p.VerifyDepositAddress(addr, recipient)
		if err != nil {
			if ruleOf(err) == nil {
				t.Fatalf("%q, %q: error matches no single rule: %v", addr, recipient, err)
			}
			return
		}
		d, err := p.Deposit(mustRecipient(t, recipient))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(d.Address, addr) {
			t.Fatalf("%q verified for %s, whose address is %s", addr, recipient, d.Address)
		}
	})
}

// FuzzFederationScript: arbitrary thresholds, delays and key bytes never
// panic, fail with exactly one rule, and a script is only built for a
// federation whose every rule holds.
func FuzzFederationScript(f *testing.F) {
	gen := genFederation(f)
	f.Add(uint8(2), uint8(1), uint32(144), []byte(nil), uint8(0))
	f.Add(uint8(1), uint8(1), uint32(0), []byte(nil), uint8(0))
	f.Add(uint8(2), uint8(1), uint32(144), uncompressed(f, g2), uint8(1))
	f.Add(uint8(2), uint8(1), uint32(144), []byte(gen.Members[0]), uint8(3))
	f.Fuzz(func(t *testing.T, threshold, emergencyThreshold uint8, csv uint32, key []byte, slot uint8) {
		fed := genFederation(t)
		fed.Threshold, fed.EmergencyThreshold, fed.CSVDelay = int(threshold), int(emergencyThreshold), csv
		if key != nil {
			all := append(append([]Hex{}, fed.Members...), fed.Emergency...)
			all[int(slot)%len(all)] = key
			fed.Members, fed.Emergency = all[:len(fed.Members)], all[len(fed.Members):]
		}
		script, err := FederationScript(fed)
		if err != nil {
			if ruleOf(err) == nil || script != nil {
				t.Fatalf("%v (script %x)", err, script)
			}
			return
		}
		if fed.Validate() != nil || len(script) == 0 {
			t.Fatal("script for an invalid federation")
		}
	})
}
