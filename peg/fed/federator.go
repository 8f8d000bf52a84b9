package fed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/btcspv"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/peg"
)

// FederatorConfig is what a Federator runs with. The Relayer it is built
// on gives the two nodes, the gas key and the transaction machinery; a
// federator sends no headers itself (a relayer, its own or anyone's, keeps
// BtcRelay current).
type FederatorConfig struct {
	Relay  RelayConfig
	Member uint8
	// Signer holds the member's Bitcoin signing key, the one whose signer
	// address the Bridge holds for Member, and applies the signing rules.
	Signer Signer
	// FeeRate, when set, is the rate this member votes (voteFeeRate)
	// whenever its last vote differs.
	FeeRate uint32
}

// Federator is one member's daemon loop (PEG.md §5.5): it builds batches
// when requests wait, signs the finalized ones its own rebuild agrees with,
// broadcasts READY ones after checking every input with btcd's script
// engine, and confirms them with an SPV proof once BtcRelay buries them.
// Like the Relayer it keeps no state but the signed log: each round reads
// everything from the two chains, so a restart is an ordinary round.
type Federator struct {
	*Relayer
	cfg         FederatorConfig
	*federation // read on the first round: fixed for the epoch's life

	// lowest is the lowest batch id that may still need this member: the
	// batches below it are confirmed.
	lowest uint64

	metrics *federatorMetrics
}

// Action is one thing a round did to a batch, for logs and tests.
type Action struct {
	Batch   uint64
	Version uint8
	What    string // "built", "signed", "refused", "broadcast", "confirmed", "voted"
	Detail  string
}

// NewFederator checks cfg.
func NewFederator(cfg FederatorConfig) (*Federator, error) {
	if cfg.Signer == nil {
		return nil, errors.New("federator: no signer for the member key")
	}
	r, err := NewRelayer(cfg.Relay)
	if err != nil {
		return nil, err
	}
	return &Federator{Relayer: r, cfg: cfg, lowest: 1, metrics: newFederatorMetrics(r.cfg.Metrics)}, nil
}

// Run makes a round every interval until ctx ends, backing off on failures.
func (f *Federator) Run(ctx context.Context) {
	runRounds(ctx, "Federator", f.Relayer.cfg.Interval, f.Relayer.cfg.Log, func(ctx context.Context) (bool, error) {
		acts, err := f.Round(ctx)
		switch {
		case err == nil:
			f.metrics.rounds.Inc(1)
		case ctx.Err() == nil:
			f.metrics.errors.Inc(1)
		}
		return len(acts) > 0, err // what it did may enable the next step at once
	})
}

// Round does what this member can do now, in the order a batch needs it.
func (f *Federator) Round(ctx context.Context) ([]Action, error) {
	if err := f.init(ctx); err != nil {
		return nil, err
	}
	view := f.view(ctx)
	var acts []Action
	if a, err := f.vote(ctx, view); err != nil {
		return acts, err
	} else if a != nil {
		acts = append(acts, *a)
	}
	queue, err := view.PegOutQueue()
	if err != nil {
		return acts, fmt.Errorf("Bridge.pegOutQueue: %w", err)
	}
	f.metrics.batches.Update(int64(queue.Batches))
	if queue.Next <= queue.Last && !queue.Halted && queue.Inflight < 4 {
		// Anyone may build; a revert (the interval has not elapsed, funds
		// short) costs nothing and is tried again next round.
		if _, err := f.send(ctx, "buildPegOutBatch", bridge.BridgeAddress, bridge.BuildPegOutBatchInput()); err != nil {
			f.Relayer.cfg.Log.Debug("No batch built", "err", err)
		} else {
			acts = append(acts, Action{Batch: queue.Batches + 1, What: "built"})
			if queue, err = view.PegOutQueue(); err != nil {
				return acts, err
			}
		}
	}
	for id := f.lowest; id <= queue.Batches; id++ {
		b, err := view.PegOutBatch(id)
		if err != nil {
			return acts, fmt.Errorf("Bridge.getPegOutBatch(%d): %w", id, err)
		}
		if b.State == bridge.BatchConfirmed {
			if id == f.lowest {
				f.lowest++
			}
			continue
		}
		a, err := f.batch(ctx, view, id, &b)
		acts = append(acts, a...)
		if err != nil {
			return acts, fmt.Errorf("batch %d: %w", id, err)
		}
	}
	return acts, nil
}

