package bridge

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/mmgeth/mmgeth/btcspv"
)

// realProof is an inclusion proof of a real mainnet transaction.
type realProof struct {
	txid chainhash.Hash
	p    btcspv.Inclusion
}

var (
	provenOnce sync.Once
	provenPair *diffPair
	proofs     []realProof
)

// provenMainnet is a pair synced over mainnet 0..14,131 and the proofs of
// every non-coinbase transaction of its blocks with four or more, built by
// btcspv.BuildInclusion and checked against the harness's own builder.
func provenMainnet(t testing.TB) (*diffPair, []realProof) {
	provenOnce.Do(func() {
		blocks := cachedMainnetBlocks(t)
		d := newDiffPair(t, btcspv.MainNet, btcspv.GenesisCheckpoint(&chaincfg.MainNetParams))
		now := uint32(blocks[len(blocks)-1].Header.Timestamp.Unix())
		for i := 1; i < len(blocks); i += 200 {
			var batch [][]byte
			for _, b := range blocks[i:min(i+200, len(blocks))] {
				batch = append(batch, headerBytes(&b.Header))
			}
			if !d.receive(bytes.Join(batch, nil), now) {
				t.Fatalf("real headers from %d refused", i)
			}
		}
		for height, b := range blocks {
			if len(b.Transactions) < 4 {
				continue
			}
			for idx := 1; idx < len(b.Transactions); idx++ {
				txid := b.Transactions[idx].TxHash()
				p, err := btcspv.BuildInclusion(b, uint32(height), txid)
				if err != nil {
					t.Fatal(err)
				}
				hid, hp := inclusion(b, uint32(height), idx)
				if hid != [32]byte(txid) || !bytes.Equal(hp.TxBranch, p.TxBranch) || !bytes.Equal(hp.CoinbaseBranch, p.CoinbaseBranch) ||
					hp.CoinbasePreimage != p.CoinbasePreimage || hp.TxIndex != p.TxIndex || !bytes.Equal(hp.Header, p.Header) {
					t.Fatalf("block %d tx %d: the two proof builders disagree", height, idx)
				}
				proofs = append(proofs, realProof{txid: txid, p: p})
			}
		}
		provenPair = d
	})
	if len(proofs) < 20 {
		t.Fatalf("only %d real proofs", len(proofs))
	}
	return provenPair, proofs
}

func cloneInclusion(p btcspv.Inclusion) btcspv.Inclusion {
	p.Header, p.TxBranch, p.CoinbaseBranch = slices.Clone(p.Header), slices.Clone(p.TxBranch), slices.Clone(p.CoinbaseBranch)
	return p
}

