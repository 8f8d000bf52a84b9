package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	app := newApp()
	app.Writer = &out
	err := app.Run(append([]string{"mmfed"}, args...))
	return out.String(), err
}

// field is the value of "name: value" in out.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	t.Fatalf("no %s in %q", name, out)
	return ""
}

// key new writes a keystore file that inspect (and run's loadKey) opens
// with the password, showing the same address and public key and the
// private key only with --private; import encrypts a hex key and refuses
// it twice; no output or error carries a private key unasked.
func TestKeyCommands(t *testing.T) {
	dir := t.TempDir()
	ks := filepath.Join(dir, "keystore")
	pw := writeFile(t, "pw", "correct horse\n")
	out, err := runApp(t, "key", "new", "--keystore", ks, "--password", pw, "--lightkdf")
	if err != nil {
		t.Fatal(err)
	}
	file, addr, pub := field(t, out, "file"), field(t, out, "address"), field(t, out, "pubkey")
	if filepath.Dir(file) != ks || len(pub) != 66 || strings.Contains(out, "private") {
		t.Fatalf("key new printed %q", out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keystore file %v: %v", fi.Mode(), err)
	}
	out, err = runApp(t, "key", "inspect", "--key", file, "--password", pw)
	if err != nil || field(t, out, "address") != addr || field(t, out, "pubkey") != pub || strings.Contains(out, "private") {
		t.Fatalf("inspect: %q, %v", out, err)
	}
	out, err = runApp(t, "key", "inspect", "--key", file, "--password", pw, "--private")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := crypto.HexToECDSA(field(t, out, "private"))
	if err != nil || crypto.PubkeyToAddress(priv.PublicKey).Hex() != addr ||
		hex.EncodeToString(crypto.CompressPubkey(&priv.PublicKey)) != pub {
		t.Fatalf("inspect --private: %q, %v", out, err)
	}

	// Import the dev key; its address is the dev account's.
	hexKey := writeFile(t, "hex", devKey+"\n")
	out, err = runApp(t, "key", "import", "--key", hexKey, "--keystore", ks, "--password", pw, "--lightkdf")
	if err != nil || field(t, out, "address") != "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" {
		t.Fatalf("import: %q, %v", out, err)
	}
	imported := field(t, out, "file")
	out, err = runApp(t, "key", "inspect", "--key", imported, "--password", pw, "--private")
	if err != nil || field(t, out, "private") != devKey {
		t.Fatalf("inspect imported: %q, %v", out, err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--key", hexKey, "--keystore", ks, "--password", pw, "--lightkdf"}, "account already exists"},
		{[]string{"new", "--keystore", ks, "--password", writeFile(t, "empty", "\n")}, "the first line is empty"},
		{[]string{"new", "--keystore", ks}, `Required flag "password" not set`},
		{[]string{"new", "--keystore", ks, "--password", filepath.Join(dir, "missing")}, "--password: open"},
		{[]string{"import", "--key", writeFile(t, "bad", "nothex"), "--keystore", ks, "--password", pw}, "neither a hex private key"},
		{[]string{"import", "--key", imported, "--keystore", ks, "--password", pw}, "give its password file with --password"},
		{[]string{"inspect", "--key", imported, "--password", writeFile(t, "wrong", "nope")}, "could not decrypt key"},
		{[]string{"inspect", "--key", imported}, "give its password file"},
		{[]string{"inspect", "--key", hexKey, "extra"}, "unexpected arguments"},
	} {
		out, err := runApp(t, append([]string{"key"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		} else if strings.Contains(err.Error()+out, devKey) || strings.Contains(err.Error()+out, "correct horse") {
			t.Errorf("%v: a secret in %q / %v", c.args, out, err)
		}
	}
	if entries, _ := os.ReadDir(ks); len(entries) != 2 {
		t.Fatalf("keystore holds %d files after the refusals, want 2", len(entries))
	}
}

// run's key, signer and strict-mode flags are refused before any node is
// asked; the signer's strict flags as run's.
func TestRunFlags(t *testing.T) {
	key := writeFile(t, "key", devKey)
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "give the member key with --key, or an mmfed signer's socket with --signer"},
		{[]string{"--key", key, "--signer", sock}, "not both"},
		{[]string{"--signer", sock}, "--signer needs --gas.key"},
		{[]string{"--signer", sock, "--gas.key", key, "--cap.daily", "1"}, "--cap.daily belongs to mmfed signer"},
		{[]string{"--signer", sock, "--gas.key", key, "--fee.max", "9"}, "--fee.max belongs to mmfed signer"},
		{[]string{"--signer", sock, "--gas.key", key}, "signer " + sock},
		{[]string{"--key", key, "--cap.daily", "-1"}, "--cap.daily -1: want BTC"},
		{[]string{"--key", key, "--fee.max", "0"}, "the maximum fee rate must be positive"},
		{[]string{"--key", key, "--gas.key", writeFile(t, "bad", "zz")}, "--gas.key"},
		{[]string{"--signer", sock, "--gas.key", key, "--strict"}, "--strict belongs to mmfed signer"},
		{[]string{"--key", key, "--strict", "--btc.rpc", "127.0.0.1:1"}, "--strict needs --network and --btc.rpc"},
		{[]string{"--key", key, "--strict", "--network", "regtest"}, "--strict needs --network and --btc.rpc"},
		{[]string{"--key", key, "--strict", "--network", "nowhere", "--btc.rpc", "127.0.0.1:1"}, "--network"},
		{[]string{"--key", key, "--strict", "--network", "dev", "--btc.rpc", "127.0.0.1:1"}, "network dev has no Bitcoin-anchored finality"},
	} {
		args := append([]string{"mmfed", "run", "--member", "0", "--datadir", t.TempDir()}, tt.args...)
		err := newApp().Run(args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		}
	}
	err := newApp().Run([]string{"mmfed", "signer", "--key", key, "--datadir", t.TempDir(), "--strict", "--network", "regtest"})
	if err == nil || !strings.Contains(err.Error(), "--strict needs --network and --btc.rpc") {
		t.Errorf("signer --strict without --btc.rpc: %v", err)
	}
}
