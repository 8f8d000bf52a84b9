package fed

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg"
)

// The external signer over its unix socket, against a real dev node whose
// Bridge holds the dev federation: the socket is the user's only (0600);
// the key's public key and fee votes come back, a vote the Bridge accepts
// (eth_call of voteFeeRate) and only for the nonce signed; refusals cross
// the socket as their rule's error and are counted; a second signer on the
// same socket is refused, a stale one replaced, and the client reconnects
// to a restarted signer.
func TestSignerOverSocket(t *testing.T) {
	side := startDevChain(t)
	_, keys, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	member := keys.Members[1]
	signer, err := NewLocalSigner(SignerConfig{Sidechain: side.client, Key: member, MaxFeeRate: 100,
		SignedLog: filepath.Join(t.TempDir(), "signed.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer signer.Close()
	sock := filepath.Join(t.TempDir(), "signer.sock")
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	stop, err := ServeSigner(sock, signer, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stop() }()
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v: %v", fi.Mode(), err)
	}
	if _, err := ServeSigner(sock, signer, quiet); err == nil || !strings.Contains(err.Error(), "another signer serves") {
		t.Fatalf("second signer on the socket: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := ServeSigner(file, signer, quiet); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("signer on a regular file: %v", err)
	}

	remote, err := DialSigner(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	pub, err := remote.PubKey(ctx)
	if err != nil || string(pub) != string(member.PubKey().SerializeCompressed()) {
		t.Fatalf("pubKey %x: %v", pub, err)
	}
	sig, err := remote.SignFeeVote(ctx, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	vote := func(nonce uint64) error {
		_, err := side.client.CallContract(ctx, ethereum.CallMsg{To: &bridge.BridgeAddress,
			Data: bridge.VoteFeeRateInput(1, 7, nonce, sig)}, nil)
		return revertOf(err)
	}
	if err := vote(1); err != nil {
		t.Fatalf("the Bridge refuses the signer's vote: %v", err)
	}
	if err := vote(2); err == nil {
		t.Fatal("the Bridge accepts the vote's signature for another nonce")
	}

	for _, c := range []struct {
		name string
		call func() error
		want error
	}{
		{"vote above the bound", func() error { _, err := remote.SignFeeVote(ctx, 101, 1); return err }, ErrVoteFee},
		{"vote of 0", func() error { _, err := remote.SignFeeVote(ctx, 0, 1); return err }, ErrVoteFee},
		{"unknown batch", func() error { _, err := remote.SignBatch(ctx, 9, 0); return err }, ErrNotSigning},
	} {
		before := refusals[c.want].Snapshot().Count()
		if err := c.call(); !errors.Is(err, c.want) || !strings.HasPrefix(err.Error(), "signer: ") {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if refusals[c.want].Snapshot().Count() != before+1 {
			t.Errorf("%s: refusal not counted", c.name)
		}
	}
	if inputs, _ := signer.rules.Log.Len(); inputs != 0 {
		t.Fatalf("refusals logged %d inputs as signed", inputs)
	}

	// A signer whose key is no member's says so.
	other, _ := btcec.NewPrivateKey()
	stranger, err := NewLocalSigner(SignerConfig{Sidechain: side.client, Key: other, MaxFeeRate: 100,
		SignedLog: filepath.Join(t.TempDir(), "signed.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if _, err := stranger.SignFeeVote(ctx, 7, 1); err == nil || !strings.Contains(err.Error(), "is no member's") {
		t.Fatalf("stranger's vote: %v", err)
	}

	// Stopped, the socket is gone; a killed signer's stale socket is
	// replaced; the client reaches the new signer.
	stop()
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket after the signer stopped: %v", err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if stop, err = ServeSigner(sock, signer, quiet); err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	if _, err := remote.PubKey(ctx); err != nil {
		t.Fatalf("after the signer restarted: %v", err)
	}
}
