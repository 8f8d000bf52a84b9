package miner

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

// mnrVector is testdata/mnr_synthetic_lowdiff.json (a copy of
// shared/testdata/rsk-mm/synthetic_lowdiff.json): a proof at difficulty 20000
// with the exact params an RSK pool sends.
type mnrVector struct {
	HashForMergedMining common.Hash `json:"hashForMergedMining"`
	Difficulty          int64       `json:"difficulty"`
	Target              string      `json:"target"`
	BitcoinHeader       string      `json:"bitcoin_header"`
	CoinbaseFull        string      `json:"coinbase_tx_full"`
	MerkleProof         string      `json:"merkle_proof_rskip92 (bitcoinMergedMiningMerkleProof)"`
	PartialMerkleParams []string    `json:"mnr_submitBitcoinBlockPartialMerkle_params"`
	TransactionsParams  []string    `json:"mnr_submitBitcoinBlockTransactions_params"`
}

var mnrTag = []byte("RSKBLOCK:")

func mnrLoadVector(t *testing.T) *mnrVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/mnr_synthetic_lowdiff.json")
	if err != nil {
		t.Fatal(err)
	}
	var v mnrVector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func mnrUnhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mnrServe serves the mnr API of a real work server in process.
func mnrServe(t *testing.T, ws *WorkServer) *gethrpc.Client {
	t.Helper()
	srv := gethrpc.NewServer()
	if err := srv.RegisterName("mnr", NewAPI(ws)); err != nil {
		t.Fatal(err)
	}
	c := gethrpc.DialInProc(srv)
	t.Cleanup(func() { c.Close(); srv.Stop() })
	return c
}

// mnrFixture is a dev chain whose network uses the tag of the Rootstock
// vector, so that the vector's coinbase parses as this network's.
func mnrFixture(t *testing.T) *workFixture {
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	spec.MergeMining.Tag = string(mnrTag)
	return newWorkFixtureOn(t, rawdb.NewMemoryDatabase(), spec)
}

// mnrParams turns a vector's string params into call arguments.
func mnrParams(ps []string) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

func mnrCheckError(t *testing.T, err error, code int, msg string) {
	t.Helper()
	var rpcErr gethrpc.Error
	if !errors.As(err, &rpcErr) {
		t.Fatalf("got error %v, want a JSON-RPC error %d %q", err, code, msg)
	}
	if rpcErr.ErrorCode() != code || !strings.Contains(rpcErr.Error(), msg) {
		t.Fatalf("got error %d %q, want %d containing %q", rpcErr.ErrorCode(), rpcErr.Error(), code, msg)
	}
}

