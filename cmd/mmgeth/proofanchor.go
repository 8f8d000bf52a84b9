package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/genesis"
)

// exitBitcoin: the Bitcoin node could not be asked; says nothing of the
// proof.
const exitBitcoin = 3

var proofVerifyAnchorCommand = &cli.Command{
	Name:      "verify-anchor",
	Usage:     "Check an anchor proof (mm_getAnchorProof) against a Bitcoin node",
	ArgsUsage: " ",
	Description: `Checks that a sidechain block is committed by a Bitcoin block at least K
deep in the best chain of a Bitcoin node you trust (bitcoind or btcd, asked
with getblockheader over JSON-RPC), knowing nothing of the sidechain:

  1. the proof itself (anchorproof.Verify): the Bitcoin header is a whole
     block by its own nBits, its coinbase commits to the anchor block under
     the network's merged-mining tag, and the target block is the anchor or
     is tied to it by EIP-2935 storage proofs or a header chain;
  2. the Bitcoin node has that block in its best chain with at least K
     confirmations.

Prints "valid" and the target's number, hash and state root, and exits 0;
prints "invalid: <reason>" and exits 1. Unreadable input exits 2; a Bitcoin
node that cannot be asked exits 3. The tag and K are the network's
(--network) unless --tag or --k say otherwise.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "proof", Usage: "file holding the proof's JSON (- for standard input)"},
		&cli.StringFlag{Name: "btc.rpc", Usage: "Bitcoin node JSON-RPC URL, e.g. http://127.0.0.1:18443"},
		&cli.StringFlag{Name: "btc.user", Usage: "Bitcoin node RPC user"},
		&cli.StringFlag{Name: "btc.pass", Usage: "Bitcoin node RPC password"},
		&cli.StringFlag{Name: "network", Value: "testnet", Usage: "network whose tag and K apply (" + strings.Join(genesis.Names(), ", ") + ")"},
		&cli.StringFlag{Name: "tag", Usage: "merged-mining tag (default: the network's)"},
		&cli.Uint64Flag{Name: "k", Usage: "Bitcoin confirmations required (default: the network's finality K)"},
	},
	OnUsageError: func(_ *cli.Context, err error, _ bool) error {
		return anchorInputError(err)
	},
	Action: proofVerifyAnchor,
}

func anchorInputError(err error) error {
	return cli.Exit("mmgeth proof verify-anchor: "+err.Error(), exitInput)
}

func proofVerifyAnchor(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return anchorInputError(fmt.Errorf("unexpected arguments: %s", strings.Join(ctx.Args().Slice(), " ")))
	}
	for _, name := range []string{"proof", "btc.rpc"} {
		if ctx.String(name) == "" {
			return anchorInputError(fmt.Errorf("missing --%s", name))
		}
	}
	spec, err := genesis.Load(ctx.String("network"))
	if err != nil {
		return anchorInputError(err)
	}
	tag, k := spec.MergeMining.Tag, spec.Finality.K
	if ctx.IsSet("tag") {
		tag = ctx.String("tag")
	}
	if ctx.IsSet("k") {
		k = ctx.Uint64("k")
	}
	if tag == "" || k == 0 {
		return anchorInputError(fmt.Errorf("need a tag and K > 0 (network %q has tag %q, K %d; set --tag, --k)", spec.Name, spec.MergeMining.Tag, spec.Finality.K))
	}
	var data []byte
	if path := ctx.String("proof"); path == "-" {
		var buf bytes.Buffer
		_, err = buf.ReadFrom(ctx.App.Reader)
		data = buf.Bytes()
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return anchorInputError(err)
	}
	var p anchorproof.Proof
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return anchorInputError(fmt.Errorf("proof JSON: %v", err))
	}
	res, err := anchorproof.Verify(&p, []byte(tag))
	if err != nil {
		return cli.Exit("invalid: "+err.Error(), exitInvalid)
	}
	c, cancel := context.WithTimeout(ctx.Context, 30*time.Second)
	defer cancel()
	confs, err := btcConfirmations(c, ctx.String("btc.rpc"), ctx.String("btc.user"), ctx.String("btc.pass"), res.BitcoinHash)
	switch {
	case errors.Is(err, errBtcBlockUnknown):
		return cli.Exit(fmt.Sprintf("invalid: Bitcoin block %v unknown to the Bitcoin node", res.BitcoinHash), exitInvalid)
	case err != nil:
		return cli.Exit("mmgeth proof verify-anchor: Bitcoin node: "+err.Error(), exitBitcoin)
	case confs < 0 || uint64(confs) < k:
		// Bitcoin Core reports -1 for a block off its best chain.
		return cli.Exit(fmt.Sprintf("invalid: Bitcoin block %v has %d confirmations in the Bitcoin node's best chain, want %d", res.BitcoinHash, confs, k), exitInvalid)
	}
	fmt.Fprintf(ctx.App.Writer, "valid\nblock %d %v\nstateRoot %v\nanchor %d %v\nbitcoin %v (%d confirmations)\n",
		res.Target.Number, res.Target.Hash(), res.Target.Root, res.Anchor.Number, res.Anchor.Hash(), res.BitcoinHash, confs)
	return nil
}

// errBtcBlockUnknown: the Bitcoin node does not know the block (RPC error
// -5, as bitcoind and btcd both answer).
var errBtcBlockUnknown = errors.New("block not found")

// btcConfirmations asks a Bitcoin node for a block's confirmations in its
// best chain (getblockheader, verbose). It is the command's one Bitcoin
// RPC call, kept to one function so that a shared client can replace it.
func btcConfirmations(ctx context.Context, url, user, pass string, hash chainhash.Hash) (int64, error) {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": "getblockheader", "params": []any{hash.String(), true}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Result *struct {
			Hash          string `json:"hash"`
			Confirmations int64  `json:"confirmations"`
		} `json:"result"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	// bitcoind answers errors with HTTP 404/500 and a JSON body; anything
	// else that is not JSON (401 for bad credentials) is reported as is.
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("HTTP %s: %v", resp.Status, err)
	}
	switch {
	case out.Error != nil && out.Error.Code == -5:
		return 0, errBtcBlockUnknown
	case out.Error != nil:
		return 0, fmt.Errorf("getblockheader: %s (code %d)", out.Error.Message, out.Error.Code)
	case out.Result == nil || out.Result.Hash != hash.String():
		return 0, fmt.Errorf("getblockheader answered for another block")
	}
	return out.Result.Confirmations, nil
}
