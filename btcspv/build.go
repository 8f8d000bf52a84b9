package btcspv

import (
	"bytes"
	"crypto/sha256"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// BuildInclusion builds the proof that txid is in block, which is at height
// in the best chain. Proof builders use it on a raw block from `getblock
// <hash> 0`, since btcd has no gettxoutproof. The coinbase cannot be proven
// (ErrBadTxIndex).
func BuildInclusion(block *wire.MsgBlock, height uint32, txid chainhash.Hash) (Inclusion, error) {
	txs := make([]*btcutil.Tx, len(block.Transactions))
	index := -1
	for i, tx := range block.Transactions {
		txs[i] = btcutil.NewTx(tx)
		if index < 0 && *txs[i].Hash() == txid {
			index = i
		}
	}
	switch {
	case index < 0:
		return Inclusion{}, ruleError(ErrTxNotInBlock, "txid %v", txid)
	case index == 0:
		return Inclusion{}, ruleError(ErrBadTxIndex, "txid %v is the coinbase", txid)
	}
	tree := blockchain.BuildMerkleTreeStore(txs, false)

	var coinbase bytes.Buffer
	var header bytes.Buffer
	// Serializing into a buffer cannot fail.
	_ = block.Transactions[0].SerializeNoWitness(&coinbase)
	_ = block.Header.Serialize(&header)
	return Inclusion{
		Header:           header.Bytes(),
		Height:           height,
		TxIndex:          uint32(index),
		TxBranch:         branchOf(tree, index),
		CoinbasePreimage: sha256.Sum256(coinbase.Bytes()),
		CoinbaseBranch:   branchOf(tree, 0),
	}, nil
}

// branchOf reads leaf i's siblings, bottom up, from btcd's linear merkle
// tree: levels of halving width, starting with the leaves padded to a power
// of two. A missing right sibling stands for the node itself, which Bitcoin
// pairs with itself.
func branchOf(tree []*chainhash.Hash, i int) []byte {
	var branch []byte
	offset := 0
	for width := (len(tree) + 1) / 2; width > 1; width /= 2 {
		sibling := tree[offset+(i^1)]
		if sibling == nil {
			sibling = tree[offset+i]
		}
		branch = append(branch, sibling[:]...)
		offset += width
		i /= 2
	}
	return branch
}
