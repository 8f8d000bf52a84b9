package miner

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/mmgeth/mmgeth/mergemine"
)

// The mnr namespace is Rootstock's merged-mining RPC (rskj MnrModuleImpl),
// reproduced parameter for parameter so that existing RSK pool software
// (rsksmart/stratum and its forks) mines this chain unchanged. The node
// serves it only when mining is enabled.

// mnrSubmitCode is Rootstock's JsonRpcSubmitBlockException code; pools match
// on it. Every failure the work server reports is returned with it.
const mnrSubmitCode = -33000

// mnrInvalidParamsCode is JSON-RPC's invalid-params code, used for requests
// that cannot be decoded at all (rskj answers those with a generic error).
const mnrInvalidParamsCode = -32602

// mnrMaxMerkleLevels bounds a coinbase merkle branch: RSKIP-92 proofs are at
// most 960 bytes, 30 sibling hashes.
const mnrMaxMerkleLevels = 30

// API serves mnr_getWork and the three mnr_submitBitcoinBlock* methods over
// a work server. Each submission is parsed here, once, into a Share.
type API struct {
	ws *WorkServer
}

// NewAPI returns the mnr service of a work server; the node registers it
// as namespace "mnr".
func NewAPI(ws *WorkServer) *API {
	return &API{ws: ws}
}

// MinerWork is mnr_getWork's result: Rootstock's MinerWork plus the tag.
type MinerWork struct {
	BlockHashForMergedMining common.Hash `json:"blockHashForMergedMining"`
	// Target is 32 bytes big-endian, 0x-prefixed and zero-padded.
	Target string `json:"target"`
	// FeesPaidToMiner is a decimal string of wei (Rootstock's Coin.toString).
	FeesPaidToMiner string        `json:"feesPaidToMiner"`
	Notify          bool          `json:"notify"`
	ParentBlockHash common.Hash   `json:"parentBlockHash"`
	Tag             hexutil.Bytes `json:"tag"`
}

// SubmittedBlockInfo is the result of the submit methods, Rootstock's
// SubmittedBlockInfo.
type SubmittedBlockInfo struct {
	// BlockImportedResult is the ASCII of the ImportResult name as 0x-hex,
	// e.g. 0x494d504f525445445f42455354 for IMPORTED_BEST.
	BlockImportedResult hexutil.Bytes  `json:"blockImportedResult"`
	BlockHash           common.Hash    `json:"blockHash"`
	BlockIncludedHeight hexutil.Uint64 `json:"blockIncludedHeight"`
}

// mnrError carries a JSON-RPC error code through geth's rpc server, which
// looks for ErrorCode on the returned error itself.
type mnrError struct {
	code int
	msg  string
	err  error
}

func (e *mnrError) Error() string  { return e.msg }
func (e *mnrError) ErrorCode() int { return e.code }
func (e *mnrError) Unwrap() error  { return e.err }

func mnrInvalidParams(format string, args ...any) error {
	return &mnrError{code: mnrInvalidParamsCode, msg: fmt.Sprintf(format, args...)}
}

