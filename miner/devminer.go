package miner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// DevMinerConfig configures a DevMiner.
type DevMinerConfig struct {
	Work *WorkServer
	Pool TxEvents
	Tag  []byte
	// Period seals a block every Period; zero seals one as soon as
	// transactions arrive (automine).
	Period time.Duration
}

// DevMiner is the built-in merge-miner of dev networks. Its mining mode
// (automine, interval) changes at run time (evm_setAutomine,
// evm_setIntervalMining), and it seals the blocks that carry dev
// operations.
type DevMiner struct {
	cfg DevMinerConfig

	mu         sync.Mutex // one block at a time, so blocks never race for a parent
	timeOffset uint64     // evm_increaseTime
	// clock is how far block time runs from the wall clock: the
	// evm_increaseTime offset, reset by every block whose timestamp was
	// chosen (evm_setNextBlockTimestamp, evm_mine with a timestamp, mining
	// at an interval) so that time goes on from that block, as on anvil and
	// Hardhat.
	clock         int64
	nextTimestamp uint64 // evm_setNextBlockTimestamp, used once
	nextBaseFee   *uint256.Int
	nextGasLimit  uint64 // 0: none

	modeMu   sync.Mutex
	automine bool
	interval time.Duration
	modeCh   chan struct{} // wakes the loop after a mode change

	txsArrived <-chan struct{} // the pool's new transactions (txSignals)

	quit chan struct{}
	wg   sync.WaitGroup
}

// NewDevMiner returns a dev miner; Start begins sealing.
func NewDevMiner(cfg DevMinerConfig) *DevMiner {
	return &DevMiner{cfg: cfg, automine: cfg.Period == 0, interval: cfg.Period,
		modeCh: make(chan struct{}, 1), quit: make(chan struct{})}
}

// Start seals blocks on new transactions (automine), or every interval.
func (d *DevMiner) Start() error {
	d.txsArrived = txSignals(d.cfg.Pool, &d.wg, d.quit)
	background := startBackground(&d.wg, d.quit)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		var (
			ticker *time.Ticker
			tick   <-chan time.Time
		)
		defer func() {
			if ticker != nil {
				ticker.Stop()
			}
		}()
		setTicker := func() {
			if ticker != nil {
				ticker.Stop()
				ticker, tick = nil, nil
			}
			if _, interval := d.mode(); interval > 0 {
				ticker = time.NewTicker(interval)
				tick = ticker.C
			}
		}
		setTicker()
		streaming := false
		for {
			select {
			case <-d.txsArrived:
				if automine, _ := d.mode(); !automine {
					break
				}
				seal := func() { d.mineAll(BuildOptions{Automine: true}) }
				if !streaming {
					seal()
				} else if !background.run(seal) {
					return
				}
				// Transactions that came in while that block was sealed
				// mean a client is sending without waiting for receipts:
				// the next blocks are sealed in the background, so that
				// its requests are served first.
				streaming = len(d.txsArrived) > 0
			case <-d.modeCh:
				setTicker()
				if automine, _ := d.mode(); automine {
					// What waited in the pool, and no empty block: one
					// would take a base fee set for the next transaction's
					// block (TestTestNodeMethodsFollowed saw it under load).
					d.mineAll(BuildOptions{Automine: true})
				}
			case <-tick:
				if _, err := d.Mine(context.Background(), 0); err != nil {
					log.Warn("Dev block not sealed", "err", err)
				}
			case <-d.quit:
				return
			}
		}
	}()
	return nil
}

func (d *DevMiner) mode() (automine bool, interval time.Duration) {
	d.modeMu.Lock()
	defer d.modeMu.Unlock()
	return d.automine, d.interval
}

func (d *DevMiner) setMode(automine bool, interval time.Duration) {
	d.modeMu.Lock()
	d.automine, d.interval = automine, interval
	d.modeMu.Unlock()
	select {
	case d.modeCh <- struct{}{}:
	default:
	}
}

// Automine reports whether a block is sealed on each transaction.
func (d *DevMiner) Automine() bool {
	automine, _ := d.mode()
	return automine
}

// SetAutomine turns sealing on each transaction on or off; turning it on
// ends interval mining, as on anvil.
func (d *DevMiner) SetAutomine(on bool) {
	_, interval := d.mode()
	if on {
		interval = 0
	}
	d.setMode(on, interval)
}

// SetInterval seals a block every interval (0 stops), and turns automine
// off while it runs.
func (d *DevMiner) SetInterval(interval time.Duration) {
	d.setMode(interval == 0 && d.Automine(), interval)
}

// Stop ends sealing.
func (d *DevMiner) Stop() error {
	close(d.quit)
	d.wg.Wait()
	return nil
}

// mineAll seals blocks until one comes out not full: a burst larger than a
// block must not wait for the next transaction to be included.
func (d *DevMiner) mineAll(opts BuildOptions) {
	for {
		block, err := d.mine(context.Background(), 0, opts)
		if errors.Is(err, ErrNothingPending) {
			return
		}
		if err != nil {
			log.Warn("Dev block not sealed", "err", err)
			return
		}
		if block.GasUsed()+21000 <= block.GasLimit() {
			return
		}
	}
}

