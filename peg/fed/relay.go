package fed

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/metrics"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

const (
	// rpcTimeout bounds every call to either node, so that a hung node
	// fails the round instead of stalling the relay.
	rpcTimeout = 10 * time.Second
	// maxBackoff caps the delay between rounds while a node is down.
	maxBackoff = time.Minute
	// fetchBatches bounds the headers read in one round, in batches: a
	// relay catching up from far behind submits them, then reads on, so
	// that the node is never asked for tens of thousands of headers at once.
	fetchBatches = 8
)

// ErrDiverged: the Bitcoin node has no block in common with BtcRelay's best
// chain within maxForkDepth of its tip. The node follows another Bitcoin
// network (or was reset, as btcd does to its regtest chain on every start),
// or Bitcoin reorganized deeper than BtcRelay can follow (PEG.md §2.4).
var ErrDiverged = errors.New("the Bitcoin node's chain does not meet BtcRelay's within maxForkDepth")

// RelayConfig is what a Relayer runs with.
type RelayConfig struct {
	Bitcoin *btcrpc.Client
	// Sidechain is a client of the mmgeth node whose BtcRelay is kept; an
	// HTTP client reconnects per call, so a node going away is retried.
	Sidechain *ethclient.Client
	// Key pays for the receiveHeaders transactions.
	Key *ecdsa.PrivateKey
	// Interval is the time between rounds while all is well.
	Interval time.Duration
	Log      *slog.Logger
	// Metrics receives the relay's metrics (mmfed relay --metrics passes
	// geth's default registry); nil keeps them private.
	Metrics metrics.Registry
	// Watch are recipients whose deposits the relayer registers
	// (registerPegIn) once BtcRelay gives them their confirmations;
	// WatchNode adds those the sidechain node watches (mmgeth --peg.watch,
	// mm_watchedDeposits). Neither: headers only.
	Watch     []common.Address
	WatchNode bool
}

// Relayer keeps BtcRelay in step with a Bitcoin node (see the package
// documentation). Its methods are not safe for concurrent use.
type Relayer struct {
	cfg     RelayConfig
	from    common.Address
	metrics *relayMetrics

	// Read from the sidechain on the first round that reaches it; they are
	// fixed for the life of a chain.
	signer           types.Signer
	chainID          *big.Int
	params           bridge.RelayParams
	checkpointHeight uint32

	watch *watcher // nil: headers only
}

// NewRelayer checks cfg and returns a relayer; it makes no call yet, so
// either node may still be down.
func NewRelayer(cfg RelayConfig) (*Relayer, error) {
	switch {
	case cfg.Bitcoin == nil || cfg.Sidechain == nil:
		return nil, errors.New("relay: a Bitcoin node and a sidechain node are both needed")
	case cfg.Key == nil:
		return nil, errors.New("relay: no key to pay for the transactions")
	case cfg.Interval <= 0:
		return nil, fmt.Errorf("relay: interval must be positive, got %v", cfg.Interval)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewRegistry()
	}
	r := &Relayer{cfg: cfg, from: crypto.PubkeyToAddress(cfg.Key.PublicKey), metrics: newRelayMetrics(cfg.Metrics)}
	if len(cfg.Watch) > 0 || cfg.WatchNode {
		r.watch = newWatcher(slices.Clone(cfg.Watch))
	}
	return r, nil
}

// Address is the account that pays for the relay.
func (r *Relayer) Address() common.Address { return r.from }

// Round is what one Sync saw and did.
type Round struct {
	// Relay is BtcRelay's tip when the round ended.
	Relay bridge.BestChain
	// Bitcoin and BitcoinHeight are the node's tip when the round began.
	Bitcoin       chainhash.Hash
	BitcoinHeight int64
	// NoMoreWork: the node's branch from the fork point has no more work
	// than BtcRelay's best chain (the node is behind, or holds an
	// equal-work sibling), so nothing was submitted.
	NoMoreWork bool
	// Receipts of the receiveHeaders transactions, in order, and the
	// headers they carried.
	Receipts []*types.Receipt
	Headers  int
	// PegIns are the deposits this round registered.
	PegIns []PegIn
}

// InSync reports whether BtcRelay's tip was the node's tip at the end.
func (rd *Round) InSync() bool { return rd.Relay.Hash == common.Hash(rd.Bitcoin) }

// Run syncs every interval until ctx ends, backing off while rounds fail.
// It returns only when ctx is done.
func (r *Relayer) Run(ctx context.Context) {
	runRounds(ctx, "Relay", r.cfg.Interval, r.cfg.Log, func(ctx context.Context) (bool, error) {
		round, err := r.Sync(ctx)
		// Blocks that came while the transaction was mined, or the rest of
		// a long catch-up, go in the next sidechain block.
		return err == nil && (round.Headers > 0 || len(round.PegIns) > 0), err
	})
}

