package httpfront

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest is one HTTP/1.1 POST as a client writes it.
func rawRequest(target, host, contentType, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		target, host, contentType, len(body), body)
}

func TestEligible(t *testing.T) {
	f := New(Config{Server: &http.Server{}, BodyMax: 64 << 10, VHosts: []string{"localhost"}})
	ok := "POST / HTTP/1.1\r\nHost: 127.0.0.1:8545\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
	var connHost []byte
	for _, tc := range []struct {
		head string
		want bool
	}{
		{ok, true},
		{"POST /rpc/v1 HTTP/1.1\r\nhost: LOCALHOST\r\ncontent-length: 1\r\nConnection: keep-alive\r\nUser-Agent: x/1\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nHost: [::1]:8545\r\nContent-Length: 1\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nHost:\r\nContent-Length: 1\r\n\r\n", true}, // geth lets an empty Host through
		{strings.Replace(ok, "POST", "GET", 1), false},
		{strings.Replace(ok, "HTTP/1.1", "HTTP/1.0", 1), false},
		{strings.Replace(ok, "POST / ", "POST /a?b ", 1), false},
		{strings.Replace(ok, "POST / ", "POST http://x/ ", 1), false},
		{strings.Replace(ok, "POST / ", "POST /%41 ", 1), false},
		{strings.Replace(ok, "127.0.0.1:8545", "example.org", 1), false},
		{strings.Replace(ok, "127.0.0.1:8545", "a b", 1), false},
		{strings.Replace(ok, "Host: 127.0.0.1:8545\r\n", "", 1), false},
		{strings.Replace(ok, "Host: 127.0.0.1:8545\r\n", "Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n", 1), false},
		{strings.Replace(ok, "10", "0", 1), false},
		{strings.Replace(ok, "10", "+10", 1), false},
		{strings.Replace(ok, "10", "-1", 1), false},
		{strings.Replace(ok, "10", "65537", 1), false},
		{strings.Replace(ok, "Content-Length: 10\r\n", "", 1), false},
		{strings.Replace(ok, "Content-Length: 10\r\n", "Content-Length: 10\r\nContent-Length: 10\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nTransfer-Encoding: chunked\r\n\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nUpgrade: websocket\r\n\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nOrigin: http://localhost\r\n\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nX-A: 1\r\n 2\r\n\r\n", 1), false}, // a folded line
		{strings.Replace(ok, "\r\n\r\n", "\r\nX A: 1\r\n\r\n", 1), false},
		{strings.Replace(ok, "\r\n\r\n", "\r\nX-A: \x01\r\n\r\n", 1), false},
		{strings.Replace(ok, "Content-Type: application/json\r\n", "Content-Type: a\r\nContent-Type: b\r\n", 1), false},
	} {
		_, length, got := f.eligible([]byte(tc.head), new([]byte))
		if got != tc.want {
			t.Errorf("%q: eligible %v, want %v", tc.head, got, tc.want)
		}
		// The same on one connection, whose last allowed host the front
		// keeps: every case after the first comes after an allowed one.
		if _, _, onConn := f.eligible([]byte(tc.head), &connHost); onConn != tc.want {
			t.Errorf("%q after %q: eligible %v, want %v", tc.head, connHost, onConn, tc.want)
		}
		if got && length <= 0 {
			t.Errorf("%q: length %d", tc.head, length)
		}
	}
}

// testFront serves on 127.0.0.1 with short timeouts: "fast" bodies are
// answered by the fast path, "wait" ones too once entered is received from
// and release closed; the rest go to a handler, which answers "hold" once
// entered is received from and release closed, "hang" when its request's
// context ends (sending on hungUp) or the test ends, and anything else at
// once, with "slow". The front stops when the test ends.
func testFront(t *testing.T, entered, release, hungUp chan struct{}) (*Front, net.Listener) {
	t.Helper()
	quit := make(chan struct{})
	// Timeouts short enough for a test, long enough for a loaded machine to
	// send a request in pieces 50 ms apart within them.
	srv := &http.Server{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second,
		WriteTimeout: 5 * time.Second, IdleTimeout: 1500 * time.Millisecond}
	answer := func(_ context.Context, _ string, body []byte) ([]byte, bool, error) {
		switch string(body) {
		case "fast":
			return []byte(`"fast"`), true, nil
		case "wait":
			entered <- struct{}{}
			<-release
			return []byte(`"waited"`), true, nil
		}
		return nil, false, nil
	}
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		body, _ := io.ReadAll(r.Body)
		switch string(body) {
		case "hold":
			entered <- struct{}{}
			<-release
		case "hang":
			entered <- struct{}{}
			select {
			case <-r.Context().Done():
				hungUp <- struct{}{}
			case <-quit:
			}
		default:
			body = []byte("slow")
		}
		w.Write(body)
	})
	srv.Handler = slow
	f := New(Config{Server: srv, Answer: answer, Slow: slow, BodyMax: 64 << 10})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.Serve(l)
	t.Cleanup(func() {
		close(quit)
		l.Close()
		f.Stop(context.Background())
	})
	return f, l
}

