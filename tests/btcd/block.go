package btcd

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Branch builds n regtest blocks on parent, each with a lone coinbase, their
// proof of work ground locally (regtest's target is met by every second hash
// on average). Submitted with submitblock, they make a side branch that btcd
// keeps, and a reorg once it has more work than btcd's best chain.
//
// Each coinbase carries seed, so that two branches built on one parent
// differ. Times run one second apart from after parent's time and now,
// whichever is later, so they pass btcd's median-time-past rule without
// running ahead of its two-hour limit.
func Branch(parent *wire.BlockHeader, parentHeight int32, n int, seed uint64) ([]*wire.MsgBlock, error) {
	return BranchWith(parent, parentHeight, n, seed, nil)
}

// BranchWith is Branch whose first block also holds txs after its
// coinbase: a side block carrying a transaction btcd's best chain lacks.
// The transactions must be without witness (no commitment is made).
func BranchWith(parent *wire.BlockHeader, parentHeight int32, n int, seed uint64, txs []*wire.MsgTx) ([]*wire.MsgBlock, error) {
	bits := chaincfg.RegressionNetParams.PowLimitBits
	target := blockchain.CompactToBig(bits)
	start := time.Now().Truncate(time.Second)
	if pt := parent.Timestamp.Add(time.Second); pt.After(start) {
		start = pt
	}
	prev := parent.BlockHash()
	blocks := make([]*wire.MsgBlock, n)
	for i := range blocks {
		height := parentHeight + 1 + int32(i)
		coinbase := wire.NewMsgTx(1)
		// The BIP-34 height, minimally encoded as btcd wants it even on
		// regtest, then the seed.
		var tag [8]byte
		binary.LittleEndian.PutUint64(tag[:], seed)
		script, err := txscript.NewScriptBuilder().AddInt64(int64(height)).AddData(tag[:]).Script()
		if err != nil {
			return nil, err
		}
		coinbase.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), script, nil))
		// Paying nothing is valid at every height, whatever the subsidy.
		coinbase.AddTxOut(wire.NewTxOut(0, []byte{0x51})) // OP_TRUE
		b := &wire.MsgBlock{
			Header: wire.BlockHeader{
				Version:   4,
				PrevBlock: prev,
				Timestamp: start.Add(time.Duration(i) * time.Second),
				Bits:      bits,
			},
			Transactions: []*wire.MsgTx{coinbase},
		}
		if i == 0 {
			b.Transactions = append(b.Transactions, txs...)
		}
		wrapped := make([]*btcutil.Tx, len(b.Transactions))
		for j, tx := range b.Transactions {
			wrapped[j] = btcutil.NewTx(tx)
		}
		tree := blockchain.BuildMerkleTreeStore(wrapped, false)
		b.Header.MerkleRoot = *tree[len(tree)-1]
		for {
			h := b.Header.BlockHash()
			if blockchain.HashToBig(&h).Cmp(target) <= 0 {
				break
			}
			b.Header.Nonce++
			if b.Header.Nonce == 0 {
				return nil, fmt.Errorf("block %d: nonce space exhausted", height)
			}
		}
		blocks[i] = b
		prev = b.BlockHash()
	}
	return blocks, nil
}
