package btcspv

import (
	"encoding/binary"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// MaxTxSize is the largest transaction ParseTx accepts: the standardness
// limit of 400,000 weight units is 100,000 non-witness bytes.
const MaxTxSize = 100_000

// Smallest serialized sizes, to bound counts before allocating.
const (
	minTxInSize  = 36 + 1 + 4 // outpoint, empty script, sequence
	minTxOutSize = 8 + 1      // value, empty script
)

// Tx is what a peg reads from a transaction.
type Tx struct {
	TxID    chainhash.Hash
	Inputs  []wire.OutPoint
	Outputs []TxOut
}

// TxOut is one output. Script aliases the parsed bytes.
type TxOut struct {
	Value  uint64
	Script []byte
}

// ParseTx parses a transaction's non-witness serialization, the bytes its
// txid hashes (PEG.md §3):
//
//	version(4) ‖ cs(nIn ≥ 1) ‖ nIn × (outpoint(36) ‖ cs(len) ‖ script ‖ sequence(4))
//	           ‖ cs(nOut ≥ 1) ‖ nOut × (value(8) ‖ cs(len) ‖ script) ‖ locktime(4)
//
// where cs is a canonical compactSize. A 64-byte transaction gives
// ErrTx64Bytes; anything else that is not exactly one such transaction of at
// most MaxTxSize bytes gives a *TxError (ErrMalformedTx). An input count of
// zero is a segwit marker: the caller passed the witness serialization.
func ParseTx(raw []byte) (Tx, error) {
	if len(raw) == 64 {
		return Tx{}, ErrTx64Bytes
	}
	if len(raw) > MaxTxSize {
		return Tx{}, &TxError{MaxTxSize, "longer than 100,000 bytes"}
	}
	if len(raw) < 4 {
		return Tx{}, &TxError{0, "truncated"}
	}
	r := txReader{b: raw, off: 4}
	nIn, err := r.count(minTxInSize)
	if err != nil {
		return Tx{}, err
	}
	if nIn == 0 {
		return Tx{}, &TxError{4, "zero inputs: this is the segwit marker; strip the witness and send the non-witness serialization"}
	}
	tx := Tx{Inputs: make([]wire.OutPoint, nIn)}
	for i := range tx.Inputs {
		outpoint, err := r.bytes(36)
		if err != nil {
			return Tx{}, err
		}
		tx.Inputs[i] = wire.OutPoint{Hash: chainhash.Hash(outpoint[:32]), Index: binary.LittleEndian.Uint32(outpoint[32:])}
		if _, err := r.script(); err != nil {
			return Tx{}, err
		}
		if _, err := r.bytes(4); err != nil {
			return Tx{}, err
		}
	}
	at := r.off
	nOut, err := r.count(minTxOutSize)
	if err != nil {
		return Tx{}, err
	}
	if nOut == 0 {
		return Tx{}, &TxError{at, "zero outputs"}
	}
	tx.Outputs = make([]TxOut, nOut)
	for i := range tx.Outputs {
		value, err := r.bytes(8)
		if err != nil {
			return Tx{}, err
		}
		tx.Outputs[i].Value = binary.LittleEndian.Uint64(value)
		if tx.Outputs[i].Script, err = r.script(); err != nil {
			return Tx{}, err
		}
	}
	if _, err := r.bytes(4); err != nil {
		return Tx{}, err
	}
	if r.off != len(raw) {
		return Tx{}, &TxError{r.off, "trailing bytes"}
	}
	tx.TxID = chainhash.DoubleHashH(raw)
	return tx, nil
}

// txReader reads fields in order, reporting where a field fails to read.
type txReader struct {
	b   []byte
	off int
}

func (r *txReader) bytes(n int) ([]byte, error) {
	if n > len(r.b)-r.off {
		return nil, &TxError{r.off, "truncated"}
	}
	r.off += n
	return r.b[r.off-n : r.off], nil
}

// compactSize reads a compactSize, refusing the non-canonical encodings
// btcd's wire.ReadVarInt refuses too.
func (r *txReader) compactSize() (uint64, error) {
	at := r.off
	prefix, err := r.bytes(1)
	if err != nil {
		return 0, err
	}
	var v, floor uint64
	switch prefix[0] {
	case 0xfd:
		b, err := r.bytes(2)
		if err != nil {
			return 0, err
		}
		v, floor = uint64(binary.LittleEndian.Uint16(b)), 0xfd
	case 0xfe:
		b, err := r.bytes(4)
		if err != nil {
			return 0, err
		}
		v, floor = uint64(binary.LittleEndian.Uint32(b)), 1<<16
	case 0xff:
		b, err := r.bytes(8)
		if err != nil {
			return 0, err
		}
		v, floor = binary.LittleEndian.Uint64(b), 1<<32
	default:
		return uint64(prefix[0]), nil
	}
	if v < floor {
		return 0, &TxError{at, "non-canonical compactSize"}
	}
	return v, nil
}

// count reads an item count, refusing one the remaining bytes cannot hold
// at minSize bytes an item, so that a forged count cannot make us allocate.
func (r *txReader) count(minSize int) (int, error) {
	at := r.off
	n, err := r.compactSize()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b)-r.off)/uint64(minSize) {
		return 0, &TxError{at, "count exceeds the remaining bytes"}
	}
	return int(n), nil
}

func (r *txReader) script() ([]byte, error) {
	at := r.off
	n, err := r.compactSize()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.b)-r.off) {
		return nil, &TxError{at, "script length exceeds the remaining bytes"}
	}
	return r.bytes(int(n))
}
