package node

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
)

// anvil_dumpState and anvil_loadState in anvil's format: the gzip of the
// JSON of its SerializableState, of which the accounts carry the state;
// the blocks and transactions anvil may add are not dumped (they are on
// the chain) and are ignored on load.

// dumpAccount is anvil's SerializableAccountRecord.
type dumpAccount struct {
	Nonce   uint64                `json:"nonce"`
	Balance *math.HexOrDecimal256 `json:"balance"`
	Code    hexutil.Bytes         `json:"code"`
	Storage map[string]string     `json:"storage"` // U256 -> U256, hex
}

type dumpState struct {
	Accounts        map[common.Address]dumpAccount `json:"accounts"`
	BestBlockNumber uint64                         `json:"best_block_number"`
	Blocks          []json.RawMessage              `json:"blocks"`
	Transactions    []json.RawMessage              `json:"transactions"`
}

// maxLoadOpsBytes bounds the dev operations one block carries while
// loading a state, well inside the dev network's seal size limit.
const maxLoadOpsBytes = 32 * 1024

func (d *devAPI) DumpState() ([]byte, error) {
	head := d.n.chain.CurrentBlock()
	st, err := d.n.chain.StateAt(head.Root, head.Number, head.Time)
	if err != nil {
		return nil, err
	}
	dump := st.RawDump(&state.DumpConfig{})
	out := dumpState{Accounts: make(map[common.Address]dumpAccount), BestBlockNumber: head.Number.Uint64(),
		Blocks: []json.RawMessage{}, Transactions: []json.RawMessage{}}
	for key, acc := range dump.Accounts {
		if !common.IsHexAddress(key) {
			return nil, fmt.Errorf("state dump: account %s has no address preimage", key)
		}
		balance, ok := new(big.Int).SetString(acc.Balance, 10)
		if !ok {
			return nil, fmt.Errorf("state dump: balance %q of %s", acc.Balance, key)
		}
		rec := dumpAccount{Nonce: acc.Nonce, Balance: (*math.HexOrDecimal256)(balance), Code: acc.Code,
			Storage: make(map[string]string)}
		for slot, value := range acc.Storage {
			rec.Storage[hexutil.EncodeBig(slot.Big())] = hexutil.EncodeBig(new(big.Int).SetBytes(common.FromHex(value)))
		}
		out.Accounts[common.HexToAddress(key)] = rec
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(out); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LoadState sets every account of an anvil state dump (gzipped or plain
// JSON), in blocks of dev operations; accounts it does not name keep
// their state, as on anvil.
func (d *devAPI) LoadState(dump []byte) error {
	raw := dump
	if zr, err := gzip.NewReader(bytes.NewReader(dump)); err == nil {
		if raw, err = io.ReadAll(io.LimitReader(zr, 1<<30)); err != nil {
			return fmt.Errorf("state dump: gzip: %w", err)
		}
	}
	var st dumpState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("failed to decode state dump: %w", err)
	}
	if st.Accounts == nil {
		return errors.New("failed to decode state dump: no accounts")
	}
	addrs := make([]common.Address, 0, len(st.Accounts))
	for a := range st.Accounts {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	var (
		ops  []consensus.DevOp
		size int
	)
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		err := d.mineOps(ops...)
		ops, size = nil, 0
		return err
	}
	add := func(op consensus.DevOp) error {
		if size += len(op.Value) + 100; size > maxLoadOpsBytes {
			if err := flush(); err != nil {
				return err
			}
			size = len(op.Value) + 100
		}
		ops = append(ops, op)
		return nil
	}
	for _, a := range addrs {
		acc := st.Accounts[a]
		balance := new(uint256.Int)
		if acc.Balance != nil {
			var overflow bool
			if balance, overflow = uint256.FromBig((*big.Int)(acc.Balance)); overflow || (*big.Int)(acc.Balance).Sign() < 0 {
				return fmt.Errorf("state dump: balance of %s out of range", a)
			}
		}
		if acc.Nonce == ^uint64(0) {
			return fmt.Errorf("state dump: nonce of %s is 2^64-1", a)
		}
		account := []consensus.DevOp{consensus.SetBalanceOp(a, balance), consensus.SetNonceOp(a, acc.Nonce), consensus.SetCodeOp(a, acc.Code)}
		for slot, value := range acc.Storage {
			s, ok1 := math.ParseBig256(slot)
			v, ok2 := math.ParseBig256(value)
			if !ok1 || !ok2 {
				return fmt.Errorf("state dump: storage %q = %q of %s is not a pair of 256-bit numbers", slot, value, a)
			}
			account = append(account, consensus.SetStorageOp(a, common.BigToHash(s), common.BigToHash(v)))
		}
		for _, op := range account {
			if err := add(op); err != nil {
				return err
			}
		}
	}
	return flush()
}
