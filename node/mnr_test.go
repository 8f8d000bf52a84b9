package node

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

type mnrWork struct {
	SealHash common.Hash   `json:"blockHashForMergedMining"`
	Target   hexutil.Bytes `json:"target"`
	Tag      hexutil.Bytes `json:"tag"`
}

func (w *mnrWork) target() *big.Int { return new(big.Int).SetBytes(w.Target) }

// poolShare does what a pool does with mnr_getWork: a coinbase committing to
// the work, a one-transaction Bitcoin block, its nonce ground to the target.
func poolShare(t testing.TB, w *mnrWork, extraNonce uint64) (header, coinbase string) {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: binary.LittleEndian.AppendUint64([]byte{8}, extraNonce), Sequence: wire.MaxTxInSequenceNum})
	tx.AddTxOut(&wire.TxOut{Value: 5000000000, PkScript: []byte{0x51}})
	mergemine.AddCommitment(tx, w.Tag, w.SealHash)
	var cb bytes.Buffer
	tx.SerializeNoWitness(&cb)
	hdr := wire.BlockHeader{Version: 0x20000000, MerkleRoot: chainhash.DoubleHashH(cb.Bytes()), Timestamp: time.Now(), Bits: 0x207fffff}
	var hb bytes.Buffer
	hdr.Serialize(&hb)
	raw := hb.Bytes()
	target := w.target()
	for nonce := uint32(0); ; nonce++ {
		binary.LittleEndian.PutUint32(raw[76:], nonce)
		if mergemine.MeetsTarget(raw, target) {
			return hex.EncodeToString(raw), hex.EncodeToString(cb.Bytes())
		}
	}
}

// poolBlock is a share as a whole Bitcoin block: the pool's coinbase plus
// one more transaction, for mnr_submitBitcoinBlock and
// mnr_submitBitcoinBlockTransactions.
func poolBlock(t testing.TB, w *mnrWork) (block string, txids []chainhash.Hash) {
	t.Helper()
	header, coinbase := poolShare(t, w, 7)
	cb := wire.NewMsgTx(1)
	if err := cb.Deserialize(bytes.NewReader(common.FromHex(coinbase))); err != nil {
		t.Fatal(err)
	}
	other := wire.NewMsgTx(2)
	other.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{1}}, Sequence: wire.MaxTxInSequenceNum})
	other.AddTxOut(&wire.TxOut{Value: 1, PkScript: []byte{0x51}})
	txids = []chainhash.Hash{cb.TxHash(), other.TxHash()}
	var hdr wire.BlockHeader
	hdr.Deserialize(bytes.NewReader(common.FromHex(header)))
	hdr.MerkleRoot = merkleRoot(txids)
	for hdr.Nonce = 0; ; hdr.Nonce++ {
		var raw bytes.Buffer
		hdr.Serialize(&raw)
		if mergemine.MeetsTarget(raw.Bytes(), w.target()) {
			break
		}
	}
	msg := wire.MsgBlock{Header: hdr, Transactions: []*wire.MsgTx{cb, other}}
	var buf bytes.Buffer
	if err := msg.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(buf.Bytes()), txids
}

func merkleRoot(txids []chainhash.Hash) chainhash.Hash {
	level := slices.Clone(txids)
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		var next []chainhash.Hash
		for i := 0; i < len(level); i += 2 {
			next = append(next, chainhash.DoubleHashH(append(level[i][:], level[i+1][:]...)))
		}
		level = next
	}
	return level[0]
}

