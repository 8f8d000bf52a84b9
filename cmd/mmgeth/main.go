// Command mmgeth runs a node of the merged-mined EVM sidechain and its tools.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "mmgeth:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode lets subcommands pick their status through cli.Exit; any other
// error is a usage or runtime failure.
func exitCode(err error) int {
	if coder, ok := err.(cli.ExitCoder); ok {
		return coder.ExitCode()
	}
	return 1
}

func newApp() *cli.App {
	return &cli.App{
		Name:                   "mmgeth",
		Usage:                  "node of a merged-mined EVM sidechain of Bitcoin",
		Version:                versionString(),
		Flags:                  nodeFlags(),
		Action:                 runNode,
		UseShortOptionHandling: false,
		Commands: []*cli.Command{
			initCommand,
			btcAddressCommand,
			dumpGenesisCommand,
			versionCommand,
			dumpConfigCommand,
			proofCommand,
			importCommand,
			exportCommand,
		},
	}
}
