package miner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"

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

// DevMiner is the built-in merge-miner of dev networks.
type DevMiner struct {
	cfg DevMinerConfig

	mu            sync.Mutex // one block at a time, so blocks never race for a parent
	timeOffset    uint64     // evm_increaseTime
	nextTimestamp uint64     // evm_setNextBlockTimestamp, used once

	quit chan struct{}
	wg   sync.WaitGroup
}

// NewDevMiner returns a dev miner; Start begins sealing.
func NewDevMiner(cfg DevMinerConfig) *DevMiner {
	return &DevMiner{cfg: cfg, quit: make(chan struct{})}
}

// Start seals blocks on new transactions, or every Period.
func (d *DevMiner) Start() error {
	txs := make(chan core.NewTxsEvent, 1024)
	sub := d.cfg.Pool.SubscribeTransactions(txs, false)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer sub.Unsubscribe()
		var tick <-chan time.Time
		if d.cfg.Period > 0 {
			ticker := time.NewTicker(d.cfg.Period)
			defer ticker.Stop()
			tick = ticker.C
		}
		for {
			select {
			case <-txs:
				if d.cfg.Period > 0 {
					continue
				}
				drain(txs)
				d.mineAll()
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

// Stop ends sealing.
func (d *DevMiner) Stop() error {
	close(d.quit)
	d.wg.Wait()
	return nil
}

func drain(ch chan core.NewTxsEvent) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// mineAll seals blocks until one comes out not full: a burst larger than a
// block must not wait for the next transaction to be included.
func (d *DevMiner) mineAll() {
	for {
		block, err := d.Mine(context.Background(), 0)
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
	d.mu.Lock()
	defer d.mu.Unlock()
	if timestamp == 0 {
		timestamp = uint64(time.Now().Unix()) + d.timeOffset
		if d.nextTimestamp != 0 {
			timestamp, d.nextTimestamp = d.nextTimestamp, 0
		}
	}
	t, err := d.cfg.Work.Build(timestamp)
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
	return res.Block, nil
}

// IncreaseTime adds to the offset of future block timestamps and returns
// the total offset.
func (d *DevMiner) IncreaseTime(seconds uint64) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timeOffset += seconds
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
