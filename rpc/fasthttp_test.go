package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestFastPathMatchesGeth sends the same requests to the fast path and to
// geth's server alone and wants the same status, headers and bytes back:
// good calls, every way their arguments can be wrong, odd ids, and what the
// fast path must leave to geth (batches, notifications, other methods).
// The rest of the package's tests run over the fast path as well.
func TestFastPathMatchesGeth(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	geth := httptest.NewServer(tc.srv)
	t.Cleanup(geth.Close)

	receiptTx := tc.txs["log1"].Hash()
	bodies := []string{
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":null}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[1]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":{}}`,
		`{"jsonrpc":"2.0","id":"a<b>&","method":"eth_chainId","params":[]}`,
		`{"jsonrpc":"2.0","id":null,"method":"eth_chainId","params":[]}`,
		`{"jsonrpc":"2.0","id":{},"method":"eth_chainId","params":[]}`,
		`{"jsonrpc":"2.0","method":"eth_chainId","params":[]}`,
		`{"jsonrpc":"1.0","id":1,"method":"eth_chainId","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]} trailing`,
		`  {"JSONRPC":"2.0","ID":7,"Method":"eth_chainId"}`,
		// The fast path slices the body instead of decoding it: duplicate
		// keys (the last wins), escapes, nesting and spacing.
		`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","method":"eth_blockNumber","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[1],"params":[]}`,
		`{"jsonrpc":"2.0","id":1,"meth\u006fd":"eth_chainId","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_\u0063hainId","params":[]}`,
		`{"jsonrpc":"2\u002e0","id":1,"method":"eth_chainId","params":[]}`,
		"\t{ \"extra\" : {\"a\":[\"]}\\\"\"]} , \"jsonrpc\" :\"2.0\",\n\"id\": -1.5e3 ,\"method\":\"eth_chainId\", \"params\" : [ ] }\n",
		`{"jsonrpc":"2.0","id":"x\"y","method":"eth_call","params":[ {"to":"` + loggerAddr.Hex() + `","data":"0x01"} , "latest" ]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"` + loggerAddr.Hex() + `","data":"0x01"},]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]`,
		`[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}]`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"` + loggerAddr.Hex() + `","data":"0x01"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"` + loggerAddr.Hex() + `"},"latest"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"` + loggerAddr.Hex() + `"},"0x1"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"` + loggerAddr.Hex() + `"},"0xffffff"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"from":"` + addr1.Hex() + `","to":"` + reverterAddr.Hex() + `"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[null]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x12"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"` + loggerAddr.Hex() + `"},"latest",{},{},5]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"gas":"0xffffffffffffffffff"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":["` + receiptTx.Hex() + `"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":["0x` + fmt.Sprintf("%064x", 1) + `"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":["0x12"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x1234"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["zz"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[null]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x0","toBlock":"latest"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"address":"` + loggerAddr.Hex() + `","topics":["` + loggerTopic.Hex() + `"]}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x5","toBlock":"0x1"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"blockHash":"0x` + fmt.Sprintf("%064x", 1) + `"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"topics":"x"}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + addr1.Hex() + `","latest"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}`,
		`not json`,
	}
	for _, body := range bodies {
		fast := post(t, tc.url, body)
		slow := post(t, geth.URL, body)
		if fast != slow {
			t.Errorf("request %s\nfast path: %s\ngeth:      %s", body, fast, slow)
		}
	}
}

// TestFastPathDeadline: a fast call that ends after the request's deadline
// (the server's write timeout less geth's 100 ms) is answered with geth's
// timeout error, also for the methods that run without a deadline context.
// A write timeout of 100 ms leaves a deadline of zero: every call ends after
// it.
func TestFastPathDeadline(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	srv := httptest.NewUnstartedServer(tc.svc.HTTPHandler(tc.srv))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	for _, method := range []string{"eth_blockNumber", "eth_chainId", "eth_getLogs"} {
		params := "[]"
		if method == "eth_getLogs" {
			params = `[{"fromBlock":"0x0"}]`
		}
		got := post(t, srv.URL, `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`)
		if !strings.Contains(got, `"error":{"code":-32002,"message":"request timed out"}`) {
			t.Errorf("%s past its deadline: %s", method, got)
		}
	}
}

// post returns the status, the headers a client sees and the body.
func post(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s %q %v %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"), resp.TransferEncoding, out)
}

// TestLogJSON wants appendLogJSON to write what types.Log's MarshalJSON
// writes.
func TestLogJSON(t *testing.T) {
	logs := logsJSON{
		{},
		{Topics: []common.Hash{}, Data: []byte{}},
		{
			Address: addr1, Topics: []common.Hash{loggerTopic, {1}}, Data: []byte{0, 1, 0xff},
			BlockNumber: 1 << 40, TxHash: common.Hash{2}, TxIndex: 17, BlockHash: common.Hash{3},
			BlockTimestamp: 255, Index: 4096, Removed: true,
		},
	}
	got, err := logs.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal([]*types.Log(logs))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("logs encode as\n%s\nwant\n%s", got, want)
	}
	if got, _ := logsJSON(nil).MarshalJSON(); string(got) != "null" {
		t.Errorf("nil logs encode as %s", got)
	}
}

// TestResultJSON wants encodeResult to write what json.Marshal writes for
// the types it encodes itself.
func TestResultJSON(t *testing.T) {
	for _, v := range []any{
		hexutil.Uint64(0), hexutil.Uint64(1 << 63), hexutil.Bytes(nil), hexutil.Bytes{}, hexutil.Bytes{0, 0xab},
		common.Hash{}, common.Hash{0xff, 1}, logsJSON(nil), (*hexutil.Big)(big.NewInt(255)), "0x1",
	} {
		got, err := encodeResult(v)
		want, werr := json.Marshal(v)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Errorf("%T %v encodes as %s (%v), json.Marshal %s (%v)", v, v, got, err, want, werr)
		}
	}
}
