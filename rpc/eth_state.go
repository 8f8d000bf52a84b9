// Follows go-ethereum v1.17.10 internal/ethapi/api.go (BlockChainAPI: balance, code, storage, nonce, GetProof), which geth keeps internal; ported
// because it cannot be imported. Differs: "pending" is "latest" except for the nonce, which counts the pool.

package rpc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// Account state reads. Every block argument is optional and means "latest"
// when omitted; it takes a number, a tag or an EIP-1898 object.

// maxStateKeys bounds the storage slots of one eth_getProof or
// eth_getStorageValues request.
const maxStateKeys = 1024

func orLatest(sel *gethrpc.BlockNumberOrHash) gethrpc.BlockNumberOrHash {
	if sel == nil {
		return gethrpc.BlockNumberOrHashWithNumber(gethrpc.LatestBlockNumber)
	}
	return *sel
}

func (api *ethAPI) GetBalance(ctx context.Context, addr common.Address, sel *gethrpc.BlockNumberOrHash) (*hexutil.Big, error) {
	return readState(ctx, api.s.b, orLatest(sel), func(st *state.StateDB, _ *types.Header) (*hexutil.Big, error) {
		return (*hexutil.Big)(st.GetBalance(addr).ToBig()), st.Error()
	})
}

// GetTransactionCount is the account nonce; at "pending" it counts the
// sender's transactions waiting in the pool too, which is what wallets need
// to pick the next nonce.
func (api *ethAPI) GetTransactionCount(ctx context.Context, addr common.Address, sel *gethrpc.BlockNumberOrHash) (*hexutil.Uint64, error) {
	at := orLatest(sel)
	if n, ok := at.Number(); ok && n == gethrpc.PendingBlockNumber {
		nonce := hexutil.Uint64(api.s.b.pool.PoolNonce(addr))
		return &nonce, nil
	}
	return readState(ctx, api.s.b, at, func(st *state.StateDB, _ *types.Header) (*hexutil.Uint64, error) {
		nonce := hexutil.Uint64(st.GetNonce(addr))
		return &nonce, st.Error()
	})
}

func (api *ethAPI) GetCode(ctx context.Context, addr common.Address, sel *gethrpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	return readState(ctx, api.s.b, orLatest(sel), func(st *state.StateDB, _ *types.Header) (hexutil.Bytes, error) {
		return st.GetCode(addr), st.Error()
	})
}

func (api *ethAPI) GetStorageAt(ctx context.Context, addr common.Address, slot string, sel *gethrpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	key, _, err := decodeStorageKey(slot)
	if err != nil {
		return nil, &invalidParamsError{fmt.Sprintf("%v: %q", err, slot)}
	}
	return readState(ctx, api.s.b, orLatest(sel), func(st *state.StateDB, _ *types.Header) (hexutil.Bytes, error) {
		v := st.GetState(addr, key)
		return v[:], st.Error()
	})
}

// GetStorageValues reads many slots of many accounts from one state.
func (api *ethAPI) GetStorageValues(ctx context.Context, requests map[common.Address][]common.Hash, sel *gethrpc.BlockNumberOrHash) (map[common.Address][]hexutil.Bytes, error) {
	total := 0
	for _, keys := range requests {
		total += len(keys)
	}
	if total == 0 {
		return nil, &invalidParamsError{"empty request"}
	}
	if total > maxStateKeys {
		return nil, &codedError{codeClientLimitExceeded, fmt.Sprintf("too many slots (max %d)", maxStateKeys)}
	}
	return readState(ctx, api.s.b, orLatest(sel), func(st *state.StateDB, _ *types.Header) (map[common.Address][]hexutil.Bytes, error) {
		out := make(map[common.Address][]hexutil.Bytes, len(requests))
		for addr, keys := range requests {
			vals := make([]hexutil.Bytes, len(keys))
			for i, k := range keys {
				v := st.GetState(addr, k)
				vals[i] = v[:]
			}
			out[addr] = vals
		}
		return out, st.Error()
	})
}

