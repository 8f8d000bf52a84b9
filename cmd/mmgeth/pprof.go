package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/ethereum/go-ethereum/log"
)

// startPprof serves Go's profiling handlers on their own listener, never on
// the RPC port: a profile is for the operator measuring the node, not for
// RPC clients. The listener is opened before the node starts so that a busy
// address fails the command instead of being logged and forgotten.
func startPprof(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.Serve(l, mux); err != nil {
			log.Warn("pprof server stopped", "err", err)
		}
	}()
	log.Info("pprof server started", "addr", "http://"+l.Addr().String()+"/debug/pprof/")
	return nil
}
