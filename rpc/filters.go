package rpc

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/filters"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// filterAPI is geth's filter API (eth_getLogs, eth_newFilter and friends,
// eth_subscribe) with this node's limits on log queries: a block range of at
// most LogRangeLimit blocks and at most LogRangeLimit logs per answer.
//
// geth's own range limit is left off because it measures "latest" as the
// largest possible block number, which would refuse the everyday
// {fromBlock: deployment, toBlock: "latest"} query; here tags are measured
// against the current head.
type filterAPI struct {
	*filters.FilterAPI
	s *Service
}

// GetLogs returns the logs matching crit.
func (api *filterAPI) GetLogs(ctx context.Context, crit filters.FilterCriteria) ([]*types.Log, error) {
	crit = pendingIsLatest(crit)
	from, to, err := api.s.checkLogRange(crit)
	if err != nil {
		return nil, err
	}
	if logs, ok := api.s.recentLogsQuery(crit, from, to); ok {
		return api.s.checkLogCount(logs)
	}
	logs, err := api.FilterAPI.GetLogs(ctx, crit)
	if err != nil {
		return nil, err
	}
	return api.s.checkLogCount(logs)
}

// NewFilter installs a log filter; its range is checked as eth_getLogs' is.
func (api *filterAPI) NewFilter(crit filters.FilterCriteria) (gethrpc.ID, error) {
	crit = pendingIsLatest(crit)
	if _, _, err := api.s.checkLogRange(crit); err != nil {
		return "", err
	}
	return api.FilterAPI.NewFilter(crit)
}

// GetFilterLogs returns every log matching an installed filter.
func (api *filterAPI) GetFilterLogs(ctx context.Context, id gethrpc.ID) ([]*types.Log, error) {
	logs, err := api.FilterAPI.GetFilterLogs(ctx, id)
	if err != nil {
		return nil, err
	}
	return api.s.checkLogCount(logs)
}

// pendingIsLatest reads "pending" as "latest", as everywhere on this node
// (geth's filters would refuse it: they know no pending block either).
func pendingIsLatest(crit filters.FilterCriteria) filters.FilterCriteria {
	pending := big.NewInt(gethrpc.PendingBlockNumber.Int64())
	latest := big.NewInt(gethrpc.LatestBlockNumber.Int64())
	if crit.FromBlock != nil && crit.FromBlock.Cmp(pending) == 0 {
		crit.FromBlock = latest
	}
	if crit.ToBlock != nil && crit.ToBlock.Cmp(pending) == 0 {
		crit.ToBlock = latest
	}
	return crit
}

// checkLogRange refuses a block range wider than the limit and returns the
// range's ends resolved. A block-hash query has no range.
func (s *Service) checkLogRange(crit filters.FilterCriteria) (from, to uint64, err error) {
	if crit.BlockHash != nil {
		return 0, 0, nil
	}
	if from, err = s.logRangeEnd(crit.FromBlock); err != nil {
		return 0, 0, err
	}
	if to, err = s.logRangeEnd(crit.ToBlock); err != nil {
		return 0, 0, err
	}
	if to > from && to-from >= s.cfg.LogRangeLimit {
		return 0, 0, &invalidParamsError{fmt.Sprintf("block range %d..%d is more than %d blocks; query a smaller range", from, to, s.cfg.LogRangeLimit)}
	}
	return from, to, nil
}

// logRangeEnd resolves one end of a log range; nil is "latest", negative
// numbers are the tags as FilterCriteria encodes them (its decoder has
// already refused numbers beyond int64).
func (s *Service) logRangeEnd(n *big.Int) (uint64, error) {
	if n == nil {
		return s.b.resolveNumber(gethrpc.LatestBlockNumber)
	}
	return s.b.resolveNumber(gethrpc.BlockNumber(n.Int64()))
}

// checkLogCount refuses an answer with more logs than the limit, rather than
// sending a truncated list a client would take as complete.
func (s *Service) checkLogCount(logs []*types.Log) ([]*types.Log, error) {
	if uint64(len(logs)) > s.cfg.LogRangeLimit {
		return nil, &codedError{codeLimitExceeded, fmt.Sprintf("query returned more than %d results; narrow the block range or the filter", s.cfg.LogRangeLimit)}
	}
	return logs, nil
}

// Logs returns the logs of canonical blocks from..to that match addresses
// and topics (eth_getLogs' rules, without its range limit: the caller
// pages), for the node's own namespaces.
func (s *Service) Logs(ctx context.Context, from, to uint64, addresses []common.Address, topics [][]common.Hash) ([]*types.Log, error) {
	return s.filterSys.NewRangeFilter(int64(from), int64(to), addresses, topics, 0).Logs(ctx)
}