// TestMnrGetWorkShape pins mnr_getWork's JSON: Rootstock's MinerWork (a
// 32-byte zero-padded target, fees as a decimal string) plus the tag.
func TestMnrGetWorkShape(t *testing.T) {
	seal := common.HexToHash("0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b")
	parent := common.HexToHash("0x01")
	fees, _ := new(big.Int).SetString("1234567890123456789012", 10)
	tests := []struct {
		name string
		work Work
		tag  []byte
		want string
	}{
		{
			name: "rootstock shape, target of the vector's difficulty",
			work: Work{SealHash: seal, Target: mergemine.Target(big.NewInt(20000)), Fees: fees, Notify: true, ParentHash: parent},
			tag:  mnrTag,
			want: `{"blockHashForMergedMining":"0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b",` +
				`"target":"0x000346dc5d63886594af4f0d844d013a92a305532617c1bda5119ce075f6fd21",` +
				`"feesPaidToMiner":"1234567890123456789012","notify":true,` +
				`"parentBlockHash":"0x0000000000000000000000000000000000000000000000000000000000000001",` +
				`"tag":"0x52534b424c4f434b3a"}`,
		},
		{
			name: "no fees, largest target",
			work: Work{SealHash: seal, Target: mergemine.Target(big.NewInt(1)), Fees: new(big.Int), ParentHash: parent},
			tag:  []byte("MMGETHDEV:"),
			want: `{"blockHashForMergedMining":"0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b",` +
				`"target":"0x5555555555555555555555555555555555555555555555555555555555555555",` +
				`"feesPaidToMiner":"0","notify":false,` +
				`"parentBlockHash":"0x0000000000000000000000000000000000000000000000000000000000000001",` +
				`"tag":"0x4d4d474554484445563a"}`,
		},
	}
	for _, tt := range tests {
		got, err := json.Marshal(newMinerWork(&tt.work, tt.tag))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestMnrGetWork serves the work of a real dev chain, and the error a
// miner gets while the chain is ahead of the clock.
func TestMnrGetWork(t *testing.T) {
	spec, _ := genesis.Load("dev")
	spec.MergeMining.MaxFutureDrift = 5
	f := newWorkFixtureOn(t, rawdb.NewMemoryDatabase(), spec)
	c := mnrServe(t, f.ws)
	var got MinerWork
	if err := c.Call(&got, "mnr_getWork"); err != nil {
		t.Fatal(err)
	}
	tmpl := f.ws.templates[got.BlockHashForMergedMining]
	if tmpl == nil {
		t.Fatalf("work %x is no template of the server", got.BlockHashForMergedMining)
	}
	if want := fmt.Sprintf("0x%064x", mergemine.Target(tmpl.Difficulty)); got.Target != want {
		t.Errorf("target %s, want %s", got.Target, want)
	}
	if !got.Notify || got.ParentBlockHash != f.chain.CurrentBlock().Hash() || string(got.Tag) != spec.MergeMining.Tag || got.FeesPaidToMiner != "0" {
		t.Errorf("work %+v", got)
	}
	if _, err := f.ws.Build(uint64(time.Now().Unix()) + 60); err != nil {
		t.Fatal(err)
	}
	err := c.Call(new(json.RawMessage), "mnr_getWork")
	mnrCheckError(t, err, mnrSubmitCode, "No work available: the chain is")
}

// TestMnrParseVector parses the params a Rootstock pool sends for the
// synthetic share: the share holds the vector's header, RSKIP-92 proof and
// compressed coinbase, commits to the vector's hash and verifies.
func TestMnrParseVector(t *testing.T) {
	v := mnrLoadVector(t)
	want, err := mergemine.BuildProof(mnrUnhex(t, v.BitcoinHeader), mnrUnhex(t, v.CoinbaseFull), mnrUnhex(t, v.MerkleProof), mnrTag)
	if err != nil {
		t.Fatal(err)
	}
	pm, tx := v.PartialMerkleParams, v.TransactionsParams
	_, witness := mnrWitnessCoinbase(t, v)
	tests := []struct {
		name  string
		parse func() (*Share, error)
	}{
		{"partial merkle", func() (*Share, error) { return parsePartialMerkle(pm[1], pm[2], pm[3], pm[4], mnrTag) }},
		{"partial merkle, 0x prefixes", func() (*Share, error) {
			return parsePartialMerkle("0x"+pm[1], "0x"+pm[2], pm[3], "0x"+pm[4], mnrTag)
		}},
		{"partial merkle, newlines", func() (*Share, error) {
			return parsePartialMerkle(pm[1], pm[2], strings.ReplaceAll(pm[3], " ", "\n  "), "3", mnrTag)
		}},
		{"partial merkle, witness coinbase", func() (*Share, error) {
			return parsePartialMerkle(pm[1], hex.EncodeToString(witness), pm[3], pm[4], mnrTag)
		}},
		{"transactions", func() (*Share, error) { return parseTransactions(tx[1], tx[2], tx[3], mnrTag) }},
	}
	for _, tt := range tests {
		s, err := tt.parse()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !bytes.Equal(s.Proof.Bytes(), want.Bytes()) {
			t.Errorf("%s: proof %x, want %x", tt.name, s.Proof.Bytes(), want.Bytes())
		}
		if s.SealHash != v.HashForMergedMining {
			t.Errorf("%s: commits to %x, want %x", tt.name, s.SealHash, v.HashForMergedMining)
		}
		if err := mergemine.Verify(s.Proof, s.SealHash, big.NewInt(v.Difficulty), mnrTag); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// mnrWitnessCoinbase returns the vector's coinbase with a BIP-141 witness
// reserved value, serialized with its witness.
func mnrWitnessCoinbase(t *testing.T, v *mnrVector) (*wire.MsgTx, []byte) {
	t.Helper()
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(mnrUnhex(t, v.CoinbaseFull))); err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = wire.TxWitness{make([]byte, 32)}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(buf.Bytes(), mnrUnhex(t, v.CoinbaseFull)) {
		t.Fatal("test coinbase has no witness")
	}
	return tx, buf.Bytes()
}

// TestMnrParseBitcoinBlock parses whole blocks of 1 to 5 transactions, with
// a segwit coinbase and a segwit transaction, and checks the proof folds
// from the coinbase txid to the header's merkle root as btcd computes it.
func TestMnrParseBitcoinBlock(t *testing.T) {
	v := mnrLoadVector(t)
	coinbase, _ := mnrWitnessCoinbase(t, v)
	for n := 1; n <= 5; n++ {
		block := &wire.MsgBlock{Transactions: []*wire.MsgTx{coinbase}}
		for i := 1; i < n; i++ {
			tx := wire.NewMsgTx(2)
			tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{byte(i)}, 0), nil, wire.TxWitness{{byte(i), 2, 3}}))
			tx.AddTxOut(wire.NewTxOut(int64(1000*i), []byte{0x51}))
			block.Transactions = append(block.Transactions, tx)
		}
		txs := make([]*btcutil.Tx, n)
		for i, tx := range block.Transactions {
			txs[i] = btcutil.NewTx(tx)
		}
		block.Header = wire.BlockHeader{Version: 0x20000000, MerkleRoot: blockchain.CalcMerkleRoot(txs, false), Bits: 0x207fffff, Nonce: 7}
		block.Header.Timestamp = time.Unix(1700000000, 0)
		var raw bytes.Buffer
		if err := block.Serialize(&raw); err != nil {
			t.Fatal(err)
		}
		s, err := parseBitcoinBlock(hex.EncodeToString(raw.Bytes()), mnrTag)
		if err != nil {
			t.Fatalf("%d txs: %v", n, err)
		}
		var header bytes.Buffer
		if err := block.Header.Serialize(&header); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Proof.BitcoinHeader, header.Bytes()) {
			t.Errorf("%d txs: header %x, want %x", n, s.Proof.BitcoinHeader, header.Bytes())
		}
		compressed, err := mergemine.CompressCoinbase(mnrUnhex(t, v.CoinbaseFull), mnrTag)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Proof.Coinbase, compressed) || s.SealHash != v.HashForMergedMining {
			t.Errorf("%d txs: coinbase %x committing to %x, want the non-witness vector coinbase", n, s.Proof.Coinbase, s.SealHash)
		}
		if want := 32 * mnrLevels(n); len(s.Proof.MerkleProof) != want {
			t.Fatalf("%d txs: proof has %d bytes, want %d", n, len(s.Proof.MerkleProof), want)
		}
		cur := coinbase.TxHash()
		for i := 0; i < len(s.Proof.MerkleProof); i += 32 {
			var sibling [32]byte
			for j := range sibling {
				sibling[j] = s.Proof.MerkleProof[i+31-j]
			}
			cur = chainhash.DoubleHashH(append(cur[:], sibling[:]...))
		}
		if cur != block.Header.MerkleRoot {
			t.Errorf("%d txs: proof folds to %v, want merkle root %v", n, cur, block.Header.MerkleRoot)
		}
	}
}

