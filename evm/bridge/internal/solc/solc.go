// Package solc compiles the bridge contracts with the pinned solc-js 0.8.30
// that tests/tooling/install.sh installs, through the tests/tooling/solc
// shim. `go generate ./evm/bridge/` writes the results next to the sources;
// TestBytecodeUpToDate recompiles and compares. Go builds never need it.
package solc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Contracts are the deployable contracts, by name; each gets <Name>.bin
// (creation code, hex) and <Name>.abi.json.
var Contracts = []string{"BtcRelay", "Bridge", "BridgeOut"}

// ErrNoTooling means solc-js is not installed: the caller may skip.
var ErrNoTooling = errors.New("solc-js not installed (run `make tools`)")

// Output is one compiled contract as committed.
type Output struct {
	Bin string // creation code, lowercase hex without 0x, newline-terminated
	ABI []byte // indented JSON, newline-terminated
}

// ToolingDir is where tests/tooling/install.sh installs, found as the
// end-to-end tests find it: $MMGETH_TOOLING_DIR, else $MMGETH_TEST_CACHE/tooling,
// else <repo>/.cache/tooling.
func ToolingDir(repo string) string {
	if dir := os.Getenv("MMGETH_TOOLING_DIR"); dir != "" {
		return dir
	}
	if cache := os.Getenv("MMGETH_TEST_CACHE"); cache != "" {
		return filepath.Join(cache, "tooling")
	}
	return filepath.Join(repo, ".cache", "tooling")
}

// RepoRoot is the nearest directory at or above dir holding go.mod.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Compile compiles every .sol file under srcDir and returns the Contracts.
func Compile(ctx context.Context, repo, srcDir string) (map[string]Output, error) {
	tooling, err := filepath.Abs(ToolingDir(repo))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(tooling, "tools", "node_modules", "solc", "package.json")); err != nil {
		return nil, fmt.Errorf("%w: nothing at %s", ErrNoTooling, tooling)
	}
	input, err := standardInput(srcDir)
	if err != nil {
		return nil, err
	}
	// Node 22 from the tooling when present (the version install.sh pins),
	// else whatever node is on PATH: solc-js runs on either.
	node := filepath.Join(tooling, "bin", "node")
	if _, err := os.Stat(node); err != nil {
		node = "node"
	}
	cmd := exec.CommandContext(ctx, node, filepath.Join(repo, "tests", "tooling", "solc"), "--standard-json")
	cmd.Env = append(os.Environ(), "MMGETH_TOOLING_DIR="+tooling)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("solc: %v: %s", err, stderr.String())
	}
	return parseOutput(out)
}

// standardInput pins what changes bytecode besides the sources: optimizer
// on with 200 runs, evmVersion prague, and no CBOR metadata trailer, so that
// editing a comment does not change the code placed in genesis.
func standardInput(srcDir string) ([]byte, error) {
	sources := map[string]map[string]string{}
	err := filepath.WalkDir(srcDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sol") {
			return err
		}
		rel, err := filepath.Rel(srcDir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sources[filepath.ToSlash(rel)] = map[string]string{"content": string(data)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"language": "Solidity",
		"sources":  sources,
		"settings": map[string]any{
			"optimizer":  map[string]any{"enabled": true, "runs": 200},
			"evmVersion": "prague",
			"metadata":   map[string]any{"appendCBOR": false},
			"outputSelection": map[string]any{
				"*": map[string]any{"*": []string{"abi", "evm.bytecode.object"}},
			},
		},
	})
}

func parseOutput(out []byte) (map[string]Output, error) {
	var res struct {
		Errors []struct {
			Severity         string `json:"severity"`
			FormattedMessage string `json:"formattedMessage"`
		} `json:"errors"`
		Contracts map[string]map[string]struct {
			ABI json.RawMessage `json:"abi"`
			EVM struct {
				Bytecode struct {
					Object string `json:"object"`
				} `json:"bytecode"`
			} `json:"evm"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("solc output: %v", err)
	}
	var msgs []string
	for _, e := range res.Errors {
		if e.Severity == "error" {
			msgs = append(msgs, e.FormattedMessage)
		}
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("solc:\n%s", strings.Join(msgs, "\n"))
	}
	found := map[string]Output{}
	for file, byName := range res.Contracts {
		for name, c := range byName {
			if filepath.Base(file) != name+".sol" {
				continue
			}
			var abi bytes.Buffer
			if err := json.Indent(&abi, c.ABI, "", "  "); err != nil {
				return nil, err
			}
			abi.WriteByte('\n')
			found[name] = Output{Bin: c.EVM.Bytecode.Object + "\n", ABI: abi.Bytes()}
		}
	}
	outs := map[string]Output{}
	for _, name := range Contracts {
		o, ok := found[name]
		if !ok {
			have := make([]string, 0, len(found))
			for n := range found {
				have = append(have, n)
			}
			sort.Strings(have)
			return nil, fmt.Errorf("solc produced no %s (have %v)", name, have)
		}
		outs[name] = o
	}
	return outs, nil
}
