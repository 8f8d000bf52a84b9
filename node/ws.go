package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// wsRPC serves JSON-RPC over WebSocket with geth's rpc.Server and its
// origin check (--ws.origins; geth's default when empty: localhost and this
// host's name). It replaces geth's node WS server so that the node owns the
// connections: their number is capped, and a client that stops reading is
// disconnected after one write blocks for wsWriteTimeout (wsConn), which
// geth's server cannot do. It serves mmgeth's namespaces only; geth's admin
// namespace stays on IPC (and HTTP, when asked for).
type wsRPC struct {
	addr     string
	maxConns int
	own      *gethrpc.Server
	server   *http.Server
	listener *limitListener
}

func newWSRPC(addr string, apis []gethrpc.API, modules, origins []string, maxConns int) (*wsRPC, error) {
	if foreign := foreignModules(modules, apis); len(foreign) > 0 {
		return nil, fmt.Errorf("ws api %s: not served over WebSocket (use IPC)", strings.Join(foreign, ","))
	}
	own, err := ownServer("ws", apis, modules)
	if err != nil {
		return nil, err
	}
	return &wsRPC{addr: addr, maxConns: maxConns, own: own, server: &http.Server{
		Handler:           own.WebsocketHandler(origins),
		ReadHeaderTimeout: httpReadHeaderTimeout,
	}}, nil
}

func (w *wsRPC) Start() error {
	l, err := net.Listen("tcp", w.addr)
	if err != nil {
		return fmt.Errorf("ws-rpc: %w", err)
	}
	w.listener = newLimitListener(l, w.maxConns, wrapWSConn)
	go w.server.Serve(w.listener)
	return nil
}

func (w *wsRPC) Stop() error {
	// Shutdown does not wait for hijacked (WebSocket) connections: stopping
	// the RPC server closes them.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.server.Shutdown(ctx)
	w.own.Stop()
	return err
}

// endpoint is the URL the server listens on, once started.
func (w *wsRPC) endpoint() string { return "ws://" + w.listener.Addr().String() }