// decodeStorageKey parses a slot leniently, as geth does: "0x" optional, odd
// length and fewer than 32 bytes allowed (left-padded). It also returns the
// number of bytes given.
func decodeStorageKey(s string) (common.Hash, int, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	if len(s) > 64 {
		return common.Hash{}, len(s) / 2, errors.New("storage key too long (want at most 32 bytes)")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return common.Hash{}, 0, errors.New("invalid hex in storage key")
	}
	return common.BytesToHash(b), len(b), nil
}

// accountProof is the EIP-1186 answer.
type accountProof struct {
	Address      common.Address `json:"address"`
	AccountProof []string       `json:"accountProof"`
	Balance      *hexutil.Big   `json:"balance"`
	CodeHash     common.Hash    `json:"codeHash"`
	Nonce        hexutil.Uint64 `json:"nonce"`
	StorageHash  common.Hash    `json:"storageHash"`
	StorageProof []storageProof `json:"storageProof"`
}

type storageProof struct {
	Key   string       `json:"key"`
	Value *hexutil.Big `json:"value"`
	Proof []string     `json:"proof"`
}

// proofNodes collects trie proof nodes as hex strings.
type proofNodes []string

func (p *proofNodes) Put(key []byte, value []byte) error {
	*p = append(*p, hexutil.Encode(value))
	return nil
}

func (p *proofNodes) Delete(key []byte) error {
	return errors.New("proof collector is append-only")
}

// GetProof returns EIP-1186 Merkle proofs of an account and some of its slots.
func (api *ethAPI) GetProof(ctx context.Context, addr common.Address, storageKeys []string, sel *gethrpc.BlockNumberOrHash) (*accountProof, error) {
	if len(storageKeys) > maxStateKeys {
		return nil, &invalidParamsError{fmt.Sprintf("too many storage keys requested (max %d, got %d)", maxStateKeys, len(storageKeys))}
	}
	keys := make([]common.Hash, len(storageKeys))
	outKeys := make([]string, len(storageKeys))
	for i, s := range storageKeys {
		k, n, err := decodeStorageKey(s)
		if err != nil {
			return nil, &invalidParamsError{fmt.Sprintf("%v: %q", err, s)}
		}
		keys[i] = k
		// A full 32-byte key comes back as given; a short one as a quantity,
		// which is what the spec's examples and older clients expect.
		if n == 32 {
			outKeys[i] = hexutil.Encode(k[:])
		} else {
			outKeys[i] = hexutil.EncodeBig(k.Big())
		}
	}
	return readState(ctx, api.s.b, orLatest(sel), func(st *state.StateDB, header *types.Header) (*accountProof, error) {
		storageRoot := st.GetStorageRoot(addr)
		proofs := make([]storageProof, len(keys))
		var storageTrie state.Trie
		if len(keys) > 0 && storageRoot != types.EmptyRootHash && storageRoot != (common.Hash{}) {
			var err error
			if storageTrie, err = st.Database().OpenStorageTrie(header.Root, addr, storageRoot, nil); err != nil {
				return nil, err
			}
		}
		for i, k := range keys {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if storageTrie == nil {
				proofs[i] = storageProof{outKeys[i], new(hexutil.Big), []string{}}
				continue
			}
			var nodes proofNodes
			if err := storageTrie.Prove(crypto.Keccak256(k[:]), &nodes); err != nil {
				return nil, err
			}
			proofs[i] = storageProof{outKeys[i], (*hexutil.Big)(st.GetState(addr, k).Big()), nodes}
		}
		accountTrie, err := st.Database().OpenTrie(header.Root)
		if err != nil {
			return nil, err
		}
		var nodes proofNodes
		if err := accountTrie.Prove(crypto.Keccak256(addr[:]), &nodes); err != nil {
			return nil, err
		}
		return &accountProof{
			Address:      addr,
			AccountProof: nodes,
			Balance:      (*hexutil.Big)(st.GetBalance(addr).ToBig()),
			CodeHash:     st.GetCodeHash(addr),
			Nonce:        hexutil.Uint64(st.GetNonce(addr)),
			StorageHash:  storageRoot,
			StorageProof: proofs,
		}, st.Error()
	})
}
