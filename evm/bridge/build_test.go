package bridge

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mmgeth/mmgeth/evm/bridge/internal/solc"
)

// TestBytecodeUpToDate recompiles the contracts with the pinned solc-js and
// fails when the committed *.bin or *.abi.json differ: the committed bytes
// are what genesis deploys. CI installs the tooling first (`make tools`);
// elsewhere the test skips when it is absent.
func TestBytecodeUpToDate(t *testing.T) {
	repo, err := solc.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	outs, err := solc.Compile(ctx, repo, ".")
	if errors.Is(err, solc.ErrNoTooling) {
		t.Skipf("%v; run `make tools` to check the committed bytecode", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range outs {
		for file, want := range map[string][]byte{name + ".bin": []byte(o.Bin), name + ".abi.json": o.ABI} {
			have, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(have, want) {
				t.Errorf("%s is stale: run `make contracts` (go generate ./evm/bridge/) and commit it", file)
			}
		}
	}
}

// TestRuntimeCodeSize keeps each contract deployable under EIP-170 with
// room left; they are separate contracts for that reason (PEG.md §10.3).
func TestRuntimeCodeSize(t *testing.T) {
	relay, err := DeployBtcRelay(NewRelayParams(&chaincfg.MainNetParams, 2016, 200), GenesisCheckpoint(&chaincfg.MainNetParams))
	if err != nil {
		t.Fatal(err)
	}
	alloc, _, err := DeployPeg(harnessChainID, regtestPegParams(t), new(big.Int))
	if err != nil {
		t.Fatal(err)
	}
	for name, code := range map[string][]byte{"BtcRelay": relay.Code, "Bridge": alloc[BridgeAddress].Code, "BridgeOut": alloc[BridgeOutAddress].Code} {
		t.Logf("%s runtime code: %d bytes (limit %d)", name, len(code), params.MaxCodeSize)
		if len(code) == 0 || len(code) > params.MaxCodeSize {
			t.Errorf("%s runtime code %d bytes, limit %d", name, len(code), params.MaxCodeSize)
		}
	}
}

// constructorFree are expressions a constructor must not use: genesis runs
// it at another address, chain and block than the ones the code lives at
// (deploy.go runConstructor).
var constructorFree = regexp.MustCompile(`address\(this\)|\bblock\.|\bblockhash\(|\bmsg\.sender\b|\btx\.origin\b`)

func TestConstructorsAreGenesisSafe(t *testing.T) {
	files, err := filepath.Glob("*.sol")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Solidity sources: %v", err)
	}
	for _, f := range files {
		src := string(readSource(t, f))
		for i := strings.Index(src, "constructor("); i >= 0; {
			body := block(src[i:])
			if m := constructorFree.FindString(body); m != "" {
				t.Errorf("%s: constructor uses %s", f, m)
			}
			next := strings.Index(src[i+1:], "constructor(")
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
}

// block returns s up to the brace that closes its first `{`.
func block(s string) string {
	depth := 0
	for i, r := range s {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[:i+1]
			}
		}
	}
	return s
}