// mnrLevels is the depth of a Bitcoin merkle tree of n leaves.
func mnrLevels(n int) int {
	l := 0
	for w := 1; w < n; w *= 2 {
		l++
	}
	return l
}

// TestMnrSubmitErrors sends malformed and refused submissions to a real
// work server and checks Rootstock's codes and wording; requests that cannot
// be parsed never reach a proof check.
func TestMnrSubmitErrors(t *testing.T) {
	v := mnrLoadVector(t)
	pm := v.PartialMerkleParams
	tx := v.TransactionsParams
	hashes := strings.Fields(pm[3])
	txids := strings.Fields(tx[3])
	cb := mnrUnhex(t, pm[2])

	foreign := bytes.Replace(cb, v.HashForMergedMining[:], bytes.Repeat([]byte{0xee}, 32), 1)
	noTag := bytes.Replace(cb, mnrTag, []byte("XXXXXXXXX"), 1)
	// A second tag after the real one, in a new last output, keeping the
	// transaction well-formed.
	var doubleTag []byte
	{
		var msg wire.MsgTx
		if err := msg.Deserialize(bytes.NewReader(cb)); err != nil {
			t.Fatal(err)
		}
		script := append([]byte{0x6a, 41}, mnrTag...)
		msg.AddTxOut(wire.NewTxOut(0, append(script, bytes.Repeat([]byte{1}, 32)...)))
		var buf bytes.Buffer
		if err := msg.SerializeNoWitness(&buf); err != nil {
			t.Fatal(err)
		}
		doubleTag = buf.Bytes()
	}
	reversed := func(hs []string) string {
		out := make([]string, len(hs))
		for i, h := range hs {
			b := mnrUnhex(t, h)
			for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
				b[l], b[r] = b[r], b[l]
			}
			out[i] = hex.EncodeToString(b)
		}
		return strings.Join(out, " ")
	}
	join := func(hs ...string) string { return strings.Join(hs, " ") }

	const (
		pmMethod = "mnr_submitBitcoinBlockPartialMerkle"
		txMethod = "mnr_submitBitcoinBlockTransactions"
		bMethod  = "mnr_submitBitcoinBlock"
		invalid  = mnrInvalidParamsCode
		submit   = mnrSubmitCode
	)
	tests := []struct {
		name   string
		method string
		params []any
		code   int
		msg    string
	}{
		// Counts.
		{"partial merkle, 4 params", pmMethod, []any{pm[0], pm[1], pm[2], pm[3]}, invalid, "missing value for required argument 4"},
		{"partial merkle, 6 params", pmMethod, []any{pm[0], pm[1], pm[2], pm[3], pm[4], "x"}, invalid, "too many arguments"},
		{"transactions, 3 params", txMethod, []any{tx[0], tx[1], tx[2]}, invalid, "missing value for required argument 3"},
		{"block, no params", bMethod, nil, invalid, "missing value for required argument 0"},
		{"partial merkle, empty hash list", pmMethod, []any{pm[0], pm[1], pm[2], "", pm[4]}, submit, "The list of merkle hashes can't be empty"},
		{"partial merkle, blank hash list", pmMethod, []any{pm[0], pm[1], pm[2], "  ", pm[4]}, submit, "The list of merkle hashes can't be empty"},
		{"transactions, empty hash list", txMethod, []any{tx[0], tx[1], tx[2], ""}, invalid, "the list of transaction hashes can't be empty"},
		{"partial merkle, 31 levels", pmMethod, []any{pm[0], pm[1], pm[2], join(append([]string{hashes[0]}, strings.Fields(strings.Repeat(hashes[1]+" ", 31))...)...), "20"}, invalid, "at most 30 levels"},
		{"partial merkle, count not hex", pmMethod, []any{pm[0], pm[1], pm[2], pm[3], "three"}, invalid, `invalid transaction count "three"`},
		{"partial merkle, count zero", pmMethod, []any{pm[0], pm[1], pm[2], pm[3], "0"}, invalid, `invalid transaction count "0"`},
		{"partial merkle, count empty", pmMethod, []any{pm[0], pm[1], pm[2], pm[3], ""}, invalid, `invalid transaction count ""`},
		// Hex and lengths.
		{"header odd hex", pmMethod, []any{pm[0], pm[1][1:], pm[2], pm[3], pm[4]}, invalid, "invalid bitcoin header hex: encoding/hex: odd length hex string"},
		{"header not hex", pmMethod, []any{pm[0], "zz" + pm[1][2:], pm[2], pm[3], pm[4]}, invalid, "invalid bitcoin header hex: encoding/hex: invalid byte"},
		{"header 79 bytes", pmMethod, []any{pm[0], pm[1][:158], pm[2], pm[3], pm[4]}, invalid, "invalid bitcoin header: 79 bytes, want 80"},
		{"header 81 bytes", txMethod, []any{tx[0], tx[1] + "00", tx[2], tx[3]}, invalid, "invalid bitcoin header: 81 bytes, want 80"},
		{"header not a string", pmMethod, []any{pm[0], 80, pm[2], pm[3], pm[4]}, invalid, "invalid argument 1"},
		{"coinbase not hex", pmMethod, []any{pm[0], pm[1], "0x0g", pm[3], pm[4]}, invalid, "invalid coinbase hex"},
		{"coinbase truncated", pmMethod, []any{pm[0], pm[1], pm[2][:100], pm[3], pm[4]}, invalid, "invalid coinbase transaction"},
		{"coinbase with a trailing byte", txMethod, []any{tx[0], tx[1], tx[2] + "00", tx[3]}, invalid, "invalid coinbase transaction: 1 bytes after its end"},
		{"hash of 31 bytes", pmMethod, []any{pm[0], pm[1], pm[2], join(hashes[0], hashes[1][2:], hashes[2]), pm[4]}, invalid, "invalid merkle hash 1"},
		{"hash not hex", txMethod, []any{tx[0], tx[1], tx[2], join(txids[0], "xyz", txids[2])}, invalid, "invalid transaction hash hex"},
		// Hash orders.
		{"partial merkle in display order", pmMethod, []any{pm[0], pm[1], pm[2], reversed(hashes), pm[4]}, invalid, "hashes must be in wire order, got display order"},
		{"transactions in wire order", txMethod, []any{tx[0], tx[1], tx[2], reversed(txids)}, invalid, "hashes must be in display order, got wire order"},
		{"partial merkle without the coinbase txid", pmMethod, []any{pm[0], pm[1], pm[2], join(hashes[1:]...), pm[4]}, invalid, "first hash must be the coinbase txid 2713f772"},
		{"transactions without the coinbase txid", txMethod, []any{tx[0], tx[1], tx[2], join(txids[1:]...)}, invalid, "first hash must be the coinbase txid 9c7b00db"},
		// Whole blocks.
		{"block not hex", bMethod, []any{"0xnope"}, invalid, "invalid bitcoin block hex"},
		{"block header only", bMethod, []any{pm[1]}, invalid, "invalid bitcoin block"},
		{"block without transactions", bMethod, []any{pm[1] + "00"}, invalid, "invalid bitcoin block: no transactions"},
		{"block with a trailing byte", bMethod, []any{pm[1] + "01" + pm[2] + "00"}, invalid, "invalid bitcoin block: 1 bytes after the last transaction"},
		// What the work server refuses.
		{"the vector's work, never handed out here", pmMethod, mnrParams(pm), submit,
			"Cannot publish block, could not find hash " + v.HashForMergedMining.Hex() + " in the cache"},
		{"unknown hash", bMethod, []any{pm[1] + "01" + hex.EncodeToString(foreign)}, submit,
			"Cannot publish block, could not find hash 0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee in the cache"},
		{"no tag", bMethod, []any{pm[1] + "01" + hex.EncodeToString(noTag)}, submit, "Invalid block supplied by miner: " + mergemine.ErrTagMissing.Error()},
		{"second tag after the real one", bMethod, []any{pm[1] + "01" + hex.EncodeToString(doubleTag)}, submit,
			"Cannot publish block, could not find hash 0x0101010101010101010101010101010101010101010101010101010101010101 in the cache"},
	}
	f := mnrFixture(t)
	c := mnrServe(t, f.ws)
	for _, tt := range tests {
		checks := f.engine.ProofChecks()
		err := c.Call(new(json.RawMessage), tt.method, tt.params...)
		if err == nil {
			t.Fatalf("%s: accepted", tt.name)
		}
		var rpcErr gethrpc.Error
		if !errors.As(err, &rpcErr) || rpcErr.ErrorCode() != tt.code || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %d containing %q", tt.name, err, tt.code, tt.msg)
		}
		if f.engine.ProofChecks() != checks {
			t.Errorf("%s: a proof was checked", tt.name)
		}
	}
}

