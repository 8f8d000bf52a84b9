package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/metrics"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// FastBodyMax is the largest request the fast path reads. The hot calls are
// a few hundred bytes; anything larger goes to geth's server, which applies
// its own body limit.
const FastBodyMax = 64 << 10

// HTTPHandler puts a fast path for the hottest calls in front of next,
// geth's rpc.Server serving this service's eth namespace over HTTP.
//
// A CPU profile of --dev under loadgen put geth's per-request machinery
// (a handler and a goroutine per request, the goroutine's stack growth,
// reflection on the arguments and the call) at a quarter to a half of the
// node's CPU for eth_blockNumber and eth_call. A single call (no batch) to
// one of fastMethods, with arguments that decode, is answered here by
// calling the method directly; everything else, including every request
// geth would refuse or answer with an argument error, goes to next
// unchanged. The answer is the one geth would give: the same method, the
// same argument decoding, the same response and error encoding, the same
// panic and timeout handling (requests whose deadline could cut a call
// short go to next) and the same rpc/* metrics.
func (s *Service) HTTPHandler(next http.Handler) *FastHTTP {
	return &FastHTTP{next: next, api: &ethAPI{s}, evmTimeout: s.cfg.EVMTimeout}
}

// FastHTTP is the fast path (HTTPHandler) in front of geth's server.
type FastHTTP struct {
	next       http.Handler
	api        *ethAPI
	evmTimeout time.Duration
}

// fastMethod decodes params as geth would and calls the method; ok is false
// when the arguments do not decode, so that geth's server answers with its
// own error.
type fastMethod func(ctx context.Context, api *ethAPI, params []json.RawMessage) (result any, err error, ok bool)

var fastMethods = map[string]fastMethod{
	"eth_blockNumber": func(_ context.Context, api *ethAPI, params []json.RawMessage) (any, error, bool) {
		return api.BlockNumber(), nil, len(params) == 0
	},
	"eth_chainId": func(_ context.Context, api *ethAPI, params []json.RawMessage) (any, error, bool) {
		return api.ChainId(), nil, len(params) == 0
	},
	"eth_call": func(ctx context.Context, api *ethAPI, params []json.RawMessage) (any, error, bool) {
		var (
			args TransactionArgs
			sel  *gethrpc.BlockNumberOrHash
			so   *StateOverride
			bo   *BlockOverrides
		)
		if !decodeParams(params, 1, &args, &sel, &so, &bo) {
			return nil, nil, false
		}
		res, err := api.Call(ctx, args, sel, so, bo)
		return res, err, true
	},
	"eth_getTransactionReceipt": func(ctx context.Context, api *ethAPI, params []json.RawMessage) (any, error, bool) {
		var hash common.Hash
		if !decodeParams(params, 1, &hash) {
			return nil, nil, false
		}
		res, err := api.GetTransactionReceipt(ctx, hash)
		return res, err, true
	},
	"eth_getLogs": func(ctx context.Context, api *ethAPI, params []json.RawMessage) (any, error, bool) {
		var crit filters.FilterCriteria
		if !decodeParams(params, 1, &crit) {
			return nil, nil, false
		}
		logs, err := (&filterAPI{FilterAPI: api.s.filterAPI, s: api.s}).GetLogs(ctx, crit)
		if err != nil {
			return nil, err, true
		}
		return logsJSON(logs), nil, true
	},
	"eth_sendRawTransaction": func(ctx context.Context, api *ethAPI, params []json.RawMessage) (any, error, bool) {
		var input hexutil.Bytes
		if !decodeParams(params, 1, &input) {
			return nil, nil, false
		}
		res, err := api.SendRawTransaction(ctx, input)
		return res, err, true
	},
}

// logsJSON encodes logs as json.Marshal does, each log as its MarshalJSON
// does (appendLogJSON), without reflection: encoding was most of the CPU
// of an eth_getLogs returning 200 logs.
type logsJSON []*types.Log

func (l logsJSON) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	buf := make([]byte, 0, 64+len(l)*600)
	buf = append(buf, '[')
	for i, lg := range l {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendLogJSON(buf, lg)
	}
	return append(buf, ']'), nil
}

