package genesis

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/internal/devkey"
)

// DevKeys derives the spec's dev accounts the way Hardhat, anvil and every
// wallet do: BIP-39 seed of the mnemonic (empty passphrase), then BIP-44 path
// m/44'/60'/0'/0/i. Deriving instead of listing keys keeps the spec honest:
// the accounts are exactly those of the mnemonic it names.
func (s *Spec) DevKeys() ([]*ecdsa.PrivateKey, error) {
	if s.DevAccounts == 0 {
		return nil, nil
	}
	privs, err := devkey.Keys(s.DevMnemonic, []uint32{devkey.H + 44, devkey.H + 60, devkey.H + 0, 0}, s.DevAccounts)
	if err != nil {
		return nil, err
	}
	keys := make([]*ecdsa.PrivateKey, len(privs))
	for i, priv := range privs {
		if keys[i], err = crypto.ToECDSA(priv.Serialize()); err != nil {
			return nil, fmt.Errorf("dev key %d: %w", i, err)
		}
	}
	return keys, nil
}
