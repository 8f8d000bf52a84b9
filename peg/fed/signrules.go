package fed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	gosync "sync"

	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/metrics"

	"github.com/mmgeth/mmgeth/peg"
)

// The signing refusals of PEG.md §5.5, in the order the rules are checked.
var (
	ErrNotFinalized    = errors.New("the batch's sidechain block is not Bitcoin-finalized")
	ErrRebuildMismatch = errors.New("the batch differs from this federator's own rebuild")
	ErrFeeTooHigh      = errors.New("the batch's fee rate is above the policy bound")
	ErrDoubleSpend     = errors.New("an input was already signed in another transaction")
	ErrOutflowCap      = errors.New("the daily outflow cap would be exceeded")
)

// refusals counts every refusal, by rule (mmfed/sign/refused/<rule>).
var refusals = map[error]*metrics.Counter{}

func init() {
	for name, err := range map[string]error{"not_finalized": ErrNotFinalized, "mismatch": ErrRebuildMismatch,
		"fee": ErrFeeTooHigh, "double_spend": ErrDoubleSpend, "outflow_cap": ErrOutflowCap} {
		refusals[err] = metrics.GetOrRegisterCounter("mmfed/sign/refused/"+name, nil)
	}
}

// BatchToSign is what the Bridge says about one batch version: read with
// getPegOutBatch, pegOutTx, the requests of its range and its input records.
type BatchToSign struct {
	ID           uint64
	Version      uint8
	CreatedBlock uint64
	Unsigned     []byte     // pegOutTx's bytes
	Sighashes    [][32]byte // pegOutTx's sighashes
	Requests     []peg.Request
	Inputs       []peg.UTXO // the reserved UTXOs, in input order
	FeeRate      int64      // the version's rate
	ChangeSat    int64      // the version's change (a bump takes fee from it)
	PaidSat      int64      // what leaves custody to payees
}

// SignRules are PEG.md §5.5's rules 1–5 for one federator.
type SignRules struct {
	Params      peg.BatchParams // FeeRate is taken from each batch
	MaxFeeRate  int64
	DailyCapSat int64 // 0: off
	Log         *SignedLog
}

// Check applies the rules in order and, when all pass, records the inputs
// in the signed log (fsync'd) before returning: a crash after Check never
// lets a restarted federator sign a conflicting transaction. finalized is
// the node's finalized block (mm_getFinality); outflowToday what this
// federator signed to payees in the current day.
func (r *SignRules) Check(b *BatchToSign, finalized uint64, outflowToday int64) (err error) {
	defer func() {
		for rule, c := range refusals {
			if errors.Is(err, rule) {
				c.Inc(1)
			}
		}
	}()
	if b.CreatedBlock > finalized {
		return fmt.Errorf("%w: batch %d built in block %d, finalized %d", ErrNotFinalized, b.ID, b.CreatedBlock, finalized)
	}
	if err := r.rebuild(b); err != nil {
		return err
	}
	if b.FeeRate > r.MaxFeeRate {
		return fmt.Errorf("%w: %d sat/vB > %d", ErrFeeTooHigh, b.FeeRate, r.MaxFeeRate)
	}
	for _, in := range b.Inputs {
		if prev, ok := r.Log.Signed(in.OutPoint); ok && prev.batch != b.ID {
			return fmt.Errorf("%w: %v in batch %d", ErrDoubleSpend, in.OutPoint, prev.batch)
		}
	}
	if r.DailyCapSat > 0 && outflowToday+b.PaidSat > r.DailyCapSat {
		return fmt.Errorf("%w: %d + %d > %d sat", ErrOutflowCap, outflowToday, b.PaidSat, r.DailyCapSat)
	}
	return r.Log.Append(b.ID, b.Version, b.Inputs)
}

// rebuild is rule 2 (and 3): peg.BuildPegOut over the batch's requests and
// its inputs must give the same bytes (the Bridge's change script is the
// federator's own epoch's, the outputs are the requests' scripts and
// amounts less their shares), and btcd's sighashes must be the Bridge's.
func (r *SignRules) rebuild(b *BatchToSign) error {
	p := r.Params
	p.FeeRate = b.FeeRate
	mine, err := peg.BuildPegOut(b.Requests, b.Inputs, &p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRebuildMismatch, err)
	}
	if len(mine.Tx.TxOut) > 0 && b.Version > 0 {
		// A fee bump takes its extra fee from the change output only.
		mine.Tx.TxOut[len(mine.Tx.TxOut)-1].Value = b.ChangeSat
	}
	var raw bytes.Buffer
	if err := mine.Tx.Serialize(&raw); err != nil {
		return err
	}
	if !bytes.Equal(raw.Bytes(), b.Unsigned) {
		return fmt.Errorf("%w: batch %d version %d bytes", ErrRebuildMismatch, b.ID, b.Version)
	}
	hashes, err := mine.Sighashes()
	if err != nil {
		return err
	}
	if len(hashes) != len(b.Sighashes) {
		return fmt.Errorf("%w: %d sighashes, %d inputs", ErrRebuildMismatch, len(b.Sighashes), len(hashes))
	}
	for i := range hashes {
		if hashes[i] != b.Sighashes[i] {
			return fmt.Errorf("%w: sighash %d", ErrRebuildMismatch, i)
		}
	}
	return nil
}

// SignedLog is the append-only, fsync'd record of every input this
// federator signed (rule 4): one line "txid:vout batch version" per input.
type SignedLog struct {
	mu     gosync.Mutex
	f      *os.File
	signed map[wire.OutPoint]signedAt
}

type signedAt struct {
	batch   uint64
	version uint8
}

// OpenSignedLog reads path (creating it) and keeps it open for appends.
func OpenSignedLog(path string) (*SignedLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l := &SignedLog{f: f, signed: map[wire.OutPoint]signedAt{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			// A torn last line (a crash mid-write) was never fsync'd as
			// signed; anything else is corruption the operator must see.
			return nil, fmt.Errorf("%s:%d: malformed line %q", path, n, sc.Text())
		}
		op, err := wire.NewOutPointFromString(fields[0])
		batch, err2 := strconv.ParseUint(fields[1], 10, 64)
		version, err3 := strconv.ParseUint(fields[2], 10, 8)
		if err = errors.Join(err, err2, err3); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		l.signed[*op] = signedAt{batch, uint8(version)}
	}
	return l, sc.Err()
}

// Signed reports the batch in which op was signed, if any.
func (l *SignedLog) Signed(op wire.OutPoint) (signedAt, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.signed[op]
	return s, ok
}

// Append records inputs as signed in batch/version and fsyncs before returning.
func (l *SignedLog) Append(batch uint64, version uint8, inputs []peg.UTXO) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var buf bytes.Buffer
	for _, in := range inputs {
		fmt.Fprintf(&buf, "%s %d %d\n", in.OutPoint.String(), batch, version)
	}
	if _, err := l.f.Write(buf.Bytes()); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	for _, in := range inputs {
		l.signed[in.OutPoint] = signedAt{batch, version}
	}
	return nil
}

func (l *SignedLog) Close() error { return l.f.Close() }
