package peg

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// The federation script of genFederation, written out by hand from §4.1:
//
//	63                 OP_IF
//	52                 OP_2 (t)
//	21 <G> 21 <2G> 21 <3G>   three 33-byte pushes, ascending (0279 < 02c6 < 02f9)
//	53                 OP_3 (n)
//	ae                 OP_CHECKMULTISIG
//	67                 OP_ELSE
//	02 9000            push 144 as a minimal CScriptNum: 0x90 has its top bit
//	                   set, so a 0x00 byte keeps the number positive
//	b2                 OP_CHECKSEQUENCEVERIFY
//	75                 OP_DROP
//	51                 OP_1 (m)
//	21 <4G>
//	51                 OP_1 (e)
//	ae                 OP_CHECKMULTISIG
//	68                 OP_ENDIF
const genFederationScript = "63 52 21" + g1 + "21" + g2 + "21" + g3 + "53 ae" +
	"67 029000 b2 75 51 21" + g4 + "51 ae 68"

func TestFederationScriptGolden(t *testing.T) {
	got, err := FederationScript(genFederation(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, genFederationScript); !bytes.Equal(got, want) {
		t.Fatalf("script\n %x\nwant\n %x", got, want)
	}
}

// Each branch must be exactly what btcd's own multisig builder makes, so
// btcd's multisig tooling (CalcMultiSigStats, signers) reads it.
func TestFederationBranchesAreBtcdMultisig(t *testing.T) {
	f := genFederation(t)
	script, err := FederationScript(f)
	if err != nil {
		t.Fatal(err)
	}
	branch := func(threshold int, ks []Hex) []byte {
		var pks []*address.AddressPubKey
		for _, k := range ks {
			pk, err := address.NewAddressPubKey(k, &chaincfg.MainNetParams)
			if err != nil {
				t.Fatal(err)
			}
			pks = append(pks, pk)
		}
		ms, err := txscript.MultiSigScript(pks, threshold)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	members, emergency := branch(2, f.Members), branch(1, f.Emergency)
	if !bytes.Equal(script[1:1+len(members)], members) {
		t.Fatalf("member branch %x, btcd builds %x", script[1:1+len(members)], members)
	}
	if tail := script[len(script)-1-len(emergency) : len(script)-1]; !bytes.Equal(tail, emergency) {
		t.Fatalf("emergency branch %x, btcd builds %x", tail, emergency)
	}
}

// The CSV push is a minimal CScriptNum: OP_1…OP_16 for small delays, then
// little-endian bytes with a sign byte when the top bit is set. The rows
// include §4.5's delays (144, 4320, 26280).
func TestCSVDelayEncoding(t *testing.T) {
	for _, tc := range []struct {
		csv  uint32
		push string
	}{
		{1, "51"}, {16, "60"}, {17, "0111"}, {127, "017f"}, {128, "028000"},
		{144, "029000"}, {4320, "02e010"}, {26280, "02a866"}, {32768, "03008000"}, {65535, "03ffff00"},
	} {
		f := genFederation(t)
		f.CSVDelay = tc.csv
		script, err := FederationScript(f)
		if err != nil {
			t.Fatal(err)
		}
		want := append(append([]byte{}, unhex(t, "67"+tc.push)...), txscript.OP_CHECKSEQUENCEVERIFY, txscript.OP_DROP)
		if !bytes.Contains(script, want) {
			t.Errorf("csv %d: script %x lacks ELSE ‖ %s ‖ CSV ‖ DROP", tc.csv, script, tc.push)
		}
	}
}

func TestFederationRejects(t *testing.T) {
	notOnCurve := "02" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	for _, tc := range []struct {
		name string
		edit func(f *Federation)
		want error
	}{
		{"no members", func(f *Federation) { f.Members, f.Threshold = nil, 0 }, ErrMemberCount},
		{"16 members", func(f *Federation) {
			f.Members = make([]Hex, 16)
			f.Threshold = 9
		}, ErrMemberCount},
		{"threshold 0", func(f *Federation) { f.Threshold = 0 }, ErrThreshold},
		{"minority 1-of-3", func(f *Federation) { f.Threshold = 1 }, ErrThreshold},
		{"half 2-of-4", func(f *Federation) { f.Members = keys(t, g5, g1, g2, g3) }, ErrThreshold},
		{"4-of-3", func(f *Federation) { f.Threshold = 4 }, ErrThreshold},
		{"no emergency keys", func(f *Federation) { f.Emergency = nil }, ErrEmergencyCount},
		{"16 emergency keys", func(f *Federation) { f.Emergency = make([]Hex, 16) }, ErrEmergencyCount},
		{"emergency threshold 0", func(f *Federation) { f.EmergencyThreshold = 0 }, ErrEmergencyThreshold},
		{"emergency 2-of-1", func(f *Federation) { f.EmergencyThreshold = 2 }, ErrEmergencyThreshold},
		{"csv 0", func(f *Federation) { f.CSVDelay = 0 }, ErrCSVDelay},
		{"csv 65536", func(f *Federation) { f.CSVDelay = 65536 }, ErrCSVDelay},
		{"uncompressed member", func(f *Federation) { f.Members[1] = uncompressed(t, g2) }, ErrUncompressedKey},
		{"hybrid emergency key", func(f *Federation) {
			k := uncompressed(t, g4)
			k[0] = 0x06 | k[64]&1
			f.Emergency[0] = k
		}, ErrUncompressedKey},
		{"32-byte key", func(f *Federation) { f.Members[0] = f.Members[0][1:] }, ErrInvalidKey},
		{"prefix 05", func(f *Federation) { f.Members[0][0] = 0x05 }, ErrInvalidKey},
		{"x off the curve", func(f *Federation) { f.Members[2] = unhex(t, notOnCurve) }, ErrInvalidKey},
		{"unsorted members", func(f *Federation) { f.Members[0], f.Members[1] = f.Members[1], f.Members[0] }, ErrUnsortedKeys},
		{"unsorted emergency", func(f *Federation) { f.Emergency = keys(t, g4, g5) }, ErrUnsortedKeys},
		{"member twice", func(f *Federation) { f.Members[1] = f.Members[0] }, ErrDuplicateKey},
		{"emergency key twice", func(f *Federation) { f.Emergency = keys(t, g4, g4) }, ErrDuplicateKey},
		{"member is emergency key", func(f *Federation) { f.Emergency[0] = f.Members[2] }, ErrDuplicateKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := genFederation(t)
			tc.edit(f)
			script, err := FederationScript(f)
			if !errors.Is(err, tc.want) || ruleOf(err) != tc.want {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if script != nil {
				t.Fatalf("script %x along with an error", script)
			}
		})
	}
}

// The largest federation still fits Bitcoin Core's P2WSH limits with room
// to spare once prefixed into a deposit script.
func TestLargestFederationIsStandard(t *testing.T) {
	script, err := FederationScript(scalarFederation(8, 15, 8, 15, MaxCSVDelay))
	if err != nil {
		t.Fatal(err)
	}
	deposit, err := DepositScript(1, [20]byte{1}, script)
	if err != nil {
		t.Fatal(err)
	}
	if len(deposit) > MaxWitnessScriptSize {
		t.Fatalf("deposit script of %d bytes", len(deposit))
	}
	t.Logf("15+15 keys: federation script %d bytes, deposit script %d", len(script), len(deposit))
}
