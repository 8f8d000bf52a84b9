package rpc

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/dop251/goja"
	"github.com/ethereum/go-ethereum/eth/tracers"
)

// A JavaScript tracer's own code must not run in geth's constructor, where
// nothing can stop it. geth v1.17.10's newJsTracer
// (eth/tracers/js/goja.go) makes its goja runtime locally (line 153),
// evaluates the code (line 184) and calls its setup (line 219) before it
// returns the tracers.Tracer whose Stop (line 454, vm.Interrupt) is the
// only way to interrupt that runtime; tracers.DefaultDirectory.New
// (eth/tracers/dir.go:82) takes no context, and traceTx (api.go:991) starts
// its timeout only after the constructor returned. A tracer whose object
// literal or setup looped therefore ran forever, holding a core and its
// trace slot, whatever the timeout and whether or not its client stayed.
//
// deferJSTracer hands geth instead a tracer whose constructor only stores
// the code: the user's object is built and its setup run at the first call
// geth makes into it (step, enter, exit, fault or result), which the
// timeout and a client's hang-up interrupt like any other (goja's interrupt
// flag stays set, so a result called after Stop returns at once). The
// user's result, fault and enter/exit pairing are checked with geth's
// messages, and which of its methods exist is read before its setup runs,
// as geth reads it (a setup that replaces a method has the replacement
// called, where geth calls the original).
//
// geth decides at construction whether it calls step and enter/exit at
// all, and calling them for a tracer that has none costs: a tracer with
// only enter/exit took 150 ms instead of 6 ms over 262,000 opcodes (and a
// trivial step costs about 2.5x through the wrapper: one more JavaScript
// call per opcode). The wrapper therefore has step only if the code
// contains the word "step" (likewise "enter"/"exit"); a tracer that has
// such a method under a computed name is refused with an error, never
// silently not called.
func deferJSTracer(config *tracers.TraceConfig) error {
	if config == nil || config.Tracer == nil || tracerName.MatchString(*config.Tracer) {
		return nil
	}
	code := *config.Tracer
	// Syntax errors at once, as geth reports them (it compiles the same
	// source), not at the first opcode.
	if _, err := goja.Compile("", "("+code+")", false); err != nil {
		return err
	}
	// json.Marshal escapes U+2028/U+2029, so the string is a valid
	// ECMAScript 5 literal for any code.
	src, err := json.Marshal(code)
	if err != nil {
		return err
	}
	step := strings.Contains(code, "step")
	frames := strings.Contains(code, "enter") || strings.Contains(code, "exit")
	var w strings.Builder
	fmt.Fprintf(&w, `{src: %s, cfg: "{}", t: null, hasStep: false, hasFrames: false,
setup: function(cfg) { this.cfg = cfg; },
user: function() {
	var t = (0, eval)("(" + this.src + ")");
	if (typeof t.result !== "function") throw new Error("trace object must expose a function result()");
	if (typeof t.fault !== "function") throw new Error("trace object must expose a function fault()");
	this.hasFrames = typeof t.enter === "function";
	if (this.hasFrames !== (typeof t.exit === "function")) throw new Error("trace object must expose either both or none of enter() and exit()");
	if (this.hasFrames && !%t) throw new Error("the tracer's enter() and exit() have computed names: name them in its source");
	this.hasStep = typeof t.step === "function";
	if (this.hasStep && !%t) throw new Error("the tracer's step() has a computed name: name it in its source");
	if (typeof t.setup === "function") t.setup(this.cfg);
	return this.t = t;
},
fault: function(log, db) { (this.t || this.user()).fault(log, db); },
result: function(ctx, db) { return (this.t || this.user()).result(ctx, db); }`, src, frames, step)
	// The hot paths call the user's method directly: through
	// Function.prototype.call, a trivial step cost twice as much again.
	if step {
		w.WriteString(`,
step: function(log, db) { var t = this.t || this.user(); if (this.hasStep) t.step(log, db); }`)
	}
	if frames {
		w.WriteString(`,
enter: function(frame) { var t = this.t || this.user(); if (this.hasFrames) t.enter(frame); },
exit: function(res) { var t = this.t || this.user(); if (this.hasFrames) t.exit(res); }`)
	}
	w.WriteString("}")
	wrapped := w.String()
	config.Tracer = &wrapped
	return nil
}

// tracerName matches what can only be a tracer's name (geth's native and
// built-in JavaScript tracers, "callTracer", "4byteTracerLegacy"):
// evaluated as code, such a string runs nothing.
var tracerName = regexp.MustCompile(`^[A-Za-z0-9_$]+$`)
