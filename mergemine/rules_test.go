package mergemine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

var (
	testSeal       = [32]byte{0x5e, 0xa1, 31: 0x42}
	testDifficulty = big.NewInt(1000)
)

// siblings returns n deterministic sibling hashes as an RSKIP-92 proof.
func siblings(n int) []byte {
	var proof []byte
	h := sha256.Sum256([]byte("siblings"))
	for range n {
		h = sha256.Sum256(h[:])
		proof = append(proof, h[:]...)
	}
	return proof
}

// lastTagBlock is where CompressCoinbase splits a coinbase.
func lastTagBlock(coinbase, tag []byte) int {
	p := bytes.LastIndex(coinbase, tag)
	return p - p%sha256Block
}

// outputScript returns an output script of n bytes.
func outputScript(n int) []byte {
	return bytes.Repeat([]byte{0x51}, n)
}

// verifyCase is one call of Verify.
type verifyCase struct {
	p          *Proof
	committed  [32]byte
	difficulty *big.Int
	tag        []byte
}

// standardCase is a valid proof of a pool-style coinbase whose script sig
// has sigLen bytes, with the given outputs after the commitment, split at n
// (or where CompressCoinbase splits when n < 0), with three siblings.
func standardCase(t *testing.T, sigLen, n int, after ...[]byte) verifyCase {
	cb := serialize(t, newCoinbase(sigLen, devTag, testSeal, after...))
	if n < 0 {
		n = lastTagBlock(cb, devTag)
	}
	return verifyCase{provenProof(t, cb, n, siblings(3), testDifficulty), testSeal, testDifficulty, devTag}
}

// tailOf returns the tail of the case's compressed coinbase.
func (c verifyCase) tail() []byte { return c.p.Coinbase[midstateSize:] }

