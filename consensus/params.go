package consensus

import (
	"fmt"
	"math/big"
)

// Params are the merged-mining parameters of one network; genesis specs
// carry them as JSON.
type Params struct {
	// Tag is written as raw ASCII bytes before the seal hash in the Bitcoin
	// coinbase, e.g. "MMGETHDEV:".
	Tag string `json:"tag"`
	// TargetSpacing is the intended time between blocks, in seconds.
	TargetSpacing uint64 `json:"targetSpacing"`
	// HalfLife is the ASERT half-life in seconds: a chain this far behind
	// schedule sees its difficulty halved.
	HalfLife uint64 `json:"halfLife"`
	// MinDifficulty is the floor of the difficulty adjustment.
	MinDifficulty *big.Int `json:"minDifficulty"`
	// MaxFutureDrift bounds how far, in seconds, a header's time may be ahead
	// of the local clock; 0 disables the check (dev networks, where
	// evm_increaseTime moves block time ahead of the clock).
	MaxFutureDrift uint64 `json:"maxFutureDrift"`
	// MaxBitcoinTimeDrift bounds |bitcoinHeader.time - header.Time| (strictly
	// less than, as RSKIP179); 0 disables the check.
	MaxBitcoinTimeDrift uint64 `json:"maxBitcoinTimeDrift"`
	// MaxExtraSize caps header.Extra: geth core enforces no limit itself.
	MaxExtraSize uint64 `json:"maxExtraSize"`
	// Anchor chooses the block ASERT is anchored at (daa.go): AnchorGenesis
	// (the default, "" meaning the same) or AnchorFirstBlock, for networks
	// whose genesis time is a fixed past value (dev, regtest).
	Anchor string `json:"anchor,omitempty"`
	// Dev marks a development network: its blocks may carry dev operations
	// (state set by fiat) and impersonated transactions (devops.go). Every
	// other network refuses both.
	Dev bool `json:"dev,omitempty"`
}

// ASERT anchors (Params.Anchor).
const (
	AnchorGenesis    = "genesis"
	AnchorFirstBlock = "firstBlock"
)

// anchoredAtFirstBlock reports whether ASERT is anchored at block 1.
func (p *Params) anchoredAtFirstBlock() bool { return p.Anchor == AnchorFirstBlock }

// Validate reports the first parameter that would make the engine unusable;
// the error wraps ErrInvalidParams.
func (p *Params) Validate() error {
	switch {
	case p.Tag == "":
		return fmt.Errorf("%w: tag missing", ErrInvalidParams)
	case p.TargetSpacing == 0:
		return fmt.Errorf("%w: targetSpacing must be positive", ErrInvalidParams)
	case p.HalfLife == 0:
		return fmt.Errorf("%w: halfLife must be positive", ErrInvalidParams)
	case p.MinDifficulty == nil || p.MinDifficulty.Sign() <= 0:
		return fmt.Errorf("%w: minDifficulty must be positive", ErrInvalidParams)
	case p.MinDifficulty.Cmp(two256) > 0:
		return fmt.Errorf("%w: minDifficulty above 2^256", ErrInvalidParams)
	case p.MaxExtraSize == 0:
		return fmt.Errorf("%w: maxExtraSize must be positive", ErrInvalidParams)
	case p.Anchor != "" && p.Anchor != AnchorGenesis && p.Anchor != AnchorFirstBlock:
		return fmt.Errorf("%w: anchor %q: want %q or %q", ErrInvalidParams, p.Anchor, AnchorGenesis, AnchorFirstBlock)
	}
	return nil
}