// init reads the federation of the active epoch and checks that the
// signer's key is the one the Bridge holds for this member.
func (f *Federator) init(ctx context.Context) error {
	if f.federation != nil {
		return nil
	}
	if err := f.Relayer.init(ctx); err != nil {
		return err
	}
	fed, err := readFederation(ctx, f.Relayer.cfg.Sidechain)
	if err != nil {
		return err
	}
	m := int(f.cfg.Member)
	if m >= len(fed.fed.Pubkeys) {
		return fmt.Errorf("member %d: the federation of epoch %d has %d members", m, fed.epoch, len(fed.fed.Pubkeys))
	}
	var pub []byte
	if err := timed(ctx, func(c context.Context) (err error) {
		pub, err = f.cfg.Signer.PubKey(c)
		return err
	}); err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	if !bytes.Equal(fed.fed.Pubkeys[m], pub) {
		return fmt.Errorf("the signer's key %x is not member %d's of epoch %d (the Bridge holds %x)", pub, m, fed.epoch, fed.fed.Pubkeys[m])
	}
	f.federation = fed
	f.Relayer.cfg.Log.Info("Federating", "member", m, "epoch", fed.epoch, "threshold", fed.fed.Threshold, "of", len(fed.fed.Pubkeys))
	return nil
}

// batch moves one unconfirmed batch on as far as this member can.
func (f *Federator) batch(ctx context.Context, view *bridge.View, id uint64, b *bridge.PegOutBatch) ([]Action, error) {
	if b.Epoch != f.epoch {
		return nil, nil // another epoch's members sign it
	}
	v := uint8(b.Versions() - 1)
	var acts []Action
	if b.SignedBitmap[v]&(1<<f.cfg.Member) == 0 && b.State == bridge.BatchSigning {
		a, err := f.sign(ctx, id, v, b)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, nil // not final yet
		}
		acts = append(acts, *a)
		if a.What == "refused" {
			return acts, nil
		}
		if *b, err = view.PegOutBatch(id); err != nil {
			return acts, err
		}
	}
	if b.State != bridge.BatchReady {
		return acts, nil
	}
	// Every READY version spends the same inputs: whichever Bitcoin
	// mined is the one to confirm; else the newest is broadcast.
	for ver := range b.Versions() {
		if bits.OnesCount16(b.SignedBitmap[ver]) < int(f.fed.Threshold) {
			continue
		}
		a, err := f.confirm(ctx, view, id, uint8(ver), chainhash.Hash(b.Txids[ver]))
		if err != nil || a != nil {
			if a != nil {
				acts = append(acts, *a)
			}
			return acts, err
		}
	}
	a, err := f.broadcast(ctx, view, id, v, b)
	if a != nil {
		acts = append(acts, *a)
	}
	return acts, err
}

// sign asks the signer for this member's signatures and sends them. nil:
// the batch's block is not finalized yet (no refusal, it will be).
func (f *Federator) sign(ctx context.Context, id uint64, v uint8, b *bridge.PegOutBatch) (*Action, error) {
	var final *types.Header
	if err := timed(ctx, func(c context.Context) (err error) {
		final, err = f.Relayer.cfg.Sidechain.HeaderByNumber(c, big.NewInt(int64(gethrpc.FinalizedBlockNumber)))
		return err
	}); err != nil {
		return nil, fmt.Errorf("finalized block: %w", err)
	}
	if b.CreatedBlock > final.Number.Uint64() {
		f.Relayer.cfg.Log.Debug("Batch awaits finality", "batch", id, "block", b.CreatedBlock, "finalized", final.Number)
		return nil, nil
	}
	var sigs []byte
	err := timed(ctx, func(c context.Context) (err error) {
		sigs, err = f.cfg.Signer.SignBatch(c, id, v)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFinalized):
		// The signer's node may trail this one by a block.
		f.Relayer.cfg.Log.Debug("Batch awaits finality at the signer", "batch", id, "err", err)
		return nil, nil
	case isRefusal(err):
		f.Relayer.cfg.Log.Error("Refused to sign a batch", "batch", id, "version", v, "err", err)
		return &Action{Batch: id, Version: v, What: "refused", Detail: err.Error()}, nil
	case err != nil:
		return nil, fmt.Errorf("signer: %w", err)
	}
	receipt, err := f.send(ctx, "addSignatures", bridge.BridgeAddress, bridge.AddSignaturesInput(id, v, f.cfg.Member, sigs))
	if err != nil {
		return nil, err
	}
	f.Relayer.cfg.Log.Info("Signed a peg-out batch", "batch", id, "version", v, "inputs", len(sigs)/peg.SigRSVLen,
		"gas", receipt.GasUsed, "block", receipt.BlockNumber)
	return &Action{Batch: id, Version: v, What: "signed", Detail: fmt.Sprintf("gas %d", receipt.GasUsed)}, nil
}

