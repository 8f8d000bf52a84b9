package p2p

import (
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/log"
)

// TestMain shows geth's debug log when MMG_P2P_LOG is set, for diagnosing a
// failing network test.
func TestMain(m *testing.M) {
	if os.Getenv("MMG_P2P_LOG") != "" {
		log.SetDefault(log.NewLogger(log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelDebug, false)))
	}
	os.Exit(m.Run())
}
