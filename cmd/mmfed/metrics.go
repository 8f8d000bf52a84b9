package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ethereum/go-ethereum/metrics"
	"github.com/ethereum/go-ethereum/metrics/prometheus"
	"github.com/urfave/cli/v2"
)

// metricsPath is geth's Prometheus path, which mmgeth --metrics serves too,
// so that one scrape configuration fits both daemons.
const metricsPath = "/debug/metrics/prometheus"

var (
	metricsFlag = &cli.BoolFlag{
		Name:  "metrics",
		Usage: "serve Prometheus metrics on " + metricsPath + " (relay: BtcRelay and Bitcoin heights, lag, headers relayed, gas, errors; run: rounds, failed rounds, batches built)",
	}
	metricsAddrFlag = &cli.StringFlag{
		Name:  "metrics.addr",
		Usage: "metrics HTTP listening interface",
		Value: "127.0.0.1",
	}
	metricsPortFlag = &cli.IntFlag{
		Name:  "metrics.port",
		Usage: "metrics HTTP listening port (mmgeth's default is 6060)",
		Value: 6061,
	}
)

// serveMetrics serves geth's default registry, where the relayer's metrics
// are, until ctx ends. It listens before returning, so that a port in use
// stops mmfed at start rather than being logged and forgotten.
func serveMetrics(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics: %w", err)
	}
	// geth's process metrics (memory, CPU, goroutines) are collected only
	// once metrics are enabled.
	metrics.Enable()
	go metrics.CollectProcessMetrics(3 * time.Second)
	mux := http.NewServeMux()
	mux.Handle(metricsPath, prometheus.Handler(metrics.DefaultRegistry))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Metrics server failed", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(c)
	}()
	log.Info("Serving metrics", "url", "http://"+ln.Addr().String()+metricsPath)
	return nil
}
