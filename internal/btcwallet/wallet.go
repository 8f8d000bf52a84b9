// Package btcwallet pays from one P2PKH key through a Bitcoin node that has
// no wallet, as btcd has none: it finds the key's unspent outputs by reading
// the node's best-chain blocks from the oldest up (oldest coins first: on
// regtest the early coinbases are the 50 BTC ones), and signs with btcd's
// txscript. It is for regtest and the tests (`mmfed btc pay`, the peg's
// end-to-end test), not a wallet: fixed fee, no persistence, and only
// outputs of the key in blocks it reads are found.
package btcwallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

// coinbaseMaturity is the confirmations a coinbase output needs so that a
// transaction spending it may be mined even in a sibling of the node's tip:
// Bitcoin's 100 blocks between a coinbase and its spender, plus one.
const coinbaseMaturity = 101

// ErrInsufficientFunds: the key's spendable outputs in the blocks read do
// not cover the payment.
var ErrInsufficientFunds = errors.New("not enough spendable coins")

// Wallet spends the P2PKH outputs of one key. It remembers the outputs it
// spent, so that transactions it built but that are not in the node's best
// chain (unsent, or in a side block) are never double-spent by the next.
// Not safe for concurrent use.
type Wallet struct {
	btc    *btcrpc.Client
	key    *btcec.PrivateKey
	addr   *address.AddressPubKeyHash
	script []byte
	used   map[wire.OutPoint]bool
	// MaxBlocks bounds the blocks one Pay reads.
	MaxBlocks int64
}

// New returns the wallet of key on network net.
func New(btc *btcrpc.Client, key *btcec.PrivateKey, net *chaincfg.Params) (*Wallet, error) {
	addr, err := address.NewAddressPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), net)
	if err != nil {
		return nil, err
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, err
	}
	return &Wallet{btc: btc, key: key, addr: addr, script: script, used: make(map[wire.OutPoint]bool), MaxBlocks: 10_000}, nil
}

// Address is the key's P2PKH address, which a regtest node can mine to
// (btcd --miningaddr).
func (w *Wallet) Address() string { return w.addr.EncodeAddress() }

// Pay builds and signs a version-2 transaction paying amountSat to pkScript
// with fee feeSat, change back to the key; the caller broadcasts it (or
// mines it in a block of its own).
func (w *Wallet) Pay(ctx context.Context, pkScript []byte, amountSat, feeSat int64) (*wire.MsgTx, error) {
	if amountSat <= 0 || feeSat < 0 {
		return nil, fmt.Errorf("amount %d sat and fee %d sat: want a positive amount and a fee not below 0", amountSat, feeSat)
	}
	tip, err := w.btc.BlockCount(ctx)
	if err != nil {
		return nil, err
	}
	tx := wire.NewMsgTx(2)
	var have int64
	for h := int64(1); h <= min(tip, w.MaxBlocks) && have < amountSat+feeSat; h++ {
		hash, err := w.btc.BlockHash(ctx, h)
		if err != nil {
			return nil, err
		}
		block, err := w.btc.Block(ctx, hash)
		if err != nil {
			return nil, err
		}
		for _, btx := range block.Transactions {
			for i, out := range btx.TxOut {
				op := wire.OutPoint{Hash: btx.TxHash(), Index: uint32(i)}
				if string(out.PkScript) != string(w.script) || w.used[op] || have >= amountSat+feeSat {
					continue
				}
				// Unspent in the best chain, and mature if a coinbase.
				u, err := w.btc.TxOut(ctx, op.Hash, op.Index, false)
				if err != nil {
					return nil, err
				}
				if u == nil || (u.Coinbase && u.Confirmations < coinbaseMaturity) {
					continue
				}
				tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
				have += out.Value
			}
		}
	}
	if have < amountSat+feeSat {
		return nil, fmt.Errorf("%w: %s has %d sat spendable in blocks 1..%d, the payment needs %d", ErrInsufficientFunds,
			w.Address(), have, min(tip, w.MaxBlocks), amountSat+feeSat)
	}
	tx.AddTxOut(wire.NewTxOut(amountSat, pkScript))
	if change := have - amountSat - feeSat; change > 0 {
		tx.AddTxOut(wire.NewTxOut(change, w.script))
	}
	for i := range tx.TxIn {
		sig, err := txscript.SignatureScript(tx, i, w.script, txscript.SigHashAll, w.key, true)
		if err != nil {
			return nil, err
		}
		tx.TxIn[i].SignatureScript = sig
	}
	for _, in := range tx.TxIn {
		w.used[in.PreviousOutPoint] = true
	}
	return tx, nil
}
