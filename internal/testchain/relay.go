package testchain

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
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

// BitcoinFinalitySpec is the dev network in Bitcoin finality mode with
// K = 2 (regtest's), with a genesis time recent enough that its blocks'
// Bitcoin headers pass BtcRelay's time rules on top of regtest's genesis.
func BitcoinFinalitySpec(t testing.TB) *genesis.Spec {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	spec.Timestamp = 1_700_000_000
	spec.Finality = genesis.FinalitySpec{Mode: genesis.FinalityBitcoin, K: 2}
	return spec
}

// Anchored is a chain built by BuildAnchored.
type Anchored struct {
	Blocks []*types.Block // Blocks[i] is block i+1
	Target *types.Block   // gap blocks below Anchor, not itself anchored
	Anchor *types.Block   // in BtcRelay's best chain, 2 deep at the head
}

// BuildAnchored builds and inserts, on genesis: blocks 1-10 whose proofs
// are regtest Bitcoin blocks 1-10 (fed to BtcRelay by block 11), blocks
// 11 to 10+gap whose Bitcoin blocks are never relayed, the anchor (block
// 11+gap) whose Bitcoin block is regtest block 11 on block 10's, and two
// blocks that relay it and the next Bitcoin block: the anchor is then 2
// deep, the target (block 11) gap blocks below it.
func (c *Chain) BuildAnchored(gap int) *Anchored {
	c.t.Helper()
	regtest := *chaincfg.RegressionNetParams.GenesisHash
	b1 := c.Build(c.BlockChain().Genesis(), Block{BitcoinPrev: &regtest})
	c.MustInsert(b1)
	blocks := append([]*types.Block{b1}, c.Extend(b1, 9, 0)...)
	var headers [][]byte
	for _, b := range blocks {
		headers = append(headers, c.BitcoinHeader(b))
	}
	add := func(spec Block) *types.Block {
		b := c.Build(blocks[len(blocks)-1], spec)
		c.MustInsert(b)
		blocks = append(blocks, b)
		return b
	}
	relay := func(h ...[]byte) Block {
		return Block{Txs: []*types.Transaction{c.RelayTx(blocks[len(blocks)-1], h...)}}
	}
	target := add(relay(headers...))
	blocks = append(blocks, c.Extend(target, gap-1, 0)...)
	btc10 := chainhash.DoubleHashH(headers[9])
	anchor := add(Block{BitcoinPrev: &btc10})
	add(relay(c.BitcoinHeader(anchor)))
	add(relay(c.BitcoinHeader(blocks[len(blocks)-1])))
	return &Anchored{Blocks: blocks, Target: target, Anchor: anchor}
}
