// Package devkey derives the keys of a published dev mnemonic: the BIP-39
// seed (empty passphrase) and BIP-32 children under a fixed parent path. It
// exists so that every package with dev keys (the genesis dev accounts, the
// peg's dev federation) derives them one way; keys derived here are public by
// construction and must never hold value.
package devkey

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// H marks a hardened path step: H + 44 is 44'.
const H = hdkeychain.HardenedKeyStart

// Keys returns the private keys at parent/0 … parent/n-1 of mnemonic.
//
// The mnemonic is not NFKD-normalized as BIP-39 asks: the dev mnemonics are
// ASCII, for which normalization is the identity.
func Keys(mnemonic string, parent []uint32, n int) ([]*btcec.PrivateKey, error) {
	seed, err := pbkdf2.Key(sha512.New, mnemonic, []byte("mnemonic"), 2048, 64)
	if err != nil {
		return nil, err
	}
	// The network parameter only chooses the extended-key version bytes,
	// which never leave this function.
	node, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, err
	}
	for _, step := range parent {
		if node, err = node.Derive(step); err != nil {
			return nil, err
		}
	}
	keys := make([]*btcec.PrivateKey, n)
	for i := range keys {
		child, err := node.Derive(uint32(i))
		if err != nil {
			return nil, fmt.Errorf("dev key %d: %w", i, err)
		}
		if keys[i], err = child.ECPrivKey(); err != nil {
			return nil, fmt.Errorf("dev key %d: %w", i, err)
		}
	}
	return keys, nil
}
