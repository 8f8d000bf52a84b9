package main

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
	"github.com/btcsuite/btcd/wire/v2"
)

// btcRPC is a minimal Bitcoin JSON-RPC client. btcd's rpcclient has no
// per-call context, and a hung node must not hang the miner, so the two
// calls the miner needs are made over plain HTTP with a context each.
type btcRPC struct {
	url        string
	user, pass string
	client     *http.Client
	id         atomic.Uint64
}

// btcRPCError is an error the Bitcoin node answered with, as opposed to a
// transport failure.
type btcRPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *btcRPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// httpEndpoint turns "host:port" or an http(s) URL into an http(s) URL.
func httpEndpoint(flag, s string) (string, error) {
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

func newBTCRPC(endpoint, user, pass string) (*btcRPC, error) {
	u, err := httpEndpoint("--btc.rpc", endpoint)
	if err != nil {
		return nil, err
	}
	return &btcRPC{url: u, user: user, pass: pass, client: &http.Client{}}, nil
}

func (c *btcRPC) call(ctx context.Context, method string, params []any, result any) error {
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
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
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
		Error  *btcRPCError    `json:"error"`
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
	return json.Unmarshal(msg.Result, result)
}

// getBlockTemplate asks for the segwit rule (bitcoind refuses the call
// without it) and, when the miner has no payout address of its own
// (ownCoinbase false), for a full coinbase: btcd honours that, paying its
// --miningaddr, and refuses the call without one; bitcoind ignores it and
// answers coinbasevalue. With --btc.address the miner asks for
// coinbasevalue, which btcd serves without --miningaddr, and builds its
// own coinbase.
func (c *btcRPC) getBlockTemplate(ctx context.Context, ownCoinbase bool) (*btcjson.GetBlockTemplateResult, error) {
	capability := "coinbasetxn"
	if ownCoinbase {
		capability = "coinbasevalue"
	}
	req := btcjson.TemplateRequest{Mode: "template", Capabilities: []string{capability}, Rules: []string{"segwit"}}
	var res btcjson.GetBlockTemplateResult
	if err := c.call(ctx, "getblocktemplate", []any{req}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// errBlockRejected is wrapped around the reason a node gives for refusing a
// block, to tell it from a transport failure.
var errBlockRejected = errors.New("block rejected")

// submitBlock sends a whole block; BIP-22 nodes answer null on success and
// a reason string otherwise.
func (c *btcRPC) submitBlock(ctx context.Context, block *wire.MsgBlock) error {
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		return err
	}
	var reason *string
	if err := c.call(ctx, "submitblock", []any{hex.EncodeToString(buf.Bytes())}, &reason); err != nil {
		return err
	}
	if reason != nil && *reason != "" {
		return fmt.Errorf("%w: %s", errBlockRejected, *reason)
	}
	return nil
}
