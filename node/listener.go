package node

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Connection limits of the RPC servers (http.go, ws.go). geth puts no cap
// on either: 1,100 slow HTTP clients exhausted the node's file descriptors,
// which the database needs too.
const (
	DefaultHTTPMaxConns = 512
	DefaultWSMaxConns   = 256

	// httpReadHeaderTimeout is how long a client has to send its request
	// headers. geth allows 30 s; a client that has sent no complete header
	// in 5 s on a node's RPC port is not a client, and each one holds a
	// connection slot.
	httpReadHeaderTimeout = 5 * time.Second
	// httpIdleTimeout closes kept-alive connections idle this long (geth:
	// 120 s): idle connections hold slots that new clients wait for.
	httpIdleTimeout = 30 * time.Second

	// wsWriteTimeout is how long one write to a WebSocket client may block
	// before the client is dropped (geth's writes wait 10 s and the
	// connection stays open after one fails). A client that stops reading
	// fills its socket buffers, and then each write blocks.
	wsWriteTimeout = 5 * time.Second
)

// limitListener accepts at most max connections at a time. Past the cap,
// Accept waits for a connection to close: the next clients wait in the
// kernel's accept queue, which costs the process no file descriptor.
type limitListener struct {
	net.Listener
	slots chan struct{}
	open  atomic.Int64            // connections accepted and not yet closed
	wrap  func(net.Conn) net.Conn // per-connection wrapper; nil for none
	done  chan struct{}
	once  sync.Once
}

func newLimitListener(l net.Listener, max int, wrap func(net.Conn) net.Conn) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), wrap: wrap, done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.open.Add(1)
	lc := &limitConn{Conn: c, l: l}
	if l.wrap != nil {
		return l.wrap(lc), nil
	}
	return lc, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.open.Add(-1)
		<-c.l.slots
	})
	return err
}

// wsConn bounds each write to a WebSocket client by wsWriteTimeout and
// closes the connection when a write fails: the RPC server then ends the
// connection and its subscriptions, instead of keeping a client that no
// longer reads.
type wsConn struct{ net.Conn }

func (c wsConn) SetWriteDeadline(t time.Time) error {
	if limit := time.Now().Add(wsWriteTimeout); t.IsZero() || t.After(limit) {
		t = limit
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c wsConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c wsConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.Conn.Close()
	}
	return n, err
}

func wrapWSConn(c net.Conn) net.Conn { return wsConn{c} }
