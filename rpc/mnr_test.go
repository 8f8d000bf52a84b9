package rpc

import (
	"bytes"
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
	gethrpc "github.com/ethereum/go-ethereum/rpc"

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

// mnrTestServer is a work server that knows a set of templates and checks
// submissions with the real verifier, recording what it was handed.
type mnrTestServer struct {
	work       *Work
	workErr    error
	difficulty *big.Int
	known      map[common.Hash]bool
	result     SubmitResult

	gotHeader, gotCoinbase, gotProof []byte
	submits                          int
}

func (s *mnrTestServer) GetWork() (*Work, error) { return s.work, s.workErr }

func (s *mnrTestServer) Submit(header80, coinbase, proof []byte) (*SubmitResult, error) {
	s.submits++
	s.gotHeader, s.gotCoinbase, s.gotProof = header80, coinbase, proof
	committed, err := mergemine.CommittedHash(coinbase, mnrTag)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorkInvalid, err)
	}
	if !s.known[committed] {
		return nil, WorkUnknownError(committed)
	}
	p, err := mergemine.BuildProof(header80, coinbase, proof, mnrTag)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorkInvalid, err)
	}
	if err := mergemine.Verify(p, committed, s.difficulty, mnrTag); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorkInvalid, err)
	}
	res := s.result
	return &res, nil
}

func mnrServe(t *testing.T, ws WorkServer) *gethrpc.Client {
	t.Helper()
	srv := gethrpc.NewServer()
	if err := srv.RegisterName("mnr", NewMnrAPI(ws)); err != nil {
		t.Fatal(err)
	}
	c := gethrpc.DialInProc(srv)
	t.Cleanup(func() { c.Close(); srv.Stop() })
	return c
}

func mnrVectorServer(v *mnrVector) *mnrTestServer {
	return &mnrTestServer{
		difficulty: big.NewInt(v.Difficulty),
		known:      map[common.Hash]bool{v.HashForMergedMining: true},
		result: SubmitResult{
			Status:    "IMPORTED_BEST",
			BlockHash: common.HexToHash("0x00000000000000000000000000000000000000000000000000000000000000ab"),
			Height:    42,
		},
	}
}

// mnrParams turns a vector's string params into call arguments.
func mnrParams(ps []string) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

const mnrImportedBestJSON = `{"blockImportedResult":"0x494d504f525445445f42455354",` +
	`"blockHash":"0x00000000000000000000000000000000000000000000000000000000000000ab",` +
	`"blockIncludedHeight":"0x2a"}`

