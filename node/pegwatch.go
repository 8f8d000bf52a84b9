package node

import (
	"encoding/binary"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethdb"
)

// depositWatch is --peg.watch (PEG.md §4.4). A deposit address hides its
// recipient inside a script hash, so a relayer that sees BTC arrive on
// Bitcoin cannot tell whose it is. A node that watches remembers every
// recipient it handed a deposit address to (mm_getDepositAddress), in its
// database, and lists them in order of first request over
// mm_watchedDeposits(cursor); `mmfed relay` pulls the list, derives each
// address under the active federation epoch and scans Bitcoin blocks for
// payments to them. Recipients are stored, not addresses: an address
// changes with the federation epoch, the recipient does not. The list only
// grows; it is no statement that a deposit exists, and an address asked
// for by anyone is listed (watching is public by nature: the address is
// derivable from the public policy anyway).
//
// Keys (the xmm- prefix is mmgeth's own in the chain database):
//
//	xmm-dep-n              → u64be count
//	xmm-dep-i ‖ u64be(i)   → recipient (20 bytes)
//	xmm-dep-r ‖ recipient  → u64be(i)
type depositWatch struct {
	db ethdb.KeyValueStore
	mu sync.Mutex // serializes add: count read, then written
}

var (
	watchCountKey  = []byte("xmm-dep-n")
	watchIndexKey  = []byte("xmm-dep-i")
	watchRecipient = []byte("xmm-dep-r")
)

// watchPage bounds one mm_watchedDeposits answer.
const watchPage = 1000

func watchIndex(i uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{}, watchIndexKey...), i)
}
func watchByRecipient(r common.Address) []byte {
	return append(append([]byte{}, watchRecipient...), r[:]...)
}

// add registers r once; a recipient already watched keeps its index.
func (w *depositWatch) add(r common.Address) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ok, err := w.db.Has(watchByRecipient(r)); err != nil || ok {
		return err
	}
	n, err := w.count()
	if err != nil {
		return err
	}
	batch := w.db.NewBatch()
	idx := binary.BigEndian.AppendUint64(nil, n)
	if err := batch.Put(watchIndex(n), r[:]); err != nil {
		return err
	}
	if err := batch.Put(watchByRecipient(r), idx); err != nil {
		return err
	}
	if err := batch.Put(watchCountKey, binary.BigEndian.AppendUint64(nil, n+1)); err != nil {
		return err
	}
	return batch.Write()
}

func (w *depositWatch) count() (uint64, error) {
	raw, err := w.db.Get(watchCountKey)
	if err != nil {
		if ok, herr := w.db.Has(watchCountKey); herr == nil && !ok {
			return 0, nil // nothing watched yet
		}
		return 0, err
	}
	return binary.BigEndian.Uint64(raw), nil
}

// list returns up to watchPage recipients from index cursor on, and the
// cursor after them.
func (w *depositWatch) list(cursor uint64) ([]common.Address, uint64, error) {
	n, err := w.count()
	if err != nil {
		return nil, 0, err
	}
	var out []common.Address
	for i := cursor; i < n && len(out) < watchPage; i++ {
		raw, err := w.db.Get(watchIndex(i))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, common.BytesToAddress(raw))
	}
	return out, cursor + uint64(len(out)), nil
}
