// Command mmgeth runs a node of the merged-mined EVM sidechain and its tools.
package main

import (
	"fmt"
	"os"
	"reflect"

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

// newApp gives each app its own copy of every flag: urfave/cli writes what
// it reads from a flag's MMGETH_* variable into the flag, so apps sharing
// flags (tests run many in one process) would carry one run's environment
// into the next.
func newApp() *cli.App {
	return &cli.App{
		Name:                   "mmgeth",
		Usage:                  "node of a merged-mined EVM sidechain of Bitcoin",
		Version:                versionString(),
		Flags:                  ownFlags(nodeFlags()),
		Action:                 runNode,
		UseShortOptionHandling: false,
		Commands: ownCommands([]*cli.Command{
			initCommand,
			btcAddressCommand,
			dumpGenesisCommand,
			versionCommand,
			dumpConfigCommand,
			proofCommand,
			importCommand,
			exportCommand,
		}),
	}
}

func ownCommands(cmds []*cli.Command) []*cli.Command {
	if cmds == nil {
		return nil
	}
	own := make([]*cli.Command, len(cmds))
	for i, c := range cmds {
		cp := *c
		cp.Flags, cp.Subcommands = ownFlags(c.Flags), ownCommands(c.Subcommands)
		own[i] = &cp
	}
	return own
}

func ownFlags(flags []cli.Flag) []cli.Flag {
	own := make([]cli.Flag, len(flags))
	for i, f := range flags {
		cp := reflect.New(reflect.TypeOf(f).Elem())
		cp.Elem().Set(reflect.ValueOf(f).Elem())
		own[i] = cp.Interface().(cli.Flag)
	}
	return own
}
