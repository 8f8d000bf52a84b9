package bridge

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// BatchState mirrors the Solidity enum (IBridge.sol).
type BatchState uint8

const (
	BatchNone BatchState = iota
	BatchSigning
	BatchReady
	BatchConfirmed
)

func (s BatchState) String() string {
	names := []string{"none", "signing", "ready", "confirmed"}
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("BatchState(%d)", uint8(s))
}

// PegOutBatch is getPegOutBatch's answer; the slices are per version.
type PegOutBatch struct {
	State          BatchState
	Refresh        bool
	Epoch          uint16
	CreatedBlock   uint64
	FirstRequest   uint64
	NRequests      uint16
	ShareSat       uint64
	RequestedSat   uint64
	InSat          uint64
	InputKeys      [][32]byte
	Txids          [][32]byte
	FeeSat         []uint64
	ChangeSat      []uint64
	FeeRate        []uint32
	SignedBitmap   []uint16
	ReadyBtcHeight []uint32
}

// Versions is the number of versions (1 + fee bumps).
func (b *PegOutBatch) Versions() int { return len(b.Txids) }

// UtxoInfo is one custody record of utxos(), in FIFO order.
type UtxoInfo struct {
	Key       [32]byte
	Txid      [32]byte
	Vout      uint32
	ValueSat  uint64
	Recipient common.Address
	State     UtxoState
	BtcHeight uint32
	Epoch     uint16
	BatchID   uint64
}

// PegOutQueue is pegOutQueue()'s answer: requests Next..Last are queued.
type PegOutQueue struct {
	Next, Last, Batches, LastBatchBlock uint64
	Inflight                            uint8
	Halted                              bool
}

// Calldata of the peg-out functions, all sent to BridgeAddress.

func RequestPegOutInput(btcScript []byte) []byte {
	return mustPack(BridgeABI, "requestPegOut", btcScript)
}

func BuildPegOutBatchInput() []byte { return mustPack(BridgeABI, "buildPegOutBatch") }

func BuildRefreshBatchInput() []byte { return mustPack(BridgeABI, "buildRefreshBatch") }

// AddSignaturesInput: sigs is r ‖ s ‖ v (65 bytes) per input, in input order.
func AddSignaturesInput(batchID uint64, version, member uint8, sigs []byte) []byte {
	return mustPack(BridgeABI, "addSignatures", batchID, version, member, sigs)
}

func ConfirmPegOutInput(batchID uint64, version uint8, p BtcInclusion) []byte {
	return mustPack(BridgeABI, "confirmPegOut", batchID, version, p)
}

func BumpPegOutFeeInput(batchID uint64) []byte { return mustPack(BridgeABI, "bumpPegOutFee", batchID) }

// ReportUnauthorizedSpendInput: btcTx is the spend's non-witness serialization.
func ReportUnauthorizedSpendInput(btcTx []byte, p BtcInclusion, input uint32) []byte {
	return mustPack(BridgeABI, "reportUnauthorizedSpend", btcTx, p, input)
}

// VoteFeeRateInput: sig65 is r ‖ s ‖ v over peg.FeeVoteDigest.
func VoteFeeRateInput(member uint8, satPerVByte uint32, nonce uint64, sig65 []byte) []byte {
	return mustPack(BridgeABI, "voteFeeRate", member, satPerVByte, nonce, sig65)
}

// UnpackUint64 decodes the uint64 that requestPegOut, buildPegOutBatch and
// buildRefreshBatch return.
func UnpackUint64(method string, ret []byte) (uint64, error) {
	out, err := BridgeABI.Unpack(method, ret)
	if err != nil {
		return 0, err
	}
	v, ok := out[0].(uint64)
	if !ok {
		return 0, fmt.Errorf("%s returns %T", method, out[0])
	}
	return v, nil
}

