package peg

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

const (
	// pegOutSequence signals RBF (below 0xfffffffe) and sets BIP-68's
	// disable bit, so inputs carry no relative lock (§5.2 step 5).
	pegOutSequence = 0xfffffffd
	// sigItem is a witness signature item: its length byte, at most 72
	// bytes of DER and the sighash type (§5.2).
	sigItem = 1 + 72 + 1
	// minChange is the smallest change output kept: P2WSH dust. Less is
	// left to the fee (§5.2 step 4).
	minChange = 330
)

// compactSizeLen is the length of Bitcoin's CompactSize encoding of n.
func compactSizeLen(n int) int {
	switch {
	case n < 0xfd:
		return 1
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

// VSize is §5.2's exact vsize formula, shared with the Bridge: nInputs
// federation inputs each spent by a threshold-of-n witness over a
// scriptLen-byte deposit script, paying pkScripts. Signatures count as 72
// bytes of DER, the most a low-S signature can take, so the real size is
// at most a few vbytes lower.
func VSize(nInputs int, pkScripts [][]byte, threshold, scriptLen int) int64 {
	base := 4 + compactSizeLen(nInputs) + 41*nInputs + compactSizeLen(len(pkScripts)) + 4
	for _, s := range pkScripts {
		base += 8 + compactSizeLen(len(s)) + len(s)
	}
	wit := compactSizeLen(threshold+3) + 1 + sigItem*threshold + 2 + compactSizeLen(scriptLen) + scriptLen
	weight := int64(4*base) + 2 + int64(nInputs)*int64(wit)
	return (weight + 3) / 4
}

// dust is Bitcoin Core's dust limit at 3 sat/vB for the five peg-out script
// kinds (§5.1), or 0 for any other script.
func dust(pkScript []byte) int64 {
	switch {
	case txscript.IsPayToPubKeyHash(pkScript):
		return 546
	case txscript.IsPayToScriptHash(pkScript):
		return 540
	case txscript.IsPayToWitnessPubKeyHash(pkScript):
		return 294
	case txscript.IsPayToWitnessScriptHash(pkScript), txscript.IsPayToTaproot(pkScript):
		return 330
	}
	return 0
}

// Request is a queued peg-out (§5.1), in id order.
type Request struct {
	ID        uint64
	PkScript  []byte
	AmountSat int64
}

// UTXO is a federation coin: a deposit or change output, in FIFO order of
// registration. Recipient 0 marks change.
type UTXO struct {
	OutPoint  wire.OutPoint
	ValueSat  int64
	Recipient [20]byte
}

// BatchParams are what a batch depends on besides requests and UTXOs.
type BatchParams struct {
	ChainID    uint32
	FedScript  []byte
	Threshold  int
	FeeRate    int64 // sat/vB: the clamped median vote
	MaxInputs  int
	MaxOutputs int
}

// Batch is a built, unsigned peg-out.
type Batch struct {
	Tx *wire.MsgTx
	// Spent are the UTXOs of Tx's inputs, in input order, with the witness
	// scripts and values that their sighashes commit to.
	Spent []Prevout
	// Paid are the requests of Tx's outputs, in output order; Refunded
	// those dropped because their output would be dust after their share.
	Paid, Refunded []Request
	FeeSat         int64
	ShareSat       int64
	// VSize is §5.2's vsize of Tx, which the fee pays for.
	VSize int64
	// ChangeSat is the change output's value, or 0 when the change was
	// below minChange and went to the fee.
	ChangeSat int64
}

// Prevout is what an input spends: its value and the deposit script whose
// hash locks it.
type Prevout struct {
	OutPoint      wire.OutPoint
	ValueSat      int64
	WitnessScript []byte
}

// BuildPegOut builds the deterministic peg-out of §5.2 steps 1–5, as the
// Bridge's buildPegOutBatch does: requests in id order (up to MaxOutputs);
// FIFO inputs until they cover the requested amounts (the fee is paid out
// of them through the shares, so it needs no inputs of its own); change
// Σin − Σrequested, kept as the last output if at least 330 sat; fee =
// FeeRate × VSize of exactly that transaction; an equal share ceil(fee/k)
// taken from each output; a request whose output would fall below its
// script's dust refunded and the batch planned again without it. When every
// request is refunded it returns ErrNothingToBatch with a Batch holding only
// Refunded (the Bridge makes those refunds and no batch).
func BuildPegOut(requests []Request, utxos []UTXO, p *BatchParams) (*Batch, error) {
	if len(requests) > p.MaxOutputs {
		requests = requests[:p.MaxOutputs]
	}
	for _, r := range requests {
		if dust(r.PkScript) == 0 {
			return nil, fmt.Errorf("%w: request %d pays %x", ErrUnsupportedScript, r.ID, r.PkScript)
		}
	}
	if len(requests) == 0 {
		return nil, ErrNothingToBatch
	}
	change, err := DepositScript(p.ChainID, [20]byte{}, p.FedScript)
	if err != nil {
		return nil, err
	}
	paid := slices.Clone(requests)
	var refunded []Request
	for len(paid) > 0 {
		b, dusty, err := planOnce(paid, utxos, p, change)
		if err != nil {
			return nil, err
		}
		if dusty < 0 {
			b.Refunded = refunded
			return b, nil
		}
		refunded = append(refunded, paid[dusty])
		slices.SortFunc(refunded, func(a, b Request) int { return cmp.Compare(a.ID, b.ID) })
		paid = slices.Delete(paid, dusty, dusty+1)
	}
	return &Batch{Refunded: refunded}, ErrNothingToBatch
}

// planOnce builds the batch paying exactly these requests, or names the
// first request whose output would be dust.
func planOnce(requests []Request, utxos []UTXO, p *BatchParams, change []byte) (*Batch, int, error) {
	var requested int64
	scripts := make([][]byte, 0, len(requests)+1)
	for _, r := range requests {
		requested += r.AmountSat
		scripts = append(scripts, r.PkScript)
	}
	var in int64
	n := 0
	for n < len(utxos) && n < p.MaxInputs && in < requested {
		in += utxos[n].ValueSat
		n++
	}
	if in < requested {
		return nil, 0, fmt.Errorf("%w: need %d sat, %d inputs hold %d", ErrInsufficientFunds, requested, n, in)
	}
	changeSat := in - requested
	if changeSat >= minChange {
		scripts = append(scripts, PkScript(change))
	}
	vsize := VSize(n, scripts, p.Threshold, len(change))
	k := int64(len(requests))
	share := (p.FeeRate*vsize + k - 1) / k
	for i, r := range requests {
		if r.AmountSat-share < dust(r.PkScript) {
			return nil, i, nil
		}
	}
	outs := make([]*wire.TxOut, 0, len(scripts))
	for _, r := range requests {
		outs = append(outs, wire.NewTxOut(r.AmountSat-share, r.PkScript))
	}
	b, err := newBatch(utxos[:n], outs, p, change, changeSat)
	if err != nil {
		return nil, 0, err
	}
	b.Paid, b.ShareSat, b.VSize = requests, share, vsize
	// The fee is what the shares collect: rounding them up leaves the
	// excess with the miner, not in change; change too small to keep goes
	// to the fee as well.
	b.FeeSat = share * k
	if b.ChangeSat == 0 {
		b.FeeSat += changeSat
	}
	return b, -1, nil
}

// newBatch is the transaction of §5.2 step 5 spending utxos to outs and,
// when changeSat ≥ 330, to the federation's change script last.
func newBatch(utxos []UTXO, outs []*wire.TxOut, p *BatchParams, change []byte, changeSat int64) (*Batch, error) {
	tx := wire.NewMsgTx(2)
	b := &Batch{Tx: tx}
	for _, u := range utxos {
		ws, err := DepositScript(p.ChainID, u.Recipient, p.FedScript)
		if err != nil {
			return nil, err
		}
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: u.OutPoint, Sequence: pegOutSequence})
		b.Spent = append(b.Spent, Prevout{OutPoint: u.OutPoint, ValueSat: u.ValueSat, WitnessScript: ws})
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	if changeSat >= minChange {
		tx.AddTxOut(wire.NewTxOut(changeSat, PkScript(change)))
		b.ChangeSat = changeSat
	}
	return b, nil
}

// BuildRefresh is the Bridge's buildRefreshBatch (§5.2): utxos (the
// UNSPENT ones old enough, FIFO, up to MaxInputs) spent to one change
// output, the fee FeeRate × VSize paid by custody.
func BuildRefresh(utxos []UTXO, p *BatchParams) (*Batch, error) {
	if len(utxos) > p.MaxInputs {
		utxos = utxos[:p.MaxInputs]
	}
	if len(utxos) == 0 {
		return nil, ErrNothingToRefresh
	}
	change, err := DepositScript(p.ChainID, [20]byte{}, p.FedScript)
	if err != nil {
		return nil, err
	}
	var in int64
	for _, u := range utxos {
		in += u.ValueSat
	}
	vsize := VSize(len(utxos), [][]byte{PkScript(change)}, p.Threshold, len(change))
	fee := p.FeeRate * vsize
	if in < fee+minChange {
		return nil, fmt.Errorf("%w: need %d sat, %d inputs hold %d", ErrInsufficientFunds, fee+minChange, len(utxos), in)
	}
	b, err := newBatch(utxos, nil, p, change, in-fee)
	if err != nil {
		return nil, err
	}
	b.FeeSat, b.VSize = fee, vsize
	return b, nil
}

// MedianFeeRate is the Bridge's batch fee rate: the median (the lower of
// the two middle values for an even count) of the members' last votes, a
// member yet to vote (0) counting as start, clamped to [lo, hi].
func MedianFeeRate(votes []uint32, start, lo, hi uint64) uint64 {
	r := make([]uint64, len(votes))
	for i, v := range votes {
		r[i] = uint64(v)
		if v == 0 {
			r[i] = start
		}
	}
	slices.Sort(r)
	rate := r[(len(r)-1)/2]
	return min(max(rate, lo), hi)
}

func (b *Batch) prevOuts() *txscript.MultiPrevOutFetcher {
	f := txscript.NewMultiPrevOutFetcher(nil)
	for _, s := range b.Spent {
		f.AddPrevOut(s.OutPoint, wire.NewTxOut(s.ValueSat, PkScript(s.WitnessScript)))
	}
	return f
}

// Sighashes are the BIP-143 SIGHASH_ALL digests of every input (§5.2 step
// 6), the 32 bytes each member signs and the Bridge stores.
func (b *Batch) Sighashes() ([][32]byte, error) {
	hashes := txscript.NewTxSigHashes(b.Tx, b.prevOuts())
	out := make([][32]byte, len(b.Spent))
	for i, s := range b.Spent {
		h, err := txscript.CalcWitnessSigHash(s.WitnessScript, hashes, txscript.SigHashAll, b.Tx, i, s.ValueSat)
		if err != nil {
			return nil, err
		}
		copy(out[i][:], h)
	}
	return out, nil
}

// AssembleWitness is the member-branch witness of one input (§4.1):
// [<>, sig…, 01, witnessScript] with the signatures of the first threshold
// members that signed, in member order as CHECKMULTISIG needs them.
// sigs[i] is member i's signature, nil if it has not signed.
func AssembleWitness(sigs []*ecdsa.Signature, threshold int, witnessScript []byte) (wire.TxWitness, error) {
	w, err := witness(sigs, threshold)
	if err != nil {
		return nil, err
	}
	return append(w, []byte{1}, witnessScript), nil
}

// AssembleEmergencyWitness is the emergency-branch witness (§4.1):
// [<>, esig…, <>, witnessScript]. The spending input needs nSequence ≥ the
// CSV delay in a version-2 transaction.
func AssembleEmergencyWitness(sigs []*ecdsa.Signature, threshold int, witnessScript []byte) (wire.TxWitness, error) {
	w, err := witness(sigs, threshold)
	if err != nil {
		return nil, err
	}
	return append(w, nil, witnessScript), nil
}

func witness(sigs []*ecdsa.Signature, threshold int) (wire.TxWitness, error) {
	// CHECKMULTISIG's extra pop, empty for NULLDUMMY.
	w := wire.TxWitness{nil}
	for _, s := range sigs {
		if s != nil && len(w) <= threshold {
			w = append(w, append(s.Serialize(), byte(txscript.SigHashAll)))
		}
	}
	if len(w) <= threshold || threshold < 1 {
		return nil, fmt.Errorf("%w: %d of %d", ErrNotEnoughSignatures, len(w)-1, threshold)
	}
	return w, nil
}

// VerifySpend runs btcd's script engine with the standard flags on every
// input of b.Tx as its witnesses stand, the check mmfed makes before
// broadcasting (§5.4).
func (b *Batch) VerifySpend() error {
	fetcher := b.prevOuts()
	hashes := txscript.NewTxSigHashes(b.Tx, fetcher)
	for i, s := range b.Spent {
		vm, err := txscript.NewEngine(PkScript(s.WitnessScript), b.Tx, i, txscript.StandardVerifyFlags,
			nil, hashes, s.ValueSat, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("%w: input %d: %v", ErrSpendInvalid, i, err)
		}
	}
	return nil
}