func TestVerifyRules(t *testing.T) {
	tests := []struct {
		name  string
		want  error
		build func(t *testing.T) verifyCase
	}{
		{"valid", nil, func(t *testing.T) verifyCase { return standardCase(t, 2, -1) }},
		{"empty tag", ErrEmptyTag, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.tag = nil
			return c
		}},

		// Merkle proof size.
		{"proof of 960 bytes (30 levels)", nil, func(t *testing.T) verifyCase {
			cb := serialize(t, newCoinbase(2, devTag, testSeal))
			return verifyCase{provenProof(t, cb, 64, siblings(30), testDifficulty), testSeal, testDifficulty, devTag}
		}},
		{"proof of 992 bytes", ErrMerkleProofTooLong, func(t *testing.T) verifyCase {
			cb := serialize(t, newCoinbase(2, devTag, testSeal))
			return verifyCase{provenProof(t, cb, 64, siblings(31), testDifficulty), testSeal, testDifficulty, devTag}
		}},
		{"proof of 961 bytes", ErrMerkleProofTooLong, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.MerkleProof = append(siblings(30), 0)
			return c
		}},
		{"proof of 31 bytes", ErrMerkleProofLength, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.MerkleProof = siblings(1)[:31]
			return c
		}},
		{"proof of 95 bytes", ErrMerkleProofLength, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.MerkleProof = c.p.MerkleProof[:95]
			return c
		}},

		// Header size and proof of work.
		{"header of 79 bytes", ErrHeaderSize, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.BitcoinHeader = c.p.BitcoinHeader[:79]
			return c
		}},
		{"header of 81 bytes", ErrHeaderSize, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.BitcoinHeader = append(c.p.BitcoinHeader, 0)
			return c
		}},
		{"hash exactly at the target", nil, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.difficulty = DifficultyFromTarget(hashValue(c.p.BitcoinHeader))
			return c
		}},
		{"hash just above the target", ErrPoW, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.difficulty = new(big.Int).Add(DifficultyFromTarget(hashValue(c.p.BitcoinHeader)), big.NewInt(1))
			return c
		}},

		// The compressed coinbase and the tag rules.
		{"compressed coinbase of 39 bytes", ErrCoinbaseMalformed, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.Coinbase = c.p.Coinbase[:39]
			return c
		}},
		{"compressed coinbase of 40 bytes", ErrTagMissing, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.Coinbase = c.p.Coinbase[:40]
			return c
		}},
		{"no tag", ErrTagMissing, func(t *testing.T) verifyCase {
			cb := serialize(t, newCoinbase(2, []byte("NOTOURTAG:"), testSeal))
			return verifyCase{provenProof(t, cb, 0, siblings(3), testDifficulty), testSeal, testDifficulty, devTag}
		}},
		{"tag followed by another hash", ErrCommitmentMismatch, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.committed[31] ^= 1
			return c
		}},
		{"tag at tail offset 63", nil, func(t *testing.T) verifyCase {
			c := standardCase(t, 35, 64)
			if bytes.Index(c.tail(), devTag) != 63 {
				t.Fatal("tag is not at offset 63")
			}
			return c
		}},
		{"tag at tail offset 64", ErrTagOffset, func(t *testing.T) verifyCase {
			c := standardCase(t, 36, 64)
			if bytes.Index(c.tail(), devTag) != 64 {
				t.Fatal("tag is not at offset 64")
			}
			return c
		}},
		{"tag at tail offset 64 split one block later", nil, func(t *testing.T) verifyCase {
			return standardCase(t, 36, 128)
		}},
		{"second tag after the committed one", ErrTagNotLast, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, 64, append([]byte{opReturn, byte(len(devTag))}, devTag...))
			if n := bytes.Count(c.tail(), devTag); n != 2 {
				t.Fatalf("tail has %d tags", n)
			}
			return c
		}},
		{"second tag pushing the committed one into the midstate", ErrCommitmentMismatch, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1, append([]byte{opReturn, byte(len(devTag))}, devTag...))
			if n := bytes.Count(c.tail(), devTag); n != 1 {
				t.Fatalf("tail has %d tags", n)
			}
			return c
		}},
		{"128 bytes after the hash", nil, func(t *testing.T) verifyCase {
			// 4-byte lock time after an output of 8+1+115 bytes.
			c := standardCase(t, 2, -1, outputScript(115))
			if after := len(c.tail()) - bytes.Index(c.tail(), devTag) - len(devTag) - 32; after != 128 {
				t.Fatalf("%d bytes after the hash", after)
			}
			return c
		}},
		{"129 bytes after the hash", ErrTooManyBytesAfterHash, func(t *testing.T) verifyCase {
			return standardCase(t, 2, -1, outputScript(116))
		}},
		{"coinbase of 65 bytes, one-transaction block", nil, func(t *testing.T) verifyCase {
			cb := append(append(bytes.Repeat([]byte{1}, 23), devTag...), testSeal[:]...)
			return verifyCase{provenProof(t, cb, 0, nil, testDifficulty), testSeal, testDifficulty, devTag}
		}},
		{"coinbase of 64 bytes", ErrCoinbaseTooShort, func(t *testing.T) verifyCase {
			cb := append(append(bytes.Repeat([]byte{1}, 22), devTag...), testSeal[:]...)
			return verifyCase{provenProof(t, cb, 0, nil, testDifficulty), testSeal, testDifficulty, devTag}
		}},
		{"byteCount 2^63 wraps negative as in Java", ErrCoinbaseTooShort, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			binary.BigEndian.PutUint64(c.p.Coinbase, 1<<63)
			return c
		}},
		{"byteCount 63", ErrByteCountAlignment, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, 64)
			binary.BigEndian.PutUint64(c.p.Coinbase, 63)
			return c
		}},
		{"byteCount 65", ErrByteCountAlignment, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, 64)
			binary.BigEndian.PutUint64(c.p.Coinbase, 65)
			return c
		}},
		{"byteCount 128 instead of 64", ErrMerkleRootMismatch, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, 64)
			binary.BigEndian.PutUint64(c.p.Coinbase, 128)
			return c
		}},

		// The merkle path.
		{"wrong sibling", ErrMerkleRootMismatch, func(t *testing.T) verifyCase {
			c := standardCase(t, 2, -1)
			c.p.MerkleProof = flip(c.p.MerkleProof, 40, 1)
			return c
		}},
		{"coinbase as the right child", ErrMerkleRootMismatch, func(t *testing.T) verifyCase {
			cb := serialize(t, newCoinbase(2, devTag, testSeal))
			sib := chainhash.Hash(siblings(1))
			txid := chainhash.DoubleHashH(cb)
			root := hashPair(&sib, &txid)
			p := &Proof{mineHeader(t, root, testDifficulty), MerkleProofFromBranch([]chainhash.Hash{sib}), compressAt(cb, 64)}
			return verifyCase{p, testSeal, testDifficulty, devTag}
		}},
		{"tag of 70 bytes", nil, func(t *testing.T) verifyCase {
			tag := bytes.Repeat([]byte("T"), 70)
			cb := serialize(t, newCoinbase(2, tag, testSeal))
			return verifyCase{provenProof(t, cb, lastTagBlock(cb, tag), siblings(3), testDifficulty), testSeal, testDifficulty, tag}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.build(t)
			err := Verify(c.p, c.committed, c.difficulty, c.tag)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || ruleOf(err) != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyMinimumDifficulty(t *testing.T) {
	// A header whose hash lies between the targets of difficulties 4 and 3.
	cb := serialize(t, newCoinbase(2, devTag, testSeal))
	c := verifyCase{provenProof(t, cb, 64, nil, big.NewInt(3)), testSeal, nil, devTag}
	for {
		v := hashValue(c.p.BitcoinHeader)
		if v.Cmp(Target(big.NewInt(4))) > 0 && v.Cmp(Target(big.NewInt(3))) <= 0 {
			break
		}
		binary.LittleEndian.PutUint32(c.p.BitcoinHeader[76:], binary.LittleEndian.Uint32(c.p.BitcoinHeader[76:])+1)
	}
	for _, d := range []*big.Int{nil, big.NewInt(-5), big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(3)} {
		if err := Verify(c.p, c.committed, d, c.tag); err != nil {
			t.Errorf("difficulty %v: %v", d, err)
		}
	}
	if err := Verify(c.p, c.committed, big.NewInt(4), c.tag); !errors.Is(err, ErrPoW) {
		t.Errorf("difficulty 4: got %v, want %v", err, ErrPoW)
	}
}

// smallTxSibling returns a sibling that, after a node whose display form has
// 0x01 at byte 4, makes the pair parse as a 64-byte transaction paying value.
func smallTxSibling(value int64) []byte {
	s := make([]byte, 32)
	// Offsets in the 64-byte pair minus 32: previous output index 0, a
	// 4-byte input script, one output, an empty output script.
	s[9] = 4
	s[18] = 1
	binary.LittleEndian.PutUint64(s[19:], uint64(value))
	return s
}

func TestVerifySixtyFourByteTransaction(t *testing.T) {
	for level := range 2 {
		for _, value := range []int64{1, 0} {
			// Grind the coinbase, then the siblings below the crafted one,
			// until the node meeting it shows 0x01 where a transaction
			// has its input count.
			tx := newCoinbase(4, devTag, testSeal)
			var cb, below []byte
			var node chainhash.Hash
			for i := 0; ; i++ {
				binary.LittleEndian.PutUint16(tx.TxIn[0].SignatureScript, uint16(i))
				cb = serialize(t, tx)
				below = siblings(level)
				if level > 0 {
					binary.LittleEndian.PutUint16(below, uint16(i))
				}
				node = refFold(chainhash.DoubleHashH(cb), below)
				if node[27] == 1 {
					break
				}
			}
			proof := append(below, smallTxSibling(value)...)
			p := provenProof(t, cb, 64, proof, testDifficulty)
			err := Verify(p, testSeal, testDifficulty, devTag)
			if value == 0 {
				if err != nil {
					t.Fatalf("level %d, zero value: %v", level, err)
				}
				continue
			}
			if !errors.Is(err, ErrMerkleNodeIsTx) {
				t.Fatalf("level %d: got %v, want %v", level, err, ErrMerkleNodeIsTx)
			}
		}
	}
}
