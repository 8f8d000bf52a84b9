package rpc

import (
	"context"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
)

// Arguments are math.HexOrDecimal64: Hardhat scripts pass plain JSON numbers
// (evm_increaseTime [3600]) as often as hex strings.

// evmAPI is the dev-mode evm namespace of Hardhat and anvil, delegated to the
// node's Dev. It is registered only when Config.Dev is set.
type evmAPI struct{ s *Service }

// Mine seals one block now, at timestamp if given. It answers "0x0" as
// Hardhat does.
func (api *evmAPI) Mine(ctx context.Context, timestamp *math.HexOrDecimal64) (string, error) {
	var ts uint64
	if timestamp != nil {
		ts = uint64(*timestamp)
	}
	if _, err := api.s.cfg.Dev.Mine(ctx, ts); err != nil {
		return "", err
	}
	return "0x0", nil
}

// Snapshot records the chain state and returns its id.
func (api *evmAPI) Snapshot() hexutil.Uint64 {
	return hexutil.Uint64(api.s.cfg.Dev.Snapshot())
}

// Revert goes back to a snapshot; false if there is no such snapshot.
func (api *evmAPI) Revert(id math.HexOrDecimal64) (bool, error) {
	return api.s.cfg.Dev.Revert(uint64(id))
}

// IncreaseTime moves the clock of future blocks forward and returns the total
// offset in seconds.
func (api *evmAPI) IncreaseTime(seconds math.HexOrDecimal64) hexutil.Uint64 {
	return hexutil.Uint64(api.s.cfg.Dev.IncreaseTime(uint64(seconds)))
}

// SetNextBlockTimestamp fixes the timestamp of the next block.
func (api *evmAPI) SetNextBlockTimestamp(t math.HexOrDecimal64) error {
	return api.s.cfg.Dev.SetNextBlockTimestamp(uint64(t))
}
