package anchorproof

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/consensus"
)

// ErrNoAnchorState: the anchor's state, needed for the history proof, is no
// longer held by the node (a full node keeps the newest 128 states).
var ErrNoAnchorState = errors.New("anchor state not available on this node")

// NeedsState reports whether a proof from anchor to target reads the
// anchor's state (the history proof).
func NeedsState(target, anchor *types.Header) bool {
	gap := anchor.Number.Uint64() - target.Number.Uint64()
	return gap > 0 && gap <= HistoryWindow
}

// Build makes the proof that target is committed by anchor, a canonical
// block at or above it, whose proof's Bitcoin block is at btcHeight and
// depth in the node's BtcRelay.
func Build(bc *core.BlockChain, target, anchor *types.Header, btcHeight, depth uint32) (*Proof, error) {
	x, a := target.Number.Uint64(), anchor.Number.Uint64()
	if x > a {
		return nil, fmt.Errorf("anchor %d below target %d", a, x)
	}
	header80, err := bitcoinHeader(anchor)
	if err != nil {
		return nil, err
	}
	p := &Proof{
		Bitcoin: Bitcoin{Header: header80, Hash: chainhash.DoubleHashH(header80).String(), Height: btcHeight, DepthAtNode: depth},
	}
	if p.Target, err = block(target); err != nil {
		return nil, err
	}
	if p.Anchor, err = block(anchor); err != nil {
		return nil, err
	}
	switch gap := a - x; {
	case gap == 0:
	case gap <= HistoryWindow:
		if p.History, err = historyProof(bc, anchor, x); err != nil {
			return nil, err
		}
	default:
		if p.Headers, err = headerChain(bc, anchor, x); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// headerChain is the RLP headers from anchor's parent down to block x+1.
func headerChain(bc *core.BlockChain, anchor *types.Header, x uint64) ([]hexutil.Bytes, error) {
	var headers []hexutil.Bytes
	for h := bc.GetHeader(anchor.ParentHash, anchor.Number.Uint64()-1); h != nil && h.Number.Uint64() > x; h = bc.GetHeader(h.ParentHash, h.Number.Uint64()-1) {
		enc, err := rlp.EncodeToBytes(h)
		if err != nil {
			return nil, err
		}
		headers = append(headers, enc)
	}
	if uint64(len(headers)) != anchor.Number.Uint64()-x-1 {
		return nil, fmt.Errorf("headers between %d and %d missing", x, anchor.Number)
	}
	return headers, nil
}

func block(h *types.Header) (Block, error) {
	enc, err := rlp.EncodeToBytes(h)
	return Block{Number: hexutil.Uint64(h.Number.Uint64()), Hash: h.Hash(), HeaderRLP: enc}, err
}

// historySlot is the history contract's slot holding block n's hash.
func historySlot(n uint64) common.Hash {
	var slot common.Hash
	binary.BigEndian.PutUint64(slot[24:], n%HistoryWindow)
	return slot
}

// nodeList collects the trie nodes of a proof in the order Prove writes
// them, root first.
type nodeList []hexutil.Bytes

func (l *nodeList) Put(_, value []byte) error {
	*l = append(*l, common.CopyBytes(value))
	return nil
}

func (l *nodeList) Delete([]byte) error { return errors.New("proof node list is append-only") }

func historyProof(bc *core.BlockChain, anchor *types.Header, x uint64) (*History, error) {
	st, err := bc.StateAt(anchor.Root, anchor.Number, anchor.Time)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: %v", ErrNoAnchorState, anchor.Number, err)
	}
	addr := params.HistoryStorageAddress
	h := &History{Address: addr, Slot: historySlot(x)}
	accountTrie, err := st.Database().OpenTrie(anchor.Root)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAnchorState, err)
	}
	var account nodeList
	if err := accountTrie.Prove(crypto.Keccak256(addr[:]), &account); err != nil {
		return nil, err
	}
	storageTrie, err := st.Database().OpenStorageTrie(anchor.Root, addr, st.GetStorageRoot(addr), accountTrie)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAnchorState, err)
	}
	var storage nodeList
	if err := storageTrie.Prove(crypto.Keccak256(h.Slot[:]), &storage); err != nil {
		return nil, err
	}
	h.AccountProof, h.StorageProof = account, storage
	return h, nil
}

// bitcoinHeader is the Bitcoin header of a sealed block's proof.
func bitcoinHeader(h *types.Header) ([]byte, error) {
	seal, err := consensus.DecodeSeal(h.Extra)
	if err != nil {
		return nil, err
	}
	if seal.Proof == nil {
		return nil, fmt.Errorf("block %d has no merged-mining proof", h.Number)
	}
	return seal.Proof.BitcoinHeader, nil
}