// poolSolution is a share as a pool finds it for live work: its coinbase
// in a Bitcoin block of three transactions, the header ground to the target.
type poolSolution struct {
	header   []byte
	coinbase []byte
	txids    []chainhash.Hash // wire order, coinbase first
	block    *wire.MsgBlock
}

func (p *poolSolution) branch() []string {
	right := chainhash.DoubleHashH(append(p.txids[2][:], p.txids[2][:]...))
	return []string{hex.EncodeToString(p.txids[0][:]), hex.EncodeToString(p.txids[1][:]), hex.EncodeToString(right[:])}
}

func solvePool(t *testing.T, tmpl *Template, tag []byte, extraNonce uint64) *poolSolution {
	t.Helper()
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: binary.LittleEndian.AppendUint64([]byte{8}, extraNonce), Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(&wire.TxOut{Value: 5000000000, PkScript: []byte{0x51}})
	mergemine.AddCommitment(cb, tag, tmpl.SealHash)
	msg := &wire.MsgBlock{Transactions: []*wire.MsgTx{cb}}
	for i := 1; i < 3; i++ {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{byte(i)}}, Sequence: wire.MaxTxInSequenceNum})
		tx.AddTxOut(&wire.TxOut{Value: 1, PkScript: []byte{0x51}})
		msg.Transactions = append(msg.Transactions, tx)
	}
	p := &poolSolution{block: msg}
	txs := make([]*btcutil.Tx, len(msg.Transactions))
	for i, tx := range msg.Transactions {
		txs[i] = btcutil.NewTx(tx)
		p.txids = append(p.txids, tx.TxHash())
	}
	msg.Header = wire.BlockHeader{Version: 0x20000000, MerkleRoot: blockchain.CalcMerkleRoot(txs, false),
		Timestamp: time.Unix(int64(tmpl.Block().Time()), 0), Bits: 0x207fffff}
	target := mergemine.Target(tmpl.Difficulty)
	for ; ; msg.Header.Nonce++ {
		var buf bytes.Buffer
		msg.Header.Serialize(&buf)
		if mergemine.MeetsTarget(buf.Bytes(), target) {
			p.header = buf.Bytes()
			break
		}
	}
	var buf bytes.Buffer
	cb.SerializeNoWitness(&buf)
	p.coinbase = buf.Bytes()
	return p
}