// broadcast sends a READY version to the Bitcoin node unless the node
// already has it. Every member does it; a second send changes nothing.
func (f *Federator) broadcast(ctx context.Context, view *bridge.View, id uint64, v uint8, b *bridge.PegOutBatch) (*Action, error) {
	txid := chainhash.Hash(b.Txids[v])
	var known *btcrpc.TxOut
	if err := timed(ctx, func(c context.Context) (err error) {
		known, err = f.Relayer.cfg.Bitcoin.TxOut(c, txid, 0, true)
		return err
	}); err != nil {
		return nil, fmt.Errorf("Bitcoin node: %w", err)
	}
	if known != nil {
		return nil, nil // in the mempool or mined: confirm waits for it
	}
	var tx *wire.MsgTx
	if err := timed(ctx, func(c context.Context) (err error) {
		tx, err = view.SignedPegOutTx(c, f.Relayer.cfg.Sidechain, f.policy.ChainID, f.fedScript, int(f.fed.Threshold), id, v, b)
		return err
	}); err != nil {
		return nil, fmt.Errorf("assembling %v: %w", txid, err)
	}
	if err := timed(ctx, func(c context.Context) error {
		_, err := f.Relayer.cfg.Bitcoin.SendRawTransaction(c, tx)
		return err
	}); err != nil {
		return nil, fmt.Errorf("sendrawtransaction %v: %w", txid, err)
	}
	f.Relayer.cfg.Log.Info("Broadcast a peg-out", "batch", id, "version", v, "txid", txid, "vsize", vsize(tx))
	return &Action{Batch: id, Version: v, What: "broadcast", Detail: txid.String()}, nil
}

// confirm sends confirmPegOut once BtcRelay buries the version's
// transaction pegOutConfirmations deep; nil while it is not mined or not
// deep enough.
func (f *Federator) confirm(ctx context.Context, view *bridge.View, id uint64, v uint8, txid chainhash.Hash) (*Action, error) {
	var (
		height int64
		block  *wire.MsgBlock
	)
	if err := timed(ctx, func(c context.Context) (err error) {
		_, height, block, err = f.Relayer.cfg.Bitcoin.TxBlock(c, txid, 0)
		return err
	}); err != nil || block == nil {
		return nil, err
	}
	confs, err := view.Confirmations(common.Hash(block.BlockHash()))
	if err != nil || confs < f.policy.PegOutConfirmations {
		return nil, err
	}
	incl, err := btcspv.BuildInclusion(block, uint32(height), txid)
	if err != nil {
		return nil, err
	}
	receipt, err := f.send(ctx, "confirmPegOut", bridge.BridgeAddress, bridge.ConfirmPegOutInput(id, v, bridge.InclusionOf(incl)))
	if err != nil {
		return nil, err
	}
	f.Relayer.cfg.Log.Info("Confirmed a peg-out", "batch", id, "version", v, "txid", txid, "btcHeight", height,
		"gas", receipt.GasUsed, "block", receipt.BlockNumber)
	return &Action{Batch: id, Version: v, What: "confirmed", Detail: txid.String()}, nil
}

// vote sends this member's fee-rate vote when it differs from its last.
func (f *Federator) vote(ctx context.Context, view *bridge.View) (*Action, error) {
	if f.cfg.FeeRate == 0 {
		return nil, nil
	}
	rates, nonces, err := view.FeeVotes()
	if err != nil {
		return nil, fmt.Errorf("Bridge.feeVotes: %w", err)
	}
	m := int(f.cfg.Member)
	if m >= len(rates) || rates[m] == f.cfg.FeeRate {
		return nil, nil
	}
	nonce := nonces[m] + 1
	var sig []byte
	if err := timed(ctx, func(c context.Context) (err error) {
		sig, err = f.cfg.Signer.SignFeeVote(c, f.cfg.FeeRate, nonce)
		return err
	}); isRefusal(err) {
		// Logged and counted by the signer; signing goes on.
		f.Relayer.cfg.Log.Error("The signer refused the fee vote", "rate", f.cfg.FeeRate, "err", err)
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	if _, err := f.send(ctx, "voteFeeRate", bridge.BridgeAddress, bridge.VoteFeeRateInput(f.cfg.Member, f.cfg.FeeRate, nonce, sig)); err != nil {
		return nil, err
	}
	f.Relayer.cfg.Log.Info("Voted a fee rate", "member", m, "rate", f.cfg.FeeRate, "nonce", nonce)
	return &Action{What: "voted", Detail: fmt.Sprint(f.cfg.FeeRate)}, nil
}

// vsize is the transaction's virtual size as Bitcoin counts it.
func vsize(tx *wire.MsgTx) int64 {
	return (int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize()) + 3) / 4
}
