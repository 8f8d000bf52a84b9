// Package httpfront serves JSON-RPC over HTTP/1.1 keep-alive connections
// without net/http's per-request work for the plain requests clients send,
// and hands every other connection to a net/http server.
package httpfront

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/log"
)

// Front reads HTTP connections itself and answers the requests a fast path
// serves (Config.Answer, rpc.FastHTTP.Answer in the node) without net/http.
//
// A CPU profile of --dev under loadgen's eth_blockNumber put net/http's
// per-request work (request parsing into maps, the goroutine that watches
// each request's connection and the deadlines that stop it, the response
// writer) at about a fifth of the node's CPU, more than the call itself.
//
// It reads only the plainest requests (eligible): HTTP/1.1 POST, one
// Content-Length up to the fast path's limit, one Host that geth's
// virtual-host check lets through, no Transfer-Encoding, Expect, Upgrade,
// Origin, or Connection but keep-alive, every line well-formed. The fast
// path answers what it serves; the rest (other methods, batches, bad JSON)
// goes through geth's handler stack as net/http would send it, parsed by
// net/http's own ReadRequest, and the front writes the response net/http
// would. At a connection's first request that is not plain, the connection
// goes to net/http's server with every byte read from it, that request
// first, and stays there: it is then served as every connection was before
// the front. Clients keep a connection's kind, so a client of the front
// seldom leaves it.
//
// Timeouts are net/http's (go1.26 net/http/server.go, conn.serve and
// conn.readRequest): ReadHeaderTimeout from a request's start to its
// headers' end, ReadTimeout to its body's end, WriteTimeout from its
// headers' end, IdleTimeout between requests (Config.Server's). A
// read deadline is set only when a read has to wait. A client that hangs
// up cancels a request geth's stack serves, as with net/http (watchHangUp);
// the fast path's methods end by themselves, eth_call at the EVM timeout
// and eth_getLogs at the request's deadline, so their clients are not
// watched.
type Front struct {
	cfg    Config
	ctx    context.Context // what geth's rpc.ContextRequestTimeout reads from a net/http request's
	vhosts map[string]bool // lower case
	queue  *connQueue

	mu      sync.Mutex
	conns   map[*frontConn]struct{}
	closing atomic.Bool // set under mu
	wg      sync.WaitGroup
}

// A front connection is active while the front reads or answers a request,
// idle while it waits for one; Stop closes idle ones at once.
const (
	frontActive int32 = iota
	frontIdle
	frontClosed
)

type frontConn struct {
	net.Conn
	state atomic.Int32
	// What the front worked out for this connection's last request, and
	// its next one most likely repeats: together 5% of an eth_blockNumber's
	// CPU when worked out afresh.
	host       []byte // the last Host value geth's virtual-host check let through
	dateSecond int64
	date       []byte // the Date header's value for dateSecond
}

// frontHeadMax is the longest request head the front reads, net/http's
// buffer size: a longer one goes to net/http, which allows up to 1 MB.
const frontHeadMax = 4096

// Config is what a Front serves.
type Config struct {
	// Server serves the connections handed over, with geth's handler stack
	// and the fast path; its timeouts, which must all be set, are the
	// front's.
	Server *http.Server
	// Answer is the fast path: the response body to a POST of body with
	// that content type, ok false when it leaves the request to Slow.
	Answer func(ctx context.Context, contentType string, body []byte) (resp []byte, ok bool, err error)
	// Slow is Server's handler without the fast path.
	Slow http.Handler
	// BodyMax is the longest body Answer serves.
	BodyMax int
	// CORS and VHosts are the handler stack's (geth's --http.corsdomain
	// and --http.vhosts): with CORS, every answer varies by Origin.
	CORS, VHosts []string
	// OnHandoff, if set, is called for each connection handed to Server.
	OnHandoff func()
}

func New(cfg Config) *Front {
	f := &Front{
		cfg:    cfg,
		ctx:    context.WithValue(context.Background(), http.ServerContextKey, cfg.Server),
		vhosts: make(map[string]bool),
		conns:  make(map[*frontConn]struct{}),
	}
	for _, h := range cfg.VHosts {
		f.vhosts[strings.ToLower(h)] = true
	}
	return f
}

