package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/genesis"
)

// TestQuietShareRejections: geth's WARN for a failed mnr_* call becomes a
// DEBUG line (dropped at the default INFO level), keeping its attributes
// and the logger's context; other namespaces keep their WARN.
func TestQuietShareRejections(t *testing.T) {
	for _, level := range []slog.Level{log.LevelInfo, log.LevelDebug} {
		var out bytes.Buffer
		logger := log.NewLogger(QuietShareRejections(log.NewTerminalHandlerWithLevel(&out, level, false))).New("conn", "127.0.0.1:1")
		logger.Warn("Served mnr_submitBitcoinBlockPartialMerkle", "reqid", 1, "err", "Invalid block supplied by miner")
		logger.Warn("Served eth_call", "reqid", 2, "err", "execution reverted")
		got := out.String()
		if !strings.Contains(got, "WARN") || !strings.Contains(got, "Served eth_call") {
			t.Errorf("level %v: other namespaces lost their warning:\n%s", level, got)
		}
		share := strings.Contains(got, "Served mnr_submitBitcoinBlockPartialMerkle")
		switch {
		case level == log.LevelInfo && share:
			t.Errorf("a refused share logged at the default level:\n%s", got)
		case level == log.LevelDebug && !(share && strings.Contains(got, "DEBUG") &&
			strings.Contains(got, "conn=127.0.0.1:1") && strings.Contains(got, `err="Invalid block supplied by miner"`)):
			t.Errorf("a refused share at debug level:\n%s", got)
		case strings.Count(got, "WARN") != 1:
			t.Errorf("level %v: %d warnings, want 1:\n%s", level, strings.Count(got, "WARN"), got)
		}
	}
}

// TestQuietGethBanner: geth's chain-config banner, logged line by line as
// core.NewBlockChain does, leaves nothing about the Merge, blobs or an
// unknown consensus; other INFO lines, with or without attributes, pass.
func TestQuietGethBanner(t *testing.T) {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	logger := log.NewLogger(QuietGethBanner(log.NewTerminalHandlerWithLevel(&out, log.LevelInfo, false), gen.Config))
	logger.Info("")
	logger.Info(strings.Repeat("-", 153))
	for _, line := range strings.Split(gen.Config.Description(), "\n") {
		logger.Info(line)
	}
	logger.Info(strings.Repeat("-", 153))
	logger.Warn("Head block is not reachable")
	logger.Info("Loaded most recent local block", "number", 0)
	logger.Info("Writing custom genesis block")
	got := out.String()
	for _, banned := range []string{"Merge", "blob", "Consensus", "Chain ID", "---", "Head block"} {
		if strings.Contains(got, banned) {
			t.Errorf("%q left in the log:\n%s", banned, got)
		}
	}
	if !strings.Contains(got, "Loaded most recent local block") || !strings.Contains(got, "Writing custom genesis block") {
		t.Errorf("other lines lost:\n%s", got)
	}
}