// runRounds runs round every interval until ctx ends, at once again when
// it did something that may enable the next step, and backing off (up to
// maxBackoff) while it fails.
func runRounds(ctx context.Context, what string, interval time.Duration, log *slog.Logger, round func(context.Context) (again bool, err error)) {
	failures := 0
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		again, err := round(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			wait = min(interval<<min(failures, 16), maxBackoff)
			log.Warn(what+" round failed", "err", err, "failures", failures, "retry", wait)
			continue
		}
		if failures > 0 {
			log.Info(what+" recovered", "after", failures)
		}
		failures, wait = 0, interval
		if again {
			wait = 0
		}
	}
}

// Sync makes one round: it brings BtcRelay to the node's best chain, or
// says why it cannot, then registers the watched deposits that BtcRelay
// now confirms enough.
func (r *Relayer) Sync(ctx context.Context) (*Round, error) {
	rd, err := r.sync(ctx)
	if err != nil && ctx.Err() == nil {
		r.metrics.errors.Inc(1)
		r.metrics.tick(time.Now())
	}
	return rd, err
}

func (r *Relayer) sync(ctx context.Context) (*Round, error) {
	if err := r.init(ctx); err != nil {
		return nil, err
	}
	view := r.view(ctx)
	rd, err := r.syncHeaders(ctx, view)
	if err != nil || r.watch == nil {
		return rd, err
	}
	rd.PegIns, err = r.pegIns(ctx, view)
	return rd, err
}

// syncHeaders brings BtcRelay to the node's best chain.
func (r *Relayer) syncHeaders(ctx context.Context, view *bridge.View) (*Round, error) {
	relay, err := view.BestChain()
	if err != nil {
		return nil, fmt.Errorf("BtcRelay.bestChain: %w", err)
	}
	rd := &Round{Relay: relay}
	if err := timed(ctx, func(c context.Context) (err error) {
		if rd.BitcoinHeight, err = r.cfg.Bitcoin.BlockCount(c); err != nil {
			return err
		}
		rd.Bitcoin, err = r.cfg.Bitcoin.BlockHash(c, rd.BitcoinHeight)
		return err
	}); err != nil {
		return nil, fmt.Errorf("Bitcoin node: %w", err)
	}
	r.metrics.observe(relay.Height, rd.BitcoinHeight, rd.InSync(), time.Now())
	if rd.InSync() {
		return rd, nil
	}
	fork, forkHash, err := r.forkPoint(ctx, view, relay, rd.BitcoinHeight)
	if err != nil {
		return nil, err
	}
	if rd.BitcoinHeight <= int64(fork) {
		// The node's tip is on BtcRelay's best chain, below its tip.
		rd.NoMoreWork = true
		r.metrics.observe(relay.Height, rd.BitcoinHeight, true, time.Now())
		return rd, nil
	}
	to := min(rd.BitcoinHeight, int64(fork)+fetchBatches*int64(r.params.MaxHeadersPerCall))
	headers, err := r.fetch(ctx, fork, forkHash, to)
	if err != nil {
		return nil, err
	}
	if fork < relay.Height && to == rd.BitcoinHeight {
		// The node's branch would replace BtcRelay's best chain: only
		// worth the gas with more work. (A branch read only in part is
		// submitted: the node holds it as its best chain, so it is the
		// heavier one once complete.)
		info, err := view.HeaderInfo(forkHash)
		if err != nil {
			return nil, fmt.Errorf("BtcRelay.headerInfo: %w", err)
		}
		work := new(big.Int).Set(info.Chainwork)
		for i := range headers {
			work.Add(work, blockchain.CalcWork(headers[i].Bits))
		}
		if work.Cmp(relay.Chainwork) <= 0 {
			rd.NoMoreWork = true
			r.metrics.observe(relay.Height, rd.BitcoinHeight, true, time.Now())
			return rd, nil
		}
	}
	height := fork + 1
	for len(headers) > 0 {
		n := min(len(headers), int(r.params.MaxHeadersPerCall))
		receipt, err := r.submit(ctx, headers[:n])
		for errors.Is(err, errTooMuchGas) && n > 1 {
			n /= 2
			receipt, err = r.submit(ctx, headers[:n])
		}
		if err != nil {
			return rd, fmt.Errorf("headers %d..%d: %w", height, height+uint32(n)-1, err)
		}
		rd.Receipts = append(rd.Receipts, receipt)
		rd.Headers += n
		r.metrics.headers.Inc(int64(n))
		r.metrics.gas.Inc(int64(receipt.GasUsed))
		r.cfg.Log.Info("Relayed Bitcoin headers", "from", height, "to", height+uint32(n)-1, "count", n,
			"gas", receipt.GasUsed, "gasPerHeader", receipt.GasUsed/uint64(n),
			"block", receipt.BlockNumber, "tx", receipt.TxHash)
		for _, l := range receipt.Logs {
			if ev, ok := bridge.ParseBtcReorg(l); ok {
				r.cfg.Log.Info("BtcRelay followed a Bitcoin reorg", "fork", ev.ForkHeight, "depth", ev.Depth,
					"old", chainhash.Hash(ev.OldBest), "new", chainhash.Hash(ev.NewBest))
			}
		}
		headers = headers[n:]
		height += uint32(n)
	}
	if rd.Relay, err = view.BestChain(); err != nil {
		return rd, fmt.Errorf("BtcRelay.bestChain: %w", err)
	}
	r.metrics.observe(rd.Relay.Height, rd.BitcoinHeight, rd.InSync(), time.Now())
	return rd, nil
}

