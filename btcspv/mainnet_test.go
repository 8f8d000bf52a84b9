package btcspv

import (
	"encoding/binary"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
)

// TestMainnetSync submits real mainnet headers 1–14,131 from the genesis
// checkpoint in batches of 200: every one is accepted, by us and by btcd's
// header rules, and the tip and chainwork are the real ones.
func TestMainnetSync(t *testing.T) {
	headers := loadMainnetHeaders(t)
	cp := GenesisCheckpoint(&chaincfg.MainNetParams)
	if chainhash.DoubleHashH(cp.Header80[:]) != *chaincfg.MainNetParams.GenesisHash ||
		string(cp.Header80[:]) != string(headers[:HeaderSize]) {
		t.Fatal("the genesis checkpoint is not mainnet's genesis header")
	}
	c, err := NewChain(MainNet, cp)
	if err != nil {
		t.Fatal(err)
	}
	work := blockchain.CalcWork(binary.LittleEndian.Uint32(headers[72:]))
	accepted, boundaries := 0, 0
	for i := HeaderSize; i < len(headers); i += 200 * HeaderSize {
		batch := headers[i:min(i+200*HeaderSize, len(headers))]
		now := headerTime(batch[len(batch)-HeaderSize:])
		r, err := c.ReceiveHeaders(batch, now)
		if err != nil {
			t.Fatal(err)
		}
		if r.Accepted != len(batch)/HeaderSize || len(r.Reorgs) != 0 {
			t.Fatalf("batch at %d: %+v", i/HeaderSize, r)
		}
		accepted += r.Accepted
		if r, err := c.ReceiveHeaders(batch, now); err != nil || r.Accepted != 0 {
			t.Fatalf("resubmitted batch: %+v, %v", r, err)
		}
	}
	for h := uint32(1); h <= mainnetTip; h++ {
		hdr := headers[h*HeaderSize : (h+1)*HeaderSize]
		bits := binary.LittleEndian.Uint32(hdr[72:])
		work.Add(work, blockchain.CalcWork(bits))
		if h%2016 == 0 {
			boundaries++
			if bits != MainNet.PowLimitBits {
				t.Fatalf("retarget at %d: bits %08x", h, bits)
			}
		}
		hash := chainhash.DoubleHashH(hdr)
		if at, ok := c.BlockHashAt(h); !ok || at != hash {
			t.Fatalf("height %d: %v, want %v", h, at, hash)
		}
		if got := c.Confirmations(hash); got != mainnetTip-h+1 {
			t.Fatalf("height %d: %d confirmations", h, got)
		}
		agreeWithBtcd(t, c, hdr, headerTime(hdr), nil)
	}
	if accepted != mainnetTip || boundaries != 7 {
		t.Fatalf("accepted %d headers across %d retargets", accepted, boundaries)
	}

	tip := c.BestChain()
	want := chainhash.DoubleHashH(headers[mainnetTip*HeaderSize:])
	if tip.Hash != want || tip.Height != mainnetTip || tip.Chainwork.Cmp(work) != 0 {
		t.Fatalf("tip %v at %d with work %v; want %v with work %v", tip.Hash, tip.Height, tip.Chainwork, want, work)
	}
	if info, ok := c.HeaderInfo(*chaincfg.MainNetParams.GenesisHash); !ok || info.Prev != (chainhash.Hash{}) || info.Height != 0 || !info.InBestChain {
		t.Fatalf("genesis: %+v", info)
	}
	info, ok := c.HeaderInfo(chainhash.DoubleHashH(headers[2016*HeaderSize : 2017*HeaderSize]))
	if !ok || info.Height != 2016 || info.Bits != 0x1d00ffff || !info.InBestChain ||
		info.Prev != chainhash.DoubleHashH(headers[2015*HeaderSize:2016*HeaderSize]) ||
		info.Chainwork.Cmp(new(big.Int).Mul(big.NewInt(2017), blockchain.CalcWork(0x1d00ffff))) != 0 {
		t.Fatalf("header 2016: %+v", info)
	}
}
