package mergemine

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// A compressed coinbase is u64be byteCount ‖ 8×u32be SHA-256 chaining state ‖
// tail: the midstate after the first byteCount bytes of the non-witness
// coinbase, then the bytes not yet hashed. This is the trimmed BouncyCastle
// state Rootstock ships (co/rsk/config/RskMiningConstants.MIDSTATE_SIZE_TRIMMED).
const (
	midstateSize = 8 + sha256.Size
	sha256Block  = 64
)

// Go's crypto/sha256 marshals its state as "sha\x03" ‖ H0..H7 (u32be) ‖
// 64-byte block buffer ‖ u64be length; the format is stable across releases.
const (
	sha256Magic        = "sha\x03"
	sha256StateOffset  = len(sha256Magic)
	sha256LenOffset    = sha256StateOffset + sha256.Size + sha256Block
	sha256MarshaledLen = sha256LenOffset + 8
)

// CompressCoinbase compresses a full non-witness coinbase the way Rootstock's
// MinerServerImpl.compressCoinbase does: it hashes the whole 64-byte blocks
// before the last tag and keeps the rest as the tail.
func CompressCoinbase(coinbase []byte, tag []byte) ([]byte, error) {
	if len(tag) == 0 {
		return nil, ErrEmptyTag
	}
	p := bytes.LastIndex(coinbase, tag)
	if p < 0 {
		return nil, ErrTagMissing
	}
	return compressAt(coinbase, p-p%sha256Block), nil
}

// compressAt compresses coinbase with its first n bytes, a multiple of 64, in
// the midstate.
func compressAt(coinbase []byte, n int) []byte {
	h := sha256.New()
	h.Write(coinbase[:n])
	// Marshaling a SHA-256 digest has no failure mode.
	state, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	out := make([]byte, midstateSize, midstateSize+len(coinbase)-n)
	binary.BigEndian.PutUint64(out, uint64(n))
	copy(out[8:], state[sha256StateOffset:sha256StateOffset+sha256.Size])
	return append(out, coinbase[n:]...)
}

// CoinbaseTxID resumes SHA-256 from a compressed coinbase and returns the
// coinbase's txid, in wire order.
func CoinbaseTxID(compressed []byte) (chainhash.Hash, error) {
	if len(compressed) < midstateSize {
		return chainhash.Hash{}, ruleError(ErrCoinbaseMalformed, "got %d bytes", len(compressed))
	}
	byteCount := binary.BigEndian.Uint64(compressed)
	if byteCount%sha256Block != 0 {
		return chainhash.Hash{}, ruleError(ErrByteCountAlignment, "got %d", byteCount)
	}
	return resumeTxID(byteCount, compressed[8:midstateSize], compressed[midstateSize:])
}

// resumer holds a SHA-256 digest with buffers that live on the heap along
// with it, so that resuming and summing through the hash.Hash interface does
// not allocate. Verify takes one from resumers.
type resumer struct {
	h     hash.Hash
	state [sha256MarshaledLen]byte
	sum   [sha256.Size]byte
}

var resumers = sync.Pool{New: func() any {
	r := &resumer{h: sha256.New()}
	copy(r.state[:], sha256Magic)
	return r
}}

// resumeTxID finishes the first SHA-256 from (byteCount, state) over tail and
// hashes the result once more. byteCount must be a multiple of 64: Go infers
// a partly filled block buffer from any other value.
func resumeTxID(byteCount uint64, state, tail []byte) (chainhash.Hash, error) {
	r := resumers.Get().(*resumer)
	defer resumers.Put(r)
	copy(r.state[sha256StateOffset:], state)
	binary.BigEndian.PutUint64(r.state[sha256LenOffset:], byteCount)
	if err := r.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(r.state[:]); err != nil {
		return chainhash.Hash{}, err
	}
	r.h.Write(tail)
	return chainhash.Hash(sha256.Sum256(r.h.Sum(r.sum[:0]))), nil
}
