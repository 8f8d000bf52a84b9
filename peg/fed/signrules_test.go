package fed

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/peg"
)

func devRules(t *testing.T, logPath string) (*SignRules, *BatchToSign) {
	t.Helper()
	r := &SignRules{MaxFeeRate: 1000, Log: openLog(t, logPath)}
	return r, devBatch(t, r, 1, chainhash.Hash{7})
}

func openLog(t *testing.T, path string) *SignedLog {
	t.Helper()
	log, err := OpenSignedLog(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return log
}

// devBatch is batch id of the dev federation paying 0.4 BTC from one
// 1-BTC input of transaction in; it sets r.Params.
func devBatch(t *testing.T, r *SignRules, id uint64, in chainhash.Hash) *BatchToSign {
	t.Helper()
	fed, _, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	script, err := peg.FederationScript(fed)
	if err != nil {
		t.Fatal(err)
	}
	r.Params = peg.BatchParams{ChainID: 7772, FedScript: script, Threshold: 2, MaxInputs: 50, MaxOutputs: 50}
	reqs := []peg.Request{{ID: id, PkScript: append([]byte{0, 0x14}, bytes.Repeat([]byte{1}, 20)...), AmountSat: 4e7}}
	utxos := []peg.UTXO{{OutPoint: wire.OutPoint{Hash: in, Index: 0}, ValueSat: 1e8, Recipient: [20]byte{9}}}
	p := r.Params
	p.FeeRate = 2
	b, err := peg.BuildPegOut(reqs, utxos, &p)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	b.Tx.Serialize(&raw)
	hashes, _ := b.Sighashes()
	return &BatchToSign{ID: id, CreatedBlock: 10, Unsigned: raw.Bytes(), Sighashes: hashes, Requests: reqs,
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
		cap       int64
		want      error
	}{
		{"not finalized", good, 9, 0, ErrNotFinalized},
		{"bytes differ from the rebuild", &tampered, 10, 0, ErrRebuildMismatch},
		{"sighash differs", &badHash, 10, 0, ErrRebuildMismatch},
		{"fee over the bound", good, 10, -1, ErrFeeTooHigh},
		{"daily cap", good, 10, good.PaidSat - 1, ErrOutflowCap},
	} {
		r.DailyCapSat, r.MaxFeeRate = max(c.cap, 0), 1000
		if c.cap < 0 {
			r.MaxFeeRate = 1 // the batch pays 2 sat/vB
		}
		before := refusals[c.want].Snapshot().Count()
		if err := r.Check(c.b, c.finalized, time.Now(), nil); !errors.Is(err, c.want) {
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
	if err := r.Check(good, 10, time.Now(), nil); err != nil {
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
	if err := r.Check(good, 10, time.Now(), nil); err != nil {
		t.Fatalf("same batch after restart: %v", err)
	}
	other := *good
	other.ID = 2
	if err := r.Check(&other, 10, time.Now(), nil); !errors.Is(err, ErrDoubleSpend) {
		t.Fatalf("conflicting batch after restart: %v", err)
	}
}

// The daily cap counts what the signed log says was signed in the last 24
// hours, across a restart: a second batch within the window is refused,
// before and after the log is reopened, and allowed once the first batch
// leaves the window; signing the same batch again is not counted twice.
func TestDailyCapSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signed.log")
	r, first := devRules(t, path)
	second := devBatch(t, r, 2, chainhash.Hash{8})
	r.DailyCapSat = first.PaidSat + second.PaidSat/2
	t0 := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	if err := r.Check(first, 10, t0, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(first, 10, t0.Add(time.Hour), nil); err != nil {
		t.Fatalf("the same batch again: %v", err)
	}
	if got := r.Log.Outflow(t0.Add(-time.Second)); got != first.PaidSat {
		t.Fatalf("outflow %d, want %d", got, first.PaidSat)
	}
	// Past midnight UTC: a calendar day would have reset here.
	if err := r.Check(second, 10, t0.Add(2*time.Hour), nil); !errors.Is(err, ErrOutflowCap) {
		t.Fatalf("second batch within the window: %v", err)
	}
	r.Log.Close()
	r.Log = openLog(t, path)
	if err := r.Check(second, 10, t0.Add(CapWindow-time.Second), nil); !errors.Is(err, ErrOutflowCap) {
		t.Fatalf("second batch within the window after a restart: %v", err)
	}
	if err := r.Check(second, 10, t0.Add(CapWindow+time.Second), nil); err != nil {
		t.Fatalf("second batch once the first left the window: %v", err)
	}
	if inputs, batches := r.Log.Len(); inputs != 2 || batches != 2 {
		t.Fatalf("log holds %d inputs of %d batches", inputs, batches)
	}
}

// A log written before the cap (three fields a line) still reads, its
// inputs signed, its batches outside any window; a malformed line is an
// error naming the line.
func TestSignedLogFormats(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.log")
	op := wire.OutPoint{Hash: chainhash.Hash{7}, Index: 1}
	if err := os.WriteFile(old, []byte(op.String()+" 3 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, old)
	if s, ok := l.Signed(op); !ok || s.batch != 3 || l.Outflow(time.Unix(1, 0)) != 0 {
		t.Fatalf("old log: %+v %v, outflow %d", s, ok, l.Outflow(time.Unix(1, 0)))
	}
	bad := filepath.Join(dir, "bad.log")
	if err := os.WriteFile(bad, []byte(op.String()+" 3 0 12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSignedLog(bad); err == nil || !strings.Contains(err.Error(), "bad.log:1: malformed line") {
		t.Fatalf("malformed log: %v", err)
	}
}
