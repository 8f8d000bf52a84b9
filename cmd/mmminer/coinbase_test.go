package main

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/mergemine"
)

var (
	testTag  = []byte("MMGETHDEV:")
	testSeal = [32]byte{0x14, 0x7b, 0xef, 0xba, 31: 0x8b}
	// testPayScript pays tests/btcd's mining address.
	testPayScript, _ = hex.DecodeString("76a9140c2f027bef3c3b2c4e1f5773877826f7625646ee88ac")
)

func TestNewCoinbase(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasevalue.json")
	tx, err := newCoinbase(tmpl, testPayScript)
	if err != nil {
		t.Fatal(err)
	}
	if !blockchain.IsCoinBaseTx(tx) {
		t.Fatal("not a coinbase")
	}
	// BIP-34 height first, then btcd's coinbaseaux flags (a push of
	// "/P2SH/btcd/") as they are.
	script := tx.TxIn[0].SignatureScript
	if want := "0166" + "0b2f503253482f627463642f"; hex.EncodeToString(script) != want {
		t.Errorf("scriptSig %x, want %s", script, want)
	}
	if len(tx.TxOut) != 1 || tx.TxOut[0].Value != 5000010000 || !bytes.Equal(tx.TxOut[0].PkScript, testPayScript) {
		t.Errorf("outputs %v", tx.TxOut)
	}
	if tx.HasWitness() {
		t.Error("witness without a witness commitment")
	}

	tmpl.witnessCommitment, _ = witnessCommitmentScript(strings.Repeat("5a", 32))
	tx, err = newCoinbase(tmpl, testPayScript)
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.TxOut) != 2 || tx.TxOut[1].Value != 0 || !bytes.Equal(tx.TxOut[1].PkScript, tmpl.witnessCommitment) {
		t.Errorf("no witness commitment output: %v", tx.TxOut)
	}
	if w := tx.TxIn[0].Witness; len(w) != 1 || !bytes.Equal(w[0], make([]byte, 32)) {
		t.Errorf("coinbase witness %x, want the 32-byte reserved value", w)
	}

	if _, err := newCoinbase(tmpl, nil); err == nil || !strings.Contains(err.Error(), "--btc.address") {
		t.Errorf("no payout script: got %v", err)
	}
}

// TestCoinbaseTemplate checks the extranonce lands where serialize writes
// it, the commitment is the last output and is what Rootstock reads back,
// and the witness survives for the Bitcoin block.
func TestCoinbaseTemplate(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasetxn.json")
	base := tmpl.coinbase.Copy()
	base.TxIn[0].Witness = wire.TxWitness{make([]byte, 32)}
	before := base.Copy()
	cb, err := newCoinbaseTemplate(base, testTag, &testSeal)
	if err != nil {
		t.Fatal(err)
	}
	if base.TxIn[0].SignatureScript == nil || !bytes.Equal(base.TxIn[0].SignatureScript, before.TxIn[0].SignatureScript) || len(base.TxOut) != len(before.TxOut) {
		t.Fatal("the template's coinbase was modified")
	}
	for _, en := range []uint64{0, 1, 0x0102030405060708, ^uint64(0)} {
		buf := make([]byte, len(cb.raw))
		txid := cb.serialize(en, buf)
		tx := cb.withExtranonce(en)
		var want bytes.Buffer
		if err := tx.SerializeNoWitness(&want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, want.Bytes()) || txid != tx.TxHash() {
			t.Fatalf("extranonce %x: serialize and withExtranonce disagree", en)
		}
		if !tx.HasWitness() {
			t.Error("the coinbase witness was dropped")
		}
		script := tx.TxIn[0].SignatureScript
		if !bytes.HasPrefix(script, before.TxIn[0].SignatureScript) || script[len(script)-9] != txscript.OP_DATA_8 {
			t.Errorf("scriptSig %x does not end with an 8-byte push", script)
		}
		last := tx.TxOut[len(tx.TxOut)-1]
		if last.Value != 0 || !bytes.Equal(last.PkScript, mergemine.CommitmentScript(testTag, testSeal)) {
			t.Errorf("last output %x is not the commitment", last.PkScript)
		}
		if got, err := mergemine.CommittedHash(buf, testTag); err != nil || got != testSeal {
			t.Errorf("committed hash %x, %v", got, err)
		}
		if _, err := mergemine.CompressCoinbase(buf, testTag); err != nil {
			t.Error(err)
		}
	}
	if err := blockchain.CheckTransactionSanity(btcutil.NewTx(cb.withExtranonce(7))); err != nil {
		t.Errorf("coinbase fails btcd's sanity check: %v", err)
	}

	// Without sidechain work there is no commitment.
	cb, err = newCoinbaseTemplate(base, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cb.tx.TxOut) != len(base.TxOut) || bytes.Contains(cb.raw, testTag) {
		t.Error("commitment without sidechain work")
	}
}

func TestCoinbaseTemplateErrors(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasetxn.json")
	long := tmpl.coinbase.Copy()
	long.TxIn[0].SignatureScript = bytes.Repeat([]byte{txscript.OP_1}, 92)
	if _, err := newCoinbaseTemplate(long, testTag, &testSeal); err == nil || !strings.Contains(err.Error(), "scriptSig would be 101 bytes") {
		t.Errorf("long scriptSig: got %v", err)
	}
	spend := tmpl.txs[0]
	if _, err := newCoinbaseTemplate(spend, testTag, &testSeal); err == nil || !strings.Contains(err.Error(), "not a coinbase") {
		t.Errorf("non-coinbase: got %v", err)
	}
	long.TxIn[0].SignatureScript = long.TxIn[0].SignatureScript[:91]
	if _, err := newCoinbaseTemplate(long, testTag, &testSeal); err != nil {
		t.Errorf("a 100-byte scriptSig is allowed: %v", err)
	}
}
