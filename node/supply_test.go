package node

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/evm"
	"github.com/mmgeth/mmgeth/genesis"
)

// sink's runtime code logs the value it receives and reverts when called
// with data: it takes value, emits logs, and fails, all of which move fees.
const sinkInitCode = "60108060095f395ff3" + "36600c57345f5260205fa0005b5f5ffd"

// TestSupplyIsConserved checks the invariant of DESIGN §5 over 100 blocks
// of mixed transactions: the sum of all balances stays 21,000,000 BTC.
func TestSupplyIsConserved(t *testing.T) {
	d := startDev(t, "")
	ctx := context.Background()
	chainID := d.Chain().Config().ChainID
	gen, err := d.cfg.Spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	// The fees go to the dev coinbase, which no genesis account is.
	accounts := map[common.Address]bool{DevCoinbase: true}
	for addr := range gen.Alloc {
		accounts[addr] = true
	}
	supply := func() *big.Int {
		state, err := d.Chain().State()
		if err != nil {
			t.Fatal(err)
		}
		sum := new(big.Int)
		for addr := range accounts {
			sum.Add(sum, state.GetBalance(addr).ToBig())
		}
		return sum
	}
	want := evm.BTCToWei(genesis.TotalSupplyBTC)
	if got := supply(); got.Cmp(want) != 0 {
		t.Fatalf("genesis supply %v, want %v", got, want)
	}

	deployer := d.keys[2]
	deploy := d.sign(t, deployer, &types.DynamicFeeTx{
		ChainID: chainID, Nonce: d.nonce(t, crypto.PubkeyToAddress(deployer.PublicKey)),
		GasTipCap: big.NewInt(3e6), GasFeeCap: big.NewInt(1e9), Gas: 100_000, Data: common.FromHex(sinkInitCode),
	})
	if err := d.client.SendTransaction(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	sink := d.waitReceipt(t, deploy.Hash()).ContractAddress
	accounts[sink] = true

	for block := 0; block < 100; block++ {
		key := d.keys[3+block%8]
		from := crypto.PubkeyToAddress(key.PublicKey)
		nonce := d.nonce(t, from)
		fresh := common.BigToAddress(big.NewInt(int64(0x10000 + block)))
		accounts[fresh] = true
		var txs []*types.Transaction
		switch block % 4 {
		case 0: // EIP-1559 transfer to a new account
			txs = append(txs, d.sign(t, key, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce,
				GasTipCap: big.NewInt(int64(1e6 * (block + 1))), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &fresh, Value: big.NewInt(1e12)}))
		case 1: // legacy value call that logs
			txs = append(txs, d.sign(t, key, &types.LegacyTx{Nonce: nonce, GasPrice: big.NewInt(2e8), Gas: 60_000, To: &sink, Value: big.NewInt(7e11)}))
		case 2: // access-list call that reverts: gas is paid, value is not moved
			txs = append(txs, d.sign(t, key, &types.AccessListTx{ChainID: chainID, Nonce: nonce, GasPrice: big.NewInt(3e8), Gas: 60_000,
				To: &sink, Value: big.NewInt(5e11), Data: []byte{1}, AccessList: types.AccessList{{Address: sink}}}))
		case 3: // two transfers in one block
			txs = append(txs,
				d.sign(t, key, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &fresh, Value: big.NewInt(3)}),
				d.sign(t, key, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce + 1, GasTipCap: big.NewInt(2), GasFeeCap: big.NewInt(1e9), Gas: 30000, To: &sink, Value: big.NewInt(9)}))
		}
		for _, tx := range txs {
			if err := d.client.SendTransaction(ctx, tx); err != nil {
				t.Fatalf("block %d: %v", block, err)
			}
		}
		for _, tx := range txs {
			d.waitReceipt(t, tx.Hash())
		}
		if got := supply(); got.Cmp(want) != 0 {
			t.Fatalf("after block %d (head %d) supply is %v, want %v (diff %v)",
				block, d.Chain().CurrentBlock().Number, got, want, new(big.Int).Sub(got, want))
		}
	}
	if head := d.Chain().CurrentBlock().Number.Uint64(); head < 100 {
		t.Fatalf("only %d blocks", head)
	}
}
