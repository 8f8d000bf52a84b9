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
	"time"

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

// refusalNames name every refusal, a signer's and strict mode's included
// (signer.go, strict.go), in
// metrics (mmfed/sign/refused/<name>) and in the signer protocol.
var refusalNames = map[error]string{ErrNotFinalized: "not_finalized", ErrRebuildMismatch: "mismatch", ErrFeeTooHigh: "fee",
	ErrDoubleSpend: "double_spend", ErrOutflowCap: "outflow_cap", ErrNotSigning: "not_signing", ErrVoteFee: "vote_fee",
	ErrAnchorProof: "anchor_proof", ErrAnchorDepth: "anchor_depth", ErrStateProof: "state_proof"}

// refusals counts every refusal, by rule.
var refusals = map[error]*metrics.Counter{}

func init() {
	for err, name := range refusalNames {
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

// SignRules are PEG.md §5.5's rules 1–5 for one federator. The in-process
// signer of mmfed run and the external mmfed signer both check them here.
type SignRules struct {
	Params     peg.BatchParams // FeeRate is taken from each batch
	MaxFeeRate int64
	// DailyCapSat bounds what this member signs to payees in any 24 hours
	// (0: off), read from the signed log so that a restart does not reset
	// it. A rolling window rather than a calendar day: with a day, a thief
	// could take the cap just before midnight and again just after.
	DailyCapSat int64
	Log         *SignedLog
}

// CapWindow is the daily cap's window.
const CapWindow = 24 * time.Hour

// Check applies the rules in order and, when all pass, records the inputs
// in the signed log (fsync'd) before returning: a crash after Check never
// lets a restarted federator sign a conflicting transaction. finalized is
// the node's finalized block (mm_getFinality); now is the signing time,
// which the log records for the cap. prove, when not nil, is rule 6 (the
// strict signer's proofs): last, because it asks the Bitcoin node and the
// sidechain node for proofs that a batch the cheap rules refuse would not
// need, and before the log records the inputs.
func (r *SignRules) Check(b *BatchToSign, finalized uint64, now time.Time, prove func() error) (err error) {
	defer func() { countRefusal(err) }()
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
	if r.DailyCapSat > 0 && !r.Log.signedBatch(b.ID) {
		// A batch signed before (another version, or the same one again
		// after a crash) pays the same requests: it is counted once.
		if out := r.Log.Outflow(now.Add(-CapWindow)); out+b.PaidSat > r.DailyCapSat {
			return fmt.Errorf("%w: %d sat signed in the last %v + %d > %d sat", ErrOutflowCap, out, CapWindow, b.PaidSat, r.DailyCapSat)
		}
	}
	if prove != nil {
		if err := prove(); err != nil {
			return err
		}
	}
	return r.Log.Append(b.ID, b.Version, b.PaidSat, now, b.Inputs)
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
// federator signed (rule 4) and of what each batch pays out (rule 5): one
// line "txid:vout batch version unixTime paidSat" per input. Lines of three
// fields, from before the cap, count as signed at time 0.
type SignedLog struct {
	mu      gosync.Mutex
	f       *os.File
	signed  map[wire.OutPoint]signedAt
	batches map[uint64]batchOut // first signing of each batch
}

type signedAt struct {
	batch   uint64
	version uint8
}

type batchOut struct {
	at      int64 // unix seconds
	paidSat int64
}

// OpenSignedLog reads path (creating it) and keeps it open for appends.
func OpenSignedLog(path string) (*SignedLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l := &SignedLog{f: f, signed: map[wire.OutPoint]signedAt{}, batches: map[uint64]batchOut{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if err := l.parse(sc.Text()); err != nil {
			// A torn last line (a crash mid-write) was never fsync'd as
			// signed; anything else is corruption the operator must see.
			f.Close()
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func (l *SignedLog) parse(line string) error {
	fields := strings.Fields(line)
	if len(fields) != 3 && len(fields) != 5 {
		return fmt.Errorf("malformed line %q", line)
	}
	op, err := wire.NewOutPointFromString(fields[0])
	batch, err2 := strconv.ParseUint(fields[1], 10, 64)
	version, err3 := strconv.ParseUint(fields[2], 10, 8)
	var out batchOut
	if len(fields) == 5 {
		var err4, err5 error
		out.at, err4 = strconv.ParseInt(fields[3], 10, 64)
		out.paidSat, err5 = strconv.ParseInt(fields[4], 10, 64)
		err = errors.Join(err, err4, err5)
	}
	if err = errors.Join(err, err2, err3); err != nil {
		return err
	}
	l.signed[*op] = signedAt{batch, uint8(version)}
	if _, ok := l.batches[batch]; !ok {
		l.batches[batch] = out
	}
	return nil
}

// Signed reports the batch in which op was signed, if any.
func (l *SignedLog) Signed(op wire.OutPoint) (signedAt, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.signed[op]
	return s, ok
}

func (l *SignedLog) signedBatch(id uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.batches[id]
	return ok
}

// Outflow is what the batches first signed at or after since pay out.
func (l *SignedLog) Outflow(since time.Time) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sum int64
	for _, b := range l.batches {
		if b.at >= since.Unix() {
			sum += b.paidSat
		}
	}
	return sum
}

// Len is the number of inputs signed and of batches they belong to.
func (l *SignedLog) Len() (inputs, batches int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.signed), len(l.batches)
}

// Append records inputs as signed in batch/version, paying paidSat at now,
// and fsyncs before returning.
func (l *SignedLog) Append(batch uint64, version uint8, paidSat int64, now time.Time, inputs []peg.UTXO) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var buf bytes.Buffer
	for _, in := range inputs {
		fmt.Fprintf(&buf, "%s %d %d %d %d\n", in.OutPoint.String(), batch, version, now.Unix(), paidSat)
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
	if _, ok := l.batches[batch]; !ok {
		l.batches[batch] = batchOut{now.Unix(), paidSat}
	}
	return nil
}

func (l *SignedLog) Close() error { return l.f.Close() }
