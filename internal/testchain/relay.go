package testchain

import (
	"bytes"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
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
	return c.CallTx(parent, c.Keys[0], bridge.BtcRelayAddress, nil, input)
}

// CallTx is a transaction from key to to with value (nil: none) and input,
// 2M gas, its nonce at parent's state: valid in a child of parent.
func (c *Chain) CallTx(parent *types.Block, key *ecdsa.PrivateKey, to common.Address, value *big.Int, input []byte) *types.Transaction {
	c.t.Helper()
	st, err := c.BlockChain().StateAt(parent.Root(), parent.Number(), parent.Time())
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := c.BlockChain().Config()
	return types.MustSignNewTx(key, types.LatestSigner(cfg), &types.DynamicFeeTx{
		ChainID: cfg.ChainID, Nonce: st.GetNonce(crypto.PubkeyToAddress(key.PublicKey)), To: &to, Value: value, Data: input,
		Gas: 2_000_000, GasFeeCap: new(big.Int).Mul(parent.BaseFee(), big.NewInt(2)), GasTipCap: big.NewInt(1),
	})
}

// SealOnBitcoin merge-mines an unsealed block (Block.Unsealed) with a real
// regtest Bitcoin block on prev at height and time btcTime, which it also
// returns, for btcd's submitblock: unlike the synthetic share, its coinbase
// starts with the BIP-34 height that btcd requires even on regtest.
func (c *Chain) SealOnBitcoin(block *types.Block, prev chainhash.Hash, height int32, btcTime time.Time) (*types.Block, *wire.MsgBlock) {
	c.t.Helper()
	h := block.Header()
	seal, err := consensus.DecodeSeal(h.Extra)
	if err != nil {
		c.t.Fatal(err)
	}
	tag := []byte(c.Spec.MergeMining.Tag)
	script, err := txscript.NewScriptBuilder().AddInt64(int64(height)).Script()
	if err != nil {
		c.t.Fatal(err)
	}
	coinbase := wire.NewMsgTx(1)
	// Two OP_0 keep the script at btcd's two-byte minimum below height 17.
	coinbase.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), append(script, 0, 0), nil))
	coinbase.AddTxOut(wire.NewTxOut(0, []byte{0x51})) // OP_TRUE
	mergemine.AddCommitment(coinbase, tag, consensus.SealHash(h))
	btc := &wire.MsgBlock{Header: wire.BlockHeader{Version: 4, PrevBlock: prev, MerkleRoot: coinbase.TxHash(),
		Timestamp: btcTime, Bits: chaincfg.RegressionNetParams.PowLimitBits}, Transactions: []*wire.MsgTx{coinbase}}
	// The sidechain's target is below regtest's: a share is a Bitcoin block.
	target := mergemine.Target(seal.Difficulty)
	var header80, raw bytes.Buffer
	for {
		header80.Reset()
		if err := btc.Header.Serialize(&header80); err != nil {
			c.t.Fatal(err)
		}
		if mergemine.MeetsTarget(header80.Bytes(), target) {
			break
		}
		btc.Header.Nonce++
	}
	if err := coinbase.SerializeNoWitness(&raw); err != nil {
		c.t.Fatal(err)
	}
	if seal.Proof, err = mergemine.BuildProof(header80.Bytes(), raw.Bytes(), nil, tag); err != nil {
		c.t.Fatalf("build proof: %v", err)
	}
	h.Extra = seal.Bytes()
	return block.WithSeal(h), btc
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
