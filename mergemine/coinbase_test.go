package mergemine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestCompressEveryOffset moves the tag through every offset of a SHA-256
// block: the compressed coinbase always resumes to the txid and verifies.
func TestCompressEveryOffset(t *testing.T) {
	seen := make(map[int]bool)
	for sigLen := 2; sigLen <= 100; sigLen++ {
		cb := serialize(t, newCoinbase(sigLen, devTag, testSeal))
		compressed, err := CompressCoinbase(cb, devTag)
		if err != nil {
			t.Fatal(err)
		}
		pos := bytes.LastIndex(compressed[midstateSize:], devTag)
		seen[pos] = true
		if binary.BigEndian.Uint64(compressed) != uint64(lastTagBlock(cb, devTag)) || pos >= 64 {
			t.Fatalf("script sig %d: split at %d, tag at %d", sigLen, binary.BigEndian.Uint64(compressed), pos)
		}
		txid, err := CoinbaseTxID(compressed)
		if err != nil || txid != chainhash.DoubleHashH(cb) {
			t.Fatalf("script sig %d: txid %v (%v)", sigLen, txid, err)
		}
		p := &Proof{mineHeader(t, refFold(txid, siblings(2)), big.NewInt(3)), siblings(2), compressed}
		if err := Verify(p, testSeal, big.NewInt(3), devTag); err != nil {
			t.Fatalf("script sig %d: %v", sigLen, err)
		}
	}
	if len(seen) != 64 {
		t.Fatalf("covered %d tag offsets, want 64", len(seen))
	}
}

func TestCoinbaseTxIDErrors(t *testing.T) {
	if _, err := CoinbaseTxID(make([]byte, 39)); !errors.Is(err, ErrCoinbaseMalformed) {
		t.Errorf("39 bytes: got %v, want %v", err, ErrCoinbaseMalformed)
	}
	c := compressAt(serialize(t, newCoinbase(2, devTag, testSeal)), 64)
	binary.BigEndian.PutUint64(c, 100)
	if _, err := CoinbaseTxID(c); !errors.Is(err, ErrByteCountAlignment) {
		t.Errorf("byteCount 100: got %v, want %v", err, ErrByteCountAlignment)
	}
}

func TestCompressCoinbaseErrors(t *testing.T) {
	cb := serialize(t, newCoinbase(2, devTag, testSeal))
	if _, err := CompressCoinbase(cb, nil); !errors.Is(err, ErrEmptyTag) {
		t.Errorf("empty tag: got %v, want %v", err, ErrEmptyTag)
	}
	if _, err := CompressCoinbase(cb, rskTag); !errors.Is(err, ErrTagMissing) {
		t.Errorf("other tag: got %v, want %v", err, ErrTagMissing)
	}
}

func TestCommittedHash(t *testing.T) {
	other := [32]byte{1, 2, 3}
	tx := newCoinbase(2, devTag, other)
	AddCommitment(tx, devTag, testSeal)
	cb := serialize(t, tx)
	// The last tag wins, as in Rootstock's submit path.
	if got, err := CommittedHash(cb, devTag); err != nil || got != testSeal {
		t.Fatalf("got %x (%v), want %x", got, err, testSeal)
	}
	if _, err := CommittedHash(cb, rskTag); !errors.Is(err, ErrTagMissing) {
		t.Errorf("other tag: got %v, want %v", err, ErrTagMissing)
	}
	if _, err := CommittedHash(cb, nil); !errors.Is(err, ErrEmptyTag) {
		t.Errorf("empty tag: got %v, want %v", err, ErrEmptyTag)
	}
	short := append(bytes.Clone(devTag), make([]byte, 31)...)
	if _, err := CommittedHash(short, devTag); err == nil {
		t.Error("31 bytes after the tag: no error")
	}
}