// Mine seals one block now, with the given timestamp (0: now plus the
// evm_increaseTime offset, or the evm_setNextBlockTimestamp value).
func (d *DevMiner) Mine(ctx context.Context, timestamp uint64) (*types.Block, error) {
	return d.mine(ctx, timestamp, BuildOptions{})
}

// MineOps seals one block that carries dev operations and none of the
// pool's transactions, so that the operations apply to the state callers
// saw.
func (d *DevMiner) MineOps(ctx context.Context, ops []consensus.DevOp) (*types.Block, error) {
	return d.mine(ctx, 0, BuildOptions{Ops: ops, NoTxs: true})
}

// MineBlocks seals n blocks, each interval seconds after the previous one
// when interval is not 0 (anvil_mine, hardhat_mine).
func (d *DevMiner) MineBlocks(ctx context.Context, n, interval uint64) error {
	var timestamp uint64
	for range n {
		b, err := d.Mine(ctx, timestamp)
		if err != nil {
			return err
		}
		if interval > 0 {
			timestamp = b.Time() + interval
		}
	}
	return nil
}

// SetNextBlockBaseFee fixes the base fee of the next block.
func (d *DevMiner) SetNextBlockBaseFee(fee *uint256.Int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextBaseFee = fee
}

// SetNextGasLimit makes the next block declare this gas limit; the caller
// steers the builder to it for the blocks after.
func (d *DevMiner) SetNextGasLimit(limit uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextGasLimit = limit
}

// Reset forgets the time offset, the next timestamp, base fee and gas limit.
func (d *DevMiner) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timeOffset, d.clock, d.nextTimestamp, d.nextBaseFee, d.nextGasLimit = 0, 0, 0, nil, 0
}

// TimeOffset is the total evm_increaseTime offset.
func (d *DevMiner) TimeOffset() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.timeOffset
}

func (d *DevMiner) mine(ctx context.Context, timestamp uint64, opts BuildOptions) (*types.Block, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	chosen := timestamp != 0
	if timestamp == 0 {
		timestamp = uint64(time.Now().Unix() + d.clock)
		chosen = d.nextTimestamp != 0
		if chosen {
			timestamp = d.nextTimestamp
		}
	}
	if d.nextBaseFee != nil {
		opts.Ops = append(opts.Ops, consensus.BaseFeeOp(d.nextBaseFee))
	}
	if d.nextGasLimit != 0 {
		opts.Ops = append(opts.Ops, consensus.GasLimitOp(d.nextGasLimit))
	}
	t, err := d.cfg.Work.BuildWith(timestamp, opts)
	if err != nil {
		return nil, err
	}
	block := t.Block()
	// The synthetic Bitcoin chain links through MixDigest, which already is
	// the hash of the parent's Bitcoin header.
	header80, coinbase, err := mergemine.SyntheticShare(t.SealHash, t.Difficulty, d.cfg.Tag, chainhash.Hash(block.MixDigest()), uint32(block.Time()))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	share, err := NewShare(header80, coinbase, nil, d.cfg.Tag)
	if err != nil {
		return nil, err
	}
	res, err := d.cfg.Work.Submit(share)
	if err != nil {
		return nil, err
	}
	if res.Status != ImportedBest {
		return nil, fmt.Errorf("dev block %d not imported as head: %s", block.NumberU64(), res.Status)
	}
	// The one-shot settings are spent only by a block that made it.
	d.nextTimestamp, d.nextBaseFee, d.nextGasLimit = 0, nil, 0
	if chosen {
		d.clock = int64(res.Block.Time()) - time.Now().Unix()
	}
	return res.Block, nil
}

// IncreaseTime adds to the offset of future block timestamps and returns
// the total offset.
func (d *DevMiner) IncreaseTime(seconds uint64) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timeOffset += seconds
	d.clock += int64(seconds)
	return d.timeOffset
}

// SetNextBlockTimestamp fixes the next block's timestamp.
func (d *DevMiner) SetNextBlockTimestamp(t uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if head := d.cfg.Work.cfg.Chain.CurrentBlock(); t <= head.Time {
		return fmt.Errorf("timestamp %d is not after the head's %d", t, head.Time)
	}
	d.nextTimestamp = t
	return nil
}

// backgroundWorker runs functions one at a time on an OS thread of lower
// priority than the node's others (backgroundThread). Profiled under
// pipelined sends on two cores, the dev miner sealed a block of two or
// three transactions as each came in, a core to itself, so every send
// waited for a core that the miner or its client held. At a lower priority
// the miner seals from what the requests leave, in larger blocks: send
// round trips 290 -> 210 us. A sequential client does not use it: handing
// each block to a locked thread cost it a fifth of its rate.
type backgroundWorker struct {
	work chan func()
	done chan struct{}
	quit <-chan struct{}
}

func startBackground(wg *sync.WaitGroup, quit <-chan struct{}) *backgroundWorker {
	w := &backgroundWorker{work: make(chan func()), done: make(chan struct{}), quit: quit}
	wg.Add(1)
	go func() {
		defer wg.Done()
		backgroundThread()
		for {
			select {
			case f := <-w.work:
				f()
				w.done <- struct{}{}
			case <-quit:
				return
			}
		}
	}()
	return w
}

// run runs f in the background and waits for it; false if quit came first.
func (w *backgroundWorker) run(f func()) bool {
	select {
	case w.work <- f:
		<-w.done
		return true
	case <-w.quit:
		return false
	}
}