// init learns the chain's constants on the first round that reaches the
// sidechain node.
func (r *Relayer) init(ctx context.Context) error {
	if r.signer != nil {
		return nil
	}
	var chainID *big.Int
	if err := timed(ctx, func(c context.Context) (err error) {
		chainID, err = r.cfg.Sidechain.ChainID(c)
		return err
	}); err != nil {
		return fmt.Errorf("sidechain node: eth_chainId: %w", err)
	}
	view := r.view(ctx)
	params, err := view.Params()
	if err != nil {
		return fmt.Errorf("BtcRelay.params: %w", err)
	}
	_, cpHeight, err := view.Checkpoint()
	if err != nil {
		return fmt.Errorf("BtcRelay.checkpoint: %w", err)
	}
	if params.MaxHeadersPerCall == 0 {
		return errors.New("BtcRelay.params: maxHeadersPerCall is 0")
	}
	r.params, r.checkpointHeight = params, cpHeight
	r.chainID, r.signer = chainID, types.LatestSignerForChainID(chainID)
	r.cfg.Log.Info("Relaying to BtcRelay", "chainId", chainID, "relayer", r.from, "maxHeadersPerCall", params.MaxHeadersPerCall,
		"maxForkDepth", params.MaxForkDepth, "checkpoint", cpHeight)
	return nil
}

// forkPoint is the highest height at or below both tips where BtcRelay's
// best chain and the node's agree, and BtcRelay's hash there.
func (r *Relayer) forkPoint(ctx context.Context, view *bridge.View, relay bridge.BestChain, btcHeight int64) (uint32, common.Hash, error) {
	start := min(int64(relay.Height), btcHeight)
	floor := max(int64(r.checkpointHeight), int64(relay.Height)-int64(r.params.MaxForkDepth))
	for h := start; ; h-- {
		ours, err := view.BlockHashAt(uint32(h))
		if err != nil {
			return 0, common.Hash{}, fmt.Errorf("BtcRelay.blockHashAt(%d): %w", h, err)
		}
		var theirs chainhash.Hash
		if err := timed(ctx, func(c context.Context) (err error) {
			theirs, err = r.cfg.Bitcoin.BlockHash(c, h)
			return err
		}); err != nil {
			return 0, common.Hash{}, fmt.Errorf("Bitcoin node: %w", err)
		}
		if ours == common.Hash(theirs) {
			return uint32(h), ours, nil
		}
		if h <= floor {
			return 0, common.Hash{}, fmt.Errorf("%w: no common block from height %d down to %d (BtcRelay at %d, node at %d): "+
				"is --btc.rpc a node of BtcRelay's Bitcoin network?", ErrDiverged, start, h, relay.Height, btcHeight)
		}
	}
}

// fetch reads the node's best-chain headers fork+1..to, checking that they
// link up from forkHash.
func (r *Relayer) fetch(ctx context.Context, fork uint32, forkHash common.Hash, to int64) ([]wire.BlockHeader, error) {
	headers := make([]wire.BlockHeader, 0, to-int64(fork))
	prev := chainhash.Hash(forkHash)
	for h := int64(fork) + 1; h <= to; h++ {
		var hdr *wire.BlockHeader
		if err := timed(ctx, func(c context.Context) error {
			hash, err := r.cfg.Bitcoin.BlockHash(c, h)
			if err != nil {
				return err
			}
			hdr, err = r.cfg.Bitcoin.BlockHeader(c, hash)
			return err
		}); err != nil {
			return nil, fmt.Errorf("Bitcoin node: %w", err)
		}
		if hdr.PrevBlock != prev {
			return nil, fmt.Errorf("the Bitcoin node's best chain changed while its headers were read (at height %d)", h)
		}
		headers = append(headers, *hdr)
		prev = hdr.BlockHash()
	}
	return headers, nil
}

// timed runs one call to either node under rpcTimeout.
func timed(ctx context.Context, call func(context.Context) error) error {
	c, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	return call(c)
}

// serialize is the receiveHeaders payload: n×80 bytes, parent first.
func serialize(headers []wire.BlockHeader) []byte {
	var buf bytes.Buffer
	buf.Grow(len(headers) * wire.MaxBlockHeaderPayload)
	for i := range headers {
		_ = headers[i].Serialize(&buf) // writing to a bytes.Buffer cannot fail
	}
	return buf.Bytes()
}
