// Follows go-ethereum v1.17.10 internal/ethapi/api.go (RPCMarshalHeader, RPCMarshalBlock, newRPCTransaction, MarshalReceipt), which geth keeps internal; ported
// because it cannot be imported. Differs: the merged-mining block fields are added by the node (Config.BlockFields); there are no uncles or blobs.

package rpc

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// JSON shapes of the Execution API spec (and geth). Quantities are minimal hex,
// fields that a fork introduced appear only once the header carries them, and
// totalDifficulty is gone, as post-merge geth has it.

func marshalHeader(h *types.Header) map[string]any {
	m := map[string]any{
		"number":           (*hexutil.Big)(h.Number),
		"hash":             h.Hash(),
		"parentHash":       h.ParentHash,
		"nonce":            h.Nonce,
		"mixHash":          h.MixDigest,
		"sha3Uncles":       h.UncleHash,
		"logsBloom":        h.Bloom,
		"stateRoot":        h.Root,
		"miner":            h.Coinbase,
		"difficulty":       (*hexutil.Big)(h.Difficulty),
		"extraData":        hexutil.Bytes(h.Extra),
		"gasLimit":         hexutil.Uint64(h.GasLimit),
		"gasUsed":          hexutil.Uint64(h.GasUsed),
		"timestamp":        hexutil.Uint64(h.Time),
		"transactionsRoot": h.TxHash,
		"receiptsRoot":     h.ReceiptHash,
	}
	if h.BaseFee != nil {
		m["baseFeePerGas"] = (*hexutil.Big)(h.BaseFee)
	}
	if h.WithdrawalsHash != nil {
		m["withdrawalsRoot"] = h.WithdrawalsHash
	}
	if h.BlobGasUsed != nil {
		m["blobGasUsed"] = hexutil.Uint64(*h.BlobGasUsed)
	}
	if h.ExcessBlobGas != nil {
		m["excessBlobGas"] = hexutil.Uint64(*h.ExcessBlobGas)
	}
	if h.ParentBeaconRoot != nil {
		m["parentBeaconBlockRoot"] = h.ParentBeaconRoot
	}
	if h.RequestsHash != nil {
		m["requestsHash"] = h.RequestsHash
	}
	if h.BlockAccessListHash != nil {
		m["blockAccessListHash"] = h.BlockAccessListHash
	}
	if h.SlotNumber != nil {
		m["slotNumber"] = hexutil.Uint64(*h.SlotNumber)
	}
	return m
}

// marshalBlock renders a block with transaction hashes or, with fullTx, whole
// transaction objects; extra holds the node's per-block fields, which never
// replace a standard one.
func marshalBlock(b *types.Block, fullTx bool, cfg *params.ChainConfig, extra map[string]any) map[string]any {
	m := marshalHeader(b.Header())
	for k, v := range extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	m["size"] = hexutil.Uint64(b.Size())
	txs := b.Transactions()
	list := make([]any, len(txs))
	for i, tx := range txs {
		if fullTx {
			list[i] = newRPCTransaction(tx, b.Hash(), b.NumberU64(), b.Time(), uint64(i), b.BaseFee(), cfg)
		} else {
			list[i] = tx.Hash()
		}
	}
	m["transactions"] = list
	uncles := make([]common.Hash, len(b.Uncles()))
	for i, u := range b.Uncles() {
		uncles[i] = u.Hash()
	}
	m["uncles"] = uncles
	if w := b.Withdrawals(); w != nil {
		m["withdrawals"] = w
	}
	return m
}

