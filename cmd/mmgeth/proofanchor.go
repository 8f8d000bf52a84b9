package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
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
	btc, err := btcrpc.New(ctx.String("btc.rpc"), ctx.String("btc.user"), ctx.String("btc.pass"))
	if err != nil {
		return anchorInputError(err)
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
	c, cancel := context.WithTimeout(ctx.Context, 30*time.Second)
	defer cancel()
	res, confs, err := anchorproof.VerifyOnBitcoin(c, &p, []byte(tag), k, btc)
	switch {
	case errors.Is(err, anchorproof.ErrInvalid):
		return cli.Exit("invalid: "+err.Error(), exitInvalid)
	case err != nil:
		return cli.Exit("mmgeth proof verify-anchor: "+err.Error(), exitBitcoin)
	}
	fmt.Fprintf(ctx.App.Writer, "valid\nblock %d %v\nstateRoot %v\nanchor %d %v\nbitcoin %v (%d confirmations)\n",
		res.Target.Number, res.Target.Hash(), res.Target.Root, res.Anchor.Number, res.Anchor.Hash(), res.BitcoinHash, confs)
	return nil
}
