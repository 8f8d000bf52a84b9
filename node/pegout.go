package node

import (
	"bytes"
	"context"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/rpc"
)

// PegOutStatus reads request id and its batch at the head. A batch in
// SIGNING is "batched" until an anchor at or above its block is in
// BtcRelay's best chain, "awaiting_finality" until that block is
// finalized, then "signing": members sign only finalized batches.
func (p *pegBackend) PegOutStatus(ctx context.Context, id uint64) (*rpc.PegOutStatus, error) {
	view, _, _, err := p.headState()
	if err != nil {
		return nil, err
	}
	r, err := view.PegOutRequest(id)
	if err != nil {
		return nil, fmt.Errorf("Bridge.getPegOutRequest(%d): %w", id, err)
	}
	st := &rpc.PegOutStatus{RequestID: id, Requester: r.Requester, AmountSat: r.AmountSat, BtcScript: r.BtcScript, Signers: []int{}}
	switch r.State {
	case bridge.RequestNone:
		return nil, fmt.Errorf("no peg-out request %d", id)
	case bridge.RequestQueued:
		st.State = rpc.PegOutQueued
		return st, nil
	case bridge.RequestRefunded:
		st.State = rpc.PegOutRefunded
		return st, nil
	}
	b, err := view.PegOutBatch(r.BatchID)
	if err != nil {
		return nil, fmt.Errorf("Bridge.getPegOutBatch(%d): %w", r.BatchID, err)
	}
	fedn, err := view.Federation(b.Epoch)
	if err != nil {
		return nil, err
	}
	v := b.Versions() - 1
	fin, err := p.finality()
	if err != nil {
		return nil, err
	}
	st.BatchID, st.Version, st.BatchBlock, st.Finalized = r.BatchID, uint8(v), b.CreatedBlock, fin.Finalized.Number.Uint64()
	st.BtcTxid, st.Threshold, st.FeeShareSat = chainhash.Hash(b.Txids[v]).String(), int(fedn.Threshold), b.ShareSat
	st.FeeRate, st.FeeSat = b.FeeRate[v], b.FeeSat[v]
	for m := range 16 {
		if b.SignedBitmap[v]&(1<<m) != 0 {
			st.Signers = append(st.Signers, m)
		}
	}
	switch {
	case b.State == bridge.BatchConfirmed:
		st.State = rpc.PegOutConfirmed
	case b.State == bridge.BatchReady:
		st.State = rpc.PegOutReady
	case st.Finalized >= b.CreatedBlock:
		st.State = rpc.PegOutSigning
	case fin.Newest != nil && fin.Newest.Depth > 0 && fin.Newest.Number >= b.CreatedBlock:
		st.State = rpc.PegOutAwaitingFinality
	default:
		st.State = rpc.PegOutBatched
	}
	return st, nil
}

