package node

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmgeth/mmgeth/genesis"
)

// rawRequest is one HTTP/1.1 POST as a client writes it.
func rawRequest(target, host, contentType, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		target, host, contentType, len(body), body)
}

// exchange writes raw on a new connection to addr and reads n responses
// to it, returning the bytes they came in with Date's value masked, and
// the responses.
func exchange(t *testing.T, addr, raw string, n int) (string, []*http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &got))
	var resps []*http.Response
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d of %d: %v (read so far: %q)", len(resps)+1, n, err, got.String())
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resps = append(resps, resp)
	}
	return dateValue.ReplaceAllString(got.String(), "Date: D\r\n"), resps
}

var dateValue = regexp.MustCompile("Date: [^\r]*\r\n")

// startDevCORS starts a dev node with the CORS origins mmgeth --dev
// allows, and returns its HTTP host:port.
func startDevCORS(t *testing.T) string {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := startNode(t, Config{Spec: spec, Dev: true, HTTPCors: DevCORS})
	return strings.TrimPrefix(n.HTTPEndpoint(), "http://")
}

func TestHTTPFrontAnswersAsNetHTTP(t *testing.T) {
	addr := startDevCORS(t)
	json := "application/json"
	calls := []struct{ contentType, body string }{
		{json, `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`},
		{"application/json; charset=utf-8", `{"jsonrpc":"2.0","id":"two","method":"eth_chainId"}`},
		{json, `{"jsonrpc":"2.0","id":3,"method":"eth_call","params":[{"to":"0x0000000000000000000000000000000000000004","data":"0x0102"},"latest"]}`},
		{json, `{"jsonrpc":"2.0","id":4,"method":"eth_call","params":[{"gas":"0x1"}]}`},
		{json, `{"jsonrpc":"2.0","id":5,"method":"eth_getTransactionReceipt","params":["0x0000000000000000000000000000000000000000000000000000000000000001"]}`},
		{json, `{"jsonrpc":"2.0","id":6,"method":"eth_getLogs","params":[{"fromBlock":"0x0","toBlock":"latest"}]}`},
		{json, `{"jsonrpc":"2.0","id":7,"method":"eth_sendRawTransaction","params":["0x00"]}`},
		// Left by the fast path to geth's stack.
		{json, `{"jsonrpc":"2.0","id":8,"method":"eth_getBalance","params":["0x0000000000000000000000000000000000000000","latest"]}`},
		{json, `[{"jsonrpc":"2.0","id":9,"method":"eth_blockNumber"},{"jsonrpc":"2.0","id":10,"method":"net_version"}]`},
		{json, `{"jsonrpc":"2.0","id":11,"method":"no_such"}`},
		{json, `{"jsonrpc":"2.0","id":12,"method":"eth_blockNumber","params":["extra"]}`},
		{json, `{"jsonrpc":"2.0","id":`},
		{"text/plain", `{"jsonrpc":"2.0","id":13,"method":"eth_blockNumber"}`},
		{json, `{"jsonrpc":"2.0","id":14,"method":"eth_blockNumber"}`},
	}
	raws := func(target string) string {
		var b strings.Builder
		for _, c := range calls {
			b.WriteString(rawRequest(target, addr, c.contentType, c.body))
		}
		return b.String()
	}
	before := httpHandoffs.Snapshot().Count()
	front, resps := exchange(t, addr, raws("/"), len(calls))
	if got := httpHandoffs.Snapshot().Count(); got != before {
		t.Fatalf("plain requests: %d connections handed to net/http", got-before)
	}
	// A path with an escape is one the front leaves to net/http; geth's
	// server does not read the path.
	viaNetHTTP, _ := exchange(t, addr, raws("/%2F"), len(calls))
	if got := httpHandoffs.Snapshot().Count(); got != before+1 {
		t.Fatalf("escaped path: %d connections handed to net/http, want 1", got-before)
	}
	if front != viaNetHTTP {
		t.Fatalf("the front answered\n%s\nnet/http answered\n%s", front, viaNetHTTP)
	}
	if resps[0].StatusCode != http.StatusOK || resps[0].Header.Get("Vary") != "Origin" ||
		resps[12].StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("statuses %d, %d; Vary %q", resps[0].StatusCode, resps[12].StatusCode, resps[0].Header.Get("Vary"))
	}
}

func TestHTTPFrontHandsOffWhatItDoesNotRead(t *testing.T) {
	addr := startDevCORS(t)
	call := `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`
	plain := rawRequest("/", addr, "application/json", call)
	head := "POST / HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n"
	withLength := func(extra, body string) string {
		return fmt.Sprintf("%s%sContent-Length: %d\r\n\r\n%s", head, extra, len(body), body)
	}
	padded := call + strings.Repeat(" ", 70_000)
	cases := []struct {
		name     string
		raw      string
		statuses []int // of the request and, when it keeps the connection, a plain one after it
		check    func(*http.Response) bool
	}{
		{"chunked", head + fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(call), call) + plain,
			[]int{200, 200}, nil},
		{"expect 100-continue", withLength("Expect: 100-continue\r\n", call) + plain, []int{100, 200, 200}, nil},
		{"origin", withLength("Origin: http://localhost:3000\r\n", call) + plain, []int{200, 200},
			func(r *http.Response) bool {
				return r.Header.Get("Access-Control-Allow-Origin") == "http://localhost:3000"
			}},
		{"connection close", withLength("Connection: close\r\n", call) + plain, []int{200},
			func(r *http.Response) bool { return r.Close }},
		{"HTTP/1.0", strings.Replace(withLength("", call), "HTTP/1.1", "HTTP/1.0", 1), []int{200},
			func(r *http.Response) bool { return r.Close }},
		{"GET", "GET / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n" + plain, []int{200, 200}, nil},
		{"websocket upgrade", "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", []int{200}, nil},
		{"body over the front's limit", withLength("", padded) + plain, []int{200, 200}, nil},
		{"two lengths", head + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}{}", []int{400}, nil},
		{"host not allowed", strings.Replace(plain, "Host: "+addr, "Host: evil.example", 1) + plain, []int{403, 200}, nil},
		{"head over the front's buffer", withLength("X-Pad: "+strings.Repeat("a", 5000)+"\r\n", call) + plain, []int{200, 200}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := httpHandoffs.Snapshot().Count()
			_, resps := exchange(t, addr, tc.raw, len(tc.statuses))
			if got := httpHandoffs.Snapshot().Count(); got != before+1 {
				t.Fatalf("%d connections handed to net/http, want 1", got-before)
			}
			for i, r := range resps {
				if r.StatusCode != tc.statuses[i] {
					t.Fatalf("response %d: status %d, want %d", i, r.StatusCode, tc.statuses[i])
				}
				if len(tc.statuses) > 1 && i == len(resps)-1 {
					body, _ := io.ReadAll(r.Body)
					if !strings.Contains(string(body), `"result":"0x`) {
						t.Fatalf("plain request after it: %s", body)
					}
				}
			}
			if tc.check != nil && !tc.check(resps[0]) {
				t.Fatalf("response %+v", resps[0].Header)
			}
		})
	}
}
