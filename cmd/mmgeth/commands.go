package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/node"
)

var initCommand = &cli.Command{
	Name:      "init",
	Usage:     "write a network's genesis into a datadir",
	ArgsUsage: "[spec.json]",
	Description: "Writes the genesis of --testnet, --regtest or --dev, or of the network spec file given, " +
		"into --datadir, and keeps the spec there so the node starts on it with no network flag.",
	Flags: networkFlags,
	Action: func(ctx *cli.Context) error {
		args, err := positional(ctx)
		if err != nil {
			return err
		}
		dataDir := ctx.String(dataDirFlag.Name)
		if dataDir == "" {
			return fmt.Errorf("init needs --datadir")
		}
		var spec *genesis.Spec
		var raw []byte
		if len(args) > 0 {
			if raw, err = os.ReadFile(args[0]); err != nil {
				return err
			}
			spec, err = genesis.Parse(raw)
		} else {
			spec, err = loadSpec(ctx)
			if err == nil {
				raw, err = json.MarshalIndent(spec, "", "  ")
			}
		}
		if err != nil {
			return err
		}
		// Opening a node commits the genesis exactly as a start would, with
		// the same database layout. Only a started node stops its chain on
		// Close, which writes the genesis state (held in memory by the path
		// scheme) to disk.
		n, err := node.New(node.Config{Spec: spec, DataDir: dataDir, ListenPort: -1, IPCDisable: true})
		if err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			n.Close()
			return err
		}
		hash := n.Chain().Genesis().Hash()
		if err := n.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(specFile(dataDir), raw, 0o644); err != nil {
			return err
		}
		fmt.Printf("Wrote %s genesis %s to %s\n", spec.Name, hash, dataDir)
		return nil
	},
}

var dumpGenesisCommand = &cli.Command{
	Name:  "dumpgenesis",
	Usage: "print a network's genesis block definition as JSON",
	Flags: networkFlags,
	Action: func(ctx *cli.Context) error {
		spec, err := loadSpec(ctx)
		if err != nil {
			return err
		}
		gen, err := spec.Genesis()
		if err != nil {
			return err
		}
		out := json.NewEncoder(os.Stdout)
		out.SetIndent("", "  ")
		return out.Encode(gen)
	},
}

var versionCommand = &cli.Command{
	Name:  "version",
	Usage: "print the version",
	Action: func(ctx *cli.Context) error {
		commit, date := buildVCS()
		fmt.Println("mmgeth")
		fmt.Println("Version:", node.Version)
		if commit != "" {
			fmt.Println("Git Commit:", commit)
		}
		if date != "" {
			fmt.Println("Git Commit Date:", date)
		}
		fmt.Println("Go Version:", runtime.Version())
		fmt.Println("OS/Arch:", runtime.GOOS+"/"+runtime.GOARCH)
		return nil
	},
}

// gitCommit and gitDate are set by the Makefile (-ldflags -X) for builds
// that carry no VCS stamp: `go build -buildvcs=false`, GOFLAGS with it, or
// a source tree without .git.
var gitCommit, gitDate string

// buildVCS is the commit the binary was built from and its date
// (YYYYMMDD, as geth prints it): Go's VCS stamp, else the Makefile's.
func buildVCS() (commit, date string) {
	info, _ := debug.ReadBuildInfo()
	return vcsOf(info, gitCommit, gitDate)
}

func vcsOf(info *debug.BuildInfo, commit, date string) (string, string) {
	var modified bool
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					date = t.UTC().Format("20060102")
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		commit += "-dirty" // built with uncommitted changes
	}
	return commit, date
}

// versionString is --version's: the release, the commit's first 8 digits
// and its date.
func versionString() string {
	v := node.Version
	if commit, date := buildVCS(); commit != "" {
		v += "-" + commit[:min(8, len(commit))]
		if date != "" {
			v += "-" + date
		}
	}
	return v
}
