package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

// rootstockTag is the tag of a node whose mnr_getWork carries none (rskj).
var rootstockTag = []byte("RSKBLOCK:")

// sideRPC talks mnr_* to mmgeth (or any Rootstock-compatible node).
type sideRPC struct {
	url    string
	client *gethrpc.Client
}

// sideWork is a parsed mnr_getWork answer.
type sideWork struct {
	seal   [32]byte
	target [32]byte // big-endian
	tag    []byte
	notify bool
	parent string
}

// mnrWorkJSON mirrors mnr_getWork's result; mmminer speaks the wire format
// only, so that it works against any Rootstock-compatible node.
type mnrWorkJSON struct {
	BlockHashForMergedMining string        `json:"blockHashForMergedMining"`
	Target                   string        `json:"target"`
	FeesPaidToMiner          string        `json:"feesPaidToMiner"`
	Notify                   bool          `json:"notify"`
	ParentBlockHash          string        `json:"parentBlockHash"`
	Tag                      hexutil.Bytes `json:"tag"`
}

type mnrSubmitJSON struct {
	BlockImportedResult hexutil.Bytes  `json:"blockImportedResult"`
	BlockHash           string         `json:"blockHash"`
	BlockIncludedHeight hexutil.Uint64 `json:"blockIncludedHeight"`
}

// sideResult is what an accepted submission reports.
type sideResult struct {
	status string
	hash   string
	height uint64
}

// newSideRPC accepts HTTP endpoints only: an HTTP client connects per call,
// so a node that is down at start is retried like one that goes away later
// (a WebSocket dial would fail at once).
func newSideRPC(endpoint string) (*sideRPC, error) {
	u, err := btcrpc.Endpoint("--rpc", endpoint)
	if err != nil {
		return nil, err
	}
	c, err := gethrpc.DialHTTP(u)
	if err != nil {
		return nil, fmt.Errorf("invalid --rpc %q: %v", endpoint, err)
	}
	return &sideRPC{url: u, client: c}, nil
}

func (s *sideRPC) close() { s.client.Close() }

func (s *sideRPC) getWork(ctx context.Context) (*sideWork, error) {
	var res mnrWorkJSON
	if err := s.client.CallContext(ctx, &res, "mnr_getWork"); err != nil {
		return nil, err
	}
	return parseSideWork(&res)
}

func parseSideWork(res *mnrWorkJSON) (*sideWork, error) {
	w := &sideWork{notify: res.Notify, parent: res.ParentBlockHash, tag: res.Tag}
	if err := decodeFixedHex("blockHashForMergedMining", res.BlockHashForMergedMining, w.seal[:], false); err != nil {
		return nil, err
	}
	if err := decodeFixedHex("target", res.Target, w.target[:], true); err != nil {
		return nil, err
	}
	if w.target == ([32]byte{}) {
		return nil, errors.New("mnr_getWork: target is zero")
	}
	if len(w.tag) == 0 {
		w.tag = rootstockTag
	}
	return w, nil
}

// decodeFixedHex decodes 0x-hex into dst; a short value is right-aligned
// when pad is set (a big-endian number), otherwise it must fill dst.
func decodeFixedHex(name, s string, dst []byte, pad bool) error {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil {
		return fmt.Errorf("mnr_getWork: invalid %s %q: %v", name, s, err)
	}
	if len(b) > len(dst) || (!pad && len(b) != len(dst)) {
		return fmt.Errorf("mnr_getWork: invalid %s %q: %d bytes, want %d", name, s, len(b), len(dst))
	}
	copy(dst[len(dst)-len(b):], b)
	return nil
}

// submit sends a share the way Rootstock pools do.
func (s *sideRPC) submit(ctx context.Context, p *partialMerkleParams) (*sideResult, error) {
	var res mnrSubmitJSON
	err := s.client.CallContext(ctx, &res, "mnr_submitBitcoinBlockPartialMerkle",
		p.blockHash, p.header, p.coinbase, p.hashes, p.txCount)
	if err != nil {
		return nil, err
	}
	return &sideResult{status: string(res.BlockImportedResult), hash: res.BlockHash, height: uint64(res.BlockIncludedHeight)}, nil
}

// isNodeAnswer reports whether err is an answer of the node (a JSON-RPC
// error) rather than a failure to reach it.
func isNodeAnswer(err error) bool {
	var rpcErr gethrpc.Error
	return errors.As(err, &rpcErr)
}
