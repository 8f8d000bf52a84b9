package btcd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Version is the btcd release the tests run.
const Version = "v0.26.2"

// modulePath identifies the repository root.
const modulePath = "github.com/mmgeth/mmgeth"

// RepoRoot is the directory of mmgeth's go.mod, found from the working
// directory (a test runs in its package's directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(mod, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// BinDir is where Install puts the binaries: .cache/bin in the repository.
func BinDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "bin"), nil
}

// GoTool is the go command of the toolchain running the tests.
func GoTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

// Install makes sure btcd and btcctl of Version are in BinDir and returns
// their paths. Concurrent test binaries take a file lock, so only one of
// them runs go install.
func Install(t testing.TB) (btcdPath, btcctlPath string) {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	btcdPath, btcctlPath = filepath.Join(bin, "btcd"), filepath.Join(bin, "btcctl")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFile(filepath.Join(bin, ".btcd-install.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if installed(btcdPath) && fileExists(btcctlPath) {
		return btcdPath, btcctlPath
	}
	cmd := exec.Command(GoTool(), "install",
		"github.com/btcsuite/btcd@"+Version, "github.com/btcsuite/btcd/cmd/btcctl@"+Version)
	// Outside any module, so that mmgeth's go.mod is neither read nor
	// touched.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install btcd %s: %v\n%s", Version, err, out)
	}
	if !installed(btcdPath) {
		t.Fatalf("%s is not btcd %s after go install", btcdPath, Version)
	}
	return btcdPath, btcctlPath
}

// installed reports whether path is btcd of Version.
func installed(path string) bool {
	out, err := exec.Command(path, "--version").Output()
	return err == nil && strings.Contains(string(out), strings.TrimPrefix(Version, "v"))
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lockFile takes an exclusive flock on path, waiting for other holders.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, errors.Join(errors.New("locking "+path), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
