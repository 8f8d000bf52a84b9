package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// bitcoinNode answers getblockheader (verbose) like bitcoind for a best
// chain of the given block hashes, height i at index i, behind HTTP basic
// authentication as btc/pass.
func bitcoinNode(t *testing.T, best []chainhash.Hash) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "btc" || pass != "pass" {
			w.WriteHeader(http.StatusUnauthorized) // bitcoind sends no body
			return
		}
		var req struct {
			Method string `json:"method"`
			Params []any  `json:"params"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Method != "getblockheader" || len(req.Params) != 2 || req.Params[1] != true {
			t.Errorf("unexpected request %+v (%v)", req, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for i, h := range best {
			if h.String() == req.Params[0] {
				json.NewEncoder(w).Encode(map[string]any{"id": 1, "error": nil,
					"result": map[string]any{"hash": h.String(), "height": i, "confirmations": len(best) - i}})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"id": 1, "result": nil, "error": map[string]any{"code": -5, "message": "Block not found"}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestProofVerifyAnchor runs `proof verify-anchor` on the proof of block 11
// from its anchor 100 blocks above, against Bitcoin nodes served from the
// test's own regtest headers: valid when the node has the anchor's Bitcoin
// block 2 deep; invalid when it has it 1 deep, does not know it, or the
// proof is altered; input errors and an unreachable or refusing Bitcoin node
// have their own exit statuses.
func TestProofVerifyAnchor(t *testing.T) {
	spec := testchain.BitcoinFinalitySpec(t)
	c := testchain.New(t, testchain.Options{Spec: spec})
	ac := c.BuildAnchored(100)
	x := ac.Target.Header()
	a, anchor, err := c.AnchorFor(x, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := anchorproof.Build(c.BlockChain(), x, anchor, a.BtcHeight, a.Depth)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "proof.json")
	if err := os.WriteFile(file, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	// The Bitcoin best chain: regtest genesis, the proofs of blocks 1-10,
	// the anchor's and the next block's.
	best := []chainhash.Hash{*chaincfg.RegressionNetParams.GenesisHash}
	for _, b := range append(append([]*types.Block{}, ac.Blocks[:10]...), ac.Anchor, ac.Blocks[len(ac.Blocks)-2]) {
		best = append(best, chainhash.DoubleHashH(c.BitcoinHeader(b)))
	}
	deep, shallow, stranger := bitcoinNode(t, best), bitcoinNode(t, best[:12]), bitcoinNode(t, best[:11])
	run := func(args ...string) (int, string, string) {
		return runApp(append([]string{"proof", "verify-anchor", "--network=dev", "--k=2", "--btc.user=btc", "--btc.pass=pass"}, args...)...)
	}

	code, out, msg := run("--proof="+file, "--btc.rpc="+deep)
	if code != 0 || !strings.HasPrefix(out, "valid\n") || !strings.Contains(out, x.Root.Hex()) {
		t.Fatalf("valid proof: exit %d, %q %q", code, out, msg)
	}
	for name, url := range map[string]string{"1 deep": shallow, "unknown to the node": stranger} {
		if code, _, msg := run("--proof="+file, "--btc.rpc="+url); code != exitInvalid || !strings.HasPrefix(msg, "invalid: ") {
			t.Errorf("%s: exit %d (%s), want %d", name, code, msg, exitInvalid)
		}
	}
	var q anchorproof.Proof
	if err := json.Unmarshal(enc, &q); err != nil {
		t.Fatal(err)
	}
	q.Target.HeaderRLP[40] ^= 1
	bad, _ := json.Marshal(q)
	badFile := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, msg := run("--proof="+badFile, "--btc.rpc="+deep); code != exitInvalid {
		t.Errorf("altered proof: exit %d (%s), want %d", code, msg, exitInvalid)
	}
	notJSON := filepath.Join(dir, "not.json")
	if err := os.WriteFile(notJSON, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no proof flag":   {"--btc.rpc=" + deep},
		"no btc.rpc":      {"--proof=" + file},
		"missing file":    {"--proof=" + filepath.Join(dir, "none"), "--btc.rpc=" + deep},
		"not JSON":        {"--proof=" + notJSON, "--btc.rpc=" + deep},
		"unknown network": {"--proof=" + file, "--btc.rpc=" + deep, "--network=nonet"},
		"bad btc.rpc":     {"--proof=" + file, "--btc.rpc=ftp://127.0.0.1:1"},
	} {
		if code, _, msg := run(args...); code != exitInput {
			t.Errorf("%s: exit %d (%s), want %d", name, code, msg, exitInput)
		}
	}
	if code, _, msg := runApp("proof", "verify-anchor", "--network=dev", "--k=2", "--proof="+file, "--btc.rpc="+deep, "--btc.user=btc", "--btc.pass=wrong"); code != exitBitcoin {
		t.Errorf("wrong Bitcoin RPC password: exit %d (%s), want %d", code, msg, exitBitcoin)
	}
	if code, _, msg := run("--proof="+file, "--btc.rpc=http://127.0.0.1:1"); code != exitBitcoin {
		t.Errorf("no Bitcoin node: exit %d (%s), want %d", code, msg, exitBitcoin)
	}
}
