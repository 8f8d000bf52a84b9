package genesis

import (
	"crypto/ecdsa"
	"crypto/pbkdf2"
	"crypto/sha512"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/ethereum/go-ethereum/crypto"
)

// DevKeys derives the spec's dev accounts the way Hardhat, anvil and every
// wallet do: BIP-39 seed of the mnemonic (empty passphrase), then BIP-44 path
// m/44'/60'/0'/0/i. Deriving instead of listing keys keeps the spec honest:
// the accounts are exactly those of the mnemonic it names.
func (s *Spec) DevKeys() ([]*ecdsa.PrivateKey, error) {
	if s.DevAccounts == 0 {
		return nil, nil
	}
	seed, err := pbkdf2.Key(sha512.New, s.DevMnemonic, []byte("mnemonic"), 2048, 64)
	if err != nil {
		return nil, err
	}
	// The network parameter only chooses the extended-key version bytes,
	// which never leave this function.
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, err
	}
	account := master
	for _, step := range []uint32{44 + hdkeychain.HardenedKeyStart, 60 + hdkeychain.HardenedKeyStart, hdkeychain.HardenedKeyStart, 0} {
		if account, err = account.Derive(step); err != nil {
			return nil, err
		}
	}
	keys := make([]*ecdsa.PrivateKey, s.DevAccounts)
	for i := range keys {
		child, err := account.Derive(uint32(i))
		if err != nil {
			return nil, err
		}
		priv, err := child.ECPrivKey()
		if err != nil {
			return nil, err
		}
		if keys[i], err = crypto.ToECDSA(priv.Serialize()); err != nil {
			return nil, fmt.Errorf("dev key %d: %w", i, err)
		}
	}
	return keys, nil
}
