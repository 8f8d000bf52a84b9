package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/eth/tracers"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// loopCode is JUMPDEST PUSH1 0 JUMP: it runs until its gas or its time
// runs out.
var loopCode = hexutil.Bytes{0x5b, 0x60, 0x00, 0x56}

// loopingTracer is a JavaScript tracer whose step never returns: only an
// interrupt of the JavaScript VM stops it.
const loopingTracer = `{step: function() { for (;;) {} }, fault: function() {}, result: function() { return 1 }}`

// TestCallCancelledVersusTimeout: an eth_call whose client leaves says
// "cancelled"; one that runs out the EVM timeout says so, with the timeout.
func TestCallCancelledVersusTimeout(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	api := &ethAPI{tc.svc}
	to := common.HexToAddress("0x000000000000000000000000000000000000c0de")
	so := StateOverride{to: {Code: &loopCode}}
	args := TransactionArgs{To: &to}

	// The loop burns the 50M gas cap in about 100 ms: both limits below
	// must strike well before.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := api.Call(ctx, args, nil, &so, nil)
	if err == nil || err.Error() != "cancelled" {
		t.Fatalf("client gone after 5ms: %v, want \"cancelled\"", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled call returned after %v", d)
	}

	tc.svc.cfg.EVMTimeout = 5 * time.Millisecond
	_, err = api.Call(context.Background(), args, nil, &so, nil)
	if err == nil || !strings.Contains(err.Error(), "execution aborted (timeout = 5ms)") {
		t.Fatalf("EVM timeout: %v", err)
	}
}

// traceCallArgs is a debug_traceCall of the looping contract with tracer
// (a name or JavaScript code).
func traceCallArgs(t *testing.T, tracer string, timeout string) (json.RawMessage, *tracers.TraceCallConfig) {
	t.Helper()
	to := common.HexToAddress("0x000000000000000000000000000000000000c0de")
	args, _ := json.Marshal(map[string]any{"to": to, "gas": "0x100000"})
	cfg := map[string]any{"stateOverrides": map[string]any{to.Hex(): map[string]any{"code": loopCode}}, "tracer": tracer}
	if timeout != "" {
		cfg["timeout"] = timeout
	}
	raw, _ := json.Marshal(cfg)
	var config tracers.TraceCallConfig
	if err := json.Unmarshal(raw, &config); err != nil {
		t.Fatal(err)
	}
	return args, &config
}

// TestTraceStopsWhenClientLeaves: a looping JavaScript tracer, which geth
// stops only at its deadline, stops as soon as its client goes away, and
// the call reports "cancelled". Its return proves the tracer stopped: the
// method returns only once geth's trace does.
func TestTraceStopsWhenClientLeaves(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	args, config := traceCallArgs(t, loopingTracer, "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tc.svc.traces.TraceCall(ctx, args, nil, config)
	if !errors.Is(err, errCancelled) {
		t.Fatalf("trace whose client left: %v, want cancelled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("trace stopped %v after its client left after 300ms", d)
	}
	if n := len(tc.svc.traces.slots); n != 0 {
		t.Errorf("%d trace slots still held", n)
	}
	// With the client still there, geth's own timeout stops it.
	_, err = tc.svc.traces.TraceCall(context.Background(), args, nil, mustConfig(t, loopingTracer, "200ms"))
	if err == nil || !strings.Contains(err.Error(), "execution timeout") {
		t.Fatalf("trace past its timeout: %v", err)
	}
}

func mustConfig(t *testing.T, tracer string, timeout string) *tracers.TraceCallConfig {
	_, c := traceCallArgs(t, tracer, timeout)
	return c
}

// TestTraceLimit: past the cap, a trace waits for a slot, and leaves the
// queue when its client does.
func TestTraceLimit(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	traces := newTraceAPI(tc.svc.b, 1)
	args, busy := traceCallArgs(t, loopingTracer, "1s")
	held := make(chan error, 1)
	var heldEnd time.Time
	go func() {
		_, err := traces.TraceCall(context.Background(), args, nil, busy)
		heldEnd = time.Now()
		held <- err
	}()
	for len(traces.slots) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := traces.TraceCall(ctx, args, nil, mustConfig(t, "callTracer", "")); !errors.Is(err, errCancelled) {
		t.Fatalf("queued trace whose client left: %v", err)
	}
	if _, err := traces.TraceCall(context.Background(), args, nil, mustConfig(t, "callTracer", "100ms")); err != nil {
		t.Fatalf("queued trace: %v", err)
	}
	queuedEnd := time.Now()
	if err := <-held; err == nil || !strings.Contains(err.Error(), "execution timeout") {
		t.Errorf("slot holder: %v", err)
	}
	// Ordering, not timing: the queued trace could only run once the holder
	// gave the slot back, just before its call returned (the slack covers
	// the holder goroutine being scheduled late).
	if queuedEnd.Before(heldEnd.Add(-100 * time.Millisecond)) {
		t.Errorf("queued trace finished %v before the slot holder did", heldEnd.Sub(queuedEnd))
	}
}

// TestHangupContext: contexts derived from it end with DeadlineExceeded
// when the client's context is cancelled, which is what geth's traceTx
// acts on; values pass through.
func TestHangupContext(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	h, stop := hangupContext(parent)
	defer stop()
	child, childCancel := context.WithTimeout(h, time.Hour)
	defer childCancel()
	if h.Value(key{}) != "v" || child.Err() != nil {
		t.Fatal("values lost or ended early")
	}
	cancel()
	<-child.Done()
	if !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("derived context ended with %v", child.Err())
	}
}

// TestSubscriptionCap: a WebSocket connection gets MaxSubscriptions
// subscriptions and a clear error past them; ending one frees its place.
func TestSubscriptionCap(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	tc.svc.subs.limit = 3
	srv := gethrpc.NewServer()
	for _, api := range tc.svc.APIs() {
		if err := srv.RegisterName(api.Namespace, api.Service); err != nil {
			t.Fatal(err)
		}
	}
	defer srv.Stop()
	hs := newWSTestServer(t, srv)
	c, err := gethrpc.Dial(hs)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var subs []*gethrpc.ClientSubscription
	for i := 0; i < 3; i++ {
		sub, err := c.EthSubscribe(context.Background(), make(chan map[string]any), "newHeads")
		if err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
		subs = append(subs, sub)
	}
	_, err = c.EthSubscribe(context.Background(), make(chan map[string]any), "newHeads")
	if err == nil || !strings.Contains(err.Error(), "too many subscriptions on this connection (limit 3)") {
		t.Fatalf("4th subscription: %v", err)
	}
	// A second connection has its own count.
	c2, err := gethrpc.Dial(hs)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.EthSubscribe(context.Background(), make(chan map[string]any), "logs", map[string]any{}); err != nil {
		t.Fatalf("other connection: %v", err)
	}
	subs[0].Unsubscribe()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sub, err := c.EthSubscribe(context.Background(), make(chan map[string]any), "newPendingTransactions")
		if err == nil {
			sub.Unsubscribe()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("place not freed by unsubscribing: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newWSTestServer serves srv over WebSocket on 127.0.0.1 until the test ends.
func newWSTestServer(t *testing.T, srv *gethrpc.Server) string {
	hs := httptest.NewServer(srv.WebsocketHandler(nil))
	t.Cleanup(hs.Close)
	return "ws://" + hs.Listener.Addr().String()
}