// TestDiffInclusion: every real proof passes on both sides with the same
// confirmations, and each systematic mutation (each byte of the branches,
// the header, the preimage and the txid; each bit of the index; depths;
// heights; minConfs) gets the same verdict and error class.
func TestDiffInclusion(t *testing.T) {
	d, all := provenMainnet(t)
	d = d.clone(t)
	best := d.ref.BestHeight()
	seen := map[uint32]bool{}
	for _, rp := range all {
		if err := d.verify(rp.txid, rp.p, 1); err != nil {
			t.Fatalf("real proof at %d index %d refused: %v", rp.p.Height, rp.p.TxIndex, err)
		}
		if seen[rp.p.Height] {
			continue
		}
		seen[rp.p.Height] = true // mutate one proof per block
		confs := best - rp.p.Height + 1
		mut := func(f func(p *btcspv.Inclusion)) btcspv.Inclusion {
			p := cloneInclusion(rp.p)
			f(&p)
			return p
		}
		var cases []btcspv.Inclusion
		for i := range rp.p.TxBranch {
			cases = append(cases, mut(func(p *btcspv.Inclusion) { p.TxBranch[i] ^= 1 }))
			cases = append(cases, mut(func(p *btcspv.Inclusion) { p.CoinbaseBranch[i] ^= 0x80 }))
		}
		for i := range rp.p.Header {
			cases = append(cases, mut(func(p *btcspv.Inclusion) { p.Header[i] ^= 1 }))
		}
		for i := range rp.p.CoinbasePreimage {
			cases = append(cases, mut(func(p *btcspv.Inclusion) { p.CoinbasePreimage[i] ^= 1 }))
		}
		for b := range 32 {
			cases = append(cases, mut(func(p *btcspv.Inclusion) { p.TxIndex ^= 1 << b }))
		}
		depth := len(rp.p.TxBranch) / 32
		cases = append(cases,
			mut(func(p *btcspv.Inclusion) { p.TxIndex = 0 }),
			mut(func(p *btcspv.Inclusion) { p.TxIndex = 1<<depth - 1 }),
			mut(func(p *btcspv.Inclusion) { p.TxIndex = 1 << depth }),
			mut(func(p *btcspv.Inclusion) { p.TxBranch, p.CoinbaseBranch = p.TxBranch[32:], p.CoinbaseBranch[32:] }),
			mut(func(p *btcspv.Inclusion) { p.TxBranch = p.TxBranch[32:] }),
			mut(func(p *btcspv.Inclusion) { p.CoinbaseBranch = p.CoinbaseBranch[:len(p.CoinbaseBranch)-1] }),
			mut(func(p *btcspv.Inclusion) { p.TxBranch = p.TxBranch[1:] }),
			mut(func(p *btcspv.Inclusion) {
				p.TxBranch, p.CoinbaseBranch = append(p.TxBranch, make([]byte, 32)...), append(p.CoinbaseBranch, make([]byte, 32)...)
			}),
			mut(func(p *btcspv.Inclusion) { p.TxBranch, p.CoinbaseBranch = make([]byte, 20*32), make([]byte, 20*32) }),
			mut(func(p *btcspv.Inclusion) { p.TxBranch, p.CoinbaseBranch = make([]byte, 21*32), make([]byte, 21*32) }),
			mut(func(p *btcspv.Inclusion) { p.TxBranch, p.CoinbaseBranch = nil, nil }),
			mut(func(p *btcspv.Inclusion) { p.Header = p.Header[:79] }),
			mut(func(p *btcspv.Inclusion) { p.Header = append(p.Header, 0) }),
			mut(func(p *btcspv.Inclusion) { p.Header = nil }),
			mut(func(p *btcspv.Inclusion) { p.Height++ }),
			mut(func(p *btcspv.Inclusion) { p.Height-- }),
			mut(func(p *btcspv.Inclusion) { p.Height = best + 1 }),
			mut(func(p *btcspv.Inclusion) { p.Height = ^uint32(0) }),
			mut(func(p *btcspv.Inclusion) { p.CoinbasePreimage = [32]byte{} }),
		)
		for _, p := range cases {
			d.verify(rp.txid, p, 1)
		}
		for _, minConfs := range []uint32{0, confs - 1, confs, confs + 1, ^uint32(0)} {
			d.verify(rp.txid, rp.p, minConfs)
		}
		for i := range rp.txid {
			txid := rp.txid
			txid[i] ^= 1
			d.verify(txid, rp.p, 1)
		}
	}
}

// TestDiffInclusionAfterReorg proves a transaction in a regtest block, then
// moves that block off the best chain and back: the proof must fail with
// BlockNotInBestChain on both sides and pass again, with the same
// confirmations each time.
func TestDiffInclusionAfterReorg(t *testing.T) {
	block := *cachedMainnetBlocks(t)[2812]
	cp := btcspv.GenesisCheckpoint(&chaincfg.RegressionNetParams)
	d := newDiffPair(t, btcspv.RegTest, cp)
	genesis := chainhash.DoubleHashH(cp.Header80[:])
	var c regtestChain
	block.Header = *c.next(&wire.BlockHeader{Timestamp: time.Unix(int64(headerTime(cp.Header80[:])), 0)}, func(h *wire.BlockHeader) {
		h.PrevBlock, h.MerkleRoot = genesis, block.Header.MerkleRoot
	})
	txid := block.Transactions[2].TxHash()
	p, err := btcspv.BuildInclusion(&block, 1, txid)
	if err != nil {
		t.Fatal(err)
	}
	now := headerTime(cp.Header80[:]) + 86400
	chain := func(parent *wire.BlockHeader, n int) []byte {
		var out [][]byte
		for range n {
			parent = c.next(parent, nil)
			out = append(out, headerBytes(parent))
		}
		return bytes.Join(out, nil)
	}
	genesisHdr := chaincfg.RegressionNetParams.GenesisBlock.Header
	steps := []struct {
		raw  []byte
		pass bool
	}{
		{append(headerBytes(&block.Header), chain(&block.Header, 1)...), true}, // block at 1, tip at 2
		{chain(&genesisHdr, 3), false},                                         // a heavier branch from genesis
		{chain(&block.Header, 3), true},                                        // the block's branch heavier again
	}
	for i, s := range steps {
		if !d.receive(s.raw, now) {
			t.Fatalf("step %d refused", i)
		}
		if err := d.verify(txid, p, 1); (err == nil) != s.pass {
			t.Fatalf("step %d: proof verdict %v, want pass %v", i, err, s.pass)
		}
	}
}

