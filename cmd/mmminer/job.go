package main

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// merkleRootOffset is where the merkle root sits in a serialized header.
const merkleRootOffset = 36

// job is one unit of work for the workers: a Bitcoin template, the
// sidechain work committed in its coinbase (nil to mine Bitcoin only), and
// everything that does not change with the extranonce.
type job struct {
	id      uint64
	tmpl    *btcTemplate
	work    *sideWork
	cb      *coinbaseTemplate
	branch  []chainhash.Hash
	header  [wire.MaxBlockHeaderPayload]byte // merkle root and nonce zero
	created time.Time
	// sideTarget is the sidechain target, zero (unreachable) without work.
	sideTarget [32]byte
	// btcTarget is what a hash must meet to go to the Bitcoin node: the
	// template's target, or the harder of it and sideTarget for a job
	// mining anchors only (anchorsOnly).
	btcTarget [32]byte

	// Each target is solved at most once per job: the first solution is
	// submitted and the workers stop checking that target.
	btcDone, sideDone atomic.Bool
}

func newJob(id uint64, t *btcTemplate, w *sideWork, payScript []byte, now time.Time) (*job, error) {
	base := t.coinbase
	if base == nil {
		var err error
		if base, err = newCoinbase(t, payScript); err != nil {
			return nil, err
		}
	}
	var (
		tag  []byte
		seal *[32]byte
	)
	if w != nil {
		tag, seal = w.tag, &w.seal
	}
	cb, err := newCoinbaseTemplate(base, tag, seal)
	if err != nil {
		return nil, err
	}
	j := &job{id: id, tmpl: t, work: w, cb: cb, branch: merkleBranch(t.txids), created: now}
	h := wire.BlockHeader{
		Version:   t.version,
		PrevBlock: t.prevBlock,
		Timestamp: time.Unix(t.blockTime(now.Unix()), 0),
		Bits:      t.bits,
	}
	var buf bytes.Buffer
	if err := h.Serialize(&buf); err != nil {
		return nil, err
	}
	copy(j.header[:], buf.Bytes())
	if w != nil {
		j.sideTarget = w.target
	}
	j.btcTarget = t.target
	j.sideDone.Store(w == nil)
	return j, nil
}

// anchorsOnly makes the job send the Bitcoin node only blocks that also
// seal a sidechain block (anchors, PEG.md §6.1). On mainnet every
// merge-mined Bitcoin block is one, Bitcoin's target being far the harder;
// on regtest it is far the easier, so without this almost no Bitcoin block
// is an anchor and Bitcoin-anchored finality cannot be seen moving. A job
// that cannot seal a sidechain block (no work, the work's block already
// sealed, the sidechain node away) sends no Bitcoin block at all. Called
// once the job's Done flags are set.
func (j *job) anchorsOnly() {
	if j.sideDone.Load() {
		j.btcDone.Store(true)
		return
	}
	if bytes.Compare(j.sideTarget[:], j.btcTarget[:]) < 0 {
		j.btcTarget = j.sideTarget
	}
}

// done reports whether every target of the job has been solved, so that
// grinding on would only burn CPU.
func (j *job) done() bool { return j.btcDone.Load() && j.sideDone.Load() }

// solution is a header that meets at least one of the job's targets.
type solution struct {
	job        *job
	extranonce uint64
	header     [wire.MaxBlockHeaderPayload]byte
	hash       chainhash.Hash
	btc, side  bool
}

// bitcoinBlock is the whole block for submitblock.
func (s *solution) bitcoinBlock() (*wire.MsgBlock, error) {
	block := new(wire.MsgBlock)
	if err := block.Header.Deserialize(bytes.NewReader(s.header[:])); err != nil {
		return nil, err
	}
	block.Transactions = make([]*wire.MsgTx, 0, 1+len(s.job.tmpl.txs))
	block.Transactions = append(block.Transactions, s.job.cb.withExtranonce(s.extranonce))
	block.Transactions = append(block.Transactions, s.job.tmpl.txs...)
	return block, nil
}

// partialMerkleParams are mnr_submitBitcoinBlockPartialMerkle's params, as
// rsksmart/stratum sends them.
type partialMerkleParams struct {
	blockHash string // the Bitcoin header hash, display order (ignored by nodes)
	header    string // 80 bytes, wire order
	coinbase  string // non-witness serialization
	hashes    string // coinbase txid then the branch, wire order, space-separated
	txCount   string // hex without 0x
}

func (s *solution) partialMerkleParams() *partialMerkleParams {
	coinbase := make([]byte, len(s.job.cb.raw))
	txid := s.job.cb.serialize(s.extranonce, coinbase)
	hashes := make([]string, 0, 1+len(s.job.branch))
	hashes = append(hashes, hex.EncodeToString(txid[:]))
	for _, h := range s.job.branch {
		hashes = append(hashes, hex.EncodeToString(h[:]))
	}
	return &partialMerkleParams{
		blockHash: s.hash.String(),
		header:    hex.EncodeToString(s.header[:]),
		coinbase:  hex.EncodeToString(coinbase),
		hashes:    strings.Join(hashes, " "),
		txCount:   strconv.FormatInt(int64(1+len(s.job.tmpl.txs)), 16),
	}
}