// PegOutTx reads a batch version at the head with its PSBT; with t
// signatures it assembles the witnesses and checks them with btcd's script
// engine, as mmfed does before broadcasting, so that anyone may broadcast it.
func (p *pegBackend) PegOutTx(ctx context.Context, id uint64, version *uint8) (*rpc.PegOutTx, error) {
	view, _, _, err := p.headState()
	if err != nil {
		return nil, err
	}
	b, err := view.PegOutBatch(id)
	if err != nil {
		return nil, fmt.Errorf("Bridge.getPegOutBatch(%d): %w", id, err)
	}
	v := uint8(b.Versions() - 1)
	if version != nil {
		if int(*version) >= b.Versions() {
			return nil, fmt.Errorf("batch %d has %d versions, no version %d", id, b.Versions(), *version)
		}
		v = *version
	}
	unsigned, txid, hashes, err := view.PegOutTx(id, v)
	if err != nil {
		return nil, fmt.Errorf("Bridge.pegOutTx: %w", err)
	}
	fedn, err := view.Federation(b.Epoch)
	if err != nil {
		return nil, err
	}
	out := &rpc.PegOutTx{BatchID: id, Version: v, State: b.State.String(), Txid: chainhash.Hash(txid).String(),
		UnsignedTx: unsigned, Sighashes: hashes, Signatures: map[string]hexutil.Bytes{}, Threshold: int(fedn.Threshold)}
	logs := nodeLogs{p}
	rsv, err := bridge.PegOutSignatures(ctx, logs, id, v, b.CreatedBlock)
	if err != nil {
		return nil, err
	}
	for m, s := range rsv {
		if s != nil {
			out.Signatures[strconv.Itoa(m)] = s
		}
	}
	script, err := p.fedScript(view, fedn)
	if err != nil {
		return nil, err
	}
	pol, err := view.Policy()
	if err != nil {
		return nil, err
	}
	packet, err := view.PegOutPSBT(pol.ChainID, script, fedn.Pubkeys, rsv, id, v, &b)
	if err == nil {
		out.PSBT, err = packet.B64Encode()
	}
	if err != nil {
		return nil, fmt.Errorf("PSBT of batch %d version %d: %w", id, v, err)
	}
	if bits.OnesCount16(b.SignedBitmap[v]) < int(fedn.Threshold) {
		return out, nil
	}
	tx, err := view.SignedPegOutTx(ctx, logs, pol.ChainID, script, int(fedn.Threshold), id, v, &b)
	if err != nil {
		return nil, fmt.Errorf("assembling batch %d version %d: %w", id, v, err)
	}
	var raw bytes.Buffer
	if err := tx.Serialize(&raw); err != nil {
		return nil, err
	}
	out.SignedTx = raw.Bytes()
	return out, nil
}

// fedScript is the federation script its FedScript account holds (00 ‖ script).
func (p *pegBackend) fedScript(view *bridge.View, f bridge.Federation) ([]byte, error) {
	_, st, _, err := p.headState()
	if err != nil {
		return nil, err
	}
	code := st.GetCode(f.FedScript)
	if len(code) != int(f.ScriptLength)+1 {
		return nil, fmt.Errorf("FedScript %v holds %d bytes, want 1 + %d", f.FedScript, len(code), f.ScriptLength)
	}
	return code[1:], nil
}

// auditUtxos lists every custody record with its output script (the
// deposit script's P2WSH, change's under recipient 0) and the sum of those
// still in custody.
func (p *pegBackend) auditUtxos(view *bridge.View) ([]rpc.AuditUtxo, uint64, error) {
	all, err := view.AllUtxos()
	if err != nil {
		return nil, 0, fmt.Errorf("Bridge.utxos: %w", err)
	}
	list := make([]rpc.AuditUtxo, len(all))
	var sum uint64
	for i, u := range all {
		script, _, err := view.DepositScript(u.Recipient, u.Epoch)
		if err != nil {
			return nil, 0, fmt.Errorf("Bridge.depositScript: %w", err)
		}
		list[i] = rpc.AuditUtxo{Txid: chainhash.Hash(u.Txid).String(), Vout: u.Vout, ValueSat: u.ValueSat, State: u.State.String(),
			Recipient: u.Recipient, ScriptPubKey: peg.PkScript(script), BtcHeight: u.BtcHeight, Epoch: u.Epoch, BatchID: u.BatchID}
		if u.State == bridge.UtxoUnspent || u.State == bridge.UtxoReserved {
			sum += u.ValueSat
		}
	}
	return list, sum, nil
}

// nodeLogs is the node's log filter as a bridge.LogReader, for
// peg/fed's readers of the Bridge's events.
type nodeLogs struct{ p *pegBackend }

func (l nodeLogs) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	head := l.p.bc.CurrentBlock().Number.Uint64()
	from := q.FromBlock.Uint64()
	var out []types.Log
	for ; from <= head; from += auditPage {
		logs, err := l.p.logs(ctx, from, min(head, from+auditPage-1), q.Addresses, q.Topics)
		if err != nil {
			return nil, err
		}
		for _, lg := range logs {
			out = append(out, *lg)
		}
	}
	return out, nil
}
