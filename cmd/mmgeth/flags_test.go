package main

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/rpc"
)

// configFrom parses args as the node command does and returns the config
// nodeConfig builds from them.
func configFrom(t *testing.T, args ...string) node.Config {
	t.Helper()
	var cfg node.Config
	app := newApp()
	app.Action = func(ctx *cli.Context) error {
		spec, err := loadSpec(ctx)
		if err != nil {
			return err
		}
		cfg, err = nodeConfig(ctx, spec)
		return err
	}
	if err := app.Run(append([]string{"mmgeth"}, args...)); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRPCLimitFlags: the RPC hardening flags reach the node's config, and
// their defaults are geth's where geth has the flag.
func TestRPCLimitFlags(t *testing.T) {
	def := configFrom(t, "--dev")
	if !slices.Equal(def.HTTPVirtualHosts, []string{"localhost"}) || def.WSOrigins != nil {
		t.Errorf("defaults: vhosts %v, ws origins %v; want [localhost] and geth's default (nil)", def.HTTPVirtualHosts, def.WSOrigins)
	}
	if def.HTTPMaxConns != node.DefaultHTTPMaxConns || def.WSMaxConns != node.DefaultWSMaxConns ||
		def.MaxSubscriptions != rpc.DefaultMaxSubscriptions || def.TraceLimit != rpc.DefaultTraceLimit {
		t.Errorf("default limits: %d %d %d %d", def.HTTPMaxConns, def.WSMaxConns, def.MaxSubscriptions, def.TraceLimit)
	}
	if !slices.Equal(def.HTTPCors, node.DevCORS) || slices.Contains(def.HTTPCors, "*") {
		t.Errorf("--dev CORS %v, want %v (no wildcard)", def.HTTPCors, node.DevCORS)
	}

	cfg := configFrom(t, "--dev", "--http.vhosts", "node.example,localhost", "--ws.origins", "https://app.example",
		"--http.maxconns", "7", "--ws.maxconns", "8", "--ws.maxsubscriptions", "9", "--rpc.tracelimit", "3",
		"--http.corsdomain", "*")
	if !slices.Equal(cfg.HTTPVirtualHosts, []string{"node.example", "localhost"}) ||
		!slices.Equal(cfg.WSOrigins, []string{"https://app.example"}) ||
		cfg.HTTPMaxConns != 7 || cfg.WSMaxConns != 8 || cfg.MaxSubscriptions != 9 || cfg.TraceLimit != 3 {
		t.Errorf("flags not wired: %+v", cfg)
	}
	if !slices.Equal(cfg.HTTPCors, []string{"*"}) {
		t.Errorf("--dev --http.corsdomain '*': CORS %v; an explicit wildcard must be kept", cfg.HTTPCors)
	}
}
