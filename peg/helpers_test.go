package peg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// Multiples of the secp256k1 generator: public points anyone can check, so
// the golden scripts below can be written out by hand.
const (
	g1 = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	g2 = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
	g3 = "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
	g4 = "02e493dbf1c10d80f3581e4904930b1404cc6c13900ee0758474fa94abe8c4cd13"
	g5 = "022f8bde4d1a07209355b4a7250a5c5128e88b84bddc619ab7cba8d569b240efe4"
)

var allRules = []error{
	ErrMemberCount, ErrThreshold, ErrEmergencyCount, ErrEmergencyThreshold, ErrCSVDelay,
	ErrUncompressedKey, ErrInvalidKey, ErrUnsortedKeys, ErrDuplicateKey, ErrScriptTooLarge,
	ErrUnsupportedNetwork, ErrAddressEncoding, ErrWrongNetwork, ErrNotP2WSH, ErrRecipientHex,
	ErrRecipientLength, ErrInvalidRecipient, ErrAddressMismatch,
	ErrNothingToBatch, ErrInsufficientFunds, ErrUnsupportedScript, ErrNotEnoughSignatures, ErrSpendInvalid,
	ErrNothingToRefresh, ErrBadSignature,
}

// ruleOf returns the one rule err matches, or nil if it matches none or
// several.
func ruleOf(err error) error {
	var found error
	for _, r := range allRules {
		if errors.Is(err, r) {
			if found != nil {
				return nil
			}
			found = r
		}
	}
	return found
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keys(t testing.TB, hexKeys ...string) []Hex {
	t.Helper()
	out := make([]Hex, len(hexKeys))
	for i, k := range hexKeys {
		out[i] = unhex(t, k)
	}
	return out
}

// genFederation is 2-of-{G,2G,3G}, 1-of-{4G} after 144 blocks.
func genFederation(t testing.TB) *Federation {
	return &Federation{
		Threshold: 2, Members: keys(t, g1, g2, g3),
		EmergencyThreshold: 1, Emergency: keys(t, g4),
		CSVDelay: 144,
	}
}

func uncompressed(t testing.TB, compressed string) []byte {
	t.Helper()
	pk, err := btcec.ParsePubKey(unhex(t, compressed))
	if err != nil {
		t.Fatal(err)
	}
	return pk.SerializeUncompressed()
}

// regtestParams are §4.5's regtest column around the dev federation.
func regtestParams(t testing.TB) *Params {
	t.Helper()
	fed, _, err := DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	return &Params{
		Network:             "regtest",
		Federation:          *fed,
		RefreshAgeBlocks:    72,
		PegInConfirmations:  3,
		MinPegInSat:         10_000,
		MinPegOutSat:        10_000,
		BatchIntervalBlocks: 10,
		MaxInputs:           50,
		MaxOutputs:          50,
		FeeRate:             FeeRateBounds{Min: 1, Max: 1000, Current: 2},
		PegOutConfirmations: 3,
		RBFAfterBtcBlocks:   3,
		Finality:            Finality{Mode: "bitcoin", K: 2},
		MaxForkDepth:        100,
		MaxHeadersPerCall:   200,
		Checkpoint:          Checkpoint{Height: 0, Hash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
	}
}

// scalarFederation is a t-of-n, m-of-e federation whose keys are 1·G,
// 2·G, … (members first), sorted into script order.
func scalarFederation(t, n, m, e int, csv uint32) *Federation {
	f := &Federation{Threshold: t, EmergencyThreshold: m, CSVDelay: csv}
	for i := range n + e {
		var secret [32]byte
		secret[31] = byte(i + 1)
		k, _ := btcec.PrivKeyFromBytes(secret[:])
		if i < n {
			f.Members = append(f.Members, k.PubKey().SerializeCompressed())
		} else {
			f.Emergency = append(f.Emergency, k.PubKey().SerializeCompressed())
		}
	}
	byBytes := func(a, b Hex) int { return bytes.Compare(a, b) }
	slices.SortFunc(f.Members, byBytes)
	slices.SortFunc(f.Emergency, byBytes)
	return f
}
