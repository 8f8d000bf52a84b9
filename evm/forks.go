package evm

import (
	"math/big"

	"github.com/ethereum/go-ethereum/params"
)

// ChainConfig returns the fork schedule shared by every network: all block
// forks at 0, Shanghai through Osaka at time 0, merged at genesis.
//
// Amsterdam stays off: it needs header fields (slot number, access-list
// hash) that a merged-mined chain has no source for. The blob schedule is
// present only because geth refuses a Cancun config without one; blob
// transactions themselves never enter a block (no blob pool, and the engine
// requires BlobGasUsed == 0).
func ChainConfig(chainID *big.Int) *params.ChainConfig {
	zero := uint64(0)
	return &params.ChainConfig{
		ChainID:                 new(big.Int).Set(chainID),
		HomesteadBlock:          new(big.Int),
		EIP150Block:             new(big.Int),
		EIP155Block:             new(big.Int),
		EIP158Block:             new(big.Int),
		ByzantiumBlock:          new(big.Int),
		ConstantinopleBlock:     new(big.Int),
		PetersburgBlock:         new(big.Int),
		IstanbulBlock:           new(big.Int),
		MuirGlacierBlock:        new(big.Int),
		BerlinBlock:             new(big.Int),
		LondonBlock:             new(big.Int),
		ArrowGlacierBlock:       new(big.Int),
		GrayGlacierBlock:        new(big.Int),
		ShanghaiTime:            &zero,
		CancunTime:              &zero,
		PragueTime:              &zero,
		OsakaTime:               &zero,
		TerminalTotalDifficulty: new(big.Int),
		BlobScheduleConfig: &params.BlobScheduleConfig{
			Cancun: params.DefaultCancunBlobConfig,
			Prague: params.DefaultPragueBlobConfig,
		},
	}
}
