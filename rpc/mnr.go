package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
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
// (rsksmart/stratum and its forks) mines this chain unchanged. The node serves
// it only when mining is enabled.

// mnrSubmitCode is Rootstock's JsonRpcSubmitBlockException code; pools match
// on it. Every failure the work server reports is returned with it.
const mnrSubmitCode = -33000

// mnrInvalidParamsCode is JSON-RPC's invalid-params code, used for requests
// that cannot be decoded at all (rskj answers those with a generic error).
const mnrInvalidParamsCode = -32602

// mnrMaxMerkleLevels bounds a coinbase merkle branch: RSKIP-92 proofs are at
// most 960 bytes, 30 sibling hashes.
const mnrMaxMerkleLevels = 30

// WorkServer is what the node's work server provides to the mnr namespace.
type WorkServer interface {
	// GetWork returns the current template to merge-mine. Notify is
	// edge-triggered by the server (true once after the parent changed or
	// the fees rose enough).
	GetWork() (*Work, error)
	// Submit takes the 80-byte Bitcoin header, the FULL non-witness coinbase
	// transaction and the RSKIP-92 merkle proof of the coinbase; it finds
	// the template by the hash committed in the coinbase (after the last
	// tag), seals and imports the block. Errors should wrap ErrWorkUnknown,
	// ErrWorkInvalid or ErrWorkUnavailable.
	Submit(header80, coinbase, merkleProof []byte) (*SubmitResult, error)
}

// Work is one merge-mining template as the work server sees it.
type Work struct {
	SealHash   common.Hash // hashForMergedMining: what the coinbase commits to
	Target     *big.Int    // floor(2^256 / difficulty), at most 256 bits
	FeesPaid   *big.Int    // wei the block pays its coinbase; nil means 0
	Notify     bool
	ParentHash common.Hash
	Tag        []byte // the network's merged-mining tag, raw bytes
}

// SubmitResult is the outcome of importing a sealed block. Status is the name
// of Rootstock's ImportResult: IMPORTED_BEST, IMPORTED_NOT_BEST, EXIST,
// NO_PARENT, INVALID_BLOCK or CONSENSUS_BREAK. As in Rootstock, a block whose
// proof passed but whose import failed is a result, not an error.
type SubmitResult struct {
	Status    string
	BlockHash common.Hash
	Height    uint64
}

// Errors the work server wraps so that mnr reports them the way Rootstock
// does (code -33000).
var (
	// ErrWorkUnknown: no cached template has the committed hash (stale or
	// foreign work). Use WorkUnknownError to get Rootstock's exact message.
	ErrWorkUnknown = errors.New("could not find hash")
	// ErrWorkInvalid: the submission breaks a consensus rule, including a
	// coinbase without the tag; wrap the rule error after it ("%w: %w").
	ErrWorkInvalid = errors.New("invalid block supplied by miner")
	// ErrWorkUnavailable: there is no template to hand out or complete yet
	// (node starting, syncing, or mining stopped).
	ErrWorkUnavailable = errors.New("no work available")
)

// WorkUnknownError is the error for a submission whose committed hash
// matches no cached template; mnr turns it into Rootstock's
// "Cannot publish block, could not find hash 0x… in the cache".
func WorkUnknownError(sealHash common.Hash) error {
	return fmt.Errorf("%w %s in the cache", ErrWorkUnknown, sealHash.Hex())
}

// MnrAPI serves mnr_getWork and the three mnr_submitBitcoinBlock* methods.
type MnrAPI struct {
	ws WorkServer
}

// NewMnrAPI returns the mnr service; the node registers it as namespace
// "mnr" only when mining is enabled.
func NewMnrAPI(ws WorkServer) *MnrAPI {
	return &MnrAPI{ws: ws}
}

// MnrWork is mnr_getWork's result: Rootstock's MinerWork plus the tag.
type MnrWork struct {
	BlockHashForMergedMining common.Hash `json:"blockHashForMergedMining"`
	// Target is 32 bytes big-endian, 0x-prefixed and zero-padded.
	Target string `json:"target"`
	// FeesPaidToMiner is a decimal string of wei (Rootstock's Coin.toString).
	FeesPaidToMiner string        `json:"feesPaidToMiner"`
	Notify          bool          `json:"notify"`
	ParentBlockHash common.Hash   `json:"parentBlockHash"`
	Tag             hexutil.Bytes `json:"tag"`
}