// TestMnrPoolSubmissions drives the real work server the way Rootstock's
// stratum pool does, with each of the three submit methods, and checks the
// failures pools meet: stale work, too little work, malformed input, and a
// solution for a template whose parent is no longer the head.
func TestMnrPoolSubmissions(t *testing.T) {
	spec, _ := genesis.Load("regtest")
	spec.MergeMining.MaxFutureDrift = 0 // this test seals faster than one block a second
	n, c := startNode(t, Config{Spec: spec, Mine: true, Etherbase: common.HexToAddress("0xfee")})
	getWork := func() *mnrWork {
		var w mnrWork
		if err := c.Call(&w, "mnr_getWork"); err != nil {
			t.Fatal(err)
		}
		return &w
	}
	type result struct {
		Status hexutil.Bytes  `json:"blockImportedResult"`
		Hash   common.Hash    `json:"blockHash"`
		Height hexutil.Uint64 `json:"blockIncludedHeight"`
	}
	expect := func(res result, status string, height uint64) {
		t.Helper()
		if string(res.Status) != status || uint64(res.Height) != height {
			t.Fatalf("got %s at %d, want %s at %d", res.Status, res.Height, status, height)
		}
		if status == "IMPORTED_BEST" && n.Chain().CurrentBlock().Hash() != res.Hash {
			t.Fatalf("head is %s, not the submitted block %s", n.Chain().CurrentBlock().Hash(), res.Hash)
		}
	}
	wantErr := func(err error, code int, text string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), text) {
			t.Fatalf("error %v, want one saying %q", err, text)
		}
		if e, ok := err.(gethrpc.Error); !ok || e.ErrorCode() != code {
			t.Fatalf("error %v does not have code %d", err, code)
		}
	}

	// 1. Partial merkle, exactly as stratum sends it: ignored first param,
	// wire-order hashes with the coinbase txid first, count in hex.
	w := getWork()
	if string(w.Tag) != spec.MergeMining.Tag {
		t.Fatalf("getWork tag %q, want %q", w.Tag, spec.MergeMining.Tag)
	}
	header, coinbase := poolShare(t, w, 1)
	txid := chainhash.DoubleHashH(common.FromHex(coinbase))
	var res result
	if err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "0xabc", header, coinbase, hex.EncodeToString(txid[:]), "1"); err != nil {
		t.Fatal(err)
	}
	expect(res, "IMPORTED_BEST", 1)

	// Resubmitting the same solution: the block exists.
	if err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "0xabc", header, coinbase, hex.EncodeToString(txid[:]), "1"); err != nil {
		t.Fatal(err)
	}
	expect(res, "EXIST", 1)

	// 2. A whole Bitcoin block.
	block, txids := poolBlock(t, getWork())
	if err := c.Call(&res, "mnr_submitBitcoinBlock", block); err != nil {
		t.Fatal(err)
	}
	expect(res, "IMPORTED_BEST", 2)

	// 3. Header, coinbase and every txid in display order.
	w = getWork()
	block, txids = poolBlock(t, w)
	raw := common.FromHex(block)
	var display []string
	for _, id := range txids {
		display = append(display, id.String())
	}
	msg := wire.MsgBlock{}
	msg.Deserialize(bytes.NewReader(raw))
	var cbBuf bytes.Buffer
	msg.Transactions[0].SerializeNoWitness(&cbBuf)
	var hdrBuf bytes.Buffer
	msg.Header.Serialize(&hdrBuf)
	if err := c.Call(&res, "mnr_submitBitcoinBlockTransactions", "x", hex.EncodeToString(hdrBuf.Bytes()),
		hex.EncodeToString(cbBuf.Bytes()), strings.Join(display, " ")); err != nil {
		t.Fatal(err)
	}
	expect(res, "IMPORTED_BEST", 3)

	// A stale template: solved for a parent that is no longer the head.
	stale := getWork()
	staleHeader, staleCoinbase := poolShare(t, stale, 2)
	fresh := getWork()
	if fresh.SealHash != stale.SealHash {
		t.Fatal("work changed without a new head")
	}
	// Another miner wins height 4 first ...
	header, coinbase = poolShare(t, fresh, 3)
	txid = chainhash.DoubleHashH(common.FromHex(coinbase))
	if err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", header, coinbase, hex.EncodeToString(txid[:]), "1"); err != nil {
		t.Fatal(err)
	}
	expect(res, "IMPORTED_BEST", 4)
	// ... a solution for the same template with another coinbase is a
	// different block at the same height and work: kept, not made head.
	staleTxid := chainhash.DoubleHashH(common.FromHex(staleCoinbase))
	if err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", staleHeader, staleCoinbase, hex.EncodeToString(staleTxid[:]), "1"); err != nil {
		t.Fatal(err)
	}
	expect(res, "IMPORTED_NOT_BEST", 4)
	if n.Chain().GetBlockByHash(res.Hash) == nil {
		t.Fatal("side block was not stored")
	}

	// Unknown work: a coinbase committing to a hash never handed out.
	unknown := &mnrWork{SealHash: common.Hash{0x42}, Target: fresh.Target, Tag: fresh.Tag}
	header, coinbase = poolShare(t, unknown, 4)
	txid = chainhash.DoubleHashH(common.FromHex(coinbase))
	err := c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", header, coinbase, hex.EncodeToString(txid[:]), "1")
	wantErr(err, -33000, "could not find hash")

	// Too little work: a header whose hash misses the target.
	w = getWork()
	header, coinbase = poolShare(t, w, 5)
	hdr := common.FromHex(header)
	for nonce := binary.LittleEndian.Uint32(hdr[76:]) + 1; ; nonce++ {
		binary.LittleEndian.PutUint32(hdr[76:], nonce)
		if !mergemine.MeetsTarget(hdr, w.target()) {
			break
		}
	}
	txid = chainhash.DoubleHashH(common.FromHex(coinbase))
	err = c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", hex.EncodeToString(hdr), coinbase, hex.EncodeToString(txid[:]), "1")
	wantErr(err, -33000, "nvalid block")

	// Malformed hex.
	err = c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", "zz", coinbase, hex.EncodeToString(txid[:]), "1")
	wantErr(err, -32602, "hex")

	if head := n.Chain().CurrentBlock().Number.Uint64(); head != 4 {
		t.Fatalf("head %d after the failed submissions, want 4", head)
	}
}
