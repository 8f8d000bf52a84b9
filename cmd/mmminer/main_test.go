package main

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestPayScript(t *testing.T) {
	tests := []struct{ addr, script string }{
		// Bitcoin's genesis coinbase key, mainnet P2PKH.
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac"},
		// tests/btcd's regtest mining address (testnet base58 prefix).
		{"mgdNieWHbvV2rXUiLR6ugF1xgWPUD5SJ86", "76a9140c2f027bef3c3b2c4e1f5773877826f7625646ee88ac"},
		// BIP-173 P2WPKH examples, mainnet and regtest-style hrp.
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
	}
	for _, tt := range tests {
		got, err := payScript(tt.addr)
		if err != nil || hex.EncodeToString(got) != tt.script {
			t.Errorf("payScript(%s) = %x, %v; want %s", tt.addr, got, err, tt.script)
		}
	}
	for _, bad := range []string{"", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "xyz"} {
		if _, err := payScript(bad); err == nil || !strings.Contains(err.Error(), "invalid --btc.address") {
			t.Errorf("payScript(%q): got %v", bad, err)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--threads", "0"}, "--threads must be at least 1"},
		{[]string{"--poll", "0s"}, "--poll must be positive"},
		{[]string{"--btc.address", "nope"}, "invalid --btc.address"},
		{[]string{"--btc.rpc", "ftp://x"}, "invalid --btc.rpc"},
		{[]string{"--rpc", "ws://127.0.0.1:8546"}, "invalid --rpc"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		err := newApp().Run(append([]string{"mmminer"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		}
	}
}
