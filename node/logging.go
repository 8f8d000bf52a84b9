package node

import (
	"context"
	"log/slog"
	"strings"
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