// mnrServerError words a work-server failure as Rootstock does: unknown work
// reads "Cannot publish block, could not find hash … in the cache", the rest
// start with a capital like rskj's messages.
func mnrServerError(err error) error {
	msg := err.Error()
	var unknown *UnknownWorkError
	if errors.As(err, &unknown) {
		msg = "Cannot publish block, " + msg
	} else if r, n := utf8.DecodeRuneInString(msg); n > 0 {
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	return &mnrError{code: mnrSubmitCode, msg: msg, err: err}
}

// GetWork implements mnr_getWork.
func (api *API) GetWork() (*MinerWork, error) {
	w, err := api.ws.GetWork()
	if err != nil {
		return nil, mnrServerError(err)
	}
	return newMinerWork(w, api.ws.cfg.Tag), nil
}

func newMinerWork(w *Work, tag []byte) *MinerWork {
	return &MinerWork{
		BlockHashForMergedMining: w.SealHash,
		Target:                   fmt.Sprintf("0x%064x", w.Target),
		FeesPaidToMiner:          w.Fees.String(),
		Notify:                   w.Notify,
		ParentBlockHash:          w.ParentHash,
		Tag:                      tag,
	}
}

// SubmitBitcoinBlock implements mnr_submitBitcoinBlock [blockHex]: a whole
// serialized Bitcoin block; the coinbase is its first transaction and the
// proof is built from the txids of all its transactions.
func (api *API) SubmitBitcoinBlock(blockHex string) (*SubmittedBlockInfo, error) {
	s, err := parseBitcoinBlock(blockHex, api.ws.cfg.Tag)
	if err != nil {
		return nil, err
	}
	return api.submit(s)
}

// SubmitBitcoinBlockTransactions implements mnr_submitBitcoinBlockTransactions
// [ignored, header80Hex, coinbaseHex, txids]: txids are the space-separated
// txids of every transaction of the block in display order (as explorers and
// bitcoind print them), the coinbase's first. The first parameter is ignored,
// as in rskj: the template is found by the hash committed in the coinbase.
func (api *API) SubmitBitcoinBlockTransactions(_ *json.RawMessage, headerHex, coinbaseHex, txidsHex string) (*SubmittedBlockInfo, error) {
	s, err := parseTransactions(headerHex, coinbaseHex, txidsHex, api.ws.cfg.Tag)
	if err != nil {
		return nil, err
	}
	return api.submit(s)
}

// SubmitBitcoinBlockPartialMerkle implements
// mnr_submitBitcoinBlockPartialMerkle [ignored, header80Hex, coinbaseHex,
// hashes, txCountHex], what pools send: hashes are space-separated in wire
// order (as Stratum's merkle_branch), the coinbase txid first, then the
// branch bottom to top. txCountHex is hex without 0x; rsksmart/stratum sends
// the number of hashes there, not the block's transaction count, and RSKIP-92
// proofs do not need it, so it is parsed but not used.
func (api *API) SubmitBitcoinBlockPartialMerkle(_ *json.RawMessage, headerHex, coinbaseHex, hashesHex, txCountHex string) (*SubmittedBlockInfo, error) {
	s, err := parsePartialMerkle(headerHex, coinbaseHex, hashesHex, txCountHex, api.ws.cfg.Tag)
	if err != nil {
		return nil, err
	}
	return api.submit(s)
}

func (api *API) submit(s *Share) (*SubmittedBlockInfo, error) {
	res, err := api.ws.Submit(s)
	if err != nil {
		return nil, mnrServerError(err)
	}
	return &SubmittedBlockInfo{
		BlockImportedResult: []byte(res.Status),
		BlockHash:           res.Block.Hash(),
		BlockIncludedHeight: hexutil.Uint64(res.Block.NumberU64()),
	}, nil
}

// parseBitcoinBlock parses mnr_submitBitcoinBlock's block: deserialized
// once, its coinbase re-serialized without witness for the proof.
func parseBitcoinBlock(blockHex string, tag []byte) (*Share, error) {
	raw, err := mnrDecodeHex("bitcoin block", blockHex)
	if err != nil {
		return nil, err
	}
	var block wire.MsgBlock
	r := bytes.NewReader(raw)
	if err := block.Deserialize(r); err != nil {
		return nil, mnrInvalidParams("invalid bitcoin block: %v", err)
	}
	if r.Len() != 0 {
		return nil, mnrInvalidParams("invalid bitcoin block: %d bytes after the last transaction", r.Len())
	}
	if len(block.Transactions) == 0 {
		return nil, mnrInvalidParams("invalid bitcoin block: no transactions")
	}
	var header bytes.Buffer
	if err := block.Header.Serialize(&header); err != nil {
		return nil, mnrInvalidParams("invalid bitcoin block header: %v", err)
	}
	coinbase, err := mnrSerializeNoWitness(block.Transactions[0])
	if err != nil {
		return nil, err
	}
	txids := make([]chainhash.Hash, len(block.Transactions))
	for i, tx := range block.Transactions {
		txids[i] = tx.TxHash()
	}
	return mnrShare(header.Bytes(), coinbase, mergemine.MerkleProofFromTxids(txids), tag)
}

// parseTransactions parses mnr_submitBitcoinBlockTransactions' parameters.
func parseTransactions(headerHex, coinbaseHex, txidsHex string, tag []byte) (*Share, error) {
	header, coinbase, txid, err := mnrDecodeHeaderAndCoinbase(headerHex, coinbaseHex)
	if err != nil {
		return nil, err
	}
	txids, err := mnrDecodeHashList("transaction hash", txidsHex, true)
	if err != nil {
		return nil, err
	}
	if len(txids) == 0 {
		return nil, mnrInvalidParams("the list of transaction hashes can't be empty")
	}
	if err := mnrCheckCoinbaseFirst(txids[0], txid, true); err != nil {
		return nil, err
	}
	return mnrShare(header, coinbase, mergemine.MerkleProofFromTxids(txids), tag)
}

// parsePartialMerkle parses mnr_submitBitcoinBlockPartialMerkle's
// parameters.
func parsePartialMerkle(headerHex, coinbaseHex, hashesHex, txCountHex string, tag []byte) (*Share, error) {
	if strings.TrimSpace(hashesHex) == "" {
		// rskj's exact wording and code for this case.
		return nil, &mnrError{code: mnrSubmitCode, msg: "The list of merkle hashes can't be empty"}
	}
	header, coinbase, txid, err := mnrDecodeHeaderAndCoinbase(headerHex, coinbaseHex)
	if err != nil {
		return nil, err
	}
	hashes, err := mnrDecodeHashList("merkle hash", hashesHex, false)
	if err != nil {
		return nil, err
	}
	if len(hashes) > 1+mnrMaxMerkleLevels {
		return nil, mnrInvalidParams("merkle branch has %d hashes, at most %d levels are allowed", len(hashes)-1, mnrMaxMerkleLevels)
	}
	if err := mnrCheckCoinbaseFirst(hashes[0], txid, false); err != nil {
		return nil, err
	}
	count, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(txCountHex, "0x"), "0X"), 16, 32)
	if err != nil || count == 0 {
		return nil, mnrInvalidParams("invalid transaction count %q: want a positive hex number", txCountHex)
	}
	return mnrShare(header, coinbase, mergemine.MerkleProofFromBranch(hashes[1:]), tag)
}