// rpcTransaction is a transaction object. Block fields are null for a
// transaction still in the pool.
type rpcTransaction struct {
	BlockHash           *common.Hash                 `json:"blockHash"`
	BlockNumber         *hexutil.Big                 `json:"blockNumber"`
	BlockTimestamp      *hexutil.Uint64              `json:"blockTimestamp"`
	From                common.Address               `json:"from"`
	Gas                 hexutil.Uint64               `json:"gas"`
	GasPrice            *hexutil.Big                 `json:"gasPrice"`
	GasFeeCap           *hexutil.Big                 `json:"maxFeePerGas,omitempty"`
	GasTipCap           *hexutil.Big                 `json:"maxPriorityFeePerGas,omitempty"`
	MaxFeePerBlobGas    *hexutil.Big                 `json:"maxFeePerBlobGas,omitempty"`
	Hash                common.Hash                  `json:"hash"`
	Input               hexutil.Bytes                `json:"input"`
	Nonce               hexutil.Uint64               `json:"nonce"`
	To                  *common.Address              `json:"to"`
	TransactionIndex    *hexutil.Uint64              `json:"transactionIndex"`
	Value               *hexutil.Big                 `json:"value"`
	Type                hexutil.Uint64               `json:"type"`
	AccessList          *types.AccessList            `json:"accessList,omitempty"`
	ChainID             *hexutil.Big                 `json:"chainId,omitempty"`
	BlobVersionedHashes []common.Hash                `json:"blobVersionedHashes,omitempty"`
	AuthorizationList   []types.SetCodeAuthorization `json:"authorizationList,omitempty"`
	V                   *hexutil.Big                 `json:"v"`
	R                   *hexutil.Big                 `json:"r"`
	S                   *hexutil.Big                 `json:"s"`
	YParity             *hexutil.Uint64              `json:"yParity,omitempty"`
}

// newRPCTransaction renders tx; blockHash zero means "not in a block".
// baseFee (of the including block) turns a 1559-style gasPrice into the price
// actually paid.
func newRPCTransaction(tx *types.Transaction, blockHash common.Hash, number, time, index uint64, baseFee *big.Int, cfg *params.ChainConfig) *rpcTransaction {
	signer := types.MakeSigner(cfg, new(big.Int).SetUint64(number), time)
	from, _ := types.Sender(signer, tx)
	v, r, s := tx.RawSignatureValues()
	out := &rpcTransaction{
		From:     from,
		Gas:      hexutil.Uint64(tx.Gas()),
		GasPrice: (*hexutil.Big)(tx.GasPrice()),
		Hash:     tx.Hash(),
		Input:    tx.Data(),
		Nonce:    hexutil.Uint64(tx.Nonce()),
		To:       tx.To(),
		Value:    (*hexutil.Big)(tx.Value()),
		Type:     hexutil.Uint64(tx.Type()),
		V:        (*hexutil.Big)(v),
		R:        (*hexutil.Big)(r),
		S:        (*hexutil.Big)(s),
	}
	inBlock := blockHash != (common.Hash{})
	if inBlock {
		idx, ts := hexutil.Uint64(index), hexutil.Uint64(time)
		out.BlockHash = &blockHash
		out.BlockNumber = (*hexutil.Big)(new(big.Int).SetUint64(number))
		out.BlockTimestamp = &ts
		out.TransactionIndex = &idx
	}
	if tx.Type() == types.LegacyTxType {
		// EIP-155 transactions say which chain they are for; older ones do not.
		if id := tx.ChainId(); id.Sign() != 0 {
			out.ChainID = (*hexutil.Big)(id)
		}
		return out
	}
	// Every typed transaction: access list, chain id and y-parity.
	al := tx.AccessList()
	if al == nil {
		al = types.AccessList{}
	}
	parity := hexutil.Uint64(v.Sign())
	out.AccessList = &al
	out.ChainID = (*hexutil.Big)(tx.ChainId())
	out.YParity = &parity
	if tx.Type() == types.AccessListTxType {
		return out
	}
	// 1559 fee fields and later.
	out.GasFeeCap = (*hexutil.Big)(tx.GasFeeCap())
	out.GasTipCap = (*hexutil.Big)(tx.GasTipCap())
	if inBlock && baseFee != nil {
		out.GasPrice = (*hexutil.Big)(effectiveGasPrice(tx, baseFee))
	} else {
		out.GasPrice = (*hexutil.Big)(tx.GasFeeCap())
	}
	switch tx.Type() {
	case types.BlobTxType:
		out.MaxFeePerBlobGas = (*hexutil.Big)(tx.BlobGasFeeCap())
		out.BlobVersionedHashes = tx.BlobHashes()
	case types.SetCodeTxType:
		out.AuthorizationList = tx.SetCodeAuthorizations()
	}
	return out
}

// effectiveGasPrice is min(tip + baseFee, feeCap).
func effectiveGasPrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	price := new(big.Int).Add(tx.GasTipCap(), baseFee)
	if tx.GasFeeCapIntCmp(price) < 0 {
		return tx.GasFeeCap()
	}
	return price
}

