package node

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// BenchmarkDevTransfer measures a dev node's latency from
// eth_sendRawTransaction to the block that includes it becoming the head:
// build, synthetic merged-mining proof, verification and import.
func BenchmarkDevTransfer(b *testing.B) {
	t := &testing.T{}
	d := startDev(t, "")
	heads := make(chan core.ChainHeadEvent, 16)
	sub := d.Chain().SubscribeChainHeadEvent(heads)
	defer sub.Unsubscribe()
	key := d.keys[5]
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, _ := d.client.PendingNonceAt(context.Background(), from)
	to := common.HexToAddress("0xbeef")
	chainID := d.Chain().Config().ChainID
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx, _ := types.SignNewTx(key, d.signer, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce,
			GasTipCap: big.NewInt(1e6), GasFeeCap: big.NewInt(1e9), Gas: 21000, To: &to, Value: big.NewInt(1)})
		nonce++
		if err := d.client.SendTransaction(context.Background(), tx); err != nil {
			b.Fatal(err)
		}
		for ev := range heads {
			if len(ev.Header.TxHash) > 0 && ev.Header.GasUsed > 0 {
				break
			}
		}
	}
}
