package fed

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/peg"
)

func devRules(t *testing.T, logPath string) (*SignRules, *BatchToSign) {
	t.Helper()
	fed, _, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	script, err := peg.FederationScript(fed)
	if err != nil {
		t.Fatal(err)
	}
	log, err := OpenSignedLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	r := &SignRules{Params: peg.BatchParams{ChainID: 7772, FedScript: script, Threshold: 2, MaxInputs: 50, MaxOutputs: 50},
		MaxFeeRate: 1000, Log: log}
	reqs := []peg.Request{{ID: 1, PkScript: append([]byte{0, 0x14}, bytes.Repeat([]byte{1}, 20)...), AmountSat: 4e7}}
	utxos := []peg.UTXO{{OutPoint: wire.OutPoint{Hash: chainhash.Hash{7}, Index: 0}, ValueSat: 1e8, Recipient: [20]byte{9}}}
	p := r.Params
	p.FeeRate = 2
	b, err := peg.BuildPegOut(reqs, utxos, &p)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	b.Tx.Serialize(&raw)
	hashes, _ := b.Sighashes()
	return r, &BatchToSign{ID: 1, CreatedBlock: 10, Unsigned: raw.Bytes(), Sighashes: hashes, Requests: reqs,
		Inputs: utxos, FeeRate: 2, ChangeSat: b.ChangeSat, PaidSat: 4e7 - b.ShareSat}
}

// The §5.5 rules in order: each refusal names its rule and leaves the
// signed log untouched; the log survives a restart (a kill -9 after Check)
// and keeps the federator from signing a conflicting batch.
func TestSignRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signed.log")
	r, good := devRules(t, path)
	tampered := *good
	tampered.Unsigned = bytes.Clone(good.Unsigned)
	tampered.Unsigned[len(tampered.Unsigned)-40] ^= 1 // an output value
	badHash := *good
	badHash.Sighashes = [][32]byte{{1}}
	for _, c := range []struct {
		name      string
		b         *BatchToSign
		finalized uint64
		outflow   int64
		cap       int64
		want      error
	}{
		{"not finalized", good, 9, 0, 0, ErrNotFinalized},
		{"bytes differ from the rebuild", &tampered, 10, 0, 0, ErrRebuildMismatch},
		{"sighash differs", &badHash, 10, 0, 0, ErrRebuildMismatch},
		{"fee over the bound", good, 10, 0, -1, ErrFeeTooHigh},
		{"daily cap", good, 10, 1e8, 1e8, ErrOutflowCap},
	} {
		r.DailyCapSat, r.MaxFeeRate = max(c.cap, 0), 1000
		if c.cap < 0 {
			r.MaxFeeRate = 1 // the batch pays 2 sat/vB
		}
		before := refusals[c.want].Snapshot().Count()
		if err := r.Check(c.b, c.finalized, c.outflow); !errors.Is(err, c.want) {
			t.Fatalf("%s: %v, want %v", c.name, err, c.want)
		}
		if refusals[c.want].Snapshot().Count() != before+1 {
			t.Errorf("%s: refusal not counted", c.name)
		}
		if _, ok := r.Log.Signed(good.Inputs[0].OutPoint); ok {
			t.Fatalf("%s: logged as signed", c.name)
		}
	}
	r.DailyCapSat, r.MaxFeeRate = 0, 1000
	if err := r.Check(good, 10, 0); err != nil {
		t.Fatal(err)
	}
	// Restart: the log is read back; the same batch may be signed again
	// (idempotent), another batch spending the same input may not.
	r.Log.Close()
	log, err := OpenSignedLog(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Log = log
	if err := r.Check(good, 10, 0); err != nil {
		t.Fatalf("same batch after restart: %v", err)
	}
	other := *good
	other.ID = 2
	if err := r.Check(&other, 10, 0); !errors.Is(err, ErrDoubleSpend) {
		t.Fatalf("conflicting batch after restart: %v", err)
	}
}
