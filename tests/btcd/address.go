package btcd

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// MiningKey is the deterministic key behind MiningAddress:
// sha256("mmgeth tests btcd miner"). Tests may spend its coinbases.
func MiningKey() *btcec.PrivateKey {
	k := sha256.Sum256([]byte("mmgeth tests btcd miner"))
	priv, _ := btcec.PrivKeyFromBytes(k[:])
	return priv
}

// MiningAddress is the regtest P2PKH address of MiningKey, which btcd pays
// its coinbases to (--miningaddr).
func MiningAddress() (*address.AddressPubKeyHash, error) {
	pub := MiningKey().PubKey().SerializeCompressed()
	return address.NewAddressPubKeyHash(address.Hash160(pub), &chaincfg.RegressionNetParams)
}
