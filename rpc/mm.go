package rpc

import (
	"context"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// Finality gives the blocks the "safe" and "finalized" tags stand for.
type Finality interface {
	Finalized() *types.Header
	Safe() *types.Header
}

// depthFinality is the depth rule: both tags are head - confirmations,
// clamped at genesis.
type depthFinality struct {
	chain         *core.BlockChain
	confirmations uint64
}

func (d depthFinality) Finalized() *types.Header {
	head := d.chain.CurrentBlock().Number.Uint64()
	return d.chain.GetHeaderByNumber(head - min(head, d.confirmations))
}

func (d depthFinality) Safe() *types.Header { return d.Finalized() }

// MMBackend is what the mm namespace reads (PEG.md §9); the node fills it
// from the chain, its BtcRelay light client and the anchor-proof builder.
type MMBackend interface {
	BtcLightClient() (*BtcLightClient, error)
	Finality() (*FinalityInfo, error)
	// AnchorProof is the JSON-ready proof (PEG.md §6.4) that the canonical
	// block target is committed by a Bitcoin block K deep.
	AnchorProof(target *types.Header) (any, error)
}

// BtcBlockRef is a Bitcoin block. Hashes are in display order, without
// 0x, as Bitcoin nodes print and take them.
type BtcBlockRef struct {
	Hash   string `json:"hash"`
	Height uint32 `json:"height"`
}

// BtcLightClient is mm_getBtcLightClient's answer: BtcRelay at the head.
type BtcLightClient struct {
	Address    common.Address `json:"address"`
	BestHash   string         `json:"bestHash"`
	BestHeight uint32         `json:"bestHeight"`
	Chainwork  *hexutil.Big   `json:"chainwork"`
	Checkpoint BtcBlockRef    `json:"checkpoint"`
	Params     BtcRelayParams `json:"params"`
}

// BtcRelayParams are BtcRelay's network parameters (IBtcRelay.sol).
type BtcRelayParams struct {
	PowLimit            *hexutil.Big `json:"powLimit"`
	PowLimitBits        uint32       `json:"powLimitBits"`
	NoRetargeting       bool         `json:"noRetargeting"`
	ReduceMinDifficulty bool         `json:"reduceMinDifficulty"`
	EnforceBIP94        bool         `json:"enforceBIP94"`
	TargetTimespan      uint32       `json:"targetTimespan"`
	RetargetInterval    uint16       `json:"retargetInterval"`
	BIP34Height         uint32       `json:"bip34Height"`
	BIP66Height         uint32       `json:"bip66Height"`
	BIP65Height         uint32       `json:"bip65Height"`
	MaxForkDepth        uint32       `json:"maxForkDepth"`
	MaxHeadersPerCall   uint16       `json:"maxHeadersPerCall"`
}

// BlockRef is a sidechain block.
type BlockRef struct {
	Number hexutil.Uint64 `json:"number"`
	Hash   common.Hash    `json:"hash"`
}

// NewBlockRef is h's reference.
func NewBlockRef(h *types.Header) BlockRef {
	return BlockRef{Number: hexutil.Uint64(h.Number.Uint64()), Hash: h.Hash()}
}

// AnchorInfo is an anchor: a sidechain block and the Bitcoin block its
// proof is, with that block's depth in BtcRelay's best chain at the head
// (0: not in it).
type AnchorInfo struct {
	Block     BlockRef `json:"block"`
	BtcHash   string   `json:"btcHash"`
	BtcHeight uint32   `json:"btcHeight"`
	Depth     uint32   `json:"depth"`
}

// FinalityInfo is mm_getFinality's answer.
type FinalityInfo struct {
	Mode          string   `json:"mode"` // "bitcoin" or "depth"
	K             uint64   `json:"k"`
	Confirmations uint64   `json:"confirmations"`
	Finalized     BlockRef `json:"finalized"`
	Safe          BlockRef `json:"safe"`
	// Anchor is the anchor behind Finalized; NewestAnchor the newest
	// canonical anchor in BtcRelay's best chain, however deep. Both null
	// before the first, and in depth mode.
	Anchor       *AnchorInfo `json:"anchor"`
	NewestAnchor *AnchorInfo `json:"newestAnchor"`
	// LightClientHeight is BtcRelay's best height at the head.
	LightClientHeight uint32 `json:"lightClientHeight"`
}

// mmAPI is the mm namespace.
type mmAPI struct{ s *Service }

// GetBtcLightClient returns BtcRelay's best chain, checkpoint and params.
func (api *mmAPI) GetBtcLightClient() (*BtcLightClient, error) {
	return api.s.cfg.MM.BtcLightClient()
}

// GetFinality returns the finality mode, the finalized and safe blocks
// and the anchors behind them.
func (api *mmAPI) GetFinality() (*FinalityInfo, error) {
	return api.s.cfg.MM.Finality()
}

// GetAnchorProof returns the proof that a canonical block is committed by
// a Bitcoin block K deep (PEG.md §6.4), for `mmgeth proof verify-anchor`.
func (api *mmAPI) GetAnchorProof(ctx context.Context, sel gethrpc.BlockNumberOrHash) (any, error) {
	h, err := api.s.b.headerByNumberOrHash(ctx, sel)
	if err != nil {
		return nil, err
	}
	if api.s.b.chain.GetCanonicalHash(h.Number.Uint64()) != h.Hash() {
		return nil, errNotCanonical
	}
	p, err := api.s.cfg.MM.AnchorProof(h)
	if err != nil {
		// Not yet anchored K deep, or the anchor's state is gone: the
		// caller may retry later or ask an archive node.
		return nil, &codedError{codeServerError, err.Error()}
	}
	return p, nil
}
