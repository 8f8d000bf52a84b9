package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	gethnode "github.com/ethereum/go-ethereum/node"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// httpRPC serves JSON-RPC over HTTP with geth's rpc.Server and handler
// stack (CORS, virtual hosts, geth's request and batch limits) but without
// the gzip layer geth's node always puts in front of it: compressing every
// small response cost a quarter of the CPU of an eth_call or eth_blockNumber,
// and clients of a node on their own machine gain nothing from it.
type httpRPC struct {
	addr     string
	srv      *gethrpc.Server
	server   *http.Server
	listener net.Listener
}

func newHTTPRPC(addr string, apis []gethrpc.API, modules, cors, vhosts []string) (*httpRPC, error) {
	srv := gethrpc.NewServer()
	limits := gethnode.DefaultConfig
	srv.SetBatchLimits(limits.BatchRequestLimit, limits.BatchResponseMaxSize)
	srv.SetHTTPBodyLimit(limits.HTTPBodyLimit)
	for _, api := range apis {
		if slices.Contains(modules, api.Namespace) {
			if err := srv.RegisterName(api.Namespace, api.Service); err != nil {
				return nil, fmt.Errorf("http api %s: %w", api.Namespace, err)
			}
		}
	}
	timeouts := gethrpc.DefaultHTTPTimeouts
	return &httpRPC{addr: addr, srv: srv, server: &http.Server{
		Handler:           gethnode.NewHTTPHandlerStack(srv, cors, vhosts, nil, true),
		ReadTimeout:       timeouts.ReadTimeout,
		ReadHeaderTimeout: timeouts.ReadHeaderTimeout,
		WriteTimeout:      timeouts.WriteTimeout,
		IdleTimeout:       timeouts.IdleTimeout,
	}}, nil
}

func (h *httpRPC) Start() error {
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		return fmt.Errorf("http-rpc: %w", err)
	}
	h.listener = l
	go h.server.Serve(l)
	return nil
}

func (h *httpRPC) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := h.server.Shutdown(ctx)
	h.srv.Stop()
	return err
}

// endpoint is the URL the server listens on, once started.
func (h *httpRPC) endpoint() string { return "http://" + h.listener.Addr().String() }
