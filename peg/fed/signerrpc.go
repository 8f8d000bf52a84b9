package fed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"

	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// The signer protocol is geth's JSON-RPC over a unix socket, namespace
// "signer": signer_pubKey(), signer_signBatch(batchId, version),
// signer_signFeeVote(rate, nonce). A refusal is error code
// RefusalErrorCode with the rule's name as data ("not_finalized", …), so
// that the client gives back an error that errors.Is the rule's.
const RefusalErrorCode = -33200

type refusalError struct {
	rule string
	err  error
}

func (e *refusalError) Error() string          { return e.err.Error() }
func (e *refusalError) ErrorCode() int         { return RefusalErrorCode }
func (e *refusalError) ErrorData() interface{} { return e.rule }

// signerAPI serves a Signer as the signer namespace.
type signerAPI struct{ s Signer }

func (a *signerAPI) PubKey(ctx context.Context) (hexutil.Bytes, error) { return a.s.PubKey(ctx) }

func (a *signerAPI) SignBatch(ctx context.Context, id uint64, version uint8) (hexutil.Bytes, error) {
	sigs, err := a.s.SignBatch(ctx, id, version)
	return sigs, asRefusal(err)
}

func (a *signerAPI) SignFeeVote(ctx context.Context, rate uint32, nonce uint64) (hexutil.Bytes, error) {
	sig, err := a.s.SignFeeVote(ctx, rate, nonce)
	return sig, asRefusal(err)
}

func asRefusal(err error) error {
	for rule, name := range refusalNames {
		if errors.Is(err, rule) {
			return &refusalError{name, err}
		}
	}
	return err
}

// ServeSigner serves s on a unix socket at path, readable and writable by
// this user only (0600, as geth's IPC endpoint), until stop is called,
// which removes the socket. A stale socket left by a killed signer is
// replaced; one that still answers, or any other file at path, is an error.
func ServeSigner(path string, s Signer, log *slog.Logger) (stop func(), err error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another signer serves there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, err
	}
	srv := gethrpc.NewServer()
	if err := srv.RegisterName("signer", &signerAPI{s}); err != nil {
		ln.Close()
		os.Remove(path)
		return nil, err
	}
	log.Info("Serving the signer", "socket", path)
	go srv.ServeListener(ln)
	return func() {
		ln.Close()
		os.Remove(path)
		srv.Stop()
	}, nil
}

// listenPrivate listens on a unix socket that appears at path already
// 0600. A socket is created with the umask's mode and changed after, so it
// is bound under a temporary name, changed, and renamed into place: a
// process watching path never sees it otherwise (TestSignerCommand did, in
// the moment between the two). The caller removes path after closing.
func listenPrivate(path string) (*net.UnixListener, error) {
	tmp := path + ".new"
	os.Remove(tmp) // left by a signer killed at this point
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false) // it would unlink tmp, not path
	if err = os.Chmod(tmp, 0o600); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, err
	}
	return ln, nil
}

// RemoteSigner is a Signer served by ServeSigner (mmfed signer).
type RemoteSigner struct{ c *gethrpc.Client }

// DialSigner connects to the signer socket at path.
func DialSigner(ctx context.Context, path string) (*RemoteSigner, error) {
	c, err := gethrpc.DialIPC(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("signer %s: %w", path, err)
	}
	return &RemoteSigner{c}, nil
}

func (r *RemoteSigner) Close() { r.c.Close() }

func (r *RemoteSigner) PubKey(ctx context.Context) ([]byte, error) {
	var out hexutil.Bytes
	err := r.c.CallContext(ctx, &out, "signer_pubKey")
	return out, err
}

func (r *RemoteSigner) SignBatch(ctx context.Context, id uint64, version uint8) ([]byte, error) {
	var out hexutil.Bytes
	err := r.c.CallContext(ctx, &out, "signer_signBatch", id, version)
	return out, fromRefusal(err)
}

func (r *RemoteSigner) SignFeeVote(ctx context.Context, rate uint32, nonce uint64) ([]byte, error) {
	var out hexutil.Bytes
	err := r.c.CallContext(ctx, &out, "signer_signFeeVote", rate, nonce)
	return out, fromRefusal(err)
}

// fromRefusal turns a refusal answer back into its rule's error.
func fromRefusal(err error) error {
	var de gethrpc.DataError
	var ce gethrpc.Error
	if !errors.As(err, &de) || !errors.As(err, &ce) || ce.ErrorCode() != RefusalErrorCode {
		return err
	}
	for rule, name := range refusalNames {
		if de.ErrorData() == name {
			return &remoteRefusal{rule, err.Error()}
		}
	}
	return err
}

// remoteRefusal is a refusal the signer answered: its message, its rule.
type remoteRefusal struct {
	rule error
	msg  string
}

func (e *remoteRefusal) Error() string { return "signer: " + e.msg }
func (e *remoteRefusal) Unwrap() error { return e.rule }
