package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/mmgeth/mmgeth/mergemine"
	"github.com/urfave/cli/v2"
)

// defaultProofTag is the merged-mining tag proof verify checks unless --tag
// says otherwise: the dev network's.
const defaultProofTag = "MMGETHDEV:"

// Exit statuses of proof verify besides 0 for a valid proof.
const (
	exitInvalid = 1 // the proof breaks a rule
	exitInput   = 2 // the input cannot be read
)

var proofCommand = &cli.Command{
	Name:        "proof",
	Usage:       "Work with merged-mining and anchor proofs",
	Subcommands: []*cli.Command{proofVerifyCommand, proofVerifyAnchorCommand},
}

var proofVerifyCommand = &cli.Command{
	Name:      "verify",
	Usage:     "Check a merged-mining proof against a seal hash and a difficulty",
	ArgsUsage: " ",
	Description: `Applies the merged-mining rules to a proof's three parts: the Bitcoin
header, the RSKIP-92 merkle proof and the compressed coinbase. All bytes are
hex, with or without 0x; the merkle proof may be empty for a block whose only
transaction is the coinbase.

Prints "valid" and exits 0, or prints "invalid: <rule>" and exits 1. Input
that cannot be read exits 2: a missing flag, bad hex, a hash that is not 32
bytes, a difficulty that is not a non-negative decimal integer, an empty tag.
The sizes of the proof's parts are rules of the proof, so a header that is
not 80 bytes, say, is invalid rather than unreadable.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "header", Usage: "80-byte Bitcoin header, wire order"},
		&cli.StringFlag{Name: "coinbase", Usage: "compressed coinbase: byte count, SHA-256 midstate, tail"},
		&cli.StringFlag{Name: "merkle-proof", Usage: "RSKIP-92 merkle proof, siblings bottom to top"},
		&cli.StringFlag{Name: "hash", Usage: "32-byte seal hash the coinbase must commit to"},
		&cli.StringFlag{Name: "difficulty", Usage: "sidechain difficulty, decimal"},
		&cli.StringFlag{Name: "tag", Value: defaultProofTag, Usage: "merged-mining tag (Rootstock: RSKBLOCK:)"},
	},
	OnUsageError: func(_ *cli.Context, err error, _ bool) error {
		return inputError(err)
	},
	Action: proofVerify,
}

func proofVerify(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return inputError(fmt.Errorf("unexpected arguments: %s", strings.Join(ctx.Args().Slice(), " ")))
	}
	for _, name := range []string{"header", "coinbase", "merkle-proof", "hash", "difficulty"} {
		if !ctx.IsSet(name) {
			return inputError(fmt.Errorf("missing --%s", name))
		}
	}
	in, err := parseVerifyInput(ctx.String("header"), ctx.String("coinbase"), ctx.String("merkle-proof"),
		ctx.String("hash"), ctx.String("difficulty"), ctx.String("tag"))
	if err != nil {
		return inputError(err)
	}
	if err := mergemine.Verify(&in.proof, in.hash, in.difficulty, in.tag); err != nil {
		return cli.Exit("invalid: "+err.Error(), exitInvalid)
	}
	fmt.Fprintln(ctx.App.Writer, "valid")
	return nil
}

func inputError(err error) error {
	return cli.Exit("mmgeth proof verify: "+err.Error(), exitInput)
}

// verifyInput is what proof verify checks, read from its flags.
type verifyInput struct {
	proof      mergemine.Proof
	hash       [32]byte
	difficulty *big.Int
	tag        []byte
}

func parseVerifyInput(header, coinbase, merkleProof, hash, difficulty, tag string) (*verifyInput, error) {
	in := new(verifyInput)
	var err error
	if in.proof.BitcoinHeader, err = decodeHexFlag("header", header); err != nil {
		return nil, err
	}
	if in.proof.Coinbase, err = decodeHexFlag("coinbase", coinbase); err != nil {
		return nil, err
	}
	if in.proof.MerkleProof, err = decodeHexFlag("merkle-proof", merkleProof); err != nil {
		return nil, err
	}
	h, err := decodeHexFlag("hash", hash)
	if err != nil {
		return nil, err
	}
	if len(h) != len(in.hash) {
		return nil, fmt.Errorf("--hash: want 32 bytes, got %d", len(h))
	}
	in.hash = [32]byte(h)
	d, ok := new(big.Int).SetString(difficulty, 10)
	if !ok || d.Sign() < 0 {
		return nil, fmt.Errorf("--difficulty: %q is not a non-negative decimal integer", difficulty)
	}
	in.difficulty = d
	if tag == "" {
		return nil, errors.New("--tag: the tag is empty")
	}
	in.tag = []byte(tag)
	return in, nil
}

func decodeHexFlag(name, s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: invalid hex: %v", name, err)
	}
	return b, nil
}
