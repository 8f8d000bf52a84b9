package bridge

import (
	"bytes"
	"context"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/peg"
)

// PegOutInputs are the custody records a batch spends, in input order.
func (view *View) PegOutInputs(b *PegOutBatch) ([]peg.UTXO, error) {
	all, err := view.AllUtxos()
	if err != nil {
		return nil, fmt.Errorf("Bridge.utxos: %w", err)
	}
	byKey := make(map[[32]byte]UtxoInfo, len(all))
	for _, u := range all {
		byKey[u.Key] = u
	}
	out := make([]peg.UTXO, len(b.InputKeys))
	for i, k := range b.InputKeys {
		u, ok := byKey[k]
		if !ok {
			return nil, fmt.Errorf("input %d (key %x) is not among the Bridge's UTXOs", i, k)
		}
		out[i] = peg.UTXO{OutPoint: wire.OutPoint{Hash: chainhash.Hash(u.Txid), Index: u.Vout}, ValueSat: int64(u.ValueSat), Recipient: u.Recipient}
	}
	return out, nil
}

// SignedPegOutTx assembles the signed transaction of a READY batch version from
// the signatures the Bridge logged, and checks every input with btcd's
// script engine.
func (view *View) SignedPegOutTx(ctx context.Context, eth LogReader, chainID uint32, fedScript []byte, threshold int,
	id uint64, v uint8, b *PegOutBatch) (*wire.MsgTx, error) {
	pb, err := view.pegOutBatch(chainID, fedScript, id, v, b)
	if err != nil {
		return nil, err
	}
	rsv, err := PegOutSignatures(ctx, eth, id, v, b.CreatedBlock)
	if err != nil {
		return nil, err
	}
	if err := pb.WitnessFromRSV(rsv, threshold); err != nil {
		return nil, err
	}
	if err := pb.VerifySpend(); err != nil {
		return nil, err
	}
	return pb.Tx, nil
}

// PegOutPSBT is a batch version as a BIP-174 PSBT holding the signatures
// rsv (PegOutSignatures) under the members' keys (peg.Batch.PSBT).
func (view *View) PegOutPSBT(chainID uint32, fedScript []byte, members [][]byte, rsv [][]byte,
	id uint64, v uint8, b *PegOutBatch) (*psbt.Packet, error) {
	pb, err := view.pegOutBatch(chainID, fedScript, id, v, b)
	if err != nil {
		return nil, err
	}
	return pb.PSBT(rsv, members)
}

// pegOutBatch is a batch version's unsigned transaction with what its
// inputs spend.
func (view *View) pegOutBatch(chainID uint32, fedScript []byte, id uint64, v uint8, b *PegOutBatch) (*peg.Batch, error) {
	unsigned, _, _, err := view.PegOutTx(id, v)
	if err != nil {
		return nil, err
	}
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(unsigned)); err != nil {
		return nil, fmt.Errorf("pegOutTx: %w", err)
	}
	spent, err := view.PegOutInputs(b)
	if err != nil {
		return nil, err
	}
	return peg.NewBatchFromTx(tx, spent, chainID, fedScript)
}

// LogReader reads a chain's logs: an ethclient, or the node's own filter.
type LogReader interface {
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
}

// PegOutSignatures are the PegOutSignatures of a batch version, by member (nil:
// not signed), read from the logs from the batch's block on.
func PegOutSignatures(ctx context.Context, eth LogReader, id uint64, v uint8, from uint64) ([][]byte, error) {
	ev := BridgeABI.Events["PegOutSignatures"]
	logs, err := eth.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(from),
		Addresses: []common.Address{BridgeAddress},
		Topics:    [][]common.Hash{{ev.ID}, {common.BigToHash(new(big.Int).SetUint64(id))}}})
	if err != nil {
		return nil, fmt.Errorf("PegOutSignatures logs: %w", err)
	}
	var rsv [][]byte
	for _, l := range logs {
		vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil || len(l.Topics) != 3 {
			return nil, fmt.Errorf("PegOutSignatures in %v: %v", l.TxHash, err)
		}
		if vals[0].(uint8) != v {
			continue
		}
		m := int(l.Topics[2].Big().Uint64())
		for len(rsv) <= m {
			rsv = append(rsv, nil)
		}
		rsv[m] = vals[1].([]byte)
	}
	return rsv, nil
}