func TestCommitmentScript(t *testing.T) {
	for _, tt := range []struct {
		tagLen int
		prefix []byte
	}{
		{9, []byte{opReturn, 41}}, // the form pools use for RSKBLOCK:
		{43, []byte{opReturn, 75}},
		{44, []byte{opReturn, opPushData1, 76}},
		{223, []byte{opReturn, opPushData1, 255}},
		{224, []byte{opReturn, opPushData2, 0, 1}},
		{65504, []byte{opReturn, opPushData4, 0, 0, 1, 0}},
	} {
		tag := bytes.Repeat([]byte{'T'}, tt.tagLen)
		s := CommitmentScript(tag, testSeal)
		want := append(append(bytes.Clone(tt.prefix), tag...), testSeal[:]...)
		if !bytes.Equal(s, want) {
			t.Errorf("tag of %d bytes: script starts %x, want %x", tt.tagLen, s[:min(len(s), 8)], tt.prefix)
		}
	}
	// Byte for byte the output of the synthetic vector.
	var s synthetic
	loadJSON(t, "synthetic_lowdiff.json", &s)
	script := CommitmentScript(rskTag, hash32(t, s.HashForMergedMining))
	if !bytes.Contains(unhex(t, s.Coinbase), append([]byte{byte(len(script))}, script...)) {
		t.Error("commitment output differs from the synthetic vector's")
	}
}

func TestBuildProof(t *testing.T) {
	tx := newCoinbase(4, devTag, testSeal)
	tx.TxIn[0].Witness = wire.TxWitness{make([]byte, 32)}
	var withWitness, stripped bytes.Buffer
	if err := tx.Serialize(&withWitness); err != nil {
		t.Fatal(err)
	}
	if err := tx.SerializeNoWitness(&stripped); err != nil {
		t.Fatal(err)
	}
	header := mineHeader(t, refFold(tx.TxHash(), siblings(2)), testDifficulty)
	// A witness coinbase is stripped to the bytes its txid hashes.
	for _, cb := range [][]byte{withWitness.Bytes(), stripped.Bytes()} {
		p, err := BuildProof(header, cb, siblings(2), devTag)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(p, testSeal, testDifficulty, devTag); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	for name, cb := range map[string][]byte{
		"trailing byte":  append(bytes.Clone(stripped.Bytes()), 0),
		"truncated":      stripped.Bytes()[:stripped.Len()-1],
		"empty":          nil,
		"not a tx":       bytes.Repeat([]byte{0xff}, 100),
		"other tag only": serialize(t, newCoinbase(4, rskTag, testSeal)),
	} {
		if p, err := BuildProof(header, cb, siblings(2), devTag); err == nil {
			t.Errorf("%s: built %+v", name, p)
		}
	}
}

// TestNewProof checks that the one-scan assembly of a submission agrees with
// CommittedHash and BuildProof, which scan and parse separately.
func TestNewProof(t *testing.T) {
	tx := newCoinbase(2, devTag, [32]byte{9})
	AddCommitment(tx, devTag, testSeal)
	cb := serialize(t, tx)
	header := bytes.Repeat([]byte{7}, HeaderSize)
	branch := bytes.Repeat([]byte{5}, 64)
	p, committed, err := NewProof(header, cb, branch, devTag)
	if err != nil {
		t.Fatal(err)
	}
	if committed != testSeal {
		t.Errorf("committed %x, want the last commitment %x", committed, testSeal)
	}
	built, err := BuildProof(header, cb, branch, devTag)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Bytes(), built.Bytes()) {
		t.Errorf("NewProof %x, BuildProof %x", p.Bytes(), built.Bytes())
	}
	for _, c := range []struct {
		name     string
		coinbase []byte
		tag      []byte
		want     error
	}{
		{"no tag", cb, rskTag, ErrTagMissing},
		{"empty tag", cb, nil, ErrEmptyTag},
		{"31 bytes after the tag", append(bytes.Clone(devTag), make([]byte, 31)...), devTag, ErrCommitmentMismatch},
	} {
		if _, _, err := NewProof(header, c.coinbase, branch, c.tag); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}
