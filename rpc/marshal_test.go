package rpc

import (
	"bytes"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// gethReceiptMap is geth v1.17.10's MarshalReceipt (internal/ethapi/api.go)
// as a map, which encoding/json writes with its keys sorted: the reference
// rpcReceipt.MarshalJSON must match byte for byte.
func gethReceiptMap(r *types.Receipt, blockHash common.Hash, number uint64, from common.Address, tx *types.Transaction, index int) map[string]any {
	logs := r.Logs
	if logs == nil {
		logs = []*types.Log{}
	}
	m := map[string]any{
		"blockHash": blockHash, "blockNumber": hexutil.Uint64(number), "transactionHash": tx.Hash(),
		"transactionIndex": hexutil.Uint64(index), "from": from, "to": tx.To(),
		"gasUsed": hexutil.Uint64(r.GasUsed), "cumulativeGasUsed": hexutil.Uint64(r.CumulativeGasUsed),
		"contractAddress": nil, "logs": logs, "logsBloom": r.Bloom, "type": hexutil.Uint(tx.Type()),
		"effectiveGasPrice": (*hexutil.Big)(r.EffectiveGasPrice),
	}
	if len(r.PostState) > 0 {
		m["root"] = hexutil.Bytes(r.PostState)
	} else {
		m["status"] = hexutil.Uint(r.Status)
	}
	if tx.Type() == types.BlobTxType {
		m["blobGasUsed"] = hexutil.Uint64(r.BlobGasUsed)
		m["blobGasPrice"] = (*hexutil.Big)(r.BlobGasPrice)
	}
	if tx.To() == nil {
		m["contractAddress"] = crypto.CreateAddress(from, tx.Nonce())
	}
	return m
}

func TestReceiptJSONMatchesGethMap(t *testing.T) {
	key, _ := crypto.GenerateKey()
	signer := types.LatestSignerForChainID(big.NewInt(31337))
	to := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	sign := func(inner types.TxData) *types.Transaction {
		tx, err := types.SignNewTx(key, signer, inner)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	logs := []*types.Log{
		{Address: to, Topics: []common.Hash{{1}, {2}}, Data: []byte{1, 2, 3}, BlockNumber: 7, TxHash: common.Hash{9}, TxIndex: 1, BlockHash: common.Hash{8}, BlockTimestamp: 99, Index: 4},
		{Address: to, Data: nil, BlockNumber: 7, Index: 5, Removed: true},
	}
	var bloom types.Bloom
	bloom[3], bloom[255] = 0xf0, 1
	cases := map[string]struct {
		tx *types.Transaction
		r  *types.Receipt
	}{
		"legacy call, failed": {sign(&types.LegacyTx{Nonce: 3, GasPrice: big.NewInt(7), Gas: 21000, To: &to, Value: big.NewInt(1)}),
			&types.Receipt{Status: 0, CumulativeGasUsed: 50000, GasUsed: 21000, EffectiveGasPrice: big.NewInt(7)}},
		"creation with logs": {sign(&types.DynamicFeeTx{Nonce: 12, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1e9), Gas: 1e6}),
			&types.Receipt{Status: 1, CumulativeGasUsed: 1e6, GasUsed: 1e6, Logs: logs, Bloom: bloom, EffectiveGasPrice: big.NewInt(0)}},
		"pre-Byzantium root, no price": {sign(&types.LegacyTx{Gas: 21000, To: &to, GasPrice: big.NewInt(1)}),
			&types.Receipt{PostState: common.Hash{5}.Bytes(), GasUsed: 21000}},
		"blob": {sign(&types.BlobTx{ChainID: uint256.NewInt(31337), GasTipCap: uint256.NewInt(1), GasFeeCap: uint256.NewInt(2), Gas: 21000, To: to,
			BlobFeeCap: uint256.NewInt(3), BlobHashes: []common.Hash{{1}}}),
			&types.Receipt{Status: 1, GasUsed: 21000, BlobGasUsed: 131072, BlobGasPrice: big.NewInt(1), EffectiveGasPrice: big.NewInt(2)}},
		"blob, no blob price": {sign(&types.BlobTx{ChainID: uint256.NewInt(31337), Gas: 21000, To: to, BlobHashes: []common.Hash{{1}}}),
			&types.Receipt{Status: 1}},
	}
	for name, c := range cases {
		from, _ := types.Sender(signer, c.tx)
		want, err := json.Marshal(gethReceiptMap(c.r, common.Hash{0xbb}, 1234, from, c.tx, 2))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(marshalReceipt(c.r, common.Hash{0xbb}, 1234, signer, c.tx, 2))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	if got, _ := json.Marshal((*rpcReceipt)(nil)); string(got) != "null" {
		t.Errorf("no receipt: %s", got)
	}
}
