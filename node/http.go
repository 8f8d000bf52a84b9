package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	gethnode "github.com/ethereum/go-ethereum/node"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/rpc"
	"github.com/mmgeth/mmgeth/rpc/httpfront"
)

// httpRPC serves JSON-RPC over HTTP with geth's rpc.Server and handler
// stack (CORS, virtual hosts, geth's request and batch limits) but without
// the gzip layer geth's node always puts in front of it: compressing every
// small response cost a quarter of the CPU of an eth_call or eth_blockNumber,
// and clients of a node on their own machine gain nothing from it.
//
// It is the node's only HTTP server, whatever --http.api lists. mmgeth's
// own namespaces are served by a server holding only the enabled ones. When
// a namespace only geth's node implements is enabled (admin, geth's debug
// methods), requests whose every method is in an enabled namespace go to
// geth's in-process server, which holds geth's APIs and mmgeth's; the
// others (a disabled namespace, or a body that does not parse) go to the
// own server, which answers them as geth's HTTP server would: method not
// found, or the parse error.
//
// When eth is served, httpfront reads the connections first and answers
// plain keep-alive POSTs without net/http's per-request work; any other
// connection goes to the net/http server here, with every byte read.
//
// Connections are capped (maxConns) and a client must send its headers
// within httpReadHeaderTimeout, so slow clients cannot take the node's file
// descriptors; vhosts and cors are geth's --http.vhosts and
// --http.corsdomain.
type httpRPC struct {
	addr     string
	maxConns int
	own      *gethrpc.Server
	server   *http.Server
	front    *httpfront.Front // nil when eth is not served
	listener *limitListener
}

// newHTTPRPC serves the apis whose namespace is in modules; all is geth's
// in-process server, needed only if modules name a namespace apis lack.
// fast puts the eth namespace's fast path (rpc.Service.HTTPHandler) in
// front of the servers, and httpfront in front of net/http, when eth is
// enabled.
func newHTTPRPC(addr string, apis []gethrpc.API, all *gethrpc.Server, fast func(http.Handler) *rpc.FastHTTP, modules, cors, vhosts []string, maxConns int) (*httpRPC, error) {
	own, err := ownServer("http", apis, modules)
	if err != nil {
		return nil, err
	}
	limits := gethnode.DefaultConfig
	var handler http.Handler = own
	if foreign := foreignModules(modules, apis); len(foreign) > 0 {
		if all == nil {
			return nil, fmt.Errorf("http api %s: no server for geth's namespaces", strings.Join(foreign, ","))
		}
		handler = &moduleRouter{own: own, all: all, modules: modules, bodyLimit: int64(limits.HTTPBodyLimit)}
	}
	slow := handler
	var fastPath *rpc.FastHTTP
	if fast != nil && slices.Contains(modules, "eth") {
		fastPath = fast(handler)
		handler = fastPath
	}
	timeouts := gethrpc.DefaultHTTPTimeouts
	h := &httpRPC{addr: addr, maxConns: maxConns, own: own, server: &http.Server{
		Handler:           gethnode.NewHTTPHandlerStack(handler, cors, vhosts, nil, true),
		ReadTimeout:       timeouts.ReadTimeout,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		WriteTimeout:      timeouts.WriteTimeout,
		IdleTimeout:       httpIdleTimeout,
	}}
	if fastPath != nil {
		h.front = httpfront.New(httpfront.Config{
			Server: h.server, Answer: fastPath.Answer, BodyMax: rpc.FastBodyMax,
			Slow: gethnode.NewHTTPHandlerStack(slow, cors, vhosts, nil, true),
			CORS: cors, VHosts: vhosts, OnHandoff: func() { httpHandoffs.Inc(1) },
		})
	}
	return h, nil
}

// ownServer is an RPC server holding the apis whose namespace is in
// modules, with geth's request limits.
func ownServer(transport string, apis []gethrpc.API, modules []string) (*gethrpc.Server, error) {
	own := gethrpc.NewServer()
	limits := gethnode.DefaultConfig
	own.SetBatchLimits(limits.BatchRequestLimit, limits.BatchResponseMaxSize)
	own.SetHTTPBodyLimit(limits.HTTPBodyLimit)
	for _, api := range apis {
		if slices.Contains(modules, api.Namespace) {
			if err := own.RegisterName(api.Namespace, api.Service); err != nil {
				return nil, fmt.Errorf("%s api %s: %w", transport, api.Namespace, err)
			}
		}
	}
	return own, nil
}

// foreignModules are the modules asked for that no api of apis serves:
// only geth's node can serve them.
func foreignModules(modules []string, apis []gethrpc.API) []string {
	var out []string
	for _, m := range modules {
		if !slices.ContainsFunc(apis, func(a gethrpc.API) bool { return a.Namespace == m }) {
			out = append(out, m)
		}
	}
	return out
}

// moduleRouter sends a request to geth's in-process server when every
// method in it is in an enabled namespace, else to the own server.
type moduleRouter struct {
	own, all  *gethrpc.Server
	modules   []string
	bodyLimit int64
}

func (r *moduleRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		r.own.ServeHTTP(w, req)
		return
	}
	// One byte past the limit lets the server that gets the body refuse it
	// as too large, as it would have.
	body, err := io.ReadAll(io.LimitReader(req.Body, r.bodyLimit+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if r.enabled(body) {
		r.all.ServeHTTP(w, req)
		return
	}
	r.own.ServeHTTP(w, req)
}

// enabled reports whether body parses as a call or a batch whose every
// method is in an enabled namespace.
func (r *moduleRouter) enabled(body []byte) bool {
	type call struct {
		Method string `json:"method"`
	}
	var calls []call
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &calls) != nil {
			return false
		}
	} else {
		var c call
		if json.Unmarshal(trimmed, &c) != nil {
			return false
		}
		calls = []call{c}
	}
	for _, c := range calls {
		namespace, _, ok := strings.Cut(c.Method, "_")
		if !ok || !slices.Contains(r.modules, namespace) {
			return false
		}
	}
	return len(calls) > 0
}

func (h *httpRPC) Start() error {
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		return fmt.Errorf("http-rpc: %w", err)
	}
	h.listener = newLimitListener(l, h.maxConns, nil)
	if h.front != nil {
		h.front.Serve(h.listener)
	} else {
		go h.server.Serve(h.listener)
	}
	return nil
}

func (h *httpRPC) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if h.front != nil {
		h.listener.Close()
		err = h.front.Stop(ctx)
	} else {
		err = h.server.Shutdown(ctx)
	}
	h.own.Stop()
	return err
}

// endpoint is the URL the server listens on, once started.
func (h *httpRPC) endpoint() string { return "http://" + h.listener.Addr().String() }
