package anchorproof

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/mergemine"
)

// ErrInvalid is wrapped by every verdict of Verify against the proof.
var ErrInvalid = errors.New("invalid anchor proof")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Result is what a valid proof establishes, given that the caller's Bitcoin
// node has BitcoinHash in its best chain K deep: Target (with its state
// root) is committed by that Bitcoin block.
type Result struct {
	Target, Anchor *types.Header
	BitcoinHash    chainhash.Hash
}

// Verify checks p under the network's merged-mining tag. It does not ask
// any Bitcoin node: the caller checks BitcoinHash's depth.
func Verify(p *Proof, tag []byte) (*Result, error) {
	if p == nil {
		return nil, invalid("no proof")
	}
	// 1. The Bitcoin header, a whole block by its own nBits.
	if len(p.Bitcoin.Header) != mergemine.HeaderSize {
		return nil, invalid("bitcoin header of %d bytes, want %d", len(p.Bitcoin.Header), mergemine.HeaderSize)
	}
	btcHash := mergemine.HeaderHash(p.Bitcoin.Header)
	if p.Bitcoin.Hash != btcHash.String() {
		return nil, invalid("bitcoin hash %q, the header hashes to %v", p.Bitcoin.Hash, btcHash)
	}
	btc, err := mergemine.ParseHeader(p.Bitcoin.Header)
	if err != nil {
		return nil, invalid("bitcoin header: %v", err)
	}
	if target := blockchain.CompactToBig(btc.Bits); target.Sign() <= 0 || blockchain.HashToBig(&btcHash).Cmp(target) > 0 {
		return nil, invalid("bitcoin header %v does not meet its own nBits %08x: a share, not a block", btcHash, btc.Bits)
	}
	// 2. The anchor, committed by the Bitcoin block's coinbase.
	anchor, err := decodeBlock("anchor", &p.Anchor)
	if err != nil {
		return nil, err
	}
	seal, err := consensus.DecodeSeal(anchor.Extra)
	if err != nil {
		return nil, invalid("anchor seal: %v", err)
	}
	if seal.Proof == nil || !bytes.Equal(seal.Proof.BitcoinHeader, p.Bitcoin.Header) {
		return nil, invalid("the anchor's seal proof is not for this bitcoin header")
	}
	if err := mergemine.Verify(seal.Proof, consensus.SealHash(anchor), seal.Difficulty, tag); err != nil {
		return nil, invalid("anchor seal proof: %v", err)
	}
	// 3. The target, tied to the anchor.
	target, err := decodeBlock("target", &p.Target)
	if err != nil {
		return nil, err
	}
	x, a := target.Number.Uint64(), anchor.Number.Uint64()
	if x > a {
		return nil, invalid("target %d above anchor %d", x, a)
	}
	switch gap := a - x; {
	case gap == 0:
		if target.Hash() != anchor.Hash() || p.History != nil || len(p.Headers) > 0 {
			return nil, invalid("target and anchor at one height must be one block, with nothing else")
		}
	case gap <= HistoryWindow:
		if p.History == nil || len(p.Headers) > 0 {
			return nil, invalid("a target %d blocks below the anchor needs the history proof and nothing else", gap)
		}
		if err := verifyHistory(p.History, anchor.Root, x, target.Hash()); err != nil {
			return nil, err
		}
	default:
		if p.History != nil || uint64(len(p.Headers)) != gap-1 {
			return nil, invalid("a target %d blocks below the anchor needs the %d headers between, and nothing else", gap, gap-1)
		}
		if err := verifyHeaderChain(anchor, target, p.Headers); err != nil {
			return nil, err
		}
	}
	return &Result{Target: target, Anchor: anchor, BitcoinHash: btcHash}, nil
}

// verifyHeaderChain checks that headers are anchor's ancestors from its
// parent down, and that target is the parent of the last.
func verifyHeaderChain(anchor, target *types.Header, headers []hexutil.Bytes) error {
	child := anchor
	for i, enc := range headers {
		h, err := decodeHeader(enc)
		if err != nil {
			return invalid("header %d: %v", i, err)
		}
		if h.Hash() != child.ParentHash || h.Number.Uint64()+1 != child.Number.Uint64() {
			return invalid("header %d is not the parent of the one before", i)
		}
		child = h
	}
	if target.Hash() != child.ParentHash || target.Number.Uint64()+1 != child.Number.Uint64() {
		return invalid("the target is not the parent of the last header")
	}
	return nil
}

// decodeHeader decodes a header and requires enc to be its canonical
// encoding, so that no other bytes stand for the same header.
func decodeHeader(enc []byte) (*types.Header, error) {
	h := new(types.Header)
	if err := rlp.DecodeBytes(enc, h); err != nil {
		return nil, err
	}
	if again, err := rlp.EncodeToBytes(h); err != nil || !bytes.Equal(again, enc) {
		return nil, errors.New("not the canonical encoding of the header")
	}
	return h, nil
}

