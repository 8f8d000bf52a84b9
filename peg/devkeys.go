package peg

import (
	"bytes"
	"slices"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/mmgeth/mmgeth/internal/devkey"
)

// DevMnemonic is Hardhat's and anvil's published mnemonic. Every key derived
// from it is public: the dev and regtest federations built from it let
// anyone sign peg-outs, and must never protect value.
const DevMnemonic = "test test test test test test test test test test test junk"

// The dev federation's derivation paths. Members sit at PEG.md's
// m/84'/1'/7'/0/i; emergency keys at m/84'/1'/7'/1/j, the next chain of the
// same account, so that no emergency key is ever a member key.
var (
	DevMemberPath    = []uint32{devkey.H + 84, devkey.H + 1, devkey.H + 7, 0}
	DevEmergencyPath = []uint32{devkey.H + 84, devkey.H + 1, devkey.H + 7, 1}
)

// The dev and regtest federation of §4.5: 2-of-3 members, 1-of-1 emergency
// after 144 blocks.
const (
	devMembers            = 3
	devThreshold          = 2
	devEmergency          = 1
	devEmergencyThreshold = 1
	devCSVDelay           = 144
)

// DevKeys are the private keys of DevFederation, each list in script order
// (ascending public key), which is not derivation order: Members[i] signs
// for member i.
type DevKeys struct {
	Members   []*btcec.PrivateKey
	Emergency []*btcec.PrivateKey
}

// DevFederation returns the public dev/regtest federation (§4.5) and its
// private keys. For dev and regtest only: anyone can derive these keys.
func DevFederation() (*Federation, *DevKeys, error) {
	return DeriveFederation(DevMnemonic, devThreshold, devMembers, devEmergencyThreshold, devEmergency, devCSVDelay)
}

// DeriveFederation derives a t-of-n, m-of-e federation from mnemonic the
// way DevFederation does (members at DevMemberPath/i, emergency keys at
// DevEmergencyPath/j), sorted into script order. With DevMnemonic it makes
// public placeholder federations (testnet's until its real keys exist):
// their keys protect nothing.
func DeriveFederation(mnemonic string, t, n, m, e int, csv uint32) (*Federation, *DevKeys, error) {
	members, err := devkey.Keys(mnemonic, DevMemberPath, n)
	if err != nil {
		return nil, nil, err
	}
	emergency, err := devkey.Keys(mnemonic, DevEmergencyPath, e)
	if err != nil {
		return nil, nil, err
	}
	byPubkey := func(a, b *btcec.PrivateKey) int {
		return bytes.Compare(a.PubKey().SerializeCompressed(), b.PubKey().SerializeCompressed())
	}
	slices.SortFunc(members, byPubkey)
	slices.SortFunc(emergency, byPubkey)
	f := &Federation{
		Threshold:          t,
		Members:            pubkeys(members),
		EmergencyThreshold: m,
		Emergency:          pubkeys(emergency),
		CSVDelay:           csv,
	}
	return f, &DevKeys{Members: members, Emergency: emergency}, f.Validate()
}

func pubkeys(keys []*btcec.PrivateKey) []Hex {
	out := make([]Hex, len(keys))
	for i, k := range keys {
		out[i] = k.PubKey().SerializeCompressed()
	}
	return out
}