// Proof mutations a FuzzDiffVerifyInclusion program can name (op byte
// modulo len), each reading its arguments from the program.
var proofOps = []func(r *progReader, txid *chainhash.Hash, p *btcspv.Inclusion, minConfs *uint32){
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) { xorAt(p.TxBranch, r) },
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) { xorAt(p.CoinbaseBranch, r) },
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) { xorAt(p.Header, r) },
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) {
		xorAt(p.CoinbasePreimage[:], r)
	},
	func(r *progReader, txid *chainhash.Hash, _ *btcspv.Inclusion, _ *uint32) { xorAt(txid[:], r) },
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) {
		p.TxIndex ^= 1 << (r.next() % 32)
	},
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) { p.TxIndex = r.u32() },
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) {
		p.Height = uint32(int64(p.Height) + int64(int8(r.next())))
	},
	func(r *progReader, _ *chainhash.Hash, _ *btcspv.Inclusion, minConfs *uint32) { *minConfs = r.u32() },
	func(r *progReader, _ *chainhash.Hash, _ *btcspv.Inclusion, minConfs *uint32) {
		*minConfs += uint32(r.next()) << 6
	},
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) {
		p.TxBranch = resize(p.TxBranch, r)
	},
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) {
		p.CoinbaseBranch = resize(p.CoinbaseBranch, r)
	},
	func(r *progReader, _ *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) { p.Header = resize(p.Header, r) },
	// One level up: the txid becomes the inner node over it and its
	// sibling, and both branches lose their first hash (the depth pin's
	// case), or only the tx branch does.
	func(r *progReader, txid *chainhash.Hash, p *btcspv.Inclusion, _ *uint32) {
		if len(p.TxBranch) < 32 {
			return
		}
		pair := append(txid[:], p.TxBranch[:32]...)
		if p.TxIndex&1 == 1 {
			pair = append(slices.Clone(p.TxBranch[:32]), txid[:]...)
		}
		*txid = chainhash.DoubleHashH(pair)
		p.TxIndex >>= 1
		p.TxBranch = p.TxBranch[32:]
		if r.next()&1 == 0 && len(p.CoinbaseBranch) >= 32 {
			p.CoinbaseBranch = p.CoinbaseBranch[32:]
		}
	},
}

// xorAt flips the byte the program names (if b is not empty).
func xorAt(b []byte, r *progReader) {
	i, x := int(r.next()), r.next()
	if len(b) > 0 {
		b[i%len(b)] ^= x | 1
	}
}

// resize cuts a field or grows it with the program's next byte repeated: an
// even signed byte 2k shifts the length by k hashes, an odd one 2k+1 by k
// bytes.
func resize(b []byte, r *progReader) []byte {
	n, fill := int(int8(r.next())), r.next()
	delta := n >> 1
	if n&1 == 0 {
		delta *= 32
	}
	if delta < 0 {
		return b[:max(len(b)+delta, 0)]
	}
	return append(b, bytes.Repeat([]byte{fill}, delta)...)
}

// FuzzDiffVerifyInclusion mutates real mainnet proofs: the first byte picks
// the proof, the rest is a program of proofOps. Both sides must give the
// same verdict, error class and values, and confirmations; it runs views
// only, so the synced state is shared by all inputs.
func FuzzDiffVerifyInclusion(f *testing.F) {
	d, all := provenMainnet(f)
	for i := range all {
		f.Add([]byte{byte(i)})
	}
	f.Add([]byte{0, 0, 5, 1})
	f.Add([]byte{1, 5, 3})
	f.Add([]byte{2, 13, 0})
	f.Add([]byte{3, 13, 1})
	f.Add([]byte{4, 10, 0xc0, 0, 11, 0xc0, 0})
	f.Add([]byte{5, 7, 1})
	f.Add([]byte{6, 9, 200})
	f.Add([]byte{7, 12, 0xff, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		rp := all[int(prog[0])%len(all)]
		txid, p, minConfs := rp.txid, cloneInclusion(rp.p), uint32(1)
		r := &progReader{b: prog[1:]}
		for n := 0; r.more() && n < 16; n++ {
			proofOps[int(r.next())%len(proofOps)](r, &txid, &p, &minConfs)
		}
		v := *d
		v.t = t
		v.verify(txid, p, minConfs)
	})
}
