package main

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"
)

var (
	keystoreFlag = &cli.StringFlag{
		Name:  "keystore",
		Usage: "directory of geth keystore files to write the key to",
		Value: "keystore",
	}
	newPasswordFlag = &cli.StringFlag{
		Name:     "password",
		Usage:    "file whose first line is the password that encrypts the keystore file",
		Required: true,
	}
	lightKDFFlag = &cli.BoolFlag{
		Name:  "lightkdf",
		Usage: "encrypt with geth's light scrypt parameters (fast, weak: for tests only)",
	}
	privateFlag = &cli.BoolFlag{
		Name:  "private",
		Usage: "also print the private key (hex)",
	}
	inspectKeyFlag = &cli.StringFlag{
		Name:     "key",
		Usage:    "key file: a geth keystore JSON file (with --password) or a hex private key",
		Required: true,
	}
	importKeyFlag = &cli.StringFlag{
		Name:     "key",
		Usage:    "file holding the hex private key to import",
		Required: true,
	}
)

// keyCommand manages member keys as geth keystore files, which mmfed run
// and mmfed signer read with --key and --password.
var keyCommand = &cli.Command{
	Name:  "key",
	Usage: "make, import and inspect member keys (geth keystore files)",
	Subcommands: []*cli.Command{
		{
			Name:   "new",
			Usage:  "write a fresh key to --keystore, encrypted with --password; prints its file, address and public key",
			Flags:  []cli.Flag{keystoreFlag, newPasswordFlag, lightKDFFlag},
			Action: runKeyNew,
		},
		{
			Name:   "import",
			Usage:  "encrypt the hex private key of --key into --keystore with --password; prints its file, address and public key",
			Flags:  []cli.Flag{importKeyFlag, keystoreFlag, newPasswordFlag, lightKDFFlag},
			Action: runKeyImport,
		},
		{
			Name: "inspect",
			Usage: "print a key's Ethereum address and its compressed secp256k1 public key, the member key a " +
				"federation publishes (and the private key with --private)",
			Flags:  []cli.Flag{inspectKeyFlag, passwordFlag, privateFlag},
			Action: runKeyInspect,
		},
	},
}

func runKeyNew(c *cli.Context) error {
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	return storeKey(c, key)
}

func runKeyImport(c *cli.Context) error {
	key, err := loadKey(c.String(importKeyFlag.Name), "")
	if err != nil {
		return err
	}
	return storeKey(c, key)
}

// storeKey encrypts key into --keystore with --password and prints it.
func storeKey(c *cli.Context, key *ecdsa.PrivateKey) error {
	ks, password, err := openKeystore(c)
	if err != nil {
		return err
	}
	acct, err := ks.ImportECDSA(key, password)
	if err != nil {
		return fmt.Errorf("--keystore %s: %w", c.String(keystoreFlag.Name), err)
	}
	fmt.Fprintln(c.App.Writer, "file:", acct.URL.Path)
	printKey(c, key, false)
	return nil
}

func runKeyInspect(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unexpected arguments %q", c.Args().Slice())
	}
	key, err := loadKey(c.String(inspectKeyFlag.Name), c.String(passwordFlag.Name))
	if err != nil {
		return err
	}
	printKey(c, key, c.Bool(privateFlag.Name))
	return nil
}

// printKey prints what a member publishes: the address the Bridge holds
// as its signer and the public key in the federation script.
func printKey(c *cli.Context, key *ecdsa.PrivateKey, private bool) {
	fmt.Fprintln(c.App.Writer, "address:", crypto.PubkeyToAddress(key.PublicKey))
	fmt.Fprintf(c.App.Writer, "pubkey: %x\n", crypto.CompressPubkey(&key.PublicKey))
	if private {
		fmt.Fprintf(c.App.Writer, "private: %x\n", crypto.FromECDSA(key))
	}
}

// openKeystore opens --keystore with the scrypt parameters asked for and
// reads the new file's password, which must not be empty.
func openKeystore(c *cli.Context) (*keystore.KeyStore, string, error) {
	if c.Args().Present() {
		return nil, "", fmt.Errorf("unexpected arguments %q", c.Args().Slice())
	}
	password, err := readPassword(c.String(newPasswordFlag.Name))
	if err != nil {
		return nil, "", err
	}
	if password == "" {
		return nil, "", fmt.Errorf("--password %s: the first line is empty; a member key needs a password", c.String(newPasswordFlag.Name))
	}
	n, p := keystore.StandardScryptN, keystore.StandardScryptP
	if c.Bool(lightKDFFlag.Name) {
		n, p = keystore.LightScryptN, keystore.LightScryptP
	}
	dir := c.String(keystoreFlag.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("--keystore: %w", err)
	}
	return keystore.NewKeyStore(dir, n, p), password, nil
}

// readPassword is the first line of file (a trailing \r dropped).
func readPassword(file string) (string, error) {
	pw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--password: %w", err)
	}
	password, _, _ := strings.Cut(string(pw), "\n")
	return strings.TrimSuffix(password, "\r"), nil
}

// loadKey reads a key file: a geth keystore JSON file (the file starts
// with '{') decrypted with the first line of passwordFile, or a hex
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
		password, err := readPassword(passwordFile)
		if err != nil {
			return nil, err
		}
		key, err := keystore.DecryptKey(raw, password)
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
		return nil, errors.New("--key " + keyFile + ": neither a hex private key nor a keystore JSON file")
	}
	return key, nil
}
