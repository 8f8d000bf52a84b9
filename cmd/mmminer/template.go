package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// witnessMagic starts a BIP-141 witness commitment script: OP_RETURN, a
// 36-byte push, then 0xaa21a9ed.
var witnessMagic = []byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}

// btcTemplate is a getblocktemplate answer, checked and decoded.
type btcTemplate struct {
	version   int32
	prevBlock chainhash.Hash
	bits      uint32
	target    [32]byte // big-endian, from bits
	curTime   int64
	minTime   int64
	height    int64

	txs   []*wire.MsgTx // the non-coinbase transactions, witnesses kept
	txids []chainhash.Hash

	// coinbase is the node's own coinbase (btcd's coinbasetxn); nil when the
	// node left it to the miner with coinbaseValue.
	coinbase      *wire.MsgTx
	coinbaseValue int64
	coinbaseFlags []byte
	// witnessCommitment is the full commitment output script, or nil.
	witnessCommitment []byte

	// key identifies the work: two templates with the same key differ only
	// in their time.
	key [32]byte
}

func parseTemplate(r *btcjson.GetBlockTemplateResult) (*btcTemplate, error) {
	t := &btcTemplate{version: r.Version, curTime: r.CurTime, minTime: r.MinTime, height: r.Height}
	if r.Height <= 0 {
		return nil, fmt.Errorf("template: invalid height %d", r.Height)
	}
	if len(r.PreviousHash) != 2*chainhash.HashSize {
		return nil, fmt.Errorf("template: invalid previousblockhash %q", r.PreviousHash)
	}
	if err := chainhash.Decode(&t.prevBlock, r.PreviousHash); err != nil {
		return nil, fmt.Errorf("template: invalid previousblockhash %q: %v", r.PreviousHash, err)
	}
	bits, err := strconv.ParseUint(r.Bits, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("template: invalid bits %q: %v", r.Bits, err)
	}
	t.bits = uint32(bits)
	if t.target, err = bitsTarget(t.bits); err != nil {
		return nil, fmt.Errorf("template: %v", err)
	}
	for i, rt := range r.Transactions {
		tx, err := decodeTemplateTx(rt)
		if err != nil {
			return nil, fmt.Errorf("template: transaction %d: %v", i, err)
		}
		t.txs = append(t.txs, tx)
		t.txids = append(t.txids, tx.TxHash())
	}
	switch {
	case r.CoinbaseTxn != nil:
		if t.coinbase, err = decodeTemplateTx(*r.CoinbaseTxn); err != nil {
			return nil, fmt.Errorf("template: coinbasetxn: %v", err)
		}
		if len(t.coinbase.TxIn) != 1 {
			return nil, fmt.Errorf("template: coinbasetxn has %d inputs, want 1", len(t.coinbase.TxIn))
		}
	case r.CoinbaseValue != nil:
		if *r.CoinbaseValue < 0 {
			return nil, fmt.Errorf("template: negative coinbasevalue %d", *r.CoinbaseValue)
		}
		t.coinbaseValue = *r.CoinbaseValue
	default:
		return nil, errors.New("template: neither coinbasetxn nor coinbasevalue")
	}
	if r.CoinbaseAux != nil && r.CoinbaseAux.Flags != "" {
		if t.coinbaseFlags, err = hex.DecodeString(r.CoinbaseAux.Flags); err != nil {
			return nil, fmt.Errorf("template: invalid coinbaseaux flags: %v", err)
		}
	}
	if r.DefaultWitnessCommitment != "" {
		if t.witnessCommitment, err = witnessCommitmentScript(r.DefaultWitnessCommitment); err != nil {
			return nil, fmt.Errorf("template: %v", err)
		}
	}
	t.key = t.workKey()
	return t, nil
}

// decodeTemplateTx decodes a template transaction and checks its txid when
// the node gave one.
func decodeTemplateTx(rt btcjson.GetBlockTemplateResultTx) (*wire.MsgTx, error) {
	raw, err := hex.DecodeString(rt.Data)
	if err != nil {
		return nil, fmt.Errorf("invalid hex: %v", err)
	}
	tx := new(wire.MsgTx)
	r := bytes.NewReader(raw)
	if err := tx.Deserialize(r); err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the transaction", r.Len())
	}
	if rt.TxID != "" && rt.TxID != tx.TxHash().String() {
		return nil, fmt.Errorf("txid %s does not match its data (%s)", rt.TxID, tx.TxHash())
	}
	return tx, nil
}

// witnessCommitmentScript accepts bitcoind's default_witness_commitment
// (the whole output script) and btcd's (the bare 32-byte commitment).
func witnessCommitmentScript(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid default_witness_commitment: %v", err)
	}
	switch {
	case len(b) == 32:
		return append(append([]byte(nil), witnessMagic...), b...), nil
	case len(b) >= len(witnessMagic)+32 && bytes.Equal(b[:len(witnessMagic)], witnessMagic):
		return b, nil
	}
	return nil, fmt.Errorf("invalid default_witness_commitment %q", s)
}

func (t *btcTemplate) workKey() [32]byte {
	h := sha256.New()
	var n [8]byte
	binary.LittleEndian.PutUint32(n[:4], uint32(t.version))
	binary.LittleEndian.PutUint32(n[4:], t.bits)
	h.Write(n[:])
	h.Write(t.prevBlock[:])
	for _, id := range t.txids {
		h.Write(id[:])
	}
	if t.coinbase != nil {
		_ = t.coinbase.Serialize(h) // writes to a hash cannot fail
	} else {
		binary.LittleEndian.PutUint64(n[:], uint64(t.coinbaseValue))
		h.Write(n[:])
	}
	h.Write(t.witnessCommitment)
	var key [32]byte
	h.Sum(key[:0])
	return key
}

// blockTime is the header time: now, but never before the template's
// minimum (the median time past + 1).
func (t *btcTemplate) blockTime(now int64) int64 {
	return max(now, t.minTime)
}
