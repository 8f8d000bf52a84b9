package btcrpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// maxAnswer bounds an answer: a getblock of a full 4 MB block is 8 MB of
// hex, so 64 MB leaves room without letting a broken node exhaust memory.
const maxAnswer = 64 << 20

// Client talks to one Bitcoin node. It is safe for concurrent use.
type Client struct {
	url        string
	user, pass string
	http       *http.Client
	id         atomic.Uint64
}

// Error is an error the Bitcoin node answered with, as opposed to a
// transport failure.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// ErrBlockRejected is wrapped around the reason a node gives for refusing a
// block, to tell it from a transport failure.
var ErrBlockRejected = errors.New("block rejected")

// Endpoint turns "host:port" or an http(s) URL into an http(s) URL; flag
// names the option in the error. The CLIs use it for their sidechain
// endpoints too, so that every --rpc-like flag reads the same way.
func Endpoint(flag, s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid %s %q: %v", flag, s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid %s %q: want http(s)://host:port or host:port", flag, s)
	}
	return u.String(), nil
}

// New returns a client of the node at endpoint (see Endpoint; errors name
// --btc.rpc). Empty user and pass send no credentials.
func New(endpoint, user, pass string) (*Client, error) {
	u, err := Endpoint("--btc.rpc", endpoint)
	if err != nil {
		return nil, err
	}
	return &Client{url: u, user: user, pass: pass, http: &http.Client{}}, nil
}

// URL is the node's endpoint.
func (c *Client) URL() string { return c.url }