// closedBy reports whether the server closes c, reading what it sends,
// before the test's guard of 10 s.
func closedBy(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, net.ErrClosed) || err == nil {
		return nil
	}
	return err
}

func TestTimeouts(t *testing.T) {
	_, l := testFront(t, nil, nil, nil)
	addr := l.Addr().String()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	req := rawRequest("/", "127.0.0.1", "application/json", "fast")

	// Headers that never end, a body that never comes, and a client that
	// goes quiet after a response are each closed.
	quiet := map[string]net.Conn{}
	for name, raw := range map[string]string{
		"headers": "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n",
		"body":    strings.TrimSuffix(req, "fast") + "fa",
		"idle":    req,
	} {
		quiet[name] = dial()
		io.WriteString(quiet[name], raw)
	}
	for name, c := range quiet {
		if err := closedBy(c); err != nil {
			t.Errorf("%s: connection not closed: %v", name, err)
		}
	}

	// A request sent in pieces within the timeouts is answered, as are two
	// pipelined ones, and a slow one between fast ones on one connection.
	c := dial()
	br := bufio.NewReader(c)
	for _, piece := range []string{req[:10], req[10:30], req[30:]} {
		io.WriteString(c, piece)
		time.Sleep(50 * time.Millisecond)
	}
	io.WriteString(c, req+rawRequest("/", "127.0.0.1", "application/json", "other")+req)
	for i, want := range []string{`"fast"`, `"fast"`, "slow", `"fast"`} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != want || resp.Header.Get("Vary") != "" {
			t.Fatalf("response %d: %q %v, want %q", i, body, resp.Header, want)
		}
	}
}

func TestStop(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f, l := testFront(t, entered, release, nil)
	addr := l.Addr().String()
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	ibr := bufio.NewReader(idle)
	io.WriteString(idle, rawRequest("/", "127.0.0.1", "application/json", "fast"))
	if resp, err := http.ReadResponse(ibr, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	io.WriteString(busy, rawRequest("/", "127.0.0.1", "application/json", "wait"))
	<-entered

	stopped := make(chan error)
	go func() {
		l.Close()
		stopped <- f.Stop(context.Background())
	}()
	if err := closedBy(idle); err != nil {
		t.Fatalf("idle connection not closed at stop: %v", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("stop returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	c := bufio.NewReader(busy)
	busy.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c, nil)
	if err != nil {
		t.Fatalf("request in flight at stop: %v", err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != `"waited"` {
		t.Fatalf("request in flight at stop: %q", body)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := closedBy(busy); err != nil {
		t.Fatalf("connection kept after stop: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("listener open after stop")
	}
}

// TestHTTPFrontHangUp: a client that hangs up ends its request's context
// in geth's stack; one that sends its next request meanwhile does not,
// and gets both answers.
func TestHangUp(t *testing.T) {
	entered, release, hungUp := make(chan struct{}), make(chan struct{}), make(chan struct{})
	_, l := testFront(t, entered, release, hungUp)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	gone := dial()
	io.WriteString(gone, rawRequest("/", "127.0.0.1", "application/json", "hang"))
	<-entered
	gone.Close()
	select {
	case <-hungUp:
	case <-time.After(10 * time.Second):
		t.Fatal("the request of the client that hung up is still served")
	}

	c := dial()
	io.WriteString(c, rawRequest("/", "127.0.0.1", "application/json", "hold"))
	<-entered
	io.WriteString(c, rawRequest("/", "127.0.0.1", "application/json", "fast"))
	time.Sleep(50 * time.Millisecond) // let the watch read the next request's first byte
	close(release)
	br := bufio.NewReader(c)
	for i, want := range []string{"hold", `"fast"`} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if body, _ := io.ReadAll(resp.Body); string(body) != want {
			t.Fatalf("response %d: %q, want %q", i, body, want)
		}
	}
}

// A connection's Date is formatted once a second: an answer in a later
// second than the last one carries the new second's date.
func TestResponseDate(t *testing.T) {
	f := New(Config{Server: &http.Server{}, BodyMax: 1})
	c := &frontConn{dateSecond: 1, date: []byte("Thu, 01 Jan 1970 00:00:01 GMT")}
	for range 2 { // the second answer is from the cache
		before := time.Now().Truncate(time.Second)
		resp := string(f.response(nil, []byte("{}"), c))
		after := time.Now()
		_, date, _ := strings.Cut(resp, "\r\nDate: ")
		date, _, _ = strings.Cut(date, "\r\n")
		got, err := http.ParseTime(date)
		if err != nil || got.Before(before) || got.After(after) {
			t.Fatalf("Date %q (%v), want between %v and %v", date, err, before, after)
		}
	}
}