// PegOutBatch is batch id's record; UnknownBatch for an id never built.
func (v *View) PegOutBatch(id uint64) (PegOutBatch, error) {
	out, err := v.callBridge("getPegOutBatch", id)
	if err != nil {
		return PegOutBatch{}, err
	}
	raw := *abi.ConvertType(out[0], new(batchABI)).(*batchABI)
	return PegOutBatch{
		State: BatchState(raw.State), Refresh: raw.Refresh, Epoch: raw.Epoch, CreatedBlock: raw.CreatedBlock,
		FirstRequest: raw.FirstRequest, NRequests: raw.NRequests, ShareSat: raw.ShareSat,
		RequestedSat: raw.RequestedSat, InSat: raw.InSat, InputKeys: raw.InputKeys, Txids: raw.Txids,
		FeeSat: raw.FeeSat, ChangeSat: raw.ChangeSat, FeeRate: raw.FeeRate, SignedBitmap: raw.SignedBitmap,
		ReadyBtcHeight: raw.ReadyBtcHeight,
	}, nil
}

// PegOutTx is a batch version's unsigned transaction, txid (internal byte
// order) and input sighashes.
func (v *View) PegOutTx(id uint64, version uint8) ([]byte, common.Hash, []common.Hash, error) {
	out, err := v.callBridge("pegOutTx", id, version)
	if err != nil {
		return nil, common.Hash{}, nil, err
	}
	raw := out[2].([][32]byte)
	hashes := make([]common.Hash, len(raw))
	for i, h := range raw {
		hashes[i] = h
	}
	return out[0].([]byte), out[1].([32]byte), hashes, nil
}

// Utxos is a page of custody records from cursor; next is 0 at the end.
func (v *View) Utxos(cursor, count uint64) ([]UtxoInfo, uint64, error) {
	out, err := v.callBridge("utxos", new(big.Int).SetUint64(cursor), new(big.Int).SetUint64(count))
	if err != nil {
		return nil, 0, err
	}
	raw := *abi.ConvertType(out[0], new([]utxoABI)).(*[]utxoABI)
	list := make([]UtxoInfo, len(raw))
	for i, u := range raw {
		list[i] = UtxoInfo{Key: u.Key, Txid: u.Txid, Vout: u.Vout, ValueSat: u.ValueSat, Recipient: u.Recipient,
			State: UtxoState(u.State), BtcHeight: u.BtcHeight, Epoch: u.Epoch, BatchID: u.BatchID}
	}
	return list, out[1].(*big.Int).Uint64(), nil
}

// AllUtxos pages through every custody record.
func (v *View) AllUtxos() ([]UtxoInfo, error) {
	var all []UtxoInfo
	for cursor := uint64(0); ; {
		page, next, err := v.Utxos(cursor, 200)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == 0 {
			return all, nil
		}
		cursor = next
	}
}

// FeeRate is the sat/vB the next batch would be built at.
func (v *View) FeeRate() (uint32, error) {
	out, err := v.callBridge("feeRate")
	if err != nil {
		return 0, err
	}
	return out[0].(uint32), nil
}

// FeeVotes are the active members' last votes (rate 0: none yet) and nonces.
func (v *View) FeeVotes() ([]uint32, []uint64, error) {
	out, err := v.callBridge("feeVotes")
	if err != nil {
		return nil, nil, err
	}
	return out[0].([]uint32), out[1].([]uint64), nil
}

// PegOutQueue is the queue's position, the batch count and the halt flag.
func (v *View) PegOutQueue() (PegOutQueue, error) {
	out, err := v.callBridge("pegOutQueue")
	if err != nil {
		return PegOutQueue{}, err
	}
	return PegOutQueue{Next: out[0].(uint64), Last: out[1].(uint64), Batches: out[2].(uint64),
		LastBatchBlock: out[3].(uint64), Inflight: out[4].(uint8), Halted: out[5].(bool)}, nil
}

// batchABI and utxoABI are the structs as abi decodes them (enums as uint8).
type (
	batchABI struct {
		State          uint8
		Refresh        bool
		Epoch          uint16
		CreatedBlock   uint64
		FirstRequest   uint64
		NRequests      uint16
		ShareSat       uint64
		RequestedSat   uint64
		InSat          uint64
		InputKeys      [][32]byte
		Txids          [][32]byte
		FeeSat         []uint64
		ChangeSat      []uint64
		FeeRate        []uint32
		SignedBitmap   []uint16
		ReadyBtcHeight []uint32
	}
	utxoABI struct {
		Key       [32]byte
		Txid      [32]byte
		Vout      uint32
		ValueSat  uint64
		Recipient common.Address
		State     uint8
		BtcHeight uint32
		Epoch     uint16
		BatchID   uint64 `abi:"batchId"`
	}
)