func decodeBlock(what string, b *Block) (*types.Header, error) {
	h, err := decodeHeader(b.HeaderRLP)
	if err != nil {
		return nil, invalid("%s header: %v", what, err)
	}
	if h.Hash() != b.Hash || h.Number.Uint64() != uint64(b.Number) {
		return nil, invalid("%s header is block %d %x, not %d %x", what, h.Number, h.Hash(), uint64(b.Number), b.Hash)
	}
	return h, nil
}

// proofNodes is a trie.VerifyProof database over the given nodes that
// records which were read, so that unused nodes can be refused.
type proofNodes struct {
	nodes map[common.Hash][]byte
	used  map[common.Hash]bool
}

func newProofNodes(list []hexutil.Bytes) (*proofNodes, error) {
	p := &proofNodes{nodes: make(map[common.Hash][]byte, len(list)), used: make(map[common.Hash]bool, len(list))}
	for _, n := range list {
		h := crypto.Keccak256Hash(n)
		if _, dup := p.nodes[h]; dup {
			return nil, invalid("trie node %x given twice", h)
		}
		p.nodes[h] = n
	}
	return p, nil
}

func (p *proofNodes) Has(key []byte) (bool, error) {
	_, ok := p.nodes[common.BytesToHash(key)]
	return ok, nil
}

func (p *proofNodes) Get(key []byte) ([]byte, error) {
	h := common.BytesToHash(key)
	n, ok := p.nodes[h]
	if !ok {
		return nil, errors.New("not found")
	}
	p.used[h] = true
	return n, nil
}

func (p *proofNodes) allUsed(what string) error {
	if len(p.used) != len(p.nodes) {
		return invalid("%s: %d of %d trie nodes are not on the path", what, len(p.nodes)-len(p.used), len(p.nodes))
	}
	return nil
}

// verifyHistory checks that the history contract's slot x mod 8191 holds
// want in the state with the given root.
func verifyHistory(h *History, root common.Hash, x uint64, want common.Hash) error {
	if h.Address != params.HistoryStorageAddress {
		return invalid("history address %v, want the EIP-2935 contract %v", h.Address, params.HistoryStorageAddress)
	}
	if h.Slot != historySlot(x) {
		return invalid("history slot %v, want %v for block %d", h.Slot, historySlot(x), x)
	}
	account, err := VerifyAccount(root, h.Address, h.AccountProof)
	if err != nil {
		return err
	}
	got, err := VerifySlot(account.Root, h.Slot, h.StorageProof)
	if err != nil {
		return err
	}
	if got != want {
		return invalid("history slot holds %x, want the target's hash %x", got, want)
	}
	return nil
}

// VerifyAccount checks an eth_getProof account proof of addr against a
// state root and returns the account, which must exist; every node given
// must be on the path.
func VerifyAccount(root common.Hash, addr common.Address, proof []hexutil.Bytes) (*types.StateAccount, error) {
	nodes, err := newProofNodes(proof)
	if err != nil {
		return nil, err
	}
	enc, err := trie.VerifyProof(root, crypto.Keccak256(addr[:]), nodes)
	if err != nil {
		return nil, invalid("account proof of %v: %v", addr, err)
	}
	if enc == nil {
		return nil, invalid("account proof: no account %v in the state", addr)
	}
	if err := nodes.allUsed("account proof"); err != nil {
		return nil, err
	}
	account, err := types.FullAccount(enc)
	if err != nil {
		return nil, invalid("account %v: %v", addr, err)
	}
	return account, nil
}

// VerifySlot checks an eth_getProof storage proof of slot against an
// account's storage root and returns the slot's value (zero if absent);
// every node given must be on the path.
func VerifySlot(storageRoot, slot common.Hash, proof []hexutil.Bytes) (common.Hash, error) {
	nodes, err := newProofNodes(proof)
	if err != nil {
		return common.Hash{}, err
	}
	enc, err := trie.VerifyProof(storageRoot, crypto.Keccak256(slot[:]), nodes)
	if err != nil {
		return common.Hash{}, invalid("storage proof of slot %v: %v", slot, err)
	}
	if err := nodes.allUsed("storage proof"); err != nil {
		return common.Hash{}, err
	}
	var value []byte
	if enc != nil {
		if err := rlp.DecodeBytes(enc, &value); err != nil {
			return common.Hash{}, invalid("storage value: %v", err)
		}
	}
	if len(value) > common.HashLength {
		return common.Hash{}, invalid("storage value of %d bytes", len(value))
	}
	return common.BytesToHash(value), nil
}
