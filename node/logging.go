package node

import (
	"context"
	"log/slog"
	"strings"

	"github.com/ethereum/go-ethereum/params"
)

// QuietShareRejections wraps the node's log handler so that geth's RPC
// server logs a failed mnr_* call at DEBUG instead of WARN. geth warns on
// every call that returns an error (rpc/handler.go, handleCallMsg); for a
// mining pool a refused share (stale work, too little work) is routine and
// the pool reads the reason in the reply, and warning on each would let
// anyone who can reach the mnr endpoint flood the operator's log. Other
// namespaces keep geth's behaviour.
func QuietShareRejections(h slog.Handler) slog.Handler { return &quietShares{h} }

type quietShares struct{ slog.Handler }

const servedMnr = "Served mnr_"

func (q *quietShares) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, servedMnr) {
		if !q.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		demoted := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			demoted.AddAttrs(a)
			return true
		})
		r = demoted
	}
	return q.Handler.Handle(ctx, r)
}

func (q *quietShares) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietShares{q.Handler.WithAttrs(attrs)}
}

func (q *quietShares) WithGroup(name string) slog.Handler {
	return &quietShares{q.Handler.WithGroup(name)}
}

// QuietGethBanner wraps the node's log handler so that geth's chain-config
// banner is not printed. core.NewBlockChain logs it unconditionally, one
// log.Info per line of params.ChainConfig.Description() between two rules
// of dashes (core/blockchain.go), and for this chain it is wrong: it names
// the Merge, a terminal total difficulty, blob schedules and an "unknown"
// consensus. geth offers no switch for it, but it is plain INFO records
// without attributes, so the handler drops exactly those whose message is
// a line of cfg's description, the rule or empty; the node logs its own
// banner (Node.logChain). A fresh database's one-off "Head block is not
// reachable" (the freezer starts before the genesis is written) is demoted
// to DEBUG for the same reason: it reads as a fault and is none.
func QuietGethBanner(h slog.Handler, cfg *params.ChainConfig) slog.Handler {
	lines := map[string]bool{"": true, strings.Repeat("-", 153): true}
	for _, line := range strings.Split(cfg.Description(), "\n") {
		lines[line] = true
	}
	return &quietBanner{Handler: h, lines: lines}
}

type quietBanner struct {
	slog.Handler
	lines map[string]bool
}

func (q *quietBanner) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case r.Level == slog.LevelInfo && r.NumAttrs() == 0 && q.lines[r.Message]:
		return nil
	case r.Level == slog.LevelInfo && r.Message == "Chain head was updated":
		// geth's SetCanonical logs each head it sets, which is every block
		// this node builds (chain.InsertBuilt): the node's own "Sealed
		// block" line already says so.
		if !q.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		demoted := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			demoted.AddAttrs(a)
			return true
		})
		r = demoted
	case r.Level == slog.LevelWarn && r.Message == "Head block is not reachable":
		if !q.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r = slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	}
	return q.Handler.Handle(ctx, r)
}

func (q *quietBanner) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietBanner{q.Handler.WithAttrs(attrs), q.lines}
}

func (q *quietBanner) WithGroup(name string) slog.Handler {
	return &quietBanner{q.Handler.WithGroup(name), q.lines}
}