// appendLogJSON appends the bytes types.Log's (gencodec) MarshalJSON
// writes: the same fields in the same order, hex as hexutil writes it.
func appendLogJSON(buf []byte, l *types.Log) []byte {
	buf = append(buf, `{"address":`...)
	buf = appendHexString(buf, l.Address[:])
	buf = append(buf, `,"topics":`...)
	if l.Topics == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		for i, t := range l.Topics {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendHexString(buf, t[:])
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"data":`...)
	buf = appendHexString(buf, l.Data)
	buf = append(buf, `,"blockNumber":`...)
	buf = appendHexUint(buf, l.BlockNumber)
	buf = append(buf, `,"transactionHash":`...)
	buf = appendHexString(buf, l.TxHash[:])
	buf = append(buf, `,"transactionIndex":`...)
	buf = appendHexUint(buf, uint64(l.TxIndex))
	buf = append(buf, `,"blockHash":`...)
	buf = appendHexString(buf, l.BlockHash[:])
	buf = append(buf, `,"blockTimestamp":`...)
	buf = appendHexUint(buf, l.BlockTimestamp)
	buf = append(buf, `,"logIndex":`...)
	buf = appendHexUint(buf, uint64(l.Index))
	buf = append(buf, `,"removed":`...)
	buf = strconv.AppendBool(buf, l.Removed)
	return append(buf, '}')
}

// appendHexString appends b as a quoted 0x-prefixed hex string.
func appendHexString(buf, b []byte) []byte {
	buf = append(buf, `"0x`...)
	buf = hex.AppendEncode(buf, b)
	return append(buf, '"')
}

// appendHexUint appends n as hexutil.Uint64 encodes it.
func appendHexUint(buf []byte, n uint64) []byte {
	buf = append(buf, `"0x`...)
	buf = strconv.AppendUint(buf, n, 16)
	return append(buf, '"')
}

// decodeParams decodes positional params into args (pointers to the
// method's argument types), of which the first required ones must be
// present and not null: geth's parsePositionalArguments rules, reporting
// failure instead of an error.
func decodeParams(params []json.RawMessage, required int, args ...any) bool {
	if len(params) < required || len(params) > len(args) {
		return false
	}
	for i, p := range params {
		if i < required && bytes.Equal(p, []byte("null")) {
			return false
		}
		if json.Unmarshal(p, args[i]) != nil {
			return false
		}
	}
	return true
}

// fastRequest is a JSON-RPC call as geth's jsonrpcMessage reads it.
type fastRequest struct {
	Version string
	ID      json.RawMessage
	Method  string
	Params  json.RawMessage
}

// fastResponse is a response as geth's jsonrpcMessage holds it: the id as
// the request had it, and the result as geth's response method encodes it
// (MarshalJSON for a json.Marshaler, else json.Marshal).
type fastResponse struct {
	ID     json.RawMessage
	Error  *fastError
	Result json.RawMessage
}

// encode writes the bytes geth's appendMessage writes for the response.
func (r *fastResponse) encode() ([]byte, error) {
	buf := make([]byte, 0, 48+len(r.ID)+len(r.Result))
	buf = append(buf, `{"jsonrpc":"2.0","id":`...)
	buf = append(buf, r.ID...)
	if r.Error != nil {
		enc, err := json.Marshal(r.Error)
		if err != nil {
			return nil, err
		}
		buf = append(buf, `,"error":`...)
		buf = append(buf, enc...)
	} else {
		buf = append(buf, `,"result":`...)
		buf = append(buf, r.Result...)
	}
	return append(buf, '}'), nil
}

type fastError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// geth's error codes for a crashed handler and an unencodable result.
const (
	errcodePanic       = -32603
	errcodeMarshal     = -32603
	errcodeDefaultGeth = -32000
	errcodeTimeout     = -32002
)

func (f *FastHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ContentLength <= 0 || r.ContentLength > FastBodyMax {
		f.next.ServeHTTP(w, r)
		return
	}
	body := make([]byte, r.ContentLength)
	if n, err := io.ReadFull(r.Body, body); err != nil {
		// Let geth's server meet the same short body.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:n]), r.Body))
		f.next.ServeHTTP(w, r)
		return
	}
	buf, ok, err := f.Answer(r.Context(), r.Header.Get("content-type"), body)
	if !ok {
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.next.ServeHTTP(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Canonical keys set directly: Header.Set's canonicalisation was 2% of
	// an eth_blockNumber's CPU. geth's codec also sets Transfer-Encoding:
	// identity on errors, which net/http drops once Content-Length is set.
	h := w.Header()
	h["Content-Type"] = jsonContent
	h["Content-Length"] = []string{strconv.Itoa(len(buf))}
	_, _ = w.Write(buf)
}

// Answer is the response body ServeHTTP writes for a POST of body with
// that content type; ok is false when the fast path leaves the request to
// geth's server, and then nothing has run. ctx is the request's context:
// its deadline and the *http.Server under http.ServerContextKey set the
// request timeout, as in geth's server. err is an answer that could not be
// encoded, a server error.
func (f *FastHTTP) Answer(ctx context.Context, contentType string, body []byte) (resp []byte, ok bool, err error) {
	if !jsonContentType(contentType) {
		return nil, false, nil
	}
	var (
		req    fastRequest
		params []json.RawMessage
	)
	call, ok := f.parse(body, &req, &params)
	start := time.Now()
	timeout, hasTimeout := gethrpc.ContextRequestTimeout(ctx)
	deadline := start.Add(timeout)
	if ok && hasTimeout {
		// geth answers a call still running at the request's deadline (the
		// HTTP write timeout) with its timeout error. eth_call ends at its
		// EVM timeout, well before that deadline unless the write timeout
		// is set very short; then geth's server serves it. eth_getLogs,
		// the one fast method that can run that long, runs under the
		// deadline here; the others end long before it and are checked
		// against the clock afterwards: a timer per request was 6% of an
		// eth_blockNumber's CPU.
		if req.Method == "eth_call" && timeout <= f.evmTimeout+time.Second {
			ok = false
		}
		if req.Method == "eth_getLogs" {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
	}
	if !ok {
		return nil, false, nil
	}
	r, served := f.call(ctx, call, &req, params)
	if !served {
		return nil, false, nil
	}
	if hasTimeout && (errors.Is(ctx.Err(), context.DeadlineExceeded) || !time.Now().Before(deadline)) {
		r.Result, r.Error = nil, &fastError{Code: errcodeTimeout, Message: "request timed out"}
	}
	recordMetrics(req.Method, r.Error == nil, start)
	resp, err = r.encode()
	return resp, true, err
}

// parse reads a single call to a fast method; anything geth would treat
// otherwise (a batch, a notification, a bad version or id, params that are
// not an array) is not ok. Keys are matched exactly and the last of
// duplicates wins, as geth's fillMessage does (encoding/json's struct
// decoding would match "ID" too). The body is checked once (json.Valid) and
// then sliced, not decoded: decoding it into a map and the params into a
// slice was a tenth of an eth_blockNumber's CPU. A key with an escape, or a
// version or method spelled with one, goes to geth.
func (f *FastHTTP) parse(body []byte, req *fastRequest, params *[]json.RawMessage) (fastMethod, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	var version, method json.RawMessage
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, false
	}
	for i = skipSpace(body, i+1); body[i] == '"'; {
		end := skipString(body, i)
		key := body[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i = skipSpace(body, skipSpace(body, end)+1) // past the colon
		vend := skipValue(body, i)
		switch string(key) {
		case "jsonrpc":
			version = body[i:vend]
		case "id":
			req.ID = body[i:vend]
		case "method":
			method = body[i:vend]
		case "params":
			req.Params = body[i:vend]
		}
		if i = skipSpace(body, vend); body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	if string(version) != `"2.0"` || len(req.ID) == 0 || req.ID[0] == '{' || req.ID[0] == '[' ||
		len(method) < 2 || method[0] != '"' || bytes.IndexByte(method, '\\') >= 0 {
		return nil, false
	}
	req.Version, req.Method = "2.0", string(method[1:len(method)-1])
	call := fastMethods[req.Method]
	if call == nil {
		return nil, false
	}
	switch p := req.Params; {
	case len(p) == 0 || string(p) == "null":
	case p[0] == '[':
		*params = make([]json.RawMessage, 0, 4)
		for i := skipSpace(p, 1); p[i] != ']'; {
			end := skipValue(p, i)
			*params = append(*params, p[i:end])
			if i = skipSpace(p, end); p[i] == ',' {
				i = skipSpace(p, i+1)
			}
		}
	default:
		return nil, false
	}
	return call, true
}

// The scanners below read JSON that json.Valid accepted, so they need not
// check it again.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		for depth := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}

// call runs the method as geth's callback does, a panic becoming geth's
// "method handler crashed" error; served is false when the arguments did not
// decode.
func (f *FastHTTP) call(ctx context.Context, call fastMethod, req *fastRequest, params []json.RawMessage) (resp *fastResponse, served bool) {
	resp = &fastResponse{ID: req.ID}
	defer func() {
		if v := recover(); v != nil {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			log.Error("RPC method " + req.Method + " crashed: " + fmt.Sprintf("%v\n%s", v, buf))
			resp.Result = nil
			resp.Error = &fastError{Code: errcodePanic, Message: "method handler crashed"}
			served = true
		}
	}()
	result, err, ok := call(ctx, f.api, params)
	if !ok {
		return nil, false
	}
	if err != nil {
		resp.Error = errorObject(err)
		return resp, true
	}
	enc, err := encodeResult(result)
	if err != nil {
		resp.Error = &fastError{Code: errcodeMarshal, Message: err.Error()}
		return resp, true
	}
	resp.Result = enc
	return resp, true
}

// encodeResult encodes a result as geth's response method does. The types
// of eth_blockNumber, eth_call and eth_sendRawTransaction are written
// directly: json.Marshal reaches their MarshalText through reflection, which
// took 1.5% of the node's CPU under loadgen's eth_blockNumber, a tenth of
// what the node's own code took.
func encodeResult(result any) ([]byte, error) {
	switch r := result.(type) {
	case hexutil.Uint64:
		return appendHexUint(nil, uint64(r)), nil
	case hexutil.Bytes:
		return appendHexString(nil, r), nil
	case common.Hash:
		return appendHexString(nil, r[:]), nil
	case json.Marshaler:
		return r.MarshalJSON()
	}
	return json.Marshal(result)
}

// errorObject is geth's errorMessage: the code of an rpc.Error, else
// -32000, and the data of an rpc.DataError.
func errorObject(err error) *fastError {
	e := &fastError{Code: errcodeDefaultGeth, Message: err.Error()}
	if ec, ok := err.(gethrpc.Error); ok {
		e.Code = ec.ErrorCode()
	}
	if de, ok := err.(gethrpc.DataError); ok {
		e.Data = de.ErrorData()
	}
	return e
}

// recordMetrics updates geth's rpc/* metrics as its handler does for each
// call, so dashboards count calls served here too.
func recordMetrics(method string, success bool, start time.Time) {
	if !metrics.Enabled() {
		return
	}
	note := "success"
	if success {
		metrics.GetOrRegisterGauge("rpc/success", nil).Inc(1)
	} else {
		note = "failure"
		metrics.GetOrRegisterGauge("rpc/failure", nil).Inc(1)
	}
	metrics.GetOrRegisterGauge("rpc/requests", nil).Inc(1)
	metrics.GetOrRegisterTimer("rpc/duration/all", nil).UpdateSince(start)
	sampler := func() metrics.Sample { return metrics.ResettingSample(metrics.NewExpDecaySample(1028, 0.015)) }
	metrics.GetOrRegisterHistogramLazy(fmt.Sprintf("rpc/duration/%s/%s", method, note), nil, sampler).Update(time.Since(start).Nanoseconds())
}

// jsonContent is the Content-Type of every response; net/http only reads it.
var jsonContent = []string{"application/json"}

// jsonContentType is geth's accepted content types check.
func jsonContentType(header string) bool {
	if header == "application/json" {
		return true // what clients send; the parser below is 1% of a call
	}
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	switch mt {
	case "application/json", "application/json-rpc", "application/jsonrequest":
		return true
	}
	return false
}
