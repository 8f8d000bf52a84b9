package peg

import (
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/crypto"
)

// SigRSVLen is one on-chain signature: r (32) ‖ s (32) ‖ v (1), v = 27 + recovery id.
const SigRSVLen = 65

// SignRSV signs a 32-byte digest as the Bridge checks it (§5.3): RFC 6979
// deterministic, low-S, as r ‖ s ‖ v with v = 27 + recid so that
// ecrecover(digest, v, r, s) is the key's EVM address. The same signature,
// DER-encoded, is the key's Bitcoin signature of that digest.
func SignRSV(key *btcec.PrivateKey, digest [32]byte) [SigRSVLen]byte {
	// SignCompact's header is 27 + 4 (compressed key) + recid, then r, s.
	c := ecdsa.SignCompact(key, digest[:], true)
	var out [SigRSVLen]byte
	copy(out[:64], c[1:])
	out[64] = c[0] - 4
	return out
}

// SignatureFromRSV decodes an on-chain r ‖ s ‖ v into the signature whose
// DER (Serialize) goes into a witness; it refuses what the Bridge refuses.
func SignatureFromRSV(b []byte) (*ecdsa.Signature, error) {
	if len(b) != SigRSVLen || (b[64] != 27 && b[64] != 28) {
		return nil, fmt.Errorf("%w: %d bytes, v %d", ErrBadSignature, len(b), b[len(b)-1])
	}
	var r, s btcec.ModNScalar
	if r.SetByteSlice(b[:32]) || s.SetByteSlice(b[32:64]) || r.IsZero() || s.IsZero() {
		return nil, fmt.Errorf("%w: r or s out of range", ErrBadSignature)
	}
	if s.IsOverHalfOrder() {
		return nil, fmt.Errorf("%w: high S", ErrBadSignature)
	}
	return ecdsa.NewSignature(&r, &s), nil
}

// WitnessFromRSV assembles every input's member witness (§4.1, §5.4) from
// the batch's on-chain signatures: rsv[m] is member m's r‖s‖v for every
// input in order (nil when m has not signed); the first threshold signers
// in member order are used.
func (b *Batch) WitnessFromRSV(rsv [][]byte, threshold int) error {
	for i, s := range b.Spent {
		sigs, err := b.sigsOfInput(rsv, i)
		if err != nil {
			return err
		}
		w, err := AssembleWitness(sigs, threshold, s.WitnessScript)
		if err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
		b.Tx.TxIn[i].Witness = w
	}
	return nil
}

// sigsOfInput decodes every member's signature of input i from rsv (see
// WitnessFromRSV), nil for members that have not signed.
func (b *Batch) sigsOfInput(rsv [][]byte, i int) ([]*ecdsa.Signature, error) {
	sigs := make([]*ecdsa.Signature, len(rsv))
	for m, all := range rsv {
		if all == nil {
			continue
		}
		if len(all) != SigRSVLen*len(b.Spent) {
			return nil, fmt.Errorf("%w: member %d gave %d bytes for %d inputs", ErrBadSignature, m, len(all), len(b.Spent))
		}
		sig, err := SignatureFromRSV(all[i*SigRSVLen : (i+1)*SigRSVLen])
		if err != nil {
			return nil, fmt.Errorf("member %d, input %d: %w", m, i, err)
		}
		sigs[m] = sig
	}
	return sigs, nil
}

// FeeVoteDigest is what a member signs to vote a fee rate (§5.5 signVote):
// keccak256("mmgeth/feevote/v1" ‖ u32be chainId ‖ u8 member ‖ u32be rate ‖
// u64be nonce), the Bridge's voteFeeRate digest. Its keccak domain keeps it
// apart from sighashes (sha256d), so neither can be passed off as the other.
func FeeVoteDigest(chainID uint32, member uint8, rate uint32, nonce uint64) [32]byte {
	buf := []byte("mmgeth/feevote/v1")
	buf = binary.BigEndian.AppendUint32(buf, chainID)
	buf = append(buf, member)
	buf = binary.BigEndian.AppendUint32(buf, rate)
	buf = binary.BigEndian.AppendUint64(buf, nonce)
	return crypto.Keccak256Hash(buf)
}

// NewBatchFromTx rebuilds a batch around an unsigned transaction read from the
// Bridge, given the UTXOs its inputs spend in order: what Sighashes,
// WitnessFromRSV and VerifySpend need.
func NewBatchFromTx(tx *wire.MsgTx, spent []UTXO, chainID uint32, fedScript []byte) (*Batch, error) {
	if len(spent) != len(tx.TxIn) {
		return nil, fmt.Errorf("%d inputs, %d UTXOs", len(tx.TxIn), len(spent))
	}
	b := &Batch{Tx: tx}
	for i, u := range spent {
		if tx.TxIn[i].PreviousOutPoint != u.OutPoint {
			return nil, fmt.Errorf("input %d spends %v, not %v", i, tx.TxIn[i].PreviousOutPoint, u.OutPoint)
		}
		ws, err := DepositScript(chainID, u.Recipient, fedScript)
		if err != nil {
			return nil, err
		}
		b.Spent = append(b.Spent, Prevout{OutPoint: u.OutPoint, ValueSat: u.ValueSat, WitnessScript: ws})
	}
	return b, nil
}
