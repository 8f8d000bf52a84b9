package rpc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
)

// Arguments are math.HexOrDecimal64: Hardhat scripts pass plain JSON numbers
// (evm_increaseTime [3600]) as often as hex strings.

// evmAPI is the dev-mode evm namespace of Hardhat and anvil, delegated to the
// node's Dev. It is registered only when Config.Dev is set.
type evmAPI struct{ s *Service }

// mineOptions is evm_mine's optional parameter: a timestamp, or anvil's
// {timestamp, blocks}.
type mineOptions struct {
	timestamp *math.HexOrDecimal64
	blocks    *math.HexOrDecimal64
}

func (o *mineOptions) UnmarshalJSON(b []byte) error {
	var ts math.HexOrDecimal64
	if err := json.Unmarshal(b, &ts); err == nil {
		o.timestamp = &ts
		return nil
	}
	var obj struct {
		Timestamp *math.HexOrDecimal64 `json:"timestamp"`
		Blocks    *math.HexOrDecimal64 `json:"blocks"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("want a timestamp or {timestamp, blocks}: %v", err)
	}
	o.timestamp, o.blocks = obj.Timestamp, obj.Blocks
	return nil
}

// Mine seals one block now (or opts.blocks blocks), the first at
// opts.timestamp if given, which must be after the head's: anvil refuses an
// earlier one rather than ignore it. It answers "0x0" as anvil and Hardhat
// do.
func (api *evmAPI) Mine(ctx context.Context, opts *mineOptions) (string, error) {
	var ts uint64
	blocks := uint64(1)
	if opts != nil {
		if opts.timestamp != nil {
			ts = uint64(*opts.timestamp)
			if head := api.s.b.chain.CurrentBlock(); ts <= head.Time {
				return "", &invalidParamsError{fmt.Sprintf("Timestamp error: %d is lower than or equal to previous block's timestamp %d", ts, head.Time)}
			}
		}
		if opts.blocks != nil {
			blocks = uint64(*opts.blocks)
		}
	}
	for i := uint64(0); i < blocks; i++ {
		if _, err := api.s.cfg.Dev.Mine(ctx, ts); err != nil {
			return "", err
		}
		ts = 0
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
// offset in seconds, as a JSON number like anvil's.
func (api *evmAPI) IncreaseTime(seconds math.HexOrDecimal64) uint64 {
	return api.s.cfg.Dev.IncreaseTime(uint64(seconds))
}

// SetNextBlockTimestamp fixes the timestamp of the next block.
func (api *evmAPI) SetNextBlockTimestamp(t math.HexOrDecimal64) error {
	return api.s.cfg.Dev.SetNextBlockTimestamp(uint64(t))
}

// SetAutomine serves evm_setAutomine.
func (api *evmAPI) SetAutomine(on bool) { api.s.cfg.Dev.SetAutomine(on) }

// SetIntervalMining serves evm_setIntervalMining, in seconds as anvil takes
// it (viem's anvil mode sends seconds).
func (api *evmAPI) SetIntervalMining(seconds math.HexOrDecimal64) {
	api.s.cfg.Dev.SetIntervalMining(uint64(seconds))
}

// SetBlockGasLimit serves evm_setBlockGasLimit.
func (api *evmAPI) SetBlockGasLimit(limit math.HexOrDecimal64) (bool, error) {
	return (&anvilAPI{api.s}).SetBlockGasLimit(limit)
}
