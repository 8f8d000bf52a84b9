package consensus_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestSupplyConserved imports blocks of EIP-1559 transactions through the
// chain's own processor (which calls Finalize) and checks that the sum of
// all balances never changes: the base fee, which geth would burn, goes to
// the coinbase with the tips.
func TestSupplyConserved(t *testing.T) {
	c := testchain.NewEngineNet(t, nil)
	bc := c.BlockChain()
	var (
		recipient = common.HexToAddress("0x00000000000000000000000000000000000be5e1")
		coinbases = []common.Address{{0xc1}, {0xc2}, testchain.AddrB}
		accounts  = []common.Address{recipient, coinbases[0], coinbases[1]}
	)
	for addr := range c.Genesis.Alloc {
		accounts = append(accounts, addr)
	}
	total := func(b *types.Block) *big.Int {
		st, err := bc.StateAt(b.Root(), b.Number(), b.Time())
		if err != nil {
			t.Fatal(err)
		}
		sum := new(big.Int)
		for _, addr := range accounts {
			sum.Add(sum, st.GetBalance(addr).ToBig())
		}
		return sum
	}
	balance := func(b *types.Block, addr common.Address) *big.Int {
		st, err := bc.StateAt(b.Root(), b.Number(), b.Time())
		if err != nil {
			t.Fatal(err)
		}
		return st.GetBalance(addr).ToBig()
	}

	parent := bc.Genesis()
	supply := total(parent)
	for i, coinbase := range coinbases {
		txs := []*types.Transaction{
			testchain.TransferTx(t, testchain.KeyA, uint64(2*i), recipient, 1e15),
			testchain.LogTx(t, testchain.KeyA, uint64(2*i+1)),
			testchain.LogTx(t, testchain.KeyB, uint64(i)),
		}
		b := c.Build(parent, testchain.Block{Coinbase: coinbase, Txs: txs})
		c.MustInsert(b)
		if got := total(b); got.Cmp(supply) != 0 {
			t.Fatalf("block %d: supply %v, want %v", b.NumberU64(), got, supply)
		}
		// The coinbase got every fee: base fee and tips. Its own log
		// transaction (addrB in the last block) pays it back to itself, so
		// compare the fees of the others.
		baseFees := new(big.Int).Mul(b.BaseFee(), new(big.Int).SetUint64(b.GasUsed()))
		if baseFees.Sign() <= 0 {
			t.Fatalf("block %d burns nothing to credit: base fee %v, gas %d", b.NumberU64(), b.BaseFee(), b.GasUsed())
		}
		receipts := bc.GetReceiptsByHash(b.Hash())
		fees := new(big.Int)
		for j, r := range receipts {
			if sender, _ := types.Sender(types.LatestSigner(bc.Config()), b.Transactions()[j]); sender == coinbase {
				continue
			}
			fees.Add(fees, new(big.Int).Mul(r.EffectiveGasPrice, new(big.Int).SetUint64(r.GasUsed)))
		}
		gained := new(big.Int).Sub(balance(b, coinbase), balance(parent, coinbase))
		if gained.Cmp(fees) != 0 {
			t.Errorf("block %d: coinbase gained %v, fees paid %v (base fees %v)", b.NumberU64(), gained, fees, baseFees)
		}
		parent = b
	}
}
