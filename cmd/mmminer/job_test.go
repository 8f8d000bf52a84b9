package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/mmgeth/mmgeth/mergemine"
)

// testWork is sidechain work at a difficulty the tests solve in about a
// thousand hashes.
func testWork(difficulty int64) *sideWork {
	w := &sideWork{seal: testSeal, tag: testTag}
	mergemine.Target(big.NewInt(difficulty)).FillBytes(w.target[:])
	return w
}

// mineJob grinds j on one worker until both its targets are solved and
// returns the solutions.
func mineJob(t *testing.T, j *job) (btc, side *solution) {
	t.Helper()
	out := make(chan *solution, 2)
	var hashes, en atomic.Uint64
	grind(context.Background(), j, func() uint64 { return en.Add(1) }, &hashes, nil, out)
	close(out)
	for s := range out {
		if s.btc {
			btc = s
		}
		if s.side {
			side = s
		}
	}
	if btc == nil || side == nil {
		t.Fatalf("grind returned without both solutions (btc %v, side %v)", btc != nil, side != nil)
	}
	if hashes.Load() == 0 {
		t.Error("no hashes counted")
	}
	return btc, side
}

// TestJobSolutions mines real btcd templates, with btcd's coinbase and with
// one of our own, and checks the Bitcoin block passes btcd's sanity rules
// and the sidechain share, as mnr_submitBitcoinBlockPartialMerkle params,
// turns into a proof mergemine verifies.
func TestJobSolutions(t *testing.T) {
	const difficulty = 1000
	for _, file := range []string{"btcd_gbt_coinbasetxn.json", "btcd_gbt_coinbasevalue.json"} {
		t.Run(file, func(t *testing.T) {
			tmpl := parseGBT(t, file)
			now := time.Unix(tmpl.minTime+5, 0)
			j, err := newJob(1, tmpl, testWork(difficulty), testPayScript, now)
			if err != nil {
				t.Fatal(err)
			}
			btc, side := mineJob(t, j)

			block, err := btc.bitcoinBlock()
			if err != nil {
				t.Fatal(err)
			}
			if hash := block.BlockHash(); hash != btc.hash || !meetsTarget(&hash, &tmpl.target) {
				t.Fatalf("block hash %v, solution %v", hash, btc.hash)
			}
			if block.Header.PrevBlock != tmpl.prevBlock || block.Header.Timestamp.Unix() != now.Unix() || block.Header.Bits != tmpl.bits {
				t.Errorf("header %+v", block.Header)
			}
			if err := blockchain.CheckBlockSanity(btcutil.NewBlock(block), chaincfg.RegressionNetParams.PowLimit, blockchain.NewMedianTime()); err != nil {
				t.Fatalf("btcd refuses the block: %v", err)
			}
			if h, err := blockchain.ExtractCoinbaseHeight(btcutil.NewTx(block.Transactions[0])); err != nil || h != 102 {
				t.Errorf("coinbase height %d, %v", h, err)
			}
			if len(block.Transactions) != 2 || block.Transactions[1].TxHash() != tmpl.txids[0] {
				t.Errorf("block transactions %v", block.Transactions)
			}

			p := side.partialMerkleParams()
			if p.blockHash != side.hash.String() || p.txCount != "2" {
				t.Errorf("block hash %s, tx count %s", p.blockHash, p.txCount)
			}
			header, _ := hex.DecodeString(p.header)
			coinbase, _ := hex.DecodeString(p.coinbase)
			hashes := strings.Fields(p.hashes)
			if len(hashes) != 2 || hashes[1] != hex.EncodeToString(tmpl.txids[0][:]) {
				t.Fatalf("hashes %q, want the coinbase txid then %x", p.hashes, tmpl.txids[0][:])
			}
			if txid := chainhash.DoubleHashH(coinbase); hashes[0] != hex.EncodeToString(txid[:]) {
				t.Errorf("first hash %s is not the coinbase txid %x", hashes[0], txid[:])
			}
			var branch []chainhash.Hash
			for _, h := range hashes[1:] {
				var b chainhash.Hash
				raw, _ := hex.DecodeString(h)
				copy(b[:], raw)
				branch = append(branch, b)
			}
			proof, err := mergemine.BuildProof(header, coinbase, mergemine.MerkleProofFromBranch(branch), testTag)
			if err != nil {
				t.Fatal(err)
			}
			if err := mergemine.Verify(proof, testSeal, big.NewInt(difficulty), testTag); err != nil {
				t.Fatalf("the sidechain share does not verify: %v", err)
			}
		})
	}
}

