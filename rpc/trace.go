// Wraps go-ethereum v1.17.10 eth/tracers/api.go (API): every debug_trace*
// method is geth's, called through limits geth does not have.

package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/eth/tracers"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// errCancelled answers a call whose client went away (hung up, or hit its
// own timeout) before the node finished: no one reads it, but the RPC
// server logs it, and "execution timeout" there would send an operator
// looking for a slow node.
var errCancelled = &codedError{codeServerError, "cancelled"}

// traceAPI serves geth's debug_trace* methods with two limits:
//
//   - at most Config.TraceLimit traces run at once on the node; the others
//     wait for a slot while their client waits. A trace can hold a core for
//     its whole timeout (a JavaScript tracer is arbitrary code), so without
//     the cap a handful of clients could take every core.
//   - a trace stops as soon as its client goes away. geth's traceTx stops
//     the tracer and the EVM only when its context's deadline passes, not
//     when the context is cancelled (eth/tracers/api.go, traceTx): a client
//     that hung up left a looping JavaScript tracer running forever (two
//     such calls with a 1 s client timeout kept two cores busy for minutes).
//     The methods therefore hand geth a context that reports its end as a
//     deadline (hangupContext). A JavaScript tracer's own code runs only
//     where that stop reaches it (deferJSTracer).
//
// The methods are listed one by one rather than promoted from an embedded
// *tracers.API, so that a method a later geth adds is not served without
// these limits.
type traceAPI struct {
	api    *tracers.API
	slots  chan struct{}
	chains chan struct{} // running debug_subscribe("traceChain")s
}

func newTraceAPI(b tracers.Backend, limit int) *traceAPI {
	return &traceAPI{api: tracers.NewAPI(b), slots: make(chan struct{}, limit), chains: make(chan struct{}, limit)}
}

// acquire takes a trace slot, waiting while the client does.
func (t *traceAPI) acquire(ctx context.Context) error {
	select {
	case t.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errCancelled
	}
}

func (t *traceAPI) release() { <-t.slots }

// trace runs one geth trace method in a slot, under a context that stops
// the tracer when the client leaves.
func trace[R any](t *traceAPI, ctx context.Context, run func(context.Context) (R, error)) (R, error) {
	var zero R
	if err := t.acquire(ctx); err != nil {
		return zero, err
	}
	defer t.release()
	hctx, stop := hangupContext(ctx)
	defer stop()
	res, err := run(hctx)
	if ctx.Err() != nil {
		return zero, errCancelled
	}
	return res, err
}

// hangupContext returns a context carrying ctx's values that ends when ctx
// does but reports context.DeadlineExceeded, which is what makes geth's
// traceTx interrupt the tracer (eth/tracers/api.go: it tests
// errors.Is(err, context.DeadlineExceeded)). Its Value hides ctx's
// cancellation (context.WithoutCancel), so that contexts derived from it
// take its Err, not ctx's. stop releases the watcher.
func hangupContext(ctx context.Context) (context.Context, func()) {
	h := &hangup{Context: context.WithoutCancel(ctx), parent: ctx, done: make(chan struct{})}
	stop := context.AfterFunc(ctx, func() { close(h.done) })
	return h, func() { stop() }
}

type hangup struct {
	context.Context // values only
	parent          context.Context
	done            chan struct{}
}

func (h *hangup) Deadline() (time.Time, bool) { return h.parent.Deadline() }
func (h *hangup) Done() <-chan struct{}       { return h.done }

func (h *hangup) Err() error {
	select {
	case <-h.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TraceCall serves debug_traceCall. args stays raw: geth's type for it is
// in an internal package, so it is decoded into whatever TraceCall takes.
func (t *traceAPI) TraceCall(ctx context.Context, args json.RawMessage, sel *gethrpc.BlockNumberOrHash, config *tracers.TraceCallConfig) (any, error) {
	if config != nil {
		if err := deferJSTracer(&config.TraceConfig); err != nil {
			return nil, err
		}
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) {
		return callDecoded(ctx, t.api.TraceCall, args, sel, config)
	})
}

// callDecoded decodes args into f's argument type A and calls f; the error
// for bad args reads as the RPC server's own for a parameter it decodes.
func callDecoded[A, B, C any](ctx context.Context, f func(context.Context, A, B, C) (any, error), args json.RawMessage, b B, c C) (any, error) {
	var a A
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, &invalidParamsError{fmt.Sprintf("invalid argument 0: %v", err)}
	}
	return f(ctx, a, b, c)
}

