package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/peg/fed"
)

// devNode is an in-process mmgeth --dev node; its Bridge holds the dev
// federation. It returns the node's HTTP endpoint.
func devNode(t *testing.T) string {
	t.Helper()
	if os.Getenv("MMGETH_TEST_LOG") == "" {
		log.SetDefault(log.NewLogger(log.DiscardHandler()))
	}
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{Spec: spec, Dev: true, HTTP: true, HTTPAddr: "127.0.0.1", ListenPort: -1, IPCDisable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n.HTTPEndpoint()
}

// mmfed status on a dev node: the dev federation, custody with its
// invariant, no peg-outs; with --datadir the member's signed log and what
// it paid in the last 24 hours against the cap.
func TestStatus(t *testing.T) {
	url := devNode(t)
	dev, _, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	out, err := runApp(t, "status", "--rpc", url)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Federation: epoch 0, 2 of 3", "invariant holds", "Peg-outs: 0 queued, 0 batches open",
		"member 0  " + hex.EncodeToString(dev.Members[0])} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	dir := t.TempDir()
	l, err := fed.OpenSignedLog(filepath.Join(dir, "signed.log"))
	if err != nil {
		t.Fatal(err)
	}
	in := []peg.UTXO{{OutPoint: wire.OutPoint{Hash: chainhash.Hash{1}}}, {OutPoint: wire.OutPoint{Hash: chainhash.Hash{2}}}}
	l.Append(1, 0, 40_000_000, time.Now().Add(-25*time.Hour), in[:1])
	l.Append(2, 0, 30_000_000, time.Now().Add(-time.Hour), in[1:])
	l.Close()
	out, err = runApp(t, "status", "--rpc", url, "--datadir", dir, "--cap.daily", "1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st fedStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if st.Epoch != 0 || st.Threshold != 2 || len(st.Members) != 3 || !st.Invariant || st.Halted || len(st.Batches) != 0 ||
		st.Local == nil || st.Local.SignedInputs != 2 || st.Local.SignedBatches != 2 ||
		st.Local.Outflow24hSat != 30_000_000 || st.Local.CapDailySat != 100_000_000 {
		t.Fatalf("status --json: %s", out)
	}
	out, err = runApp(t, "status", "--rpc", url, "--datadir", dir, "--cap.daily", "1")
	if err != nil || !strings.Contains(out, "2 inputs signed in 2 batches; paid out in the last 24 h: 0.30000000 BTC of a 1.00000000 BTC cap") {
		t.Fatalf("status --datadir: %v\n%s", err, out)
	}
	if _, err := runApp(t, "status", "--rpc", url, "--datadir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no signed.log") {
		t.Fatalf("status of an empty datadir: %v", err)
	}
	if _, err := runApp(t, "status", "--rpc", "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "mm_getFinality") {
		t.Fatalf("status without a node: %v", err)
	}
}

// mmfed signer as an operator starts it: a keystore member key, the socket
// in its datadir (0600); it answers a client with the key's public key and
// a fee vote, and removes its socket when stopped.
func TestSignerCommand(t *testing.T) {
	url := devNode(t)
	_, keys, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	ks := filepath.Join(t.TempDir(), "ks")
	pw := writeFile(t, "pw", "pw")
	out, err := runApp(t, "key", "import", "--key", writeFile(t, "hex", hex.EncodeToString(keys.Members[2].Serialize())), "--keystore", ks,
		"--password", pw, "--lightkdf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "signer.sock")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newApp().RunContext(ctx, []string{"mmfed", "signer", "--rpc", url, "--key", field(t, out, "file"),
			"--password", pw, "--datadir", dir, "--fee.max", "50"})
	}()
	for i := 0; ; i++ {
		if fi, err := os.Lstat(sock); err == nil && fi.Mode().Type() == fs.ModeSocket {
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("socket mode %v", fi.Mode())
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("signer exited: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		if i > 3000 {
			t.Fatal("no signer socket after 30 s")
		}
	}
	rs, err := fed.DialSigner(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if pub, err := rs.PubKey(ctx); err != nil || string(pub) != string(keys.Members[2].PubKey().SerializeCompressed()) {
		t.Fatalf("pubKey %x: %v", pub, err)
	}
	if sig, err := rs.SignFeeVote(ctx, 50, 1); err != nil || len(sig) != peg.SigRSVLen {
		t.Fatalf("vote: %x, %v", sig, err)
	}
	if _, err := rs.SignFeeVote(ctx, 51, 1); !errors.Is(err, fed.ErrVoteFee) {
		t.Fatalf("vote above --fee.max: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket after stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "signed.log")); err != nil {
		t.Fatalf("signed log: %v", err)
	}
}
