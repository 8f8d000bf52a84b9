package node

import (
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/rpc"
)

// mmBackend fills rpc's mm namespace from the chain: BtcRelay read at the
// head, the chain's finality and the anchor-proof builder.
type mmBackend struct{ chain *chain.Chain }

func (m *mmBackend) BtcLightClient() (*rpc.BtcLightClient, error) {
	view, _, err := m.chain.HeadView()
	if err != nil {
		return nil, err
	}
	best, err := view.BestChain()
	if err != nil {
		return nil, err
	}
	cpHash, cpHeight, err := view.Checkpoint()
	if err != nil {
		return nil, err
	}
	p, err := view.Params()
	if err != nil {
		return nil, err
	}
	return &rpc.BtcLightClient{
		Address:    bridge.BtcRelayAddress,
		BestHash:   chainhash.Hash(best.Hash).String(),
		BestHeight: best.Height,
		Chainwork:  (*hexutil.Big)(best.Chainwork),
		Checkpoint: rpc.BtcBlockRef{Hash: chainhash.Hash(cpHash).String(), Height: cpHeight},
		Params: rpc.BtcRelayParams{
			PowLimit: (*hexutil.Big)(p.PowLimit), PowLimitBits: p.PowLimitBits,
			NoRetargeting: p.NoRetargeting, ReduceMinDifficulty: p.ReduceMinDifficulty, EnforceBIP94: p.EnforceBIP94,
			TargetTimespan: p.TargetTimespan, RetargetInterval: p.RetargetInterval,
			BIP34Height: p.Bip34Height, BIP66Height: p.Bip66Height, BIP65Height: p.Bip65Height,
			MaxForkDepth: p.MaxForkDepth, MaxHeadersPerCall: p.MaxHeadersPerCall,
		},
	}, nil
}

func anchorInfo(a *chain.AnchorStatus) *rpc.AnchorInfo {
	if a == nil {
		return nil
	}
	return &rpc.AnchorInfo{
		Block:   rpc.BlockRef{Number: hexutil.Uint64(a.Number), Hash: a.Hash},
		BtcHash: a.BtcHash.String(), BtcHeight: a.BtcHeight, Depth: a.Depth,
	}
}

func (m *mmBackend) Finality() (*rpc.FinalityInfo, error) {
	s, err := m.chain.FinalityStatus()
	if err != nil {
		return nil, err
	}
	mode := genesis.FinalityDepth
	if s.Config.Bitcoin {
		mode = genesis.FinalityBitcoin
	}
	return &rpc.FinalityInfo{
		Mode: mode, K: s.Config.K, Confirmations: s.Config.Confirmations,
		Finalized: rpc.NewBlockRef(s.Finalized), Safe: rpc.NewBlockRef(s.Safe),
		Anchor: anchorInfo(s.FinalizedBy), NewestAnchor: anchorInfo(s.Newest),
		LightClientHeight: s.LightClient.Height,
	}, nil
}

// AnchorProof proves target from the lowest anchor above it that is K
// deep and whose state, if the proof needs it, this node still holds.
func (m *mmBackend) AnchorProof(target *types.Header) (any, error) {
	bc := m.chain.BlockChain()
	a, anchor, err := m.chain.AnchorFor(target, func(h *types.Header) bool {
		return !anchorproof.NeedsState(target, h) || bc.HasState(h.Root)
	})
	if err != nil {
		return nil, err
	}
	return anchorproof.Build(bc, target, anchor, a.BtcHeight, a.Depth)
}