// Serve accepts connections from l until it is closed, and starts the
// server on the ones handed over.
func (f *Front) Serve(l net.Listener) {
	f.queue = &connQueue{conns: make(chan net.Conn), addr: l.Addr(), done: make(chan struct{})}
	go f.cfg.Server.Serve(f.queue)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		var backoff time.Duration
		for {
			c, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				// As net/http's Serve: out of descriptors is not the end.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				log.Warn("HTTP accept failed", "err", err, "retry", backoff)
				time.Sleep(backoff)
				continue
			}
			backoff = 0
			fc := &frontConn{Conn: c}
			fc.state.Store(frontIdle)
			f.mu.Lock()
			if f.closing.Load() {
				f.mu.Unlock()
				c.Close()
				return
			}
			f.conns[fc] = struct{}{}
			f.wg.Add(1)
			f.mu.Unlock()
			go f.serveConn(fc)
		}
	}()
}

// Stop closes the front's idle connections, waits until ctx for the others
// to finish their request, closes what is left, then shuts the server
// down. The listener must be closed first.
func (f *Front) Stop(ctx context.Context) error {
	f.mu.Lock()
	f.closing.Store(true)
	for c := range f.conns {
		if c.state.CompareAndSwap(frontIdle, frontClosed) {
			c.Close()
		}
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		f.mu.Lock()
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		<-done
	}
	return f.cfg.Server.Shutdown(ctx)
}

func (f *Front) serveConn(c *frontConn) {
	handed := false
	defer func() {
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		if !handed {
			c.Close()
		}
		f.wg.Done()
	}()
	cr := &connReader{c: c}
	br := bufio.NewReaderSize(cr, frontHeadMax)
	var out []byte
	for first := true; ; first = false {
		if !first {
			if f.closing.Load() {
				return
			}
			if br.Buffered() == 0 {
				c.SetReadDeadline(time.Now().Add(f.cfg.Server.IdleTimeout))
				c.state.Store(frontIdle)
				_, err := br.Peek(1)
				if !c.state.CompareAndSwap(frontIdle, frontActive) || err != nil {
					return
				}
			}
			// net/http's tolerance for clients that end a POST's body
			// with a line break (RFC 7230 §3.5).
			peek, _ := br.Peek(min(4, br.Buffered()))
			br.Discard(numLeadingCRorLF(peek))
		}
		start := time.Now()
		head, err := readHead(c, br, start.Add(f.cfg.Server.ReadHeaderTimeout))
		if err != nil {
			return
		}
		contentType, length, ok := f.eligible(head, &c.host)
		if c.state.Swap(frontActive) == frontClosed {
			return
		}
		if !ok {
			handed = f.handOff(c, br, nil)
			return
		}
		writeDeadline := time.Now().Add(f.cfg.Server.WriteTimeout)
		req := make([]byte, len(head)+length)
		if br.Buffered() < len(req) {
			c.SetReadDeadline(start.Add(f.cfg.Server.ReadTimeout))
		}
		if _, err := io.ReadFull(br, req); err != nil {
			return
		}
		keep := true
		resp, ok, err := f.cfg.Answer(f.ctx, contentType, req[len(head):])
		switch {
		case !ok:
			ctx, cancel := context.WithCancel(f.ctx)
			stop := func() {}
			if br.Buffered() == 0 {
				stop = cr.watchHangUp(cancel)
			}
			out, keep = f.serveSlow(ctx, out[:0], c, req[:len(head)], req[len(head):])
			stop()
			cancel()
		case err != nil:
			w := &bufferedResponse{header: make(http.Header)}
			http.Error(w, err.Error(), http.StatusInternalServerError) // as rpc.FastHTTP does
			out, keep = w.append(out[:0])
		default:
			out = f.response(out[:0], resp, c)
		}
		c.SetWriteDeadline(writeDeadline)
		if _, err := c.Write(out); err != nil || !keep {
			return
		}
		if cap(out) > frontHeadMax {
			out = nil // an idle connection keeps no large answer's buffer
		}
	}
}

