package fed

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

// PegIn is one registerPegIn a relayer sent.
type PegIn struct {
	Txid      chainhash.Hash
	Vout      uint32
	Recipient common.Address
	ValueSat  int64
	BtcHeight int64
	Receipt   *types.Receipt
}

// watcher is the relayer's memory of deposits: the watched recipients and
// their scripts under the active epoch, the Bitcoin blocks it scanned for
// payments to them, and the deposits found there. It is rebuilt from the
// chains after a restart: the node's list from cursor 0, and the last
// maxForkDepth Bitcoin blocks scanned again.
type watcher struct {
	recipients []common.Address
	cursor     uint64 // next mm_watchedDeposits index
	epoch      uint16
	scripts    map[string]common.Address // scriptPubKey → recipient, for epoch
	derived    map[common.Address]bool   // recipients in scripts
	scanned    map[int64]chainhash.Hash  // best-chain blocks scanned, by height
	top        int64                     // highest height scanned; 0 before the first scan
	// pending are outputs paying a watched address, found in a block of the
	// node's best chain and not yet registered, with their recipients.
	pending map[wire.OutPoint]common.Address
}

func newWatcher(recipients []common.Address) *watcher {
	return &watcher{recipients: recipients, scanned: make(map[int64]chainhash.Hash), pending: make(map[wire.OutPoint]common.Address)}
}

// pegIns finds payments to watched deposit addresses in new Bitcoin blocks
// and registers each one whose block BtcRelay holds with enough
// confirmations (PEG.md §4.4 a). Every registerPegIn is pre-checked with
// eth_call: a revert is logged decoded and the deposit tried again next
// round (AlreadyProcessed drops it: someone else relayed it).
func (r *Relayer) pegIns(ctx context.Context, view *bridge.View) ([]PegIn, error) {
	w := r.watch
	if err := r.refreshWatch(ctx, view); err != nil {
		return nil, err
	}
	if len(w.scripts) == 0 {
		return nil, nil
	}
	if err := r.scan(ctx); err != nil {
		return nil, err
	}
	pol, err := view.Policy()
	if err != nil {
		return nil, fmt.Errorf("Bridge.policy: %w", err)
	}
	var done []PegIn
	for op, recipient := range w.pending {
		dep, err := view.GetDeposit(common.Hash(op.Hash), op.Index)
		if err != nil {
			return done, fmt.Errorf("Bridge.getDeposit: %w", err)
		}
		if dep.Status != bridge.StatusNone {
			delete(w.pending, op) // registered, by us or by anyone
			continue
		}
		var (
			out    *btcrpc.TxOut
			height int64
			block  *wire.MsgBlock
		)
		if err := timed(ctx, func(c context.Context) (err error) {
			out, height, block, err = r.cfg.Bitcoin.TxBlock(c, op.Hash, op.Index)
			return err
		}); err != nil {
			return done, fmt.Errorf("Bitcoin node: %w", err)
		}
		if out == nil {
			// Gone from the best chain (a reorg; the scan finds it again
			// if it is mined anew) or spent unregistered.
			delete(w.pending, op)
			continue
		}
		if block == nil {
			continue // back in the mempool after a reorg
		}
		confs, err := view.Confirmations(common.Hash(block.BlockHash()))
		if err != nil {
			return done, fmt.Errorf("BtcRelay.confirmations: %w", err)
		}
		if need := pol.RequiredConfirmations(uint64(out.ValueSat)); confs < need {
			r.cfg.Log.Debug("Deposit waits for confirmations", "txid", op.Hash, "vout", op.Index, "have", confs, "need", need)
			continue
		}
		p, err := r.registerPegIn(ctx, block, height, op, recipient)
		if err != nil {
			var re *bridge.RevertError
			if errors.As(err, &re) && re.Name == "AlreadyProcessed" {
				delete(w.pending, op)
				continue
			}
			// Logged decoded, and tried again next round: the others go on.
			r.cfg.Log.Warn("registerPegIn failed", "txid", op.Hash, "vout", op.Index, "recipient", recipient, "err", err)
			continue
		}
		p.ValueSat = out.ValueSat
		delete(w.pending, op)
		done = append(done, *p)
	}
	return done, nil
}