// newPendingTransaction renders a pool transaction against the next block's
// base fee.
func newPendingTransaction(tx *types.Transaction, head *types.Header, cfg *params.ChainConfig) *rpcTransaction {
	baseFee := eip1559.CalcBaseFee(cfg, head)
	return newRPCTransaction(tx, common.Hash{}, head.Number.Uint64(), head.Time, 0, baseFee, cfg)
}

// marshalReceipt renders a receipt of transaction tx, the index-th of its block.
func marshalReceipt(r *types.Receipt, blockHash common.Hash, number uint64, signer types.Signer, tx *types.Transaction, index int) *rpcReceipt {
	from, _ := types.Sender(signer, tx)
	return &rpcReceipt{r: r, blockHash: blockHash, number: number, from: from, tx: tx, index: index}
}

// rpcReceipt is a receipt as geth's MarshalReceipt renders it: a map, which
// encoding/json writes with its keys sorted. MarshalJSON writes the same
// bytes without the map or reflection: encoding the map was three quarters
// of an eth_getTransactionReceipt's CPU in --dev under loadgen.
type rpcReceipt struct {
	r         *types.Receipt
	blockHash common.Hash
	number    uint64
	from      common.Address
	tx        *types.Transaction
	index     int
}

func (rr *rpcReceipt) MarshalJSON() ([]byte, error) {
	if rr == nil {
		return []byte("null"), nil
	}
	r, tx, to := rr.r, rr.tx, rr.tx.To()
	buf := make([]byte, 0, 1024+len(r.Logs)*600)
	buf = append(buf, '{')
	if tx.Type() == types.BlobTxType {
		buf = append(buf, `"blobGasPrice":`...)
		buf = appendHexBig(buf, r.BlobGasPrice)
		buf = append(buf, `,"blobGasUsed":`...)
		buf = appendHexUint(buf, r.BlobGasUsed)
		buf = append(buf, ',')
	}
	buf = append(buf, `"blockHash":`...)
	buf = appendHexString(buf, rr.blockHash[:])
	buf = append(buf, `,"blockNumber":`...)
	buf = appendHexUint(buf, rr.number)
	buf = append(buf, `,"contractAddress":`...)
	if to == nil {
		// Derived from the sender, not read from r: geth derives receipts
		// with senders recovered from signatures, which for a dev network's
		// impersonated transaction names another account.
		addr := crypto.CreateAddress(rr.from, tx.Nonce())
		buf = appendHexString(buf, addr[:])
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"cumulativeGasUsed":`...)
	buf = appendHexUint(buf, r.CumulativeGasUsed)
	buf = append(buf, `,"effectiveGasPrice":`...)
	buf = appendHexBig(buf, r.EffectiveGasPrice)
	buf = append(buf, `,"from":`...)
	buf = appendHexString(buf, rr.from[:])
	buf = append(buf, `,"gasUsed":`...)
	buf = appendHexUint(buf, r.GasUsed)
	buf = append(buf, `,"logs":[`...)
	for i, l := range r.Logs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendLogJSON(buf, l)
	}
	buf = append(buf, `],"logsBloom":`...)
	buf = appendHexString(buf, r.Bloom[:])
	if len(r.PostState) > 0 {
		buf = append(buf, `,"root":`...)
		buf = appendHexString(buf, r.PostState)
	} else {
		buf = append(buf, `,"status":`...)
		buf = appendHexUint(buf, r.Status)
	}
	buf = append(buf, `,"to":`...)
	if to != nil {
		buf = appendHexString(buf, to[:])
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"transactionHash":`...)
	h := tx.Hash()
	buf = appendHexString(buf, h[:])
	buf = append(buf, `,"transactionIndex":`...)
	buf = appendHexUint(buf, uint64(rr.index))
	buf = append(buf, `,"type":`...)
	buf = appendHexUint(buf, uint64(tx.Type()))
	return append(buf, '}'), nil
}

// appendHexBig appends n as *hexutil.Big encodes it; nil is null.
func appendHexBig(buf []byte, n *big.Int) []byte {
	if n == nil {
		return append(buf, "null"...)
	}
	buf = append(buf, '"')
	buf = append(buf, hexutil.EncodeBig(n)...)
	return append(buf, '"')
}
