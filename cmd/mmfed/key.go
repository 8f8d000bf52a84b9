package main

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
)

// loadKey reads the relayer's key: a geth keystore JSON file (the file
// starts with '{') decrypted with the first line of passwordFile, or a hex
// private key (0x optional). Errors never quote the file's content.
func loadKey(keyFile, passwordFile string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	raw = bytes.TrimSpace(raw)
	if bytes.HasPrefix(raw, []byte("{")) {
		if passwordFile == "" {
			return nil, fmt.Errorf("--key %s is a keystore file: give its password file with --password", keyFile)
		}
		pw, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password: %w", err)
		}
		password, _, _ := strings.Cut(string(pw), "\n")
		key, err := keystore.DecryptKey(raw, strings.TrimSuffix(password, "\r"))
		if err != nil {
			return nil, fmt.Errorf("--key %s: %w", keyFile, err)
		}
		return key.PrivateKey, nil
	}
	if passwordFile != "" {
		return nil, fmt.Errorf("--password is for a keystore file, and --key %s holds a hex key", keyFile)
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(string(raw), "0x"))
	if err != nil {
		return nil, fmt.Errorf("--key %s: neither a hex private key nor a keystore JSON file", keyFile)
	}
	return key, nil
}