// TestJobWithoutSideWork mines Bitcoin only: no commitment, no share.
func TestJobWithoutSideWork(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasetxn.json")
	j, err := newJob(1, tmpl, nil, nil, time.Unix(tmpl.minTime, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !j.sideDone.Load() || bytes.Contains(j.cb.raw, testTag) {
		t.Fatal("a job without sidechain work expects a share")
	}
	out := make(chan *solution, 1)
	var hashes, en atomic.Uint64
	grind(context.Background(), j, func() uint64 { return en.Add(1) }, &hashes, nil, out)
	if s := <-out; !s.btc || s.side {
		t.Errorf("solution btc %v side %v", s.btc, s.side)
	}
}

// TestJobNeedsPayout: a coinbasevalue template cannot be mined without a
// payout address.
func TestJobNeedsPayout(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasevalue.json")
	if _, err := newJob(1, tmpl, testWork(1), nil, time.Now()); err == nil || !strings.Contains(err.Error(), "--btc.address") {
		t.Errorf("got %v", err)
	}
}

// TestGrindStops: a cancelled context ends grinding after one batch even
// when nothing can be solved.
func TestGrindStops(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasetxn.json")
	tmpl.target = [32]byte{} // unreachable
	j, err := newJob(1, tmpl, nil, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var hashes, en atomic.Uint64
	grind(ctx, j, func() uint64 { return en.Add(1) }, &hashes, nil, make(chan *solution))
	if got := hashes.Load(); got != nonceBatch {
		t.Errorf("%d hashes, want one batch of %d", got, nonceBatch)
	}
	if en.Load() != 1 {
		t.Errorf("%d extranonces used, want 1", en.Load())
	}
}

// TestPartialMerkleTxCountIsHex: rskj parses the count as hex without 0x.
func TestPartialMerkleTxCountIsHex(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasetxn.json")
	for range 30 {
		tmpl.txs = append(tmpl.txs, tmpl.txs[0])
		tmpl.txids = append(tmpl.txids, tmpl.txids[0])
	}
	j, err := newJob(1, tmpl, testWork(1), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &solution{job: j}
	if got, want := s.partialMerkleParams().txCount, strconv.FormatInt(32, 16); got != want {
		t.Errorf("tx count %q, want %q", got, want)
	}
}

// TestJobAnchorsOnly: mining anchors only, the one Bitcoin block a job
// finds is its sidechain block (regtest's Bitcoin target being far the
// easier); the Bitcoin target is never made easier than the template's;
// a job that cannot seal a sidechain block sends no Bitcoin block.
func TestJobAnchorsOnly(t *testing.T) {
	tmpl := parseGBT(t, "btcd_gbt_coinbasetxn.json")
	now := time.Unix(tmpl.minTime+5, 0)
	j, err := newJob(1, tmpl, testWork(1000), testPayScript, now)
	if err != nil {
		t.Fatal(err)
	}
	j.anchorsOnly()
	btc, side := mineJob(t, j)
	if btc != side || !meetsTarget(&btc.hash, &j.sideTarget) {
		t.Fatalf("Bitcoin block %v and sidechain block %v: want one solution meeting the sidechain target", btc.hash, side.hash)
	}

	// A template harder than the sidechain (mainnet's case) keeps its target.
	hard := *tmpl
	hard.target = [32]byte{0, 0, 0, 1}
	j, err = newJob(2, &hard, testWork(1000), testPayScript, now)
	if err != nil {
		t.Fatal(err)
	}
	if j.anchorsOnly(); j.btcTarget != hard.target {
		t.Errorf("Bitcoin target %x, want the template's harder %x", j.btcTarget, hard.target)
	}

	// No sidechain work, or work whose block is sealed: no Bitcoin block.
	j, err = newJob(3, tmpl, nil, testPayScript, now)
	if err != nil {
		t.Fatal(err)
	}
	if j.anchorsOnly(); !j.done() {
		t.Error("a job without sidechain work would send Bitcoin blocks")
	}
	j, err = newJob(4, tmpl, testWork(1000), testPayScript, now)
	if err != nil {
		t.Fatal(err)
	}
	j.sideDone.Store(true)
	if j.anchorsOnly(); !j.done() {
		t.Error("a job whose sidechain block is sealed would send Bitcoin blocks")
	}
}