func TestMnrGetWork(t *testing.T) {
	seal := common.HexToHash("0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b")
	parent := common.HexToHash("0x01")
	fees, _ := new(big.Int).SetString("1234567890123456789012", 10)
	tests := []struct {
		name string
		work Work
		want string
	}{
		{
			name: "rootstock shape, target of the vector's difficulty",
			work: Work{SealHash: seal, Target: mergemine.Target(big.NewInt(20000)), FeesPaid: fees, Notify: true, ParentHash: parent, Tag: mnrTag},
			want: `{"blockHashForMergedMining":"0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b",` +
				`"target":"0x000346dc5d63886594af4f0d844d013a92a305532617c1bda5119ce075f6fd21",` +
				`"feesPaidToMiner":"1234567890123456789012","notify":true,` +
				`"parentBlockHash":"0x0000000000000000000000000000000000000000000000000000000000000001",` +
				`"tag":"0x52534b424c4f434b3a"}`,
		},
		{
			name: "no fees, largest target",
			work: Work{SealHash: seal, Target: mergemine.Target(big.NewInt(1)), ParentHash: parent, Tag: []byte("MMGETHDEV:")},
			want: `{"blockHashForMergedMining":"0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b",` +
				`"target":"0x5555555555555555555555555555555555555555555555555555555555555555",` +
				`"feesPaidToMiner":"0","notify":false,` +
				`"parentBlockHash":"0x0000000000000000000000000000000000000000000000000000000000000001",` +
				`"tag":"0x4d4d474554484445563a"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mnrServe(t, &mnrTestServer{work: &tt.work})
			var got json.RawMessage
			if err := c.Call(&got, "mnr_getWork"); err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("mnr_getWork:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMnrGetWorkErrors(t *testing.T) {
	tests := []struct {
		name    string
		ws      *mnrTestServer
		wantMsg string
	}{
		{"no template", &mnrTestServer{workErr: fmt.Errorf("%w: node is syncing", ErrWorkUnavailable)}, "No work available: node is syncing"},
		{"target too large", &mnrTestServer{work: &Work{Target: new(big.Int).Lsh(big.NewInt(1), 256)}}, "Work server returned an invalid target"},
		{"no target", &mnrTestServer{work: &Work{}}, "Work server returned an invalid target"},
		{"negative fees", &mnrTestServer{work: &Work{Target: big.NewInt(1), FeesPaid: big.NewInt(-1)}}, "Work server returned negative fees"},
		{"no work, no error", &mnrTestServer{}, "No work available: work server returned none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mnrServe(t, tt.ws).Call(new(json.RawMessage), "mnr_getWork")
			mnrCheckError(t, err, mnrSubmitCode, tt.wantMsg)
		})
	}
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

// TestMnrSubmitVector replays the params a Rootstock pool sends for the
// synthetic share, checks the work server receives the header, the full
// coinbase and the RSKIP-92 proof of the vector, and that the reply has
// Rootstock's SubmittedBlockInfo shape.
func TestMnrSubmitVector(t *testing.T) {
	v := mnrLoadVector(t)
	prefixed := append([]string(nil), v.PartialMerkleParams...)
	prefixed[1], prefixed[2], prefixed[4] = "0x"+prefixed[1], "0x"+prefixed[2], "0x"+prefixed[4]
	tests := []struct {
		name   string
		method string
		params []any
	}{
		{"partial merkle", "mnr_submitBitcoinBlockPartialMerkle", mnrParams(v.PartialMerkleParams)},
		{"partial merkle, 0x prefixes", "mnr_submitBitcoinBlockPartialMerkle", mnrParams(prefixed)},
		{"partial merkle, stratum's block hash and newlines", "mnr_submitBitcoinBlockPartialMerkle", []any{
			"00008e1b4ed36405d3137b97ec9a5132dbd96cc6e84b710d37fbcb11b8344394", v.PartialMerkleParams[1], v.PartialMerkleParams[2],
			strings.ReplaceAll(v.PartialMerkleParams[3], " ", "\n  "), v.PartialMerkleParams[4]}},
		{"partial merkle, null first param", "mnr_submitBitcoinBlockPartialMerkle", []any{nil, v.PartialMerkleParams[1], v.PartialMerkleParams[2], v.PartialMerkleParams[3], "3"}},
		{"transactions", "mnr_submitBitcoinBlockTransactions", mnrParams(v.TransactionsParams)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := mnrVectorServer(v)
			var got json.RawMessage
			if err := mnrServe(t, ws).Call(&got, tt.method, tt.params...); err != nil {
				t.Fatal(err)
			}
			if string(got) != mnrImportedBestJSON {
				t.Errorf("result:\n got %s\nwant %s", got, mnrImportedBestJSON)
			}
			if !bytes.Equal(ws.gotHeader, mnrUnhex(t, v.BitcoinHeader)) {
				t.Errorf("header: got %x", ws.gotHeader)
			}
			if !bytes.Equal(ws.gotCoinbase, mnrUnhex(t, v.CoinbaseFull)) {
				t.Errorf("coinbase: got %x", ws.gotCoinbase)
			}
			if !bytes.Equal(ws.gotProof, mnrUnhex(t, v.MerkleProof)) {
				t.Errorf("merkle proof: got %x, want %s", ws.gotProof, v.MerkleProof)
			}
		})
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
	return tx, buf.Bytes()
}

func TestMnrSubmitWitnessCoinbase(t *testing.T) {
	v := mnrLoadVector(t)
	_, withWitness := mnrWitnessCoinbase(t, v)
	if bytes.Equal(withWitness, mnrUnhex(t, v.CoinbaseFull)) {
		t.Fatal("test coinbase has no witness")
	}
	params := mnrParams(v.PartialMerkleParams)
	params[2] = hex.EncodeToString(withWitness)
	ws := mnrVectorServer(v)
	if err := mnrServe(t, ws).Call(new(json.RawMessage), "mnr_submitBitcoinBlockPartialMerkle", params...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ws.gotCoinbase, mnrUnhex(t, v.CoinbaseFull)) {
		t.Errorf("coinbase: got %x, want the non-witness serialization", ws.gotCoinbase)
	}
}

// TestMnrSubmitBitcoinBlock submits whole blocks of 1 to 5 transactions,
// with a segwit coinbase and a segwit transaction, and checks the proof the
// work server gets folds from the coinbase txid to the header's merkle root
// as btcd computes it.
func TestMnrSubmitBitcoinBlock(t *testing.T) {
	v := mnrLoadVector(t)
	coinbase, _ := mnrWitnessCoinbase(t, v)
	for n := 1; n <= 5; n++ {
		t.Run(fmt.Sprintf("%d txs", n), func(t *testing.T) {
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
			// No PoW here: the server says the work is unknown, and mnr
			// reports it; the bytes it was handed are what is checked.
			ws := &mnrTestServer{known: map[common.Hash]bool{}}
			err := mnrServe(t, ws).Call(new(json.RawMessage), "mnr_submitBitcoinBlock", hex.EncodeToString(raw.Bytes()))
			mnrCheckError(t, err, mnrSubmitCode, "Cannot publish block, could not find hash "+v.HashForMergedMining.Hex()+" in the cache")
			var header bytes.Buffer
			if err := block.Header.Serialize(&header); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ws.gotHeader, header.Bytes()) {
				t.Errorf("header: got %x, want %x", ws.gotHeader, header.Bytes())
			}
			if !bytes.Equal(ws.gotCoinbase, mnrUnhex(t, v.CoinbaseFull)) {
				t.Errorf("coinbase: got %x, want the non-witness serialization", ws.gotCoinbase)
			}
			if want := 32 * mnrLevels(n); len(ws.gotProof) != want {
				t.Fatalf("proof has %d bytes, want %d", len(ws.gotProof), want)
			}
			cur := coinbase.TxHash()
			for i := 0; i < len(ws.gotProof); i += 32 {
				var sibling [32]byte
				for j := range sibling {
					sibling[j] = ws.gotProof[i+31-j]
				}
				cur = chainhash.DoubleHashH(append(cur[:], sibling[:]...))
			}
			if cur != block.Header.MerkleRoot {
				t.Errorf("proof folds to %v, want merkle root %v", cur, block.Header.MerkleRoot)
			}
		})
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

func TestMnrSubmitErrors(t *testing.T) {
	v := mnrLoadVector(t)
	pm := v.PartialMerkleParams
	tx := v.TransactionsParams
	hashes := strings.Fields(pm[3])
	txids := strings.Fields(tx[3])
	header := mnrUnhex(t, pm[1])
	cb := mnrUnhex(t, pm[2])

	withHeader := func(h []byte) string { return hex.EncodeToString(h) }
	nonce1 := append([]byte(nil), header...)
	nonce1[76]++
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
		// What the work server refuses, through the real verifier.
		{"unknown hash", bMethod, []any{pm[1] + "01" + hex.EncodeToString(foreign)}, submit,
			"Cannot publish block, could not find hash 0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee in the cache"},
		{"nonce + 1", pmMethod, []any{pm[0], withHeader(nonce1), pm[2], pm[3], pm[4]}, submit,
			"Invalid block supplied by miner: " + mergemine.ErrPoW.Error()},
		{"swapped merkle hashes", pmMethod, []any{pm[0], pm[1], pm[2], join(hashes[0], hashes[2], hashes[1]), pm[4]}, submit,
			"Invalid block supplied by miner: " + mergemine.ErrMerkleRootMismatch.Error()},
		{"no tag", bMethod, []any{pm[1] + "01" + hex.EncodeToString(noTag)}, submit, "Invalid block supplied by miner: " + mergemine.ErrTagMissing.Error()},
		{"second tag after the real one", bMethod, []any{pm[1] + "01" + hex.EncodeToString(doubleTag)}, submit,
			"Cannot publish block, could not find hash 0x0101010101010101010101010101010101010101010101010101010101010101 in the cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := mnrVectorServer(v)
			err := mnrServe(t, ws).Call(new(json.RawMessage), tt.method, tt.params...)
			mnrCheckError(t, err, tt.code, tt.msg)
			if tt.code == mnrInvalidParamsCode && ws.submits != 0 {
				t.Errorf("malformed request reached the work server")
			}
		})
	}
}

// TestMnrSubmitNoResult: a work server answering neither a result nor an
// error is reported, not dereferenced.
func TestMnrSubmitNoResult(t *testing.T) {
	v := mnrLoadVector(t)
	ws := mnrVectorServer(v)
	ws.result = SubmitResult{}
	err := mnrServe(t, ws).Call(new(json.RawMessage), "mnr_submitBitcoinBlockPartialMerkle", mnrParams(v.PartialMerkleParams)...)
	mnrCheckError(t, err, mnrSubmitCode, "Work server returned no import result")
}

// TestMnrServerErrorWording checks work-server errors read as Rootstock's
// and stay matchable with errors.Is.
func TestMnrServerErrorWording(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{WorkUnknownError(common.HexToHash("0x0a")), "Cannot publish block, could not find hash 0x000000000000000000000000000000000000000000000000000000000000000a in the cache"},
		{fmt.Errorf("%w: %w", ErrWorkInvalid, mergemine.ErrMerkleRootMismatch), "Invalid block supplied by miner: " + mergemine.ErrMerkleRootMismatch.Error()},
		{ErrWorkUnavailable, "No work available"},
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
