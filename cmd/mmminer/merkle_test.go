package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/mergemine"
)

// TestMerkle checks branch and root against btcd's merkle tree for blocks
// of 1 to 17 transactions, and that the branch is the one mergemine derives
// from all txids (what mnr_submitBitcoinBlockTransactions would build).
func TestMerkle(t *testing.T) {
	for n := 1; n <= 17; n++ {
		t.Run(fmt.Sprintf("%d txs", n), func(t *testing.T) {
			txs := make([]*btcutil.Tx, n)
			txids := make([]chainhash.Hash, n)
			for i := range txs {
				tx := wire.NewMsgTx(1)
				tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{byte(i), byte(n)}, 0), nil, nil))
				tx.AddTxOut(wire.NewTxOut(int64(i), nil))
				txs[i] = btcutil.NewTx(tx)
				txids[i] = tx.TxHash()
			}
			branch := merkleBranch(txids[1:])
			if want := mergeLevels(n); len(branch) != want {
				t.Fatalf("branch of %d hashes, want %d", len(branch), want)
			}
			if got, want := merkleRoot(txids[0], branch), blockchain.CalcMerkleRoot(txs, false); got != want {
				t.Errorf("root %v, want %v", got, want)
			}
			if got, want := mergemine.MerkleProofFromBranch(branch), mergemine.MerkleProofFromTxids(txids); !bytes.Equal(got, want) {
				t.Errorf("RSKIP-92 proof from the branch %x, from the txids %x", got, want)
			}
		})
	}
}

func mergeLevels(n int) int {
	l := 0
	for w := 1; w < n; w *= 2 {
		l++
	}
	return l
}
