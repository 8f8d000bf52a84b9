package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// devKey is the first account of the public dev mnemonic.
const devKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadKey(t *testing.T) {
	want, _ := crypto.HexToECDSA(devKey)
	for name, content := range map[string]string{"bare": devKey, "0x and newline": "0x" + devKey + "\n"} {
		got, err := loadKey(writeFile(t, "key", content), "")
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A keystore file as geth writes it (light scrypt to keep the test fast).
	ks, err := keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: crypto.PubkeyToAddress(want.PublicKey), PrivateKey: want},
		"s3cret", keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	ksFile := writeFile(t, "keystore.json", string(ks))
	got, err := loadKey(ksFile, writeFile(t, "pw", "s3cret\r\nignored second line\n"))
	if err != nil || !got.Equal(want) {
		t.Fatalf("keystore: %v", err)
	}

	for name, c := range map[string]struct{ key, password, want string }{
		"no file":          {filepath.Join(t.TempDir(), "missing"), "", "--key: open"},
		"not a key":        {writeFile(t, "key", "hello"), "", "neither a hex private key nor a keystore JSON file"},
		"no password":      {ksFile, "", "give its password file with --password"},
		"wrong password":   {ksFile, writeFile(t, "pw", "nope"), "could not decrypt key with given password"},
		"password for hex": {writeFile(t, "key", devKey), writeFile(t, "pw", "x"), "--password is for a keystore file"},
	} {
		if _, err := loadKey(c.key, c.password); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		} else if strings.Contains(err.Error(), devKey) {
			t.Errorf("%s: the error quotes the key", name)
		}
	}
}

func TestRelayFlags(t *testing.T) {
	key := writeFile(t, "key", devKey)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, `Required flag "key" not set`},
		{[]string{"--key", key, "--interval", "0s"}, "--interval must be positive"},
		{[]string{"--key", key, "--btc.rpc", "ftp://x"}, "invalid --btc.rpc"},
		{[]string{"--key", key, "--rpc", "ws://127.0.0.1:8546"}, "invalid --rpc"},
		{[]string{"--key", writeFile(t, "bad", "zz")}, "neither a hex private key"},
		{[]string{"--key", key, "extra"}, "unexpected arguments"},
		{[]string{"--key", key, "--metrics", "--metrics.port", busyPort}, "--metrics: listen tcp 127.0.0.1:" + busyPort},
		{[]string{"--key", key, "--watch", "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"}, "want a 0x-prefixed sidechain address"},
		{[]string{"--key", key, "--watch", "0x01"}, "want a 0x-prefixed sidechain address"},
	} {
		err := newApp().Run(append([]string{"mmfed", "relay"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestBtcCommand: the address of the dev key on regtest, and pay's refusals
// before it reaches any node.
func TestBtcCommand(t *testing.T) {
	key := writeFile(t, "key", devKey)
	var out strings.Builder
	app := newApp()
	app.Writer = &out
	if err := app.Run([]string{"mmfed", "btc", "address", "--key", key}); err != nil {
		t.Fatal(err)
	}
	// P2PKH of the dev key's compressed point on regtest.
	raw, _ := hex.DecodeString(devKey)
	_, pub := btcec.PrivKeyFromBytes(raw)
	want, err := address.NewAddressPubKeyHash(address.Hash160(pub.SerializeCompressed()), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != want.EncodeAddress() {
		t.Fatalf("address %q, want %s", got, want.EncodeAddress())
	}
	// script: the P2PKH script of that address, and a P2WPKH's.
	for addr, script := range map[string]string{
		want.EncodeAddress():                           fmt.Sprintf("0x76a914%x88ac", address.Hash160(pub.SerializeCompressed())),
		"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080": "0x0014751e76e8199196d454941c45d1b3a323f1433bd6",
	} {
		out.Reset()
		if err := app.Run([]string{"mmfed", "btc", "script", "--to", addr}); err != nil || strings.TrimSpace(out.String()) != script {
			t.Errorf("script of %s: %q (%v), want %s", addr, out.String(), err, script)
		}
	}
	if err := newApp().Run([]string{"mmfed", "btc", "script", "--to", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}); err == nil ||
		!strings.Contains(err.Error(), "not an address of regtest") {
		t.Errorf("script of a mainnet address on regtest: %v", err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", key, "--to", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "--amount", "1"}, "not an address of regtest"},
		{[]string{"--key", key, "--to", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "--amount", "-1"}, "want a positive amount"},
		{[]string{"--key", key, "--to", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "--amount", "1", "--btc.net", "simnet"}, "simnet"},
	} {
		err := newApp().Run(append([]string{"mmfed", "btc", "pay"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		}
	}
}
