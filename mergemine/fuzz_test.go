package mergemine

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
	"github.com/holiman/uint256"
)

// FuzzDecodeVerify feeds arbitrary bytes to the decoder and whatever decodes
// to Verify, with an arbitrary committed hash, difficulty and tag. Nothing
// may panic, every failure must name exactly one rule, the allocation-free
// proof-of-work check must agree with big.Int arithmetic, and anything
// accepted must really fold to the header's root and carry the commitment.
func FuzzDecodeVerify(f *testing.F) {
	add := func(p *Proof, committed [32]byte, difficulty *big.Int, tag []byte) {
		f.Add(p.Bytes(), committed[:], difficulty.Bytes(), tag)
		f.Add(p.Bytes(), committed[:], []byte(nil), tag)
	}
	var blocks rskBlocks
	loadJSON(f, "rsk_mainnet_blocks.json", &blocks)
	for _, v := range blocks.Vectors {
		p := &Proof{unhex(f, v.Header), unhex(f, v.MerkleProof), unhex(f, v.Coinbase)}
		add(p, hash32(f, v.Derived.HashForMergedMining), decimal(f, v.Derived.Difficulty), rskTag)
	}
	var parts rskPowParts
	loadJSON(f, "rsk_mainnet_pow_parts.json", &parts)
	for _, v := range parts.Vectors {
		if v.Header == "" {
			continue
		}
		p := &Proof{unhex(f, v.Header), unhex(f, v.MerkleProof), unhex(f, v.Coinbase)}
		add(p, hash32(f, v.HashInTag), DifficultyFromTarget(hashValue(p.BitcoinHeader)), rskTag)
	}
	_, p, committed, difficulty := loadSynthetic(f)
	add(p, committed, difficulty, rskTag)
	f.Add([]byte{0xc3, 0x80, 0x80, 0x80}, []byte(nil), []byte(nil), devTag)

	f.Fuzz(func(t *testing.T, enc, committed, difficulty, tag []byte) {
		p, err := DecodeProof(enc)
		if err != nil {
			if p != nil {
				t.Fatal("a proof along with an error")
			}
			return
		}
		if !bytes.Equal(p.Bytes(), enc) {
			t.Fatalf("%x re-encodes as %x", enc, p.Bytes())
		}
		var c [32]byte
		copy(c[:], committed)
		d := new(big.Int).SetBytes(difficulty)
		err = Verify(p, c, d, tag)
		if err != nil && ruleOf(err) == nil {
			t.Fatalf("error matches no single rule: %v", err)
		}
		if len(p.BitcoinHeader) == HeaderSize {
			var target uint256.Int
			setTarget(&target, d)
			if meetsTarget(p.BitcoinHeader, &target) != (hashValue(p.BitcoinHeader).Cmp(Target(d)) <= 0) {
				t.Fatalf("proof-of-work checks disagree at difficulty %v", d)
			}
		}
		if err != nil {
			return
		}
		txid, err := CoinbaseTxID(p.Coinbase)
		root := refFold(txid, p.MerkleProof)
		if err != nil || !bytes.Equal(root[:], p.BitcoinHeader[36:68]) {
			t.Fatalf("accepted a proof that does not fold to its root: %v", err)
		}
		if !bytes.Contains(p.Coinbase[midstateSize:], append(bytes.Clone(tag), c[:]...)) {
			t.Fatal("accepted a coinbase without the commitment")
		}
	})
}

// FuzzBuildProof feeds arbitrary submissions to the miner side: nothing may
// panic, and a built proof's coinbase must resume to the submitted
// transaction's txid.
func FuzzBuildProof(f *testing.F) {
	_, p, _, _ := loadSynthetic(f)
	var s synthetic
	loadJSON(f, "synthetic_lowdiff.json", &s)
	f.Add(p.BitcoinHeader, unhex(f, s.Coinbase), p.MerkleProof, rskTag)
	var w bytes.Buffer
	if err := poolCoinbase(testSeal).Serialize(&w); err != nil {
		f.Fatal(err)
	}
	f.Add(p.BitcoinHeader, w.Bytes(), p.MerkleProof, devTag)
	f.Add([]byte(nil), []byte(nil), []byte(nil), []byte(nil))

	f.Fuzz(func(t *testing.T, header, coinbase, merkleProof, tag []byte) {
		p, err := BuildProof(header, coinbase, merkleProof, tag)
		if err != nil {
			return
		}
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(coinbase)); err != nil {
			t.Fatalf("built a proof from a non-transaction: %v", err)
		}
		if txid, err := CoinbaseTxID(p.Coinbase); err != nil || txid != tx.TxHash() {
			t.Fatalf("compressed coinbase resumes to %v (%v), want %v", txid, err, tx.TxHash())
		}
		if !bytes.Equal(p.BitcoinHeader, header) || !bytes.Equal(p.MerkleProof, merkleProof) {
			t.Fatal("header or merkle proof changed")
		}
	})
}
