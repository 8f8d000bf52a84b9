package bridge

import (
	"encoding/binary"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The storage slots of a batch, for storage proofs (eth_getProof) that a
// state root holds a batch's sighashes: a strict signer (PEG.md §5.5 rule 6)
// proves them rather than take its node's word. Views are the way to read
// the Bridge; these are the few slots worth proving, and TestBatchSlots
// checks them against getPegOutBatch and pegOutTx on the real bytecode. The
// offsets are solc's storage layout of BridgeBase.Layout, Batch and Version
// (solc --storage-layout); a layout change fails that test.
// bridgeLayout is BridgeBase.LAYOUT, the ERC-7201 namespace's base.
var bridgeLayout = common.HexToHash("0xe0a6508d1b094b3853965a2bc6b7019c8f85b487982442f1e5fc7a0a2660c800")

const (
	layoutBatches  = 17 // Layout.batches
	batchVers      = 3  // Batch.vers
	versionSighash = 2  // Version.sighash
)

// mappingSlot is Solidity's slot of mapping[key] for a mapping at slot.
func mappingSlot(key uint64, slot common.Hash) common.Hash {
	var buf [64]byte
	binary.BigEndian.PutUint64(buf[24:32], key)
	copy(buf[32:], slot[:])
	return crypto.Keccak256Hash(buf[:])
}

func addSlot(slot common.Hash, n int64) common.Hash {
	return common.BigToHash(new(big.Int).Add(slot.Big(), big.NewInt(n)))
}

// BatchSlot is the slot of batch id's first word (BatchHead).
func BatchSlot(id uint64) common.Hash {
	return mappingSlot(id, addSlot(bridgeLayout, layoutBatches))
}

// SighashSlot is the slot of the sighash of input i of batch id's version.
func SighashSlot(id uint64, version uint8, input int) common.Hash {
	vers := mappingSlot(uint64(version), addSlot(BatchSlot(id), batchVers))
	return mappingSlot(uint64(input), addSlot(vers, versionSighash))
}

// BatchHead is a batch's first storage word: what binds its sighash slots
// to a state, a federation and a block.
type BatchHead struct {
	State        BatchState
	Versions     uint8
	Epoch        uint16
	NInputs      uint16
	CreatedBlock uint64
}

// DecodeBatchHead unpacks the word at BatchSlot. Solidity packs a struct's
// fields from the word's low-order end: state:8 | refresh:8 | versions:8 |
// epoch:16 | nInputs:16 | nRequests:16 | nPaid:16 | createdBlock:64 |
// firstRequest:64.
func DecodeBatchHead(w common.Hash) BatchHead {
	at := func(off, n int) uint64 { // n bytes at byte offset off from the low end
		var v uint64
		for i := 0; i < n; i++ {
			v |= uint64(w[31-off-i]) << (8 * i)
		}
		return v
	}
	return BatchHead{State: BatchState(at(0, 1)), Versions: uint8(at(2, 1)), Epoch: uint16(at(3, 2)),
		NInputs: uint16(at(5, 2)), CreatedBlock: at(11, 8)}
}