// serveSlow runs a request the fast path leaves through geth's handler
// stack, as net/http would, and appends the response net/http would write;
// keep is false when the handler asked for the connection to be closed.
func (f *Front) serveSlow(ctx context.Context, out []byte, c net.Conn, head, body []byte) ([]byte, bool) {
	r, err := http.ReadRequest(bufio.NewReaderSize(bytes.NewReader(head), len(head)))
	if err != nil {
		// eligible accepts a subset of what ReadRequest does.
		log.Error("HTTP front: request net/http cannot read", "err", err)
		return out, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.RemoteAddr = c.RemoteAddr().String()
	r = r.WithContext(ctx)
	w := &bufferedResponse{header: make(http.Header)}
	f.cfg.Slow.ServeHTTP(w, r)
	return w.append(out)
}

// bufferedResponse holds a handler's whole response. geth's handlers build
// each response in memory before writing it, so holding it costs at most
// a copy.
type bufferedResponse struct {
	header http.Header
	code   int
	body   []byte
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *bufferedResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}

// Flush is a no-op: the response is written whole, at once.
func (w *bufferedResponse) Flush() {}

// append appends the response as net/http writes a handler's response
// that fits its buffer (go1.26 net/http/server.go, chunkWriter.writeHeader):
// the handler's headers sorted, then Date and Content-Length unless the
// handler set them. Transfer-Encoding is dropped as net/http drops it once
// a length is known (geth sets identity on errors). Every response of
// geth's stack names its content type, so none is sniffed.
func (w *bufferedResponse) append(out []byte) ([]byte, bool) {
	w.WriteHeader(http.StatusOK)
	b := bytes.NewBuffer(out)
	fmt.Fprintf(b, "HTTP/1.1 %03d %s\r\n", w.code, http.StatusText(w.code))
	delete(w.header, "Transfer-Encoding")
	w.header.Write(b)
	if _, ok := w.header["Date"]; !ok {
		b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	}
	if _, ok := w.header["Content-Length"]; !ok {
		b.WriteString("Content-Length: " + strconv.Itoa(len(w.body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(w.body)
	return b.Bytes(), !strings.EqualFold(w.header.Get("Connection"), "close")
}

// response is the bytes net/http and geth's handler stack write for the
// fast path's answer: the same headers in the same order.
func (f *Front) response(out, body []byte, c *frontConn) []byte {
	out = append(out, "HTTP/1.1 200 OK\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\nContent-Type: application/json\r\n"...)
	if len(f.cfg.CORS) > 0 { // geth's CORS handler adds Vary: Origin to every answer
		out = append(out, "Vary: Origin\r\n"...)
	}
	if now := time.Now(); now.Unix() != c.dateSecond || c.date == nil {
		c.dateSecond, c.date = now.Unix(), now.UTC().AppendFormat(c.date[:0], http.TimeFormat)
	}
	out = append(out, "Date: "...)
	out = append(out, c.date...)
	out = append(out, "\r\n\r\n"...)
	return append(out, body...)
}

// handOff gives c to net/http, which reads prefix (a request the front has
// read) and then everything br holds before reading c again. It reports
// whether net/http took it.
func (f *Front) handOff(c *frontConn, br *bufio.Reader, prefix []byte) bool {
	if f.cfg.OnHandoff != nil {
		f.cfg.OnHandoff()
	}
	var r io.Reader = br
	if len(prefix) > 0 {
		r = io.MultiReader(bytes.NewReader(prefix), br)
	}
	// net/http sets its own deadlines; the write deadline of a request
	// answered before must not cut this one short.
	c.SetDeadline(time.Time{})
	select {
	case f.queue.conns <- &handedConn{Conn: c.Conn, r: r}:
		return true
	case <-f.queue.done:
		return false
	}
}

// readHead returns the request head in br (up to and including its blank
// line, not consumed), or nil when it is longer than br holds. A read that
// has to wait for more waits until deadline.
func readHead(c net.Conn, br *bufio.Reader, deadline time.Time) ([]byte, error) {
	waited := false
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			return buf[:i+4], nil
		}
		if len(buf) == br.Size() {
			return nil, nil
		}
		if !waited {
			c.SetReadDeadline(deadline)
			waited = true
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil, err
		}
	}
}

// eligible reads head strictly and reports whether the front answers it,
// with its content type and body length; a nil head (one longer than the
// front reads) is not. allowedHost is the Host value the connection's last
// request was let through with, which eligible then checks no further; it
// keeps it up to date.
func (f *Front) eligible(head []byte, allowedHost *[]byte) (contentType string, length int, ok bool) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	target, found := bytes.CutPrefix(line, []byte("POST "))
	if !found {
		return "", 0, false
	}
	if target, found = bytes.CutSuffix(target, []byte(" HTTP/1.1")); !found || !plainPath(target) {
		return "", 0, false
	}
	var hosts, lengths, types int
	var host []byte
	for len(rest) > 2 { // the last line is the blank one
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !token(name) {
			return "", 0, false
		}
		value = bytes.Trim(value, " \t")
		for _, b := range value {
			if (b < 0x20 || b > 0x7e) && b != '\t' {
				return "", 0, false
			}
		}
		switch {
		case bytes.EqualFold(name, []byte("host")):
			hosts++
			host = value
		case bytes.EqualFold(name, []byte("content-length")):
			lengths++
			n, err := strconv.Atoi(string(value))
			if err != nil || value[0] < '0' || value[0] > '9' || n <= 0 || n > f.cfg.BodyMax {
				return "", 0, false
			}
			length = n
		case bytes.EqualFold(name, []byte("content-type")):
			types++
			contentType = string(value)
		case bytes.EqualFold(name, []byte("connection")):
			if !bytes.EqualFold(value, []byte("keep-alive")) {
				return "", 0, false
			}
		case bytes.EqualFold(name, []byte("transfer-encoding")), bytes.EqualFold(name, []byte("expect")),
			bytes.EqualFold(name, []byte("upgrade")), bytes.EqualFold(name, []byte("origin")),
			bytes.EqualFold(name, []byte("te")), bytes.EqualFold(name, []byte("trailer")):
			return "", 0, false
		}
	}
	if hosts != 1 || lengths != 1 || types > 1 {
		return "", 0, false
	}
	if !bytes.Equal(host, *allowedHost) || *allowedHost == nil {
		if !f.hostAllowed(host) {
			return "", 0, false
		}
		*allowedHost = append((*allowedHost)[:0], host...)
	}
	return contentType, length, true
}

// hostAllowed is geth's virtual-host check (node/rpcstack.go
// virtualHostHandler, v1.17.10) for a Host value of the characters a host
// name or IP literal has; anything else goes to net/http, which checks it.
func (f *Front) hostAllowed(host []byte) bool {
	if !alnumOr(host, ".-:[]") {
		return false
	}
	if len(host) == 0 {
		return true
	}
	name, _, err := net.SplitHostPort(string(host))
	if err != nil {
		name = string(host)
	}
	name = strings.ToLower(name)
	return net.ParseIP(name) != nil || f.vhosts["*"] || f.vhosts[name]
}

// plainPath reports whether a request target is a path net/http parses as
// written: unreserved characters and slashes, no escapes, no query.
func plainPath(p []byte) bool {
	return len(p) > 0 && p[0] == '/' && alnumOr(p, "/-._~")
}

// token reports whether name is an HTTP header name (RFC 9110 token).
func token(name []byte) bool {
	return len(name) > 0 && alnumOr(name, "!#$%&'*+-.^_`|~")
}

// alnumOr reports whether every byte of b is an ASCII letter or digit or
// one of extra.
func alnumOr(b []byte, extra string) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

func numLeadingCRorLF(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}

// connReader reads c, starting with a byte watchHangUp read.
type connReader struct {
	c    net.Conn
	next []byte
}

func (r *connReader) Read(p []byte) (int, error) {
	if len(r.next) > 0 && len(p) > 0 {
		n := copy(p, r.next)
		r.next = r.next[n:]
		return n, nil
	}
	return r.c.Read(p)
}

// watchHangUp reads c while a request is served, calling cancel if the
// client closes the connection, as net/http's background read does (go1.26
// net/http/server.go, connReader.backgroundRead): geth stops a call or a
// trace whose context ends. The returned stop ends the watch; a byte it
// read, the start of a pipelined request, is read next. Only call it when
// nothing read from c is unread.
func (r *connReader) watchHangUp(cancel context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	var b [1]byte
	var aborted atomic.Bool
	r.c.SetReadDeadline(time.Time{})
	go func() {
		defer close(done)
		n, err := r.c.Read(b[:])
		if n == 1 {
			r.next = b[:1]
		} else if err != nil && !aborted.Load() {
			cancel()
		}
	}()
	return func() {
		aborted.Store(true)
		r.c.SetReadDeadline(time.Unix(1, 0))
		<-done
	}
}

// handedConn is a connection net/http reads through what the front had
// already read of it.
type handedConn struct {
	net.Conn
	r io.Reader
}

func (c *handedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connQueue is the listener net/http serves: the front's handed-over
// connections.
type connQueue struct {
	conns chan net.Conn
	addr  net.Addr
	done  chan struct{}
	once  sync.Once
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
