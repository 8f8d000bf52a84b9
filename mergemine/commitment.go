package mergemine

import (
	"bytes"
	"encoding/binary"

	"github.com/btcsuite/btcd/wire/v2"
)

// Limits on where the commitment sits in the coinbase tail
// (Rootstock's ProofOfWorkRule.isValid).
const (
	maxTagOffset = sha256Block // the committed tag starts before this tail offset
	maxAfterHash = 128         // bytes allowed after the committed hash
)

// Script opcodes used by the commitment output.
const (
	opReturn    = 0x6a
	opPushData1 = 0x4c
	opPushData2 = 0x4d
	opPushData4 = 0x4e
	maxDirect   = 75 // longest push with its length as the opcode
)

// CommitmentScript returns the output script pools use for the commitment:
// OP_RETURN followed by one push of tag ‖ sealHash.
func CommitmentScript(tag []byte, sealHash [32]byte) []byte {
	n := len(tag) + len(sealHash)
	s := make([]byte, 0, n+6)
	s = append(s, opReturn)
	switch {
	case n <= maxDirect:
		s = append(s, byte(n))
	case n <= 0xff:
		s = append(s, opPushData1, byte(n))
	case n <= 0xffff:
		s = binary.LittleEndian.AppendUint16(append(s, opPushData2), uint16(n))
	default:
		s = binary.LittleEndian.AppendUint32(append(s, opPushData4), uint32(n))
	}
	s = append(s, tag...)
	return append(s, sealHash[:]...)
}

// AddCommitment appends a zero-value output carrying CommitmentScript to a
// coinbase. Appending keeps the commitment near the end of the transaction,
// where the tail rules want it; anything added after it (a witness
// commitment, say) must stay within the 128 bytes allowed after the hash.
func AddCommitment(tx *wire.MsgTx, tag []byte, sealHash [32]byte) {
	tx.AddTxOut(wire.NewTxOut(0, CommitmentScript(tag, sealHash)))
}

// CommittedHash returns the 32 bytes after the last tag of a full coinbase:
// the seal hash a miner committed to, as Rootstock reads it on submission
// (co/rsk/rpc/modules/mnr/MnrModuleImpl.extractBlockHashForMergedMining).
func CommittedHash(coinbase []byte, tag []byte) ([32]byte, error) {
	h, _, err := lastCommitment(coinbase, tag)
	return h, err
}

// lastCommitment finds the last tag of a full coinbase and returns the 32
// bytes after it and the tag's offset.
func lastCommitment(coinbase []byte, tag []byte) (h [32]byte, offset int, err error) {
	if len(tag) == 0 {
		return h, 0, ErrEmptyTag
	}
	p := bytes.LastIndex(coinbase, tag)
	if p < 0 {
		return h, 0, ErrTagMissing
	}
	rest := coinbase[p+len(tag):]
	if len(rest) < len(h) {
		return h, 0, ruleError(ErrCommitmentMismatch, "only %d bytes follow the last tag, a commitment needs %d", len(rest), len(h))
	}
	copy(h[:], rest)
	return h, p, nil
}

// checkCommitment applies the tag rules to the tail of a compressed coinbase,
// in Rootstock's order.
func checkCommitment(tail, tag []byte, committed *[32]byte) error {
	// Room for tags up to 64 bytes without allocating.
	var buf [96]byte
	needle := append(append(buf[:0], tag...), committed[:]...)
	pos := bytes.LastIndex(tail, needle)
	if pos < 0 {
		last := bytes.LastIndex(tail, tag)
		if last < 0 {
			return ErrTagMissing
		}
		after := tail[last+len(tag):]
		return ruleError(ErrCommitmentMismatch, "the last tag is followed by %x", after[:min(len(after), len(committed))])
	}
	if pos >= maxTagOffset {
		return ruleError(ErrTagOffset, "it starts at offset %d", pos)
	}
	if last := bytes.LastIndex(tail, tag); last != pos {
		return ruleError(ErrTagNotLast, "another tag starts at offset %d", last)
	}
	if after := len(tail) - pos - len(needle); after > maxAfterHash {
		return ruleError(ErrTooManyBytesAfterHash, "%d bytes follow it", after)
	}
	return nil
}
