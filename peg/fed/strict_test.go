package fed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/internal/btcwallet"
	"github.com/mmgeth/mmgeth/internal/testchain"
	"github.com/mmgeth/mmgeth/node"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// strictChain is a sidechain whose Bridge holds batch 1 (0.4 BTC to a
// P2WPKH from one 1-BTC deposit) built in block Created, finalized by an
// anchor whose Bitcoin block is K = 2 deep both in BtcRelay and in a real
// btcd, served by an in-process node.
type strictChain struct {
	spec    *genesis.Spec
	btc     *btcrpc.Client
	url     string // the node's HTTP-RPC
	client  *ethclient.Client
	created uint64
}

// startStrictChain builds the chain with the test-chain builder on btcd's
// regtest chain: btcd's blocks (a deposit among them) relayed to BtcRelay,
// registerPegIn, requestPegOut, buildPegOutBatch, then a block merge-mined
// as a real Bitcoin block submitted to btcd, buried by one more; then
// imports it into a node.
func startStrictChain(t *testing.T) *strictChain {
	t.Helper()
	ctx := context.Background()
	bn := btcd.Start(t)
	btc := btcClient(t, bn.RPCURL(), bn)
	spec := testchain.BitcoinFinalitySpec(t)
	tc := testchain.New(t, testchain.Options{Spec: spec})
	bc := tc.BlockChain()
	user := tc.Keys[1]

	// Blocks a second apart up to now: the spec allows no time ahead of the
	// clock, and BtcRelay no Bitcoin header too far ahead of its block.
	clock := uint64(time.Now().Unix()) - 60
	parent := bc.Genesis()
	var blocks []*types.Block
	add := func(b *types.Block) {
		tc.MustInsert(b)
		for i, r := range bc.GetReceiptsByHash(b.Hash()) {
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("block %d transaction %d reverted", b.NumberU64(), i)
			}
		}
		blocks, parent = append(blocks, b), b
		clock++
	}
	build := func(txs ...*types.Transaction) {
		add(tc.Build(parent, testchain.Block{Time: clock, Txs: txs}))
	}
	relayed := int64(0)
	relay := func() { // btcd's best chain into BtcRelay, 15 headers a transaction
		tip, err := btc.BlockCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for relayed < tip {
			var headers [][]byte
			for ; relayed < tip && len(headers) < 15; relayed++ {
				hash, err := btc.BlockHash(ctx, relayed+1)
				if err != nil {
					t.Fatal(err)
				}
				h, err := btc.BlockHeader(ctx, hash)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				h.Serialize(&buf)
				headers = append(headers, buf.Bytes())
			}
			build(tc.RelayTx(parent, headers...))
		}
	}

	// The deposit: 1 BTC from btcd's mining key to user's deposit script.
	st, err := bc.StateAt(parent.Root(), parent.Number(), parent.Time())
	if err != nil {
		t.Fatal(err)
	}
	script, _, err := bridge.NewView(st, bc.Config()).DepositScript(crypto.PubkeyToAddress(user.PublicKey), 0)
	if err != nil {
		t.Fatal(err)
	}
	wallet, err := btcwallet.New(btc, btcd.MiningKey(), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := wallet.Pay(ctx, peg.PkScript(script), 1e8, 2_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := btc.SendRawTransaction(ctx, dep); err != nil {
		t.Fatal(err)
	}
	mined, err := btc.Generate(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	depBlock, err := btc.Block(ctx, mined[0])
	if err != nil {
		t.Fatal(err)
	}
	relay()
	proof, err := bridge.NewPegInProof(depBlock, uint32(relayed-1), dep, 0, crypto.PubkeyToAddress(user.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	build(tc.CallTx(parent, tc.Keys[0], bridge.BridgeAddress, nil,
		bridge.RegisterPegInInput(proof.BtcTx, proof.Inclusion, proof.Vout, proof.Recipient)))

	// The request and the batch.
	payee := append([]byte{0x00, 0x14}, bytes.Repeat([]byte{7}, 20)...)
	build(tc.CallTx(parent, user, bridge.BridgeAddress, new(big.Int).Mul(big.NewInt(4e7), bridge.SatToWei),
		bridge.RequestPegOutInput(payee)))
	build(tc.CallTx(parent, tc.Keys[0], bridge.BridgeAddress, nil, bridge.BuildPegOutBatchInput()))
	created := parent.NumberU64()

	// The anchor, a Bitcoin block on btcd's tip, then one more on it.
	tipHash, err := btc.BestBlockHash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tipHeader, err := btc.BlockHeader(ctx, tipHash)
	if err != nil {
		t.Fatal(err)
	}
	btcTime := max(tipHeader.Timestamp.Unix()+1, int64(clock))
	if btcTime-int64(clock) >= int64(spec.MergeMining.MaxBitcoinTimeDrift) {
		t.Fatalf("btcd's tip is %d s ahead of the sidechain's clock", btcTime-int64(clock))
	}
	anchor, anchorBtc := tc.SealOnBitcoin(tc.Build(parent, testchain.Block{Time: clock, Unsealed: true}), tipHash,
		int32(relayed+1), time.Unix(btcTime, 0))
	add(anchor)
	if err := btc.SubmitBlock(ctx, anchorBtc); err != nil {
		t.Fatalf("btcd refuses the anchor's Bitcoin block: %v", err)
	}
	if _, err := btc.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	relay()
	build()

	n, client := startNode(t, node.Config{Spec: spec})
	if _, err := n.InsertBlocks(blocks); err != nil {
		t.Fatal(err)
	}
	return &strictChain{spec: spec, btc: btc, url: n.HTTPEndpoint(), client: client, created: created}
}

// lyingNode serves JSON-RPC on 127.0.0.1 in front of a real node, as a
// compromised mmgeth host would: request may rewrite a call's parameters
// and answer its result, given the method and the parameters sent.
type lyingNode struct {
	t       *testing.T
	target  string
	request func(method string, params []json.RawMessage) []json.RawMessage
	answer  func(method string, params []json.RawMessage, result json.RawMessage) json.RawMessage
}

func (l *lyingNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JSONRPC string            `json:"jsonrpc"`
		ID      json.RawMessage   `json:"id"`
		Method  string            `json:"method"`
		Params  []json.RawMessage `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if l.request != nil {
		req.Params = l.request(req.Method, req.Params)
	}
	body, _ := json.Marshal(req)
	resp, err := http.Post(l.target, "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err == nil && out["result"] != nil && l.answer != nil {
		out["result"] = l.answer(req.Method, req.Params, out["result"])
		raw, _ = json.Marshal(out)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

// dial serves l and returns a client of it.
func (l *lyingNode) dial() *ethclient.Client {
	srv := httptest.NewServer(l) // 127.0.0.1
	l.t.Cleanup(srv.Close)
	c, err := ethclient.Dial(srv.URL)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(c.Close)
	return c
}

// bridgeCall is the Bridge method an eth_call's parameters call, if any.
func bridgeCall(params []json.RawMessage) (*abi.Method, []byte) {
	var call struct {
		To    *common.Address `json:"to"`
		Input hexutil.Bytes   `json:"input"`
		Data  hexutil.Bytes   `json:"data"`
	}
	if len(params) == 0 || json.Unmarshal(params[0], &call) != nil || call.To == nil || *call.To != bridge.BridgeAddress {
		return nil, nil
	}
	input := call.Input
	if len(input) == 0 {
		input = call.Data
	}
	if len(input) < 4 {
		return nil, nil
	}
	m, err := bridge.BridgeABI.MethodById(input[:4])
	if err != nil {
		return nil, nil
	}
	return m, input[4:]
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestStrictSigner: a member's signer in strict mode against a real node
// and a real btcd. It signs batch 1, built in a block Bitcoin-finalized by
// an anchor 2 deep in btcd, and the Bridge takes the signatures (eth_call
// addSignatures); it refuses, with the rule's error, counted, and nothing
// in its signed log, a tampered anchor proof (anchor_proof), an anchor not
// K deep in its Bitcoin node or unknown to it (anchor_depth), storage
// proofs of another block's values (state_proof), and a node describing
// a batch that pays an attacker, consistently enough that a signer
// without strict mode signs it (state_proof).
func TestStrictSigner(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two btcd and a node")
	}
	c := startStrictChain(t)
	ctx := context.Background()
	_, dev, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	key := dev.Members[0]
	final, err := c.client.HeaderByNumber(ctx, big.NewInt(int64(gethrpc.FinalizedBlockNumber)))
	if err != nil || final.Number.Uint64() < c.created {
		t.Fatalf("finalized %v (%v), the batch built in block %d", final.Number, err, c.created)
	}
	strict := &Strict{Bitcoin: c.btc, Tag: []byte(c.spec.MergeMining.Tag), K: c.spec.Finality.K}
	logPath := filepath.Join(t.TempDir(), "signed.log")
	sign := func(side *ethclient.Client, st *Strict) (*LocalSigner, []byte, error) {
		t.Helper()
		s, err := NewLocalSigner(SignerConfig{Sidechain: side, Key: key, SignedLog: logPath, MaxFeeRate: 100, Strict: st})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sigs, err := s.SignBatch(ctx, 1, 0)
		return s, sigs, err
	}

	// The attacker's batch: batch 1's inputs paying another script, with
	// the bytes and sighashes of that transaction.
	honest := BridgeView(ctx, c.client)
	b, err := honest.PegOutBatch(1)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := batchToSign(honest, 1, 0, &b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readFederation(ctx, c.client)
	if err != nil {
		t.Fatal(err)
	}
	thief := append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0x66}, 20)...)
	stolen := append([]peg.Request(nil), ts.Requests...)
	stolen[0].PkScript = thief
	p := f.batchParams()
	p.FeeRate = ts.FeeRate
	fake, err := peg.BuildPegOut(stolen, ts.Inputs, &p)
	if err != nil {
		t.Fatal(err)
	}
	var fakeRaw bytes.Buffer
	fake.Tx.Serialize(&fakeRaw)
	fakeHashes, err := fake.Sighashes()
	if err != nil {
		t.Fatal(err)
	}
	liar := &lyingNode{t: t, target: c.url, answer: func(method string, params []json.RawMessage, result json.RawMessage) json.RawMessage {
		m, _ := bridgeCall(params)
		if method != "eth_call" || m == nil {
			return result
		}
		var ret hexutil.Bytes
		if err := json.Unmarshal(result, &ret); err != nil {
			t.Fatal(err)
		}
		var out []byte
		switch m.Name {
		case "getPegOutRequest":
			vals, err := m.Outputs.Unpack(ret)
			if err != nil {
				t.Fatal(err)
			}
			r := *abi.ConvertType(vals[0], new(requestABIForTest)).(*requestABIForTest)
			r.BtcScript = thief
			out, err = m.Outputs.Pack(r)
			if err != nil {
				t.Fatal(err)
			}
		case "pegOutTx":
			hashes := make([][32]byte, len(fakeHashes))
			copy(hashes, fakeHashes)
			out, err = m.Outputs.Pack(fakeRaw.Bytes(), [32]byte(fake.Tx.TxHash()), hashes)
			if err != nil {
				t.Fatal(err)
			}
		default:
			return result
		}
		return mustJSON(t, hexutil.Bytes(out))
	}}
	lying := liar.dial()

	// Without strict mode the lie is signed (in a log of its own).
	plain, err := NewLocalSigner(SignerConfig{Sidechain: lying, Key: key, SignedLog: filepath.Join(t.TempDir(), "signed.log"), MaxFeeRate: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.SignBatch(ctx, 1, 0); err != nil {
		t.Fatalf("the lie does not fool a signer without strict mode: %v", err)
	}

	flipAnchor := &lyingNode{t: t, target: c.url, answer: func(method string, _ []json.RawMessage, result json.RawMessage) json.RawMessage {
		if method != "mm_getAnchorProof" {
			return result
		}
		var p anchorproof.Proof
		if err := json.Unmarshal(result, &p); err != nil {
			t.Fatal(err)
		}
		p.Anchor.HeaderRLP[len(p.Anchor.HeaderRLP)/2] ^= 1
		return mustJSON(t, &p)
	}}
	beforeBatch := &lyingNode{t: t, target: c.url, request: func(method string, params []json.RawMessage) []json.RawMessage {
		if method == "eth_getProof" && len(params) == 3 {
			params[2] = mustJSON(t, hexutil.Uint64(c.created-1))
		}
		return params
	}}
	other := btcd.Start(t) // a Bitcoin chain of its own: the anchor is not in it
	otherStrict := *strict
	otherStrict.Bitcoin = btcClient(t, other.RPCURL(), other)
	deeper := *strict
	deeper.K = 3

	for _, tc := range []struct {
		name   string
		side   *ethclient.Client
		strict *Strict
		want   error
	}{
		{"tampered anchor proof", flipAnchor.dial(), strict, ErrAnchorProof},
		{"anchor 2 deep, K 3", c.client, &deeper, ErrAnchorDepth},
		{"anchor unknown to the signer's Bitcoin node", c.client, &otherStrict, ErrAnchorDepth},
		{"storage proofs of the block before the batch", beforeBatch.dial(), strict, ErrStateProof},
		{"a node describing a batch paying a thief", lying, strict, ErrStateProof},
	} {
		before := refusals[tc.want].Snapshot().Count()
		_, sigs, err := sign(tc.side, tc.strict)
		if !errors.Is(err, tc.want) || sigs != nil {
			t.Errorf("%s: %v (%d signature bytes), want %v", tc.name, err, len(sigs), tc.want)
		}
		if got := refusals[tc.want].Snapshot().Count(); got != before+1 {
			t.Errorf("%s: counted %d refusals, want 1", tc.name, got-before)
		}
		if logged, err := os.ReadFile(logPath); err != nil || len(logged) != 0 {
			t.Fatalf("%s: the signed log holds %q (%v)", tc.name, logged, err)
		}
		t.Logf("%s: %v", tc.name, err)
	}

	// The honest node's batch is signed, for the Bridge's sighashes.
	s, sigs, err := sign(c.client, strict)
	if err != nil {
		t.Fatalf("strict signer refuses the honest batch: %v", err)
	}
	if _, err := c.client.CallContract(ctx, ethereum.CallMsg{To: &bridge.BridgeAddress,
		Data: bridge.AddSignaturesInput(1, 0, s.member, sigs)}, nil); err != nil {
		t.Fatalf("the Bridge refuses the strict signer's signatures: %v", revertOf(err))
	}
	if logged, _ := os.ReadFile(logPath); bytes.Count(logged, []byte("\n")) != len(ts.Sighashes) {
		t.Fatalf("signed log %q after signing %d inputs", logged, len(ts.Sighashes))
	}
}

// requestABIForTest is getPegOutRequest's tuple, for the lying node to
// re-encode.
type requestABIForTest struct {
	Requester common.Address
	AmountSat uint64
	State     uint8
	BtcScript []byte
	BatchId   uint64
}