// Call makes one JSON-RPC 1.0 call and decodes its result into result
// (nil: ignore it).
func (c *Client) Call(ctx context.Context, method string, params []any, result any) error {
	if params == nil {
		params = []any{} // bitcoind rejects "params": null
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": c.id.Add(1), "method": method, "params": params})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s: %s (check --btc.user and --btc.pass)", method, resp.Status)
	}
	// bitcoind answers errors with HTTP 500 and a JSON body: read the body
	// whatever the status.
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *Error          `json:"error"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		return fmt.Errorf("%s: HTTP %s, undecodable answer: %v", method, resp.Status, err)
	}
	if msg.Error != nil {
		return fmt.Errorf("%s: %w", method, msg.Error)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(msg.Result, result); err != nil {
		return fmt.Errorf("%s: undecodable result: %v", method, err)
	}
	return nil
}

// callHash makes a call whose result is one block hash in display order.
func (c *Client) callHash(ctx context.Context, method string, params []any) (chainhash.Hash, error) {
	var s string
	if err := c.Call(ctx, method, params, &s); err != nil {
		return chainhash.Hash{}, err
	}
	return parseHash(method, s)
}

// parseHash reads a hash in display order. chainhash pads short strings;
// a node never sends one, so it is refused.
func parseHash(method, s string) (chainhash.Hash, error) {
	h, err := chainhash.NewHashFromStr(s)
	if err != nil || len(s) != 2*chainhash.HashSize {
		return chainhash.Hash{}, fmt.Errorf("%s: invalid hash %q", method, s)
	}
	return *h, nil
}

// callHex makes a call whose result is hex-encoded bytes.
func (c *Client) callHex(ctx context.Context, method string, params []any) ([]byte, error) {
	var s string
	if err := c.Call(ctx, method, params, &s); err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid hex: %v", method, err)
	}
	return b, nil
}

// BestBlockHash is the tip of the node's best chain.
func (c *Client) BestBlockHash(ctx context.Context) (chainhash.Hash, error) {
	return c.callHash(ctx, "getbestblockhash", nil)
}

// BlockCount is the height of the node's best chain.
func (c *Client) BlockCount(ctx context.Context) (int64, error) {
	var n int64
	err := c.Call(ctx, "getblockcount", nil, &n)
	return n, err
}

// BlockHash is the best-chain block at height; a height above the tip is an
// *Error of the node.
func (c *Client) BlockHash(ctx context.Context, height int64) (chainhash.Hash, error) {
	return c.callHash(ctx, "getblockhash", []any{height})
}

// BlockHeader is the header of any block the node has, on its best chain or
// not (getblockheader, verbose=false: the 80 wire bytes).
func (c *Client) BlockHeader(ctx context.Context, hash chainhash.Hash) (*wire.BlockHeader, error) {
	raw, err := c.callHex(ctx, "getblockheader", []any{hash.String(), false})
	if err != nil {
		return nil, err
	}
	if len(raw) != wire.MaxBlockHeaderPayload {
		return nil, fmt.Errorf("getblockheader %s: %d bytes, want %d", hash, len(raw), wire.MaxBlockHeaderPayload)
	}
	var h wire.BlockHeader
	if err := h.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("getblockheader %s: %v", hash, err)
	}
	if got := h.BlockHash(); got != hash {
		return nil, fmt.Errorf("getblockheader %s: the node answered the header of %s", hash, got)
	}
	return &h, nil
}

// Confirmations is a block's depth in the node's best chain (getblockheader,
// verbose): 1 for the tip, -1 for a block the node has off its best chain.
// Bitcoin Core answers -1 itself; btcd refuses the verbose call for such a
// block (an internal error, "not in the main chain"), so a block whose
// header btcd still serves is reported -1 too. A block the node does not
// know is its *Error with code btcjson.ErrRPCBlockNotFound.
func (c *Client) Confirmations(ctx context.Context, hash chainhash.Hash) (int64, error) {
	var res struct {
		Hash          string `json:"hash"`
		Confirmations int64  `json:"confirmations"`
	}
	err := c.Call(ctx, "getblockheader", []any{hash.String(), true}, &res)
	var nodeErr *Error
	if errors.As(err, &nodeErr) && !IsBlockNotFound(err) {
		if _, known := c.BlockHeader(ctx, hash); known == nil {
			return -1, nil
		}
	}
	if err != nil {
		return 0, err
	}
	if res.Hash != hash.String() {
		return 0, fmt.Errorf("getblockheader %s: the node answered for block %q", hash, res.Hash)
	}
	return res.Confirmations, nil
}

// IsBlockNotFound reports whether err is the node saying it does not know
// a block (RPC error -5, from bitcoind and btcd alike).
func IsBlockNotFound(err error) bool {
	var nodeErr *Error
	return errors.As(err, &nodeErr) && nodeErr.Code == int(btcjson.ErrRPCBlockNotFound)
}

// Block is a whole block (getblock, verbosity 0: serialized with witnesses).
//
// btcd has once answered another block's bytes while blocks were being
// submitted to it (TestReadme, a loaded machine), so a mismatch is asked
// again once before it is an error.
func (c *Client) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	var err error
	for range 2 {
		var raw []byte
		if raw, err = c.callHex(ctx, "getblock", []any{hash.String(), 0}); err != nil {
			return nil, err
		}
		var b wire.MsgBlock
		if err := b.Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("getblock %s: %v", hash, err)
		}
		got := b.BlockHash()
		if got == hash {
			return &b, nil
		}
		err = fmt.Errorf("getblock %s: the node answered block %s", hash, got)
	}
	return nil, err
}

// BlockTemplate asks for the segwit rule (bitcoind refuses the call
// without it) and, unless the miner builds its own coinbase (ownCoinbase),
// for a full coinbase: btcd honours that, paying its --miningaddr, and
// refuses the call without one; bitcoind ignores it and answers
// coinbasevalue. A miner with its own payout address asks for
// coinbasevalue, which btcd serves without --miningaddr.
func (c *Client) BlockTemplate(ctx context.Context, ownCoinbase bool) (*btcjson.GetBlockTemplateResult, error) {
	capability := "coinbasetxn"
	if ownCoinbase {
		capability = "coinbasevalue"
	}
	req := btcjson.TemplateRequest{Mode: "template", Capabilities: []string{capability}, Rules: []string{"segwit"}}
	var res btcjson.GetBlockTemplateResult
	if err := c.Call(ctx, "getblocktemplate", []any{req}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SubmitBlock sends a whole block; BIP-22 nodes answer null on success and
// a reason string otherwise, which comes back wrapping ErrBlockRejected.
// A block the node keeps on a side branch is accepted.
func (c *Client) SubmitBlock(ctx context.Context, block *wire.MsgBlock) error {
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		return err
	}
	var reason *string
	if err := c.Call(ctx, "submitblock", []any{hex.EncodeToString(buf.Bytes())}, &reason); err != nil {
		return err
	}
	if reason != nil && *reason != "" {
		return fmt.Errorf("%w: %s", ErrBlockRejected, *reason)
	}
	return nil
}

// SendRawTransaction broadcasts a transaction and returns its txid.
func (c *Client) SendRawTransaction(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return chainhash.Hash{}, err
	}
	return c.callHash(ctx, "sendrawtransaction", []any{hex.EncodeToString(buf.Bytes())})
}

// Generate mines n blocks on a btcd regtest or simnet node (btcd's
// generate; bitcoind has only generatetoaddress) and returns their hashes.
func (c *Client) Generate(ctx context.Context, n int) ([]chainhash.Hash, error) {
	var ss []string
	if err := c.Call(ctx, "generate", []any{n}, &ss); err != nil {
		return nil, err
	}
	hashes := make([]chainhash.Hash, len(ss))
	for i, s := range ss {
		var err error
		if hashes[i], err = parseHash("generate", s); err != nil {
			return nil, err
		}
	}
	return hashes, nil
}

// TxOut is an unspent output as gettxout reports it.
type TxOut struct {
	// BestBlock is the node's tip when it answered; Confirmations count
	// from it (0: the transaction is in the node's mempool).
	BestBlock     chainhash.Hash
	Confirmations int64
	ValueSat      int64
	PkScript      []byte
	Coinbase      bool
}

// errNoTxInfo is btcd's and bitcoind's RPC_INVALID_ADDRESS_OR_KEY, btcd's
// answer to gettxout of a transaction it does not know (bitcoind answers
// null).
const errNoTxInfo = -5

// TxOut is output vout of txid if it is unspent in the node's best chain
// or, with mempool, in its mempool; nil when it is not (unknown, spent, or
// on a side branch). btcd does not see spends by mempool transactions.
func (c *Client) TxOut(ctx context.Context, txid chainhash.Hash, vout uint32, mempool bool) (*TxOut, error) {
	var res *btcjson.GetTxOutResult
	err := c.Call(ctx, "gettxout", []any{txid.String(), vout, mempool}, &res)
	var rpcErr *Error
	if errors.As(err, &rpcErr) && rpcErr.Code == errNoTxInfo {
		return nil, nil
	}
	if err != nil || res == nil {
		return nil, err
	}
	best, err := parseHash("gettxout", res.BestBlock)
	if err != nil {
		return nil, err
	}
	script, err := hex.DecodeString(res.ScriptPubKey.Hex)
	if err != nil {
		return nil, fmt.Errorf("gettxout: invalid scriptPubKey hex: %v", err)
	}
	amount, err := btcutil.NewAmount(res.Value)
	if err != nil {
		return nil, fmt.Errorf("gettxout: value %v: %v", res.Value, err)
	}
	return &TxOut{BestBlock: best, Confirmations: res.Confirmations, ValueSat: int64(amount), PkScript: script, Coinbase: res.Coinbase}, nil
}

// BlockHeight is the height of a block the node has (getblockheader,
// verbose).
func (c *Client) BlockHeight(ctx context.Context, hash chainhash.Hash) (int64, error) {
	var res btcjson.GetBlockHeaderVerboseResult
	if err := c.Call(ctx, "getblockheader", []any{hash.String(), true}, &res); err != nil {
		return 0, err
	}
	if res.Hash != hash.String() {
		return 0, fmt.Errorf("getblockheader %s: the node answered block %s", hash, res.Hash)
	}
	return int64(res.Height), nil
}

// TxBlock finds the best-chain block of output vout of txid, an unspent
// output with at least one confirmation: its height and the whole block.
// It returns the output too; a nil block means the output is in the
// mempool, a nil output that the node has no such unspent output.
func (c *Client) TxBlock(ctx context.Context, txid chainhash.Hash, vout uint32) (*TxOut, int64, *wire.MsgBlock, error) {
	out, err := c.TxOut(ctx, txid, vout, true)
	if err != nil || out == nil || out.Confirmations == 0 {
		return out, 0, nil, err
	}
	tip, err := c.BlockHeight(ctx, out.BestBlock)
	if err != nil {
		return nil, 0, nil, err
	}
	height := tip - out.Confirmations + 1
	hash, err := c.BlockHash(ctx, height)
	if err != nil {
		return nil, 0, nil, err
	}
	block, err := c.Block(ctx, hash)
	if err != nil {
		return nil, 0, nil, err
	}
	for _, tx := range block.Transactions {
		if tx.TxHash() == txid {
			return out, height, block, nil
		}
	}
	// The node reorganized between the calls.
	return nil, 0, nil, fmt.Errorf("transaction %s is not in block %s at height %d: the Bitcoin node's chain moved, try again", txid, hash, height)
}
