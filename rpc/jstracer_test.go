package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/eth/tracers"
)

// traceReturns runs a trace and waits for it to return. A generous bound
// turns a trace that never stops (the failure this guards against) into a
// failed test instead of a hung one; it is not a speed assertion.
func traceReturns(t *testing.T, run func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("trace still running 30 s after it should have stopped")
		return nil
	}
}

// TestJSTracerLoopsInConstructorStop: JavaScript tracers whose own code
// loops where geth v1.17.10 runs it inside its tracer constructor (the
// object literal, setup), and one looping in result, stop when their
// client leaves and at their timeout, and hold no trace slot afterwards.
// Before deferJSTracer the first two never returned.
func TestJSTracerLoopsInConstructorStop(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	for name, tracer := range map[string]string{
		"object literal": `{x: (function() { for (;;) {} })(), fault: function() {}, result: function() { return 1 }}`,
		"setup":          `{setup: function(cfg) { for (;;) {} }, fault: function() {}, result: function() { return 1 }}`,
		"result":         `{fault: function() {}, result: function() { for (;;) {} }}`,
	} {
		t.Run(name, func(t *testing.T) {
			args, config := traceCallArgs(t, tracer, "1h")
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := traceReturns(t, func() error {
				_, err := tc.svc.traces.TraceCall(ctx, args, nil, config)
				return err
			})
			if !errors.Is(err, errCancelled) {
				t.Errorf("client left: %v, want cancelled", err)
			}
			if n := len(tc.svc.traces.slots); n != 0 {
				t.Errorf("%d trace slots still held", n)
			}
			err = traceReturns(t, func() error {
				_, err := tc.svc.traces.TraceCall(context.Background(), args, nil, mustConfig(t, tracer, "200ms"))
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "execution timeout") {
				t.Errorf("past its timeout: %v, want execution timeout", err)
			}
		})
	}
}

// TestJSTracerErrors: a tracer's faults are reported as geth reports them.
func TestJSTracerErrors(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	for tracer, want := range map[string]string{
		`{result: function() {`:   "SyntaxError",
		`{fault: function() {}}`:  "trace object must expose a function result()",
		`{result: function() {}}`: "trace object must expose a function fault()",
		`{enter: function() {}, fault: function() {}, result: function() {}}`:                              "either both or none of enter() and exit()",
		`{setup: function() { throw new Error("no setup") }, fault: function() {}, result: function() {}}`: "no setup",
		`notATracer`: "ReferenceError: notATracer is not defined",
		`(function() { var o = {fault: function() {}, result: function() {}}; o["st" + "ep"] = function() {}; return o })()`: "computed name",
	} {
		args, config := traceCallArgs(t, tracer, "")
		_, err := tc.svc.traces.TraceCall(context.Background(), args, nil, config)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", tracer, err, want)
		}
	}
}

// TestJSTracerSameResults: geth's own JavaScript tracers, given as code (so
// deferred), give the results they give by name (run as geth runs them),
// on a call that stores, calls another contract and fails in it.
func TestJSTracerSameResults(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ethereum/go-ethereum").Output()
	if err != nil {
		t.Fatalf("locating go-ethereum's source: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "eth", "tracers", "js", "internal", "tracers")
	tc := newTestChain(t, testOptions{})
	caller, callee := common.HexToAddress("0xc0de"), common.HexToAddress("0xc0df")
	args, _ := json.Marshal(map[string]any{"to": caller, "gas": "0x100000", "input": "0x12345678"})
	overrides := map[string]any{
		// SSTORE(0, 42); CALL(gas, callee, 0, 0, 4, 0, 0); POP; STOP
		caller.Hex(): map[string]any{"code": "0x602a60005560006000600460006000" + "61c0df" + "5af15000"},
		// MSTORE8 at 1, SLOAD 0, then INVALID
		callee.Hex(): map[string]any{"code": "0x600160015360005450fe"},
	}
	failed := 0
	for name, file := range map[string]string{
		"4byteTracerLegacy":    "4byte_tracer_legacy.js",
		"bigramTracer":         "bigram_tracer.js",
		"callTracerLegacy":     "call_tracer_legacy.js",
		"evmdisTracer":         "evmdis_tracer.js",
		"noopTracerLegacy":     "noop_tracer_legacy.js",
		"opcountTracer":        "opcount_tracer.js",
		"prestateTracerLegacy": "prestate_tracer_legacy.js",
		"trigramTracer":        "trigram_tracer.js",
		"unigramTracer":        "unigram_tracer.js",
	} {
		code, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		// Results, or errors: evmdisTracer fails on this call, by name too.
		run := func(tracer string) string {
			var config tracers.TraceCallConfig
			raw, _ := json.Marshal(map[string]any{"tracer": tracer, "stateOverrides": overrides})
			if err := json.Unmarshal(raw, &config); err != nil {
				t.Fatal(err)
			}
			res, err := tc.svc.traces.TraceCall(context.Background(), args, nil, &config)
			if err != nil {
				return "error: " + err.Error()
			}
			b, _ := json.Marshal(res)
			return string(b)
		}
		byName, asCode := run(name), run(string(code))
		if byName != asCode {
			t.Errorf("%s: by name %s\nas code %s", name, byName, asCode)
		}
		if strings.HasPrefix(byName, "error") {
			failed++
		}
	}
	if failed > 1 {
		t.Errorf("%d of geth's tracers failed by name: the call exercises too little", failed)
	}
}