// TestMnrSubmitLive mines a dev chain through the three submit methods with
// pool-made shares, and checks the refusals of shares for live work.
func TestMnrSubmitLive(t *testing.T) {
	f := newWorkFixture(t)
	c := mnrServe(t, f.ws)
	live := func() *Template {
		t.Helper()
		var w MinerWork
		if err := c.Call(&w, "mnr_getWork"); err != nil {
			t.Fatal(err)
		}
		return f.ws.templates[w.BlockHashForMergedMining]
	}
	expect := func(res SubmittedBlockInfo, status string, height uint64) {
		t.Helper()
		if string(res.BlockImportedResult) != status || uint64(res.BlockIncludedHeight) != height {
			t.Fatalf("got %s at %d, want %s at %d", res.BlockImportedResult, res.BlockIncludedHeight, status, height)
		}
	}
	var res SubmittedBlockInfo

	p := solvePool(t, live(), f.tag, 1)
	pmParams := []any{"x", hex.EncodeToString(p.header), hex.EncodeToString(p.coinbase), strings.Join(p.branch(), " "), "3"}
	if err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", pmParams...); err != nil {
		t.Fatal(err)
	}
	expect(res, ImportedBest, 1)
	if err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", pmParams...); err != nil {
		t.Fatal(err)
	}
	expect(res, Exist, 1)

	p = solvePool(t, live(), f.tag, 2)
	var raw bytes.Buffer
	if err := p.block.Serialize(&raw); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(&res, "mnr_submitBitcoinBlock", hex.EncodeToString(raw.Bytes())); err != nil {
		t.Fatal(err)
	}
	expect(res, ImportedBest, 2)

	p = solvePool(t, live(), f.tag, 3)
	display := make([]string, len(p.txids))
	for i, id := range p.txids {
		display[i] = id.String()
	}
	if err := c.Call(&res, "mnr_submitBitcoinBlockTransactions", nil, hex.EncodeToString(p.header), hex.EncodeToString(p.coinbase), strings.Join(display, " ")); err != nil {
		t.Fatal(err)
	}
	expect(res, ImportedBest, 3)

	p = solvePool(t, live(), f.tag, 4)
	lowWork := bytes.Clone(p.header)
	target := mergemine.Target(f.ws.current.Difficulty)
	for nonce := binary.LittleEndian.Uint32(lowWork[76:]) + 1; ; nonce++ {
		binary.LittleEndian.PutUint32(lowWork[76:], nonce)
		if !mergemine.MeetsTarget(lowWork, target) {
			break
		}
	}
	branch := p.branch()
	for _, bad := range []struct {
		name     string
		header   []byte
		branch   []string
		wantRule error
	}{
		{"not enough work", lowWork, branch, mergemine.ErrPoW},
		{"swapped merkle hashes", p.header, []string{branch[0], branch[2], branch[1]}, mergemine.ErrMerkleRootMismatch},
	} {
		err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", hex.EncodeToString(bad.header), hex.EncodeToString(p.coinbase), strings.Join(bad.branch, " "), "3")
		mnrCheckError(t, err, mnrSubmitCode, "Invalid block supplied by miner: ")
		if !strings.Contains(err.Error(), bad.wantRule.Error()) {
			t.Errorf("%s: %q does not name the rule %q", bad.name, err, bad.wantRule)
		}
	}
	if head := f.chain.CurrentBlock().Number.Uint64(); head != 3 {
		t.Fatalf("head %d after the refused shares, want 3", head)
	}
}

// TestMnrServerErrorWording checks work-server errors read as Rootstock's,
// a local fault does not read "invalid", and all stay matchable.
func TestMnrServerErrorWording(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&UnknownWorkError{SealHash: common.HexToHash("0x0a")}, "Cannot publish block, could not find hash 0x000000000000000000000000000000000000000000000000000000000000000a in the cache"},
		{fmt.Errorf("%w: %w", ErrInvalidBlock, mergemine.ErrMerkleRootMismatch), "Invalid block supplied by miner: " + mergemine.ErrMerkleRootMismatch.Error()},
		{ErrNoWork, "No work available"},
		{fmt.Errorf("%w: %w", ErrNotImported, errors.New("disk full")), "The block is valid but this node could not import it: disk full"},
	}
	for _, tt := range tests {
		err := mnrServerError(tt.err)
		var coder gethrpc.Error
		if !errors.As(err, &coder) || coder.ErrorCode() != mnrSubmitCode {
			t.Errorf("%v: not a -33000 error", tt.err)
		}
		if err.Error() != tt.want {
			t.Errorf("got %q, want %q", err.Error(), tt.want)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%q does not wrap %v", err, tt.err)
		}
	}
}
