package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
)

// A --config file holds flag values under the flags' names, so --help
// documents it and every flag can be set there:
//
//	dev = true
//	"http.port" = 9545
//	"http.api" = ["eth", "net", "web3"]
//
// Keys with dots are quoted: unquoted, TOML reads http.port as key port of
// table http, which would clash with the --http switch. Flags given on the
// command line or as MMGETH_* variables win over the file, as geth's flags
// win over its --config.

var dumpConfigCommand = &cli.Command{
	Name:  "dumpconfig",
	Usage: "print the node's configuration (flags, MMGETH_* variables and --config) as a TOML --config file",
	Description: "Prints every flag set, by any means, as TOML that --config reads back, and the others, " +
		"commented out, with their defaults.",
	Flags: nodeFlags(),
	Action: func(ctx *cli.Context) error {
		if ctx.Args().Len() > 0 {
			return fmt.Errorf("dumpconfig takes no arguments (%q): flags go before them", ctx.Args().First())
		}
		if err := applyConfigFile(ctx); err != nil {
			return err
		}
		// Refuse to write a file the node would refuse.
		spec, err := loadSpec(ctx)
		if err != nil {
			return err
		}
		if _, err := nodeConfig(ctx, spec); err != nil {
			return err
		}
		out, err := dumpConfig(ctx)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(out)
		return err
	},
}

// configFlags are the flags a --config file may set: all but --config.
func configFlags() map[string]cli.Flag {
	flags := map[string]cli.Flag{}
	for _, f := range nodeFlags() {
		if f != configFile {
			for _, name := range f.Names() {
				flags[name] = f
			}
		}
	}
	return flags
}

// applyConfigFile sets, from the --config file, the flags not already set
// on the command line or by their MMGETH_* variable.
func applyConfigFile(ctx *cli.Context) error {
	path := ctx.String(configFile.Name)
	if path == "" {
		return nil
	}
	var values map[string]any
	md, err := toml.DecodeFile(path, &values)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	for _, key := range md.Keys() {
		if len(key) > 1 {
			return fmt.Errorf("--config %s: unknown key %s: keys are flag names, quoted when they have dots (%q = ...)", path, key, key.String())
		}
	}
	flags := configFlags()
	for _, key := range md.Keys() {
		name := key[0]
		f, ok := flags[name]
		if !ok {
			return fmt.Errorf("--config %s: unknown key %q (keys are flag names, as `mmgeth --help` lists them; quote the ones with dots)", path, name)
		}
		if ctx.IsSet(f.Names()[0]) {
			continue
		}
		items, ok := values[name].([]any)
		if !ok {
			items = []any{values[name]}
		} else if _, isSlice := f.(*cli.StringSliceFlag); !isSlice {
			return fmt.Errorf("--config %s: %s takes one value, not a list", path, name)
		}
		for _, v := range items {
			var s string
			switch v := v.(type) {
			case string:
				s = v
			case bool:
				s = strconv.FormatBool(v)
			case int64:
				s = strconv.FormatInt(v, 10)
			case float64:
				s = strconv.FormatFloat(v, 'g', -1, 64)
			default:
				return fmt.Errorf("--config %s: %s: a %T is not a flag value", path, name, v)
			}
			if err := ctx.Set(f.Names()[0], s); err != nil {
				return fmt.Errorf("--config %s: %s = %q: %w", path, name, s, err)
			}
		}
	}
	return nil
}

// dumpConfig writes the flags in --config's TOML, grouped by --help's
// categories: the ones set as values, the others commented out with their
// defaults.
func dumpConfig(ctx *cli.Context) ([]byte, error) {
	flags := slices.DeleteFunc(nodeFlags(), func(f cli.Flag) bool { return f == configFile })
	category := func(f cli.Flag) string { return f.(cli.CategorizableFlag).GetCategory() }
	slices.SortStableFunc(flags, func(a, b cli.Flag) int { return strings.Compare(category(a), category(b)) })
	var out bytes.Buffer
	fmt.Fprintf(&out, "# mmgeth --config file, written by `mmgeth dumpconfig`. Keys are flag names (mmgeth --help).\n")
	last := ""
	for _, f := range flags {
		if c := category(f); c != last {
			fmt.Fprintf(&out, "\n# %s\n", c)
			last = c
		}
		name := f.Names()[0]
		var v any
		switch f.(type) {
		case *cli.StringFlag:
			v = ctx.String(name)
		case *cli.BoolFlag:
			v = ctx.Bool(name)
		case *cli.IntFlag:
			v = int64(ctx.Int(name))
		case *cli.Uint64Flag:
			u := ctx.Uint64(name)
			if u > 1<<63-1 {
				return nil, fmt.Errorf("%s: %d does not fit a TOML integer", name, u)
			}
			v = int64(u)
		case *cli.Float64Flag:
			v = ctx.Float64(name)
		case *cli.DurationFlag:
			v = ctx.Duration(name).String()
		case *cli.StringSliceFlag:
			// Not nil, which the encoder would leave out.
			v = append([]string{}, splitList(ctx.StringSlice(name))...)
		default:
			return nil, fmt.Errorf("%s: %T cannot be written", name, f)
		}
		var line bytes.Buffer
		if err := toml.NewEncoder(&line).Encode(map[string]any{name: v}); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if ctx.IsSet(name) {
			out.Write(line.Bytes())
			continue
		}
		if def := f.(cli.DocGenerationFlag).GetDefaultText(); def != "" && isZero(v) {
			fmt.Fprintf(&out, "# %q: default %s\n", name, def)
			continue
		}
		out.WriteString("# " + line.String())
	}
	return out.Bytes(), nil
}

func isZero(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ""
	case int64:
		return v == 0
	case []string:
		return len(v) == 0
	}
	return false
}

// positional returns a command's arguments, refusing flags among them:
// urfave/cli stops reading flags at the first argument, so in
// `mmgeth export chain.rlp --datadir x` the flag would be taken for an
// argument (a block number, here) and reported as a bad one.
func positional(ctx *cli.Context) ([]string, error) {
	args := ctx.Args().Slice()
	for _, a := range args[min(1, len(args)):] {
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("%s follows %s: flags go before FILE (usage: mmgeth %s [flags] %s)",
				a, args[0], ctx.Command.Name, ctx.Command.ArgsUsage)
		}
	}
	return args, nil
}
