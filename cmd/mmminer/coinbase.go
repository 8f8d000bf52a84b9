package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/mergemine"
)

const (
	// maxCoinbaseScriptSig is the consensus limit on a coinbase scriptSig.
	maxCoinbaseScriptSig = 100
	// extranonceSize is the size of the extranonce the miner appends to the
	// coinbase scriptSig, as an 8-byte push.
	extranonceSize = 8
)

// newCoinbase builds the coinbase of a template that left it to the miner:
// the BIP-34 height first in the scriptSig, then the template's coinbaseaux
// flags, the whole value to payScript,
// and the witness commitment when the template has one (its witness is then
// the 32-byte reserved value BIP-141 requires).
func newCoinbase(t *btcTemplate, payScript []byte) (*wire.MsgTx, error) {
	if len(payScript) == 0 {
		return nil, errors.New("the template has no coinbasetxn: a payout address (--btc.address) is needed")
	}
	script, err := txscript.NewScriptBuilder().AddInt64(t.height).Script()
	if err != nil {
		return nil, err
	}
	// BIP-22's coinbaseaux flags are script bytes to append as they are.
	script = append(script, t.coinbaseFlags...)
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), script, nil))
	tx.AddTxOut(wire.NewTxOut(t.coinbaseValue, payScript))
	if t.witnessCommitment != nil {
		tx.AddTxOut(wire.NewTxOut(0, t.witnessCommitment))
		tx.TxIn[0].Witness = wire.TxWitness{make([]byte, blockchain.CoinbaseWitnessDataLen)}
	}
	return tx, nil
}

// coinbaseTemplate is a job's coinbase with room for the extranonce: the
// template's coinbase, an 8-byte push appended to its scriptSig, and the
// sidechain commitment as its last output, so that the tag sits in the
// coinbase's tail with only the lock time after the hash (Rootstock allows
// at most 128 bytes there).
type coinbaseTemplate struct {
	tx       *wire.MsgTx // extranonce zero, witness kept for the Bitcoin block
	raw      []byte      // non-witness serialization, extranonce zero
	enOffset int         // where the extranonce sits in raw
}

// newCoinbaseTemplate prepares base (not modified) for mining; tag and seal
// are nil when there is no sidechain work.
func newCoinbaseTemplate(base *wire.MsgTx, tag []byte, seal *[32]byte) (*coinbaseTemplate, error) {
	if !blockchain.IsCoinBaseTx(base) {
		return nil, errors.New("coinbase: not a coinbase transaction")
	}
	tx := base.Copy()
	in := tx.TxIn[0]
	script := make([]byte, 0, len(in.SignatureScript)+1+extranonceSize)
	script = append(script, in.SignatureScript...)
	script = append(script, txscript.OP_DATA_8)
	script = append(script, make([]byte, extranonceSize)...)
	if len(script) > maxCoinbaseScriptSig {
		return nil, fmt.Errorf("coinbase: scriptSig would be %d bytes with the extranonce, the limit is %d", len(script), maxCoinbaseScriptSig)
	}
	in.SignatureScript = script
	if seal != nil {
		mergemine.AddCommitment(tx, tag, *seal)
	}
	var buf bytes.Buffer
	if err := tx.SerializeNoWitness(&buf); err != nil {
		return nil, err
	}
	// version, input count (1), outpoint, script length, script.
	end := 4 + 1 + 36 + wire.VarIntSerializeSize(uint64(len(script))) + len(script)
	return &coinbaseTemplate{tx: tx, raw: buf.Bytes(), enOffset: end - extranonceSize}, nil
}

// serialize writes the non-witness coinbase with extranonce en into buf
// (which must have len(c.raw) bytes) and returns its txid.
func (c *coinbaseTemplate) serialize(en uint64, buf []byte) chainhash.Hash {
	copy(buf, c.raw)
	binary.LittleEndian.PutUint64(buf[c.enOffset:], en)
	return chainhash.DoubleHashH(buf)
}

// withExtranonce returns the whole coinbase transaction, witness included,
// carrying extranonce en.
func (c *coinbaseTemplate) withExtranonce(en uint64) *wire.MsgTx {
	tx := c.tx.Copy()
	script := tx.TxIn[0].SignatureScript
	binary.LittleEndian.PutUint64(script[len(script)-extranonceSize:], en)
	return tx
}
