package peg

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// PSBT is the unsigned batch as a BIP-174 packet for other wallets and
// signers (§5.4: interop only; the Bridge collects signatures on chain):
// every input's witness UTXO, witness script and SIGHASH_ALL, and the
// partial signatures so far. rsv is as for WitnessFromRSV; members are the
// federation's keys in member order, under which each signature is filed.
// btcd's updater checks that each witness script hashes to its UTXO.
func (b *Batch) PSBT(rsv [][]byte, members [][]byte) (*psbt.Packet, error) {
	if len(rsv) > len(members) {
		return nil, fmt.Errorf("signatures of %d members for a federation of %d", len(rsv), len(members))
	}
	p, err := psbt.NewFromUnsignedTx(b.Tx)
	if err != nil {
		return nil, err
	}
	u, err := psbt.NewUpdater(p)
	if err != nil {
		return nil, err
	}
	for i, s := range b.Spent {
		if err := u.AddInWitnessUtxo(wire.NewTxOut(s.ValueSat, PkScript(s.WitnessScript)), i); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		if err := u.AddInSighashType(txscript.SigHashAll, i); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		sigs, err := b.sigsOfInput(rsv, i)
		if err != nil {
			return nil, err
		}
		if err := u.AddInWitnessScript(s.WitnessScript, i); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		for m, sig := range sigs {
			if sig == nil {
				continue
			}
			der := append(sig.Serialize(), byte(txscript.SigHashAll))
			if _, err := u.Sign(i, der, members[m], nil, nil); err != nil {
				return nil, fmt.Errorf("input %d, member %d: %w", i, m, err)
			}
		}
	}
	return p, nil
}

// FinalizePSBT gives every input of p its member-branch witness (§4.1)
// from its partial signatures, the first threshold in member order, and
// extracts the signed transaction with btcd's psbt.Extract. btcd's own
// psbt.Finalize cannot do the first step: it reads a P2WSH witness script
// as a bare multisig (psbt/v2 v2.0.0 finalizer.go finalizeWitnessInput,
// "We tacitly assume multisig") and refuses ours, and the witness it
// builds, [<>, sigs…, script], lacks the 0x01 that selects the federation
// script's OP_IF branch. members are the federation's keys in member order.
func FinalizePSBT(p *psbt.Packet, members [][]byte, threshold int) (*wire.MsgTx, error) {
	for i := range p.Inputs {
		in := p.Inputs[i]
		if in.WitnessUtxo == nil || in.WitnessScript == nil {
			return nil, fmt.Errorf("input %d: no witness UTXO or witness script", i)
		}
		sigs := make([]*ecdsa.Signature, len(members))
		for _, ps := range in.PartialSigs {
			m := slices.IndexFunc(members, func(k []byte) bool { return bytes.Equal(k, ps.PubKey) })
			if m < 0 {
				return nil, fmt.Errorf("input %d: a partial signature by %x, no member's key", i, ps.PubKey)
			}
			n := len(ps.Signature)
			if n == 0 || ps.Signature[n-1] != byte(txscript.SigHashAll) {
				return nil, fmt.Errorf("input %d, member %d: not a SIGHASH_ALL signature", i, m)
			}
			sig, err := ecdsa.ParseDERSignature(ps.Signature[:n-1])
			if err != nil {
				return nil, fmt.Errorf("input %d, member %d: %w", i, m, err)
			}
			sigs[m] = sig
		}
		w, err := AssembleWitness(sigs, threshold, in.WitnessScript)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		var buf bytes.Buffer
		if err := psbt.WriteTxWitness(&buf, w); err != nil {
			return nil, err
		}
		// BIP-174's finalizer keeps only the UTXO and the final fields.
		p.Inputs[i] = *psbt.NewPsbtInput(nil, in.WitnessUtxo)
		p.Inputs[i].FinalScriptWitness = buf.Bytes()
	}
	return psbt.Extract(p)
}
