package mergemine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/holiman/uint256"
)

// SyntheticShare builds the Bitcoin side of a dev or test block: a one-transaction
// Bitcoin block whose coinbase commits to sealHash, with the header nonce
// ground until its hash meets the sidechain target. The result is the same
// (header, coinbase, merkle proof) triple a pool submits, so dev blocks carry
// real proofs checked by the real engine. prev links the synthetic Bitcoin
// headers into a chain of their own. The merkle proof is empty: the coinbase
// is the block's only transaction. It grinds about difficulty hashes, so it
// is only for the low difficulties of dev and test networks.
func SyntheticShare(sealHash [32]byte, difficulty *big.Int, tag []byte, prev chainhash.Hash, timestamp uint32) (header80, coinbase []byte, err error) {
	target := Target(difficulty)
	for extraNonce := uint64(0); ; extraNonce++ {
		coinbase, err = syntheticCoinbase(tag, sealHash, extraNonce)
		if err != nil {
			return nil, nil, err
		}
		hdr := wire.BlockHeader{
			Version:    0x20000000,
			PrevBlock:  prev,
			MerkleRoot: chainhash.DoubleHashH(coinbase),
			Timestamp:  time.Unix(int64(timestamp), 0),
			Bits:       0x207fffff, // regtest's limit: the header claims no Bitcoin work
		}
		var buf bytes.Buffer
		if err := hdr.Serialize(&buf); err != nil {
			return nil, nil, err
		}
		header80 = buf.Bytes()
		if grind(header80, target) {
			return header80, coinbase, nil
		}
		if extraNonce == 1<<16 {
			return nil, nil, errors.New("synthetic share: no nonce meets the target")
		}
	}
}

// syntheticCoinbase is a coinbase with an extra-nonce in its script and the
// merged-mining commitment as its second output.
func syntheticCoinbase(tag []byte, sealHash [32]byte, extraNonce uint64) ([]byte, error) {
	script := binary.LittleEndian.AppendUint64([]byte{0x08}, extraNonce)
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  script,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	tx.AddTxOut(&wire.TxOut{Value: 0, PkScript: []byte{0x51}}) // OP_TRUE
	AddCommitment(tx, tag, sealHash)
	var buf bytes.Buffer
	if err := tx.SerializeNoWitness(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// grind searches the 32-bit nonce space of header80 in place. The target
// is converted once, not per hash: the dev miner grinds for every block.
func grind(header80 []byte, target *big.Int) bool {
	t, overflow := uint256.FromBig(target)
	if overflow || target.Sign() < 0 {
		return MeetsTarget(header80, target)
	}
	for nonce := uint64(0); nonce <= 0xffffffff; nonce++ {
		binary.LittleEndian.PutUint32(header80[76:], uint32(nonce))
		if meetsTarget(header80, t) {
			return true
		}
	}
	return false
}
