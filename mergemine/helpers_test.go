package mergemine

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/holiman/uint256"
)

var (
	rskTag = []byte("RSKBLOCK:")
	devTag = []byte("MMGETHDEV:")
)

// allRules lists every rule error Verify may return.
var allRules = []error{
	ErrEmptyTag, ErrMerkleProofTooLong, ErrMerkleProofLength, ErrHeaderSize, ErrPoW,
	ErrCoinbaseMalformed, ErrTagMissing, ErrCommitmentMismatch, ErrTagOffset, ErrTagNotLast,
	ErrTooManyBytesAfterHash, ErrCoinbaseTooShort, ErrByteCountAlignment, ErrMerkleNodeIsTx,
	ErrMerkleRootMismatch,
}

// ruleOf returns the one rule err matches, or nil.
func ruleOf(err error) error {
	var found error
	for _, r := range allRules {
		if errors.Is(err, r) {
			if found != nil {
				return nil
			}
			found = r
		}
	}
	return found
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func hash32(t testing.TB, s string) [32]byte {
	t.Helper()
	b := unhex(t, s)
	if len(b) != 32 {
		t.Fatalf("%q is not 32 bytes", s)
	}
	return [32]byte(b)
}

// displayHash parses a hash shown in display order into wire order.
func displayHash(t testing.TB, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

func decimal(t testing.TB, s string) *big.Int {
	t.Helper()
	d, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	return d
}

func flip(b []byte, i int, mask byte) []byte {
	c := bytes.Clone(b)
	c[i] ^= mask
	return c
}

// refFold is an independent RSKIP-92 fold without Rootstock's 64-byte check.
func refFold(txid chainhash.Hash, proof []byte) chainhash.Hash {
	cur := txid
	for ; len(proof) >= 32; proof = proof[32:] {
		pair := append(cur[:], make([]byte, 32)...)
		for i := 0; i < 32; i++ {
			pair[32+i] = proof[31-i]
		}
		cur = chainhash.DoubleHashH(pair)
	}
	return cur
}

// refRoot is Bitcoin's merkle root, computed level by level.
func refRoot(txids []chainhash.Hash) chainhash.Hash {
	level := txids
	for len(level) > 1 {
		var next []chainhash.Hash
		for i := 0; i < len(level); i += 2 {
			j := i + 1
			if j == len(level) {
				j = i
			}
			next = append(next, chainhash.DoubleHashH(append(level[i][:], level[j][:]...)))
		}
		level = next
	}
	return level[0]
}

// mineHeader returns a header committing to root whose nonce is ground until
// it meets difficulty.
func mineHeader(t testing.TB, root chainhash.Hash, difficulty *big.Int) []byte {
	t.Helper()
	h := wire.BlockHeader{
		Version:    0x20000000,
		MerkleRoot: root,
		Timestamp:  time.Unix(1_700_000_000, 0),
		Bits:       0x1d00ffff,
	}
	var buf bytes.Buffer
	if err := h.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	header := buf.Bytes()
	var target uint256.Int
	setTarget(&target, difficulty)
	for nonce := uint32(0); !meetsTarget(header, &target); nonce++ {
		if nonce == 1<<31 {
			t.Fatal("no nonce found")
		}
		binary.LittleEndian.PutUint32(header[76:], nonce+1)
	}
	// Check the ground header with plain big.Int arithmetic too.
	if hashValue(header).Cmp(Target(difficulty)) > 0 {
		t.Fatal("mined header misses the target")
	}
	return header
}

// hashValue is LE256(SHA256d(header)).
func hashValue(header []byte) *big.Int {
	h := HeaderHash(header)
	for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
		h[i], h[j] = h[j], h[i]
	}
	return new(big.Int).SetBytes(h[:])
}

// newCoinbase returns a coinbase whose script sig has sigLen bytes, paying
// 50 BTC, then committing to seal under tag, then carrying outputs with the
// given scripts.
func newCoinbase(sigLen int, tag []byte, seal [32]byte, after ...[]byte) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	sig := bytes.Repeat([]byte{0x51}, sigLen)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, 0xffffffff), sig, nil))
	tx.AddTxOut(wire.NewTxOut(50e8, append([]byte{0x76, 0xa9, 0x14}, make([]byte, 22)...)))
	AddCommitment(tx, tag, seal)
	for _, s := range after {
		tx.AddTxOut(wire.NewTxOut(0, s))
	}
	return tx
}

func serialize(t testing.TB, tx *wire.MsgTx) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// provenProof builds a proof for a full coinbase whose first n bytes go into
// the midstate, with the given merkle proof, mined to difficulty.
func provenProof(t testing.TB, coinbase []byte, n int, merkleProof []byte, difficulty *big.Int) *Proof {
	t.Helper()
	root := refFold(chainhash.DoubleHashH(coinbase), merkleProof)
	return &Proof{
		BitcoinHeader: mineHeader(t, root, difficulty),
		MerkleProof:   merkleProof,
		Coinbase:      compressAt(coinbase, n),
	}
}
