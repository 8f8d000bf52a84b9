package btcspv

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// FuzzReceiveHeaders feeds arbitrary batches to a regtest chain, where
// random headers pass proof of work half the time. Nothing may panic; a
// refused batch names one rule and leaves the chain exactly as it was; an
// accepted one stores every header; and on the batch's first header our
// verdict agrees with btcd's header rules.
func FuzzReceiveHeaders(f *testing.F) {
	c, g := regtestChain(f)
	b := &builder{t: f, c: c, version: regtestVersion}
	chain := b.extend(g, 12, 600)
	tip := chain[len(chain)-1]
	next := b.child(tip, headerTime(tip)+600, RegTest.PowLimitBits)
	now := headerTime(next)
	f.Add(next, now)
	f.Add(concat(next, b.child(next, now+1, RegTest.PowLimitBits)), now)
	f.Add(concat(chain[3], chain[4]), now)
	f.Add(b.child(chain[2], now, RegTest.PowLimitBits), now)
	f.Add(setField(next, 72, 0x207ffffe), now)
	f.Add(setField(next, 0, 1), now)
	f.Add(next[:79], now)
	f.Add(next, uint32(0))

	f.Fuzz(func(t *testing.T, raw []byte, now uint32) {
		c, _ := regtestChain(t)
		if _, err := c.ReceiveHeaders(concat(chain...), headerTime(tip)); err != nil {
			t.Fatal(err)
		}
		before, tipBefore, nodes := indexOf(c), c.BestChain(), len(c.nodes)

		var first error
		shaped := len(raw) > 0 && len(raw)%HeaderSize == 0 && len(raw) <= maxHeadersPerCall*HeaderSize
		firstKnown := shaped && c.nodes[chainhash.Hash(raw[4:36])] != nil &&
			c.nodes[chainhash.DoubleHashH(raw[:HeaderSize])] == nil
		if firstKnown {
			_, first = c.accept(raw[:HeaderSize], chainhash.DoubleHashH(raw[:HeaderSize]), now)
			agreeWithBtcd(t, c, raw[:HeaderSize], now, first)
		}

		_, err := c.ReceiveHeaders(raw, now)
		if err != nil {
			if ruleOf(err) == nil {
				t.Fatalf("error matches no single rule: %v", err)
			}
			if firstKnown && first != nil && !errors.Is(err, ruleOf(first)) {
				t.Fatalf("batch refused with %v, its first header with %v", err, first)
			}
			sameIndex(t, c, before)
			if tip := c.BestChain(); tip.Chainwork.Cmp(tipBefore.Chainwork) != 0 || len(c.nodes) != nodes {
				t.Fatal("a refused batch changed the chain")
			}
			return
		}
		for i := 0; i < len(raw); i += HeaderSize {
			if _, ok := c.HeaderInfo(chainhash.DoubleHashH(raw[i : i+HeaderSize])); !ok {
				t.Fatalf("header %d of an accepted batch is not stored", i/HeaderSize)
			}
		}
		if c.BestChain().Chainwork.Cmp(tipBefore.Chainwork) < 0 {
			t.Fatal("the best chainwork went down")
		}
	})
}

// FuzzVerifyInclusion mutates real proofs. Nothing may panic, a failure
// names one rule, and anything accepted must fold to the header's root by
// btcd's own merkle hashing, for the tx and for the coinbase.
func FuzzVerifyInclusion(f *testing.F) {
	block := loadMainnetBlocks(f)[2812]
	idx := fixedIndex{height: 2812, best: 2900, hash: block.BlockHash()}
	for i := 1; i < len(block.Transactions); i++ {
		txid := block.Transactions[i].TxHash()
		p, err := BuildInclusion(block, 2812, txid)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(txid[:], p.Header, p.Height, p.TxIndex, p.TxBranch, p.CoinbasePreimage[:], p.CoinbaseBranch, uint32(6))
	}
	f.Add([]byte{}, []byte{}, uint32(0), uint32(0), []byte{}, []byte{}, []byte{}, uint32(0))

	f.Fuzz(func(t *testing.T, txid, header []byte, height, index uint32, branch, preimage, cbBranch []byte, minConfs uint32) {
		p := Inclusion{Header: header, Height: height, TxIndex: index, TxBranch: branch, CoinbaseBranch: cbBranch}
		copy(p.CoinbasePreimage[:], preimage)
		var id chainhash.Hash
		copy(id[:], txid)
		confs, err := VerifyInclusion(idx, id, p, minConfs)
		if err != nil {
			if ruleOf(err) == nil {
				t.Fatalf("error matches no single rule: %v", err)
			}
			return
		}
		if confs < minConfs || confs != idx.best-height+1 {
			t.Fatalf("%d confirmations for %d", confs, minConfs)
		}
		fold := func(cur chainhash.Hash, branch []byte, index uint32) chainhash.Hash {
			for i := 0; i < len(branch); i += 32 {
				s := chainhash.Hash(branch[i : i+32])
				if index&1 == 0 {
					cur = blockchain.HashMerkleBranches(&cur, &s)
				} else {
					cur = blockchain.HashMerkleBranches(&s, &cur)
				}
				index >>= 1
			}
			return cur
		}
		root := chainhash.Hash(header[36:68])
		if index == 0 || fold(id, branch, index) != root || fold(sha256.Sum256(p.CoinbasePreimage[:]), cbBranch, 0) != root {
			t.Fatal("accepted a proof that does not fold to the root")
		}
	})
}

// FuzzParseTx: nothing may panic, a failure is MalformedTx (with an offset
// inside the bytes) or Tx64Bytes, and whatever parses is exactly btcd's
// non-witness transaction, re-serialized byte for byte.
func FuzzParseTx(f *testing.F) {
	for _, b := range loadMainnetBlocks(f) {
		for _, tx := range b.Transactions {
			f.Add(serializeTx(f, tx))
		}
	}
	f.Add(serializeTx(f, tx64()))
	f.Add([]byte{1, 0, 0, 0, 0, 1})
	f.Add([]byte{1, 0, 0, 0, 0xfd, 1, 0})

	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := ParseTx(raw)
		if err != nil {
			var te *TxError
			switch {
			case errors.As(err, &te):
				if te.Offset < 0 || te.Offset > len(raw) || ruleOf(err) != ErrMalformedTx {
					t.Fatalf("offset %d of %d bytes: %v", te.Offset, len(raw), err)
				}
			case ruleOf(err) != ErrTx64Bytes || len(raw) != 64:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		sameAsBtcd(t, raw, tx)
		var m wire.MsgTx
		if err := m.DeserializeNoWitness(bytes.NewReader(raw)); err != nil || !bytes.Equal(serializeTx(t, &m), raw) {
			t.Fatalf("btcd does not re-serialize it byte for byte: %v", err)
		}
	})
}
