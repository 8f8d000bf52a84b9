package anchorproof

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// HistoryWindow is how many past block hashes the EIP-2935 history
// contract keeps (geth params.HistoryServeWindow).
const HistoryWindow = 8191

// Proof is the JSON form of PEG.md §6.4.
type Proof struct {
	Target  Block   `json:"target"`
	Anchor  Block   `json:"anchor"`
	Bitcoin Bitcoin `json:"bitcoin"`
	// History is present when 0 < Anchor.Number - Target.Number <= HistoryWindow.
	History *History `json:"history,omitempty"`
	// Headers are the RLP headers Anchor-1 down to Target+1, present when
	// the anchor is more than HistoryWindow blocks above the target.
	Headers []hexutil.Bytes `json:"headers,omitempty"`
}

// Block is a sidechain block by number, hash and RLP header.
type Block struct {
	Number    hexutil.Uint64 `json:"number"`
	Hash      common.Hash    `json:"hash"`
	HeaderRLP hexutil.Bytes  `json:"headerRlp"`
}

// Bitcoin is the anchor's Bitcoin block. Height and DepthAtNode are what
// the building node's BtcRelay says: advisory, the verifier asks its own
// Bitcoin node.
type Bitcoin struct {
	Header      hexutil.Bytes `json:"header"`
	Hash        string        `json:"hash"` // display order, as Bitcoin nodes print it
	Height      uint32        `json:"height"`
	DepthAtNode uint32        `json:"depthAtNode"`
}

// History is the storage proof of the target's hash in the EIP-2935
// history contract, against the anchor's state root.
type History struct {
	Address      common.Address  `json:"address"`
	Slot         common.Hash     `json:"slot"`
	AccountProof []hexutil.Bytes `json:"accountProof"`
	StorageProof []hexutil.Bytes `json:"storageProof"`
}