// MnrSubmitResult is Rootstock's SubmittedBlockInfo.
type MnrSubmitResult struct {
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
	if errors.Is(err, ErrWorkUnknown) {
		msg = "Cannot publish block, " + msg
	} else if r, n := utf8.DecodeRuneInString(msg); n > 0 {
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	return &mnrError{code: mnrSubmitCode, msg: msg, err: err}
}

// GetWork implements mnr_getWork.
func (api *MnrAPI) GetWork() (*MnrWork, error) {
	w, err := api.ws.GetWork()
	if err != nil {
		return nil, mnrServerError(err)
	}
	if w == nil {
		return nil, mnrServerError(fmt.Errorf("%w: work server returned none", ErrWorkUnavailable))
	}
	if w.Target == nil || w.Target.Sign() <= 0 || w.Target.BitLen() > 256 {
		return nil, mnrServerError(fmt.Errorf("work server returned an invalid target %v", w.Target))
	}
	fees := "0"
	if w.FeesPaid != nil {
		if w.FeesPaid.Sign() < 0 {
			return nil, mnrServerError(fmt.Errorf("work server returned negative fees %v", w.FeesPaid))
		}
		fees = w.FeesPaid.String()
	}
	return &MnrWork{
		BlockHashForMergedMining: w.SealHash,
		Target:                   fmt.Sprintf("0x%064x", w.Target),
		FeesPaidToMiner:          fees,
		Notify:                   w.Notify,
		ParentBlockHash:          w.ParentHash,
		Tag:                      w.Tag,
	}, nil
}

// SubmitBitcoinBlock implements mnr_submitBitcoinBlock [blockHex]: a whole
// serialized Bitcoin block; the coinbase is its first transaction and the
// proof is built from the txids of all its transactions.
func (api *MnrAPI) SubmitBitcoinBlock(blockHex string) (*MnrSubmitResult, error) {
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
	return api.submit(header.Bytes(), coinbase, mergemine.MerkleProofFromTxids(txids))
}

// SubmitBitcoinBlockTransactions implements mnr_submitBitcoinBlockTransactions
// [ignored, header80Hex, coinbaseHex, txids]: txids are the space-separated
// txids of every transaction of the block in display order (as explorers and
// bitcoind print them), the coinbase's first. The first parameter is ignored,
// as in rskj: the template is found by the hash committed in the coinbase.
func (api *MnrAPI) SubmitBitcoinBlockTransactions(_ *json.RawMessage, headerHex, coinbaseHex, txidsHex string) (*MnrSubmitResult, error) {
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
	return api.submit(header, coinbase, mergemine.MerkleProofFromTxids(txids))
}

// SubmitBitcoinBlockPartialMerkle implements
// mnr_submitBitcoinBlockPartialMerkle [ignored, header80Hex, coinbaseHex,
// hashes, txCountHex], what pools send: hashes are space-separated in wire
// order (as Stratum's merkle_branch), the coinbase txid first, then the
// branch bottom to top. txCountHex is hex without 0x; rsksmart/stratum sends
// the number of hashes there, not the block's transaction count, and RSKIP-92
// proofs do not need it, so it is parsed but not used.
func (api *MnrAPI) SubmitBitcoinBlockPartialMerkle(_ *json.RawMessage, headerHex, coinbaseHex, hashesHex, txCountHex string) (*MnrSubmitResult, error) {
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
	return api.submit(header, coinbase, mergemine.MerkleProofFromBranch(hashes[1:]))
}

func (api *MnrAPI) submit(header80, coinbase, proof []byte) (*MnrSubmitResult, error) {
	res, err := api.ws.Submit(header80, coinbase, proof)
	if err != nil {
		return nil, mnrServerError(err)
	}
	if res == nil || res.Status == "" {
		return nil, mnrServerError(errors.New("work server returned no import result"))
	}
	return &MnrSubmitResult{
		BlockImportedResult: []byte(res.Status),
		BlockHash:           res.BlockHash,
		BlockIncludedHeight: hexutil.Uint64(res.Height),
	}, nil
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

// mnrDecodeHeaderAndCoinbase checks the header length and re-serializes the
// coinbase without witness: pools should send the txid serialization, but a
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
	coinbase, err = mnrSerializeNoWitness(&tx)
	if err != nil {
		return nil, nil, txid, err
	}
	return header, coinbase, tx.TxHash(), nil
}

func mnrSerializeNoWitness(tx *wire.MsgTx) ([]byte, error) {
	var buf bytes.Buffer
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
