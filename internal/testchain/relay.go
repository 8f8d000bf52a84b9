package testchain

import (
	"bytes"
	"math/big"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm/bridge"
)

// BitcoinHeader is the 80-byte Bitcoin header of a sealed block's proof.
func (c *Chain) BitcoinHeader(b *types.Block) []byte {
	c.t.Helper()
	seal, err := consensus.DecodeSeal(b.Extra())
	if err != nil || seal.Proof == nil {
		c.t.Fatalf("block %d has no proof: %v", b.NumberU64(), err)
	}
	return seal.Proof.BitcoinHeader
}

// RelayTx is a BtcRelay.receiveHeaders transaction from the first dev key,
// with its nonce at parent's state, submitting headers (parent first): how
// a relayer feeds the light client. It is valid in a child of parent.
func (c *Chain) RelayTx(parent *types.Block, headers ...[]byte) *types.Transaction {
	c.t.Helper()
	input, err := bridge.BtcRelayABI.Pack("receiveHeaders", bytes.Join(headers, nil))
	if err != nil {
		c.t.Fatal(err)
	}
	st, err := c.BlockChain().StateAt(parent.Root(), parent.Number(), parent.Time())
	if err != nil {
		c.t.Fatal(err)
	}
	key := c.Keys[0]
	cfg := c.BlockChain().Config()
	to := bridge.BtcRelayAddress
	return types.MustSignNewTx(key, types.LatestSigner(cfg), &types.DynamicFeeTx{
		ChainID: cfg.ChainID, Nonce: st.GetNonce(crypto.PubkeyToAddress(key.PublicKey)), To: &to, Data: input,
		Gas: 2_000_000, GasFeeCap: new(big.Int).Mul(parent.BaseFee(), big.NewInt(2)), GasTipCap: big.NewInt(1),
	})
}
