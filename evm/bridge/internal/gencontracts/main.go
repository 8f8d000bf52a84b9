// Command gencontracts rebuilds evm/bridge/*.bin and *.abi.json from the
// Solidity sources in the working directory (`go generate ./evm/bridge/`,
// or `make contracts`).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mmgeth/mmgeth/evm/bridge/internal/solc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencontracts:", err)
		os.Exit(1)
	}
}

func run() error {
	repo, err := solc.RepoRoot(".")
	if err != nil {
		return err
	}
	outs, err := solc.Compile(context.Background(), repo, ".")
	if err != nil {
		return err
	}
	for name, o := range outs {
		if err := os.WriteFile(filepath.Join(".", name+".bin"), []byte(o.Bin), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(".", name+".abi.json"), o.ABI, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d bytes of creation code\n", name, (len(o.Bin)-1)/2)
	}
	return nil
}
