package btcspv

import (
	"bytes"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// HeaderSize is the size of a serialized Bitcoin block header.
const HeaderSize = 80

// Constants that are the same on every network btcd knows; chaincfg carries
// them per network, but BtcRelay's constructor (PEG.md §2.1) does not.
const (
	// retargetFactor bounds one retarget to a factor of 4 either way
	// (chaincfg RetargetAdjustmentFactor).
	retargetFactor = 4
	// minDiffReductionTime is the testnet rule's 20 minutes
	// (chaincfg MinDiffReductionTime, twice TargetTimePerBlock).
	minDiffReductionTime = 20 * 60
	// maxFutureTime is btcd's MaxTimeOffsetSeconds: two hours.
	maxFutureTime = 2 * 60 * 60
	// maxTimeWarp is BIP-94's 600 s (btcd validate.go maxTimeWarp).
	maxTimeWarp = 600
	// medianTimeBlocks is btcd's window for the median time past.
	medianTimeBlocks = 11
	// maxHeadersPerCall keeps a full batch near 14M gas (PEG.md §2.5).
	maxHeadersPerCall = 200
)

// Params are the consensus parameters of the header chain: exactly the
// values BtcRelay's constructor receives (PEG.md §2.1), derived from btcd's
// chaincfg so that there is one source of truth.
type Params struct {
	Name                string
	PowLimit            *big.Int
	PowLimitBits        uint32
	NoRetargeting       bool // regtest: nBits is always PowLimitBits
	ReduceMinDifficulty bool // testnet: the 20-minute rule
	EnforceBIP94        bool // testnet4: time-warp rule, retarget from the period's first bits
	TargetTimespan      uint32
	RetargetInterval    uint32
	BIP34Height         uint32
	BIP66Height         uint32
	BIP65Height         uint32
	// MaxForkDepth bounds how far below the best tip a branch may fork.
	MaxForkDepth      uint32
	MaxHeadersPerCall int
}

// The networks mmgeth pegs to, with PEG.md §4.5's fork depths: a Bitcoin
// reorg deeper than these stalls the relay until a hard fork.
var (
	MainNet  = NewParams(&chaincfg.MainNetParams, 2016)
	TestNet4 = NewParams(&chaincfg.TestNet4Params, 144)
	RegTest  = NewParams(&chaincfg.RegressionNetParams, 100)
)

// NewParams derives Params from a btcd network definition.
func NewParams(net *chaincfg.Params, maxForkDepth uint32) Params {
	return Params{
		Name:                net.Name,
		PowLimit:            new(big.Int).Set(net.PowLimit),
		PowLimitBits:        net.PowLimitBits,
		NoRetargeting:       net.PoWNoRetargeting,
		ReduceMinDifficulty: net.ReduceMinDifficulty,
		EnforceBIP94:        net.EnforceBIP94,
		TargetTimespan:      uint32(net.TargetTimespan / time.Second),
		RetargetInterval:    uint32(net.TargetTimespan / net.TargetTimePerBlock),
		BIP34Height:         uint32(net.BIP0034Height),
		BIP66Height:         uint32(net.BIP0066Height),
		BIP65Height:         uint32(net.BIP0065Height),
		MaxForkDepth:        maxForkDepth,
		MaxHeadersPerCall:   maxHeadersPerCall,
	}
}

// Checkpoint is the trusted header the chain grows from: on regtest the
// genesis block, on mainnet and testnet4 a retarget boundary chosen at launch
// (its nBits must be "real" bits for the difficulty rules to start from).
type Checkpoint struct {
	Header80 [HeaderSize]byte
	Height   uint32
	// Chainwork is the cumulative work up to and including this block, as
	// btcd's block index sums it.
	Chainwork *big.Int
	// PrevTimes are the timestamps of the blocks just before the
	// checkpoint, oldest first: min(10, Height) of them, so that the median
	// time past of its first children is the real one.
	PrevTimes []uint32
}

// GenesisCheckpoint returns net's genesis block as a checkpoint.
func GenesisCheckpoint(net *chaincfg.Params) Checkpoint {
	var b bytes.Buffer
	// A header always serializes to 80 bytes into a buffer.
	_ = net.GenesisBlock.Header.Serialize(&b)
	cp := Checkpoint{Chainwork: blockchain.CalcWork(net.GenesisBlock.Header.Bits)}
	copy(cp.Header80[:], b.Bytes())
	return cp
}