func (t *traceAPI) TraceTransaction(ctx context.Context, hash common.Hash, config *tracers.TraceConfig) (any, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) { return t.api.TraceTransaction(ctx, hash, config) })
}

// The block tracers return geth's unexported result type; any carries it.

func (t *traceAPI) TraceBlockByNumber(ctx context.Context, number gethrpc.BlockNumber, config *tracers.TraceConfig) (any, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) { return t.api.TraceBlockByNumber(ctx, number, config) })
}

func (t *traceAPI) TraceBlockByHash(ctx context.Context, hash common.Hash, config *tracers.TraceConfig) (any, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) { return t.api.TraceBlockByHash(ctx, hash, config) })
}

func (t *traceAPI) TraceBlock(ctx context.Context, blob hexutil.Bytes, config *tracers.TraceConfig) (any, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) { return t.api.TraceBlock(ctx, blob, config) })
}

func (t *traceAPI) TraceBlockFromFile(ctx context.Context, file string, config *tracers.TraceConfig) (any, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) { return t.api.TraceBlockFromFile(ctx, file, config) })
}

func (t *traceAPI) TraceBadBlock(ctx context.Context, hash common.Hash, config *tracers.TraceConfig) (any, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	return trace(t, ctx, func(ctx context.Context) (any, error) { return t.api.TraceBadBlock(ctx, hash, config) })
}

func (t *traceAPI) StandardTraceBlockToFile(ctx context.Context, hash common.Hash, config *tracers.StdTraceConfig) ([]string, error) {
	return trace(t, ctx, func(ctx context.Context) ([]string, error) { return t.api.StandardTraceBlockToFile(ctx, hash, config) })
}

func (t *traceAPI) StandardTraceBadBlockToFile(ctx context.Context, hash common.Hash, config *tracers.StdTraceConfig) ([]string, error) {
	return trace(t, ctx, func(ctx context.Context) ([]string, error) {
		return t.api.StandardTraceBadBlockToFile(ctx, hash, config)
	})
}

func (t *traceAPI) IntermediateRoots(ctx context.Context, hash common.Hash, config *tracers.TraceConfig) ([]common.Hash, error) {
	return trace(t, ctx, func(ctx context.Context) ([]common.Hash, error) { return t.api.IntermediateRoots(ctx, hash, config) })
}

// TraceChain serves debug_subscribe("traceChain"). geth traces the range in
// its own goroutines, each transaction under the config's timeout, until
// the subscription ends, which this call cannot see finish: a chain trace
// therefore holds a place of its own pool (TraceLimit places) until the
// client unsubscribes or disconnects, and is refused when none is free
// rather than made to wait, so that an idle subscription never blocks the
// other trace methods.
func (t *traceAPI) TraceChain(ctx context.Context, start, end gethrpc.BlockNumber, config *tracers.TraceConfig) (*gethrpc.Subscription, error) {
	if err := deferJSTracer(config); err != nil {
		return nil, err
	}
	select {
	case t.chains <- struct{}{}:
	default:
		return nil, &codedError{codeLimitExceeded, fmt.Sprintf("too many chain traces running (limit %d); unsubscribe one first", cap(t.chains))}
	}
	sub, err := t.api.TraceChain(ctx, start, end, config)
	if err != nil {
		<-t.chains
		return sub, err
	}
	go func() {
		// Err is sent a value, then closed, when the subscription ends.
		for range sub.Err() {
		}
		<-t.chains
	}()
	return sub, nil
}