// mnrShare is NewShare with its refusal (a coinbase without a commitment)
// worded for the pool.
func mnrShare(header80, coinbase, merkleProof, tag []byte) (*Share, error) {
	s, err := NewShare(header80, coinbase, merkleProof, tag)
	if err != nil {
		return nil, mnrServerError(err)
	}
	return s, nil
}

// mnrDecodeHex decodes rskj-style hex (no prefix) and also accepts 0x.
func mnrDecodeHex(what, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, mnrInvalidParams("invalid %s hex: %v", what, err)
	}
	return b, nil
}

// mnrDecodeHeaderAndCoinbase checks the header length and deserializes the
// coinbase, the one time it is parsed, for its txid and its non-witness
// serialization: pools should send the txid serialization, but a
// witness-serialized coinbase is the same transaction and is accepted.
func mnrDecodeHeaderAndCoinbase(headerHex, coinbaseHex string) (header, coinbase []byte, txid chainhash.Hash, err error) {
	header, err = mnrDecodeHex("bitcoin header", headerHex)
	if err != nil {
		return nil, nil, txid, err
	}
	if len(header) != wire.MaxBlockHeaderPayload {
		return nil, nil, txid, mnrInvalidParams("invalid bitcoin header: %d bytes, want %d", len(header), wire.MaxBlockHeaderPayload)
	}
	raw, err := mnrDecodeHex("coinbase", coinbaseHex)
	if err != nil {
		return nil, nil, txid, err
	}
	var tx wire.MsgTx
	r := bytes.NewReader(raw)
	if err := tx.Deserialize(r); err != nil {
		return nil, nil, txid, mnrInvalidParams("invalid coinbase transaction: %v", err)
	}
	if r.Len() != 0 {
		return nil, nil, txid, mnrInvalidParams("invalid coinbase transaction: %d bytes after its end", r.Len())
	}
	if !tx.HasWitness() {
		// Already the txid serialization: hash it as it came.
		return header, raw, chainhash.DoubleHashH(raw), nil
	}
	coinbase, err = mnrSerializeNoWitness(&tx)
	if err != nil {
		return nil, nil, txid, err
	}
	return header, coinbase, chainhash.DoubleHashH(coinbase), nil
}

func mnrSerializeNoWitness(tx *wire.MsgTx) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(tx.SerializeSizeStripped())
	if err := tx.SerializeNoWitness(&buf); err != nil {
		return nil, mnrInvalidParams("invalid coinbase transaction: %v", err)
	}
	return buf.Bytes(), nil
}

// mnrDecodeHashList splits on any whitespace, as rskj's split("\\s+"), and
// returns wire-order hashes; display-order input is byte-reversed.
func mnrDecodeHashList(what, s string, display bool) ([]chainhash.Hash, error) {
	fields := strings.Fields(s)
	hashes := make([]chainhash.Hash, len(fields))
	for i, f := range fields {
		b, err := mnrDecodeHex(what, f)
		if err != nil {
			return nil, err
		}
		if len(b) != chainhash.HashSize {
			return nil, mnrInvalidParams("invalid %s %d %q: %d bytes, want %d", what, i, f, len(b), chainhash.HashSize)
		}
		if display {
			for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
				b[l], b[r] = b[r], b[l]
			}
		}
		copy(hashes[i][:], b)
	}
	return hashes, nil
}

// mnrCheckCoinbaseFirst rejects a hash list that does not start with the
// coinbase txid. rskj silently ignores that entry, but a wrong one almost
// always means the whole list is in the wrong byte order, which would
// otherwise surface as an opaque merkle-root mismatch.
func mnrCheckCoinbaseFirst(first, txid chainhash.Hash, display bool) error {
	if first == txid {
		return nil
	}
	order, other := "wire", "display"
	if display {
		order, other = "display", "wire"
	}
	var reversed chainhash.Hash
	for i := range first {
		reversed[i] = first[len(first)-1-i]
	}
	if reversed == txid {
		return mnrInvalidParams("hashes must be in %s order, got %s order (first hash is the coinbase txid reversed)", order, other)
	}
	return mnrInvalidParams("first hash must be the coinbase txid %s, got %s", mnrHashHex(txid, display), mnrHashHex(first, display))
}

func mnrHashHex(h chainhash.Hash, display bool) string {
	if display {
		return h.String()
	}
	return hex.EncodeToString(h[:])
}
