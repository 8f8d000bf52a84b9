package miner

import (
	"math"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// BitcoinShareWindow is how many recent blocks the share of real Bitcoin
// blocks among the proofs is measured over.
const BitcoinShareWindow = 100

// HeaderReader is the part of the chain the statistics read.
type HeaderReader interface {
	GetHeader(hash common.Hash, number uint64) *types.Header
}

// MergeMiningStats describe the proofs at and below a head, for the
// node's metrics. NaN marks what no proof tells yet (a chain of only its
// genesis).
type MergeMiningStats struct {
	Head         common.Hash
	Difficulty   float64 // the head's seal difficulty: expected hashes per block
	Hashrate     float64 // difficulty per target spacing, hashes per second
	ProofTime    int64   // the head proof's Bitcoin header time, 0 if none
	BitcoinShare float64 // share of recent proofs that are whole Bitcoin blocks
}

// ProofAge is how old the head's proof is at now, in seconds, NaN if the
// head has none. A Bitcoin header may be dated a little ahead of the
// clock; that is a fresh proof, not a negative age.
func (s *MergeMiningStats) ProofAge(now time.Time) float64 {
	if s.ProofTime == 0 {
		return math.NaN()
	}
	return max(now.Sub(time.Unix(s.ProofTime, 0)).Seconds(), 0)
}

// MeasureMergeMining reads at most BitcoinShareWindow headers back from
// head, decoding each seal once; spacing is the network's target block
// spacing in seconds.
func MeasureMergeMining(chain HeaderReader, head *types.Header, spacing uint64) MergeMiningStats {
	s := MergeMiningStats{Head: head.Hash(), Difficulty: math.NaN(), Hashrate: math.NaN(), BitcoinShare: math.NaN()}
	proofs, blocks := 0, 0
	for h := head; h != nil && proofs < BitcoinShareWindow; h = chain.GetHeader(h.ParentHash, h.Number.Uint64()-1) {
		seal, err := consensus.DecodeSeal(h.Extra)
		if h == head && err == nil {
			s.Difficulty, _ = new(big.Float).SetInt(seal.Difficulty).Float64()
			s.Hashrate = s.Difficulty / float64(max(spacing, 1))
		}
		if err == nil && seal.Proof != nil {
			if btc, err := mergemine.ParseHeader(seal.Proof.BitcoinHeader); err == nil {
				if h == head {
					s.ProofTime = btc.Timestamp.Unix()
				}
				proofs++
				if mergemine.IsBitcoinBlock(seal.Proof.BitcoinHeader) {
					blocks++
				}
			}
		}
		if h.Number.Sign() == 0 {
			break
		}
	}
	if proofs > 0 {
		s.BitcoinShare = float64(blocks) / float64(proofs)
	}
	return s
}
