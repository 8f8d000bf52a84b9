package btcrpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

func TestEndpoint(t *testing.T) {
	good := map[string]string{
		"127.0.0.1:18334":          "http://127.0.0.1:18334",
		"http://127.0.0.1:8332":    "http://127.0.0.1:8332",
		"https://node.example:443": "https://node.example:443",
		"http://h:1/wallet/x":      "http://h:1/wallet/x",
	}
	for in, want := range good {
		if got, err := btcrpc.Endpoint("--btc.rpc", in); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ftp://h:1", "http://", "http://%zz"} {
		if got, err := btcrpc.Endpoint("--btc.rpc", in); err == nil || !strings.HasPrefix(err.Error(), "invalid --btc.rpc") {
			t.Errorf("Endpoint(%q) = %q, %v; want an error", in, got, err)
		}
	}
	if _, err := btcrpc.New("ftp://h:1", "", ""); err == nil || !strings.Contains(err.Error(), "--btc.rpc") {
		t.Errorf("New with a bad endpoint: %v", err)
	}
}

// bitcoindLike answers the way bitcoind does and btcd does not: errors
// with HTTP 500 and a JSON body, 401 without a body on bad credentials.
func bitcoindLike(t *testing.T, answer func(method string, params []json.RawMessage) (result any, rpcErr *btcrpc.Error)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "u" || pass != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req struct {
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
			ID     json.RawMessage   `json:"id"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || req.Params == nil {
			t.Errorf("bad request %s", body)
		}
		res, rpcErr := answer(req.Method, req.Params)
		if rpcErr != nil {
			w.WriteHeader(http.StatusInternalServerError)
		}
		json.NewEncoder(w).Encode(map[string]any{"result": res, "error": rpcErr, "id": req.ID})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	url := bitcoindLike(t, func(method string, params []json.RawMessage) (any, *btcrpc.Error) {
		switch {
		case method == "getbestblockhash":
			return "abcd", nil
		case method == "getblocktemplate" && (len(params) != 1 || !strings.Contains(string(params[0]), `"rules":["segwit"]`)):
			// bitcoind refuses templates without the segwit rule.
			return nil, &btcrpc.Error{Code: -8, Message: "getblocktemplate must be called with the segwit rule set"}
		}
		return nil, &btcrpc.Error{Code: -10, Message: "Bitcoin Core is in initial sync and waiting for blocks..."}
	})
	c, err := btcrpc.New(url, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BlockTemplate(ctx, false)
	var nodeErr *btcrpc.Error
	if !errors.As(err, &nodeErr) || nodeErr.Code != -10 || !strings.Contains(err.Error(), "getblocktemplate: Bitcoin Core is in initial sync") {
		t.Errorf("node error: got %v", err)
	}
	if _, err := c.BestBlockHash(ctx); err == nil || !strings.Contains(err.Error(), `invalid hash "abcd"`) {
		t.Errorf("short hash: got %v", err)
	}

	c, _ = btcrpc.New(url, "u", "wrong")
	if _, err := c.BlockCount(ctx); err == nil || !strings.Contains(err.Error(), "401 Unauthorized (check --btc.user and --btc.pass)") {
		t.Errorf("bad password: got %v", err)
	}

	c, _ = btcrpc.New("127.0.0.1:1", "", "")
	if _, err := c.BlockCount(ctx); err == nil || errors.As(err, &nodeErr) {
		t.Errorf("unreachable node: got %v", err)
	}
}

// TestBtcd runs every call against a real btcd in regtest.
func TestBtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd")
	}
	ctx := context.Background()
	node := btcd.Start(t)
	c, err := btcrpc.New(node.RPCAddr, node.User, node.Pass)
	if err != nil {
		t.Fatal(err)
	}

	if n, err := c.BlockCount(ctx); err != nil || n != 101 {
		t.Fatalf("BlockCount = %d, %v; want 101", n, err)
	}
	tip, err := c.BestBlockHash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := c.BlockHash(ctx, 101); err != nil || h != tip {
		t.Fatalf("BlockHash(101) = %v, %v; want the best block %v", h, err, tip)
	}
	parent, err := c.BlockHash(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	header, err := c.BlockHeader(ctx, tip)
	if err != nil || header.PrevBlock != parent {
		t.Fatalf("BlockHeader(tip) = %+v, %v; want one on %v", header, err, parent)
	}
	var nodeErr *btcrpc.Error
	if _, err := c.BlockHash(ctx, 102); !errors.As(err, &nodeErr) {
		t.Errorf("BlockHash above the tip: %v, want the node's error", err)
	}
	if _, err := c.BlockHeader(ctx, chainhash.Hash{1}); !errors.As(err, &nodeErr) {
		t.Errorf("BlockHeader of an unknown block: %v, want the node's error", err)
	}

	block, err := c.Block(ctx, tip)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := address.DecodeAddress(node.MiningAddr, &chaincfg.RegressionNetParams)
	pay, _ := txscript.PayToAddrScript(addr)
	if out := block.Transactions[0].TxOut[0]; string(out.PkScript) != string(pay) {
		t.Errorf("Block(tip) coinbase pays %x, want %x", out.PkScript, pay)
	}

	tmpl, err := c.BlockTemplate(ctx, false)
	if err != nil || tmpl.Height != 102 || tmpl.PreviousHash != tip.String() || tmpl.CoinbaseTxn == nil {
		t.Fatalf("BlockTemplate = %+v, %v; want height 102 on the tip with a coinbase", tmpl, err)
	}

	// A sibling of the tip: btcd keeps it on a side branch, its header is
	// served, and the best chain does not move (equal work).
	parentHeader, err := c.BlockHeader(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	side, err := btcd.Branch(parentHeader, 100, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SubmitBlock(ctx, side[0]); err != nil {
		t.Fatalf("SubmitBlock(sibling): %v", err)
	}
	if h, err := c.BlockHeader(ctx, side[0].BlockHash()); err != nil || h.BlockHash() != side[0].BlockHash() {
		t.Errorf("BlockHeader(sibling) = %v, %v", h, err)
	}
	if best, _ := c.BestBlockHash(ctx); best != tip {
		t.Errorf("best block %v after an equal-work sibling, want %v", best, tip)
	}
	// Depth in the best chain: btcd refuses the verbose call for the
	// sibling, which Confirmations reports as -1, as bitcoind does.
	for _, c2 := range []struct {
		hash chainhash.Hash
		want int64
	}{{tip, 1}, {parent, 2}, {side[0].BlockHash(), -1}} {
		if got, err := c.Confirmations(ctx, c2.hash); err != nil || got != c2.want {
			t.Errorf("Confirmations(%v) = %d, %v; want %d", c2.hash, got, err, c2.want)
		}
	}
	if _, err := c.Confirmations(ctx, chainhash.Hash{1}); !btcrpc.IsBlockNotFound(err) {
		t.Errorf("Confirmations of an unknown block: %v, want the node's block-not-found error", err)
	}
	if err := c.SubmitBlock(ctx, side[0]); !errors.Is(err, btcrpc.ErrBlockRejected) || !strings.Contains(err.Error(), "already have block") {
		t.Errorf("SubmitBlock again: %v, want \"already have block\"", err)
	}
	// Its child makes the side branch heavier: btcd reorgs to it.
	if err := c.SubmitBlock(ctx, side[1]); err != nil {
		t.Fatalf("SubmitBlock(side child): %v", err)
	}
	if best, _ := c.BestBlockHash(ctx); best != side[1].BlockHash() {
		t.Errorf("best block %v, want the heavier side branch's tip %v", best, side[1].BlockHash())
	}
	if got, err := c.Confirmations(ctx, tip); err != nil || got != -1 {
		t.Errorf("Confirmations of the reorganised-away tip = %d, %v; want -1", got, err)
	}

	hashes, err := c.Generate(ctx, 2)
	if err != nil || len(hashes) != 2 {
		t.Fatalf("Generate(2) = %v, %v", hashes, err)
	}
	if h, err := c.BlockHash(ctx, 104); err != nil || h != hashes[1] {
		t.Errorf("BlockHash(104) = %v, %v; want the generated %v", h, err, hashes[1])
	}

	// A spend of the first matured coinbase, signed with the mining key.
	first, _ := c.BlockHash(ctx, 1)
	cb, err := c.Block(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	prev := cb.Transactions[0].TxHash()
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&prev, 0), nil, nil))
	tx.AddTxOut(wire.NewTxOut(cb.Transactions[0].TxOut[0].Value-10_000, pay))
	tx.TxIn[0].SignatureScript, err = txscript.SignatureScript(tx, 0, pay, txscript.SigHashAll, btcd.MiningKey(), true)
	if err != nil {
		t.Fatal(err)
	}
	if txid, err := c.SendRawTransaction(ctx, tx); err != nil || txid != tx.TxHash() {
		t.Errorf("SendRawTransaction = %v, %v; want %v", txid, err, tx.TxHash())
	}
	if _, err := c.SendRawTransaction(ctx, tx); !errors.As(err, &nodeErr) {
		t.Errorf("SendRawTransaction again: %v, want the node's refusal", err)
	}
}