// registerPegIn builds the proof of output op from its block and sends it.
func (r *Relayer) registerPegIn(ctx context.Context, block *wire.MsgBlock, height int64, op wire.OutPoint, recipient common.Address) (*PegIn, error) {
	for _, tx := range block.Transactions {
		if tx.TxHash() != op.Hash {
			continue
		}
		proof, err := bridge.NewPegInProof(block, uint32(height), tx, op.Index, recipient)
		if err != nil {
			return nil, err
		}
		receipt, err := r.send(ctx, "registerPegIn", bridge.BridgeAddress, proof.Input())
		if err != nil {
			return nil, err
		}
		r.cfg.Log.Info("Registered peg-in", "txid", op.Hash, "vout", op.Index, "recipient", recipient, "btcHeight", height,
			"txBytes", len(proof.BtcTx), "gas", receipt.GasUsed, "block", receipt.BlockNumber, "tx", receipt.TxHash)
		return &PegIn{Txid: op.Hash, Vout: op.Index, Recipient: recipient, BtcHeight: height, Receipt: receipt}, nil
	}
	return nil, fmt.Errorf("transaction %s is not in block %s", op.Hash, block.BlockHash())
}

// refreshWatch adds the sidechain node's new watch registrations and
// derives every recipient's script anew when the active epoch changed.
func (r *Relayer) refreshWatch(ctx context.Context, view *bridge.View) error {
	w := r.watch
	if r.cfg.WatchNode {
		for {
			var page struct {
				Deposits []struct {
					Recipient common.Address `json:"recipient"`
				} `json:"deposits"`
				Next hexutil.Uint64 `json:"next"`
			}
			if err := timed(ctx, func(c context.Context) error {
				return r.cfg.Sidechain.Client().CallContext(c, &page, "mm_watchedDeposits", hexutil.Uint64(w.cursor))
			}); err != nil {
				return fmt.Errorf("mm_watchedDeposits: %w", err) // the node says so when it lacks --peg.watch
			}
			if len(page.Deposits) == 0 {
				break
			}
			for _, d := range page.Deposits {
				w.recipients = append(w.recipients, d.Recipient)
			}
			w.cursor = uint64(page.Next)
		}
	}
	epoch, err := view.ActiveEpoch()
	if err != nil {
		return fmt.Errorf("Bridge.activeEpoch: %w", err)
	}
	if w.scripts == nil || epoch != w.epoch {
		w.scripts, w.derived, w.epoch = make(map[string]common.Address), make(map[common.Address]bool), epoch
	}
	for _, rc := range w.recipients {
		if w.derived[rc] {
			continue
		}
		// The Bridge's own derivation: the program registerPegIn compares.
		_, program, err := view.DepositScript(rc, epoch)
		if err != nil {
			return fmt.Errorf("Bridge.depositScript(%v): %w", rc, err)
		}
		w.scripts[string(append([]byte{0x00, 0x20}, program[:]...))] = rc
		w.derived[rc] = true
	}
	return nil
}

// scan reads the Bitcoin node's best-chain blocks it has not scanned, going
// back first to where its chain and the scanned one agree (a Bitcoin
// reorg), and notes every output paying a watched script.
func (r *Relayer) scan(ctx context.Context) error {
	w := r.watch
	var tip int64
	if err := timed(ctx, func(c context.Context) (err error) {
		tip, err = r.cfg.Bitcoin.BlockCount(c)
		return err
	}); err != nil {
		return fmt.Errorf("Bitcoin node: %w", err)
	}
	floor := max(1, tip-int64(r.params.MaxForkDepth))
	if w.top == 0 {
		w.top = floor - 1
	}
	// Back to the highest scanned block still in the node's best chain.
	for w.top >= floor {
		if w.top <= tip {
			var hash chainhash.Hash
			if err := timed(ctx, func(c context.Context) (err error) {
				hash, err = r.cfg.Bitcoin.BlockHash(c, w.top)
				return err
			}); err != nil {
				return fmt.Errorf("Bitcoin node: %w", err)
			}
			if w.scanned[w.top] == hash {
				break
			}
		}
		delete(w.scanned, w.top)
		w.top--
	}
	for h := max(w.top+1, floor); h <= tip; h++ {
		var block *wire.MsgBlock
		if err := timed(ctx, func(c context.Context) error {
			hash, err := r.cfg.Bitcoin.BlockHash(c, h)
			if err != nil {
				return err
			}
			block, err = r.cfg.Bitcoin.Block(c, hash)
			return err
		}); err != nil {
			return fmt.Errorf("Bitcoin node: %w", err)
		}
		// A coinbase output is never a deposit (PEG.md §4.2).
		for _, tx := range block.Transactions[1:] {
			for i, out := range tx.TxOut {
				if rc, ok := w.scripts[string(out.PkScript)]; ok {
					op := wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}
					if _, seen := w.pending[op]; !seen {
						r.cfg.Log.Info("Deposit seen", "txid", op.Hash, "vout", op.Index, "recipient", rc, "valueSat", out.Value, "btcHeight", h)
					}
					w.pending[op] = rc
				}
			}
		}
		w.scanned[h] = block.BlockHash()
		delete(w.scanned, h-int64(r.params.MaxForkDepth)-1)
		w.top = h
	}
	return nil
}
