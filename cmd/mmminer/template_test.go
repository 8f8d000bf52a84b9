package main

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		file          string
		coinbase      bool
		coinbaseValue int64
		flags         string
	}{
		{"btcd_gbt_coinbasetxn.json", true, 0, ""},
		{"btcd_gbt_coinbasevalue.json", false, 5000010000, "0b2f503253482f627463642f"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tmpl := parseGBT(t, tt.file)
			if tmpl.height != 102 || tmpl.bits != 0x207fffff || tmpl.version != 0x20000000 || tmpl.minTime != 1795240395 {
				t.Errorf("height %d bits %08x version %x mintime %d", tmpl.height, tmpl.bits, tmpl.version, tmpl.minTime)
			}
			if got := tmpl.prevBlock.String(); got != "6643521b00774859162039105a4f78dfbd7cfba6d8e71073daa086a319ce8691" {
				t.Errorf("prev %s", got)
			}
			if len(tmpl.txs) != 1 || tmpl.txids[0].String() != "073aceebbef52fab3978e05293a79868909cd92ab08c4b48f8665f99e52398c0" {
				t.Errorf("txs %v", tmpl.txids)
			}
			if want := "7fffff0000000000000000000000000000000000000000000000000000000000"; hex.EncodeToString(tmpl.target[:]) != want {
				t.Errorf("target %x, want %s", tmpl.target, want)
			}
			if (tmpl.coinbase != nil) != tt.coinbase || tmpl.coinbaseValue != tt.coinbaseValue || hex.EncodeToString(tmpl.coinbaseFlags) != tt.flags {
				t.Errorf("coinbase %v value %d flags %x", tmpl.coinbase != nil, tmpl.coinbaseValue, tmpl.coinbaseFlags)
			}
			if tmpl.coinbase != nil && tmpl.coinbase.TxHash().String() != "00e01abfc4538f39806cc009c6898b34d59de42722f26a8b75624e39c24ab366" {
				t.Errorf("coinbase txid %s", tmpl.coinbase.TxHash())
			}
		})
	}
}

// TestTemplateKey checks the work key ignores the time and follows
// everything a header or coinbase depends on.
func TestTemplateKey(t *testing.T) {
	base := parseGBT(t, "btcd_gbt_coinbasetxn.json").key
	mutations := map[string]func(r *btcjson.GetBlockTemplateResult){
		"prev":    func(r *btcjson.GetBlockTemplateResult) { r.PreviousHash = strings.Repeat("0", 63) + "1" },
		"bits":    func(r *btcjson.GetBlockTemplateResult) { r.Bits = "207ffffe" },
		"version": func(r *btcjson.GetBlockTemplateResult) { r.Version++ },
		"no txs":  func(r *btcjson.GetBlockTemplateResult) { r.Transactions = nil },
		"coinbase": func(r *btcjson.GetBlockTemplateResult) {
			r.CoinbaseTxn.Data = strings.Replace(r.CoinbaseTxn.Data, "0166", "0167", 1)
		},
		"witness": func(r *btcjson.GetBlockTemplateResult) { r.DefaultWitnessCommitment = strings.Repeat("ab", 32) },
	}
	for name, mutate := range mutations {
		r := loadGBT(t, "btcd_gbt_coinbasetxn.json")
		mutate(r)
		tmpl, err := parseTemplate(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tmpl.key == base {
			t.Errorf("%s: key unchanged", name)
		}
	}
	r := loadGBT(t, "btcd_gbt_coinbasetxn.json")
	r.CurTime += 100
	r.MinTime += 100
	if tmpl, err := parseTemplate(r); err != nil || tmpl.key != base {
		t.Errorf("time changed the key (err %v)", err)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *btcjson.GetBlockTemplateResult)
		want   string
	}{
		{"bits not hex", func(r *btcjson.GetBlockTemplateResult) { r.Bits = "xyz" }, "invalid bits"},
		{"bits zero", func(r *btcjson.GetBlockTemplateResult) { r.Bits = "0" }, "invalid bits 00000000"},
		{"bits negative", func(r *btcjson.GetBlockTemplateResult) { r.Bits = "1d800001" }, "invalid bits 1d800001"},
		{"short prev", func(r *btcjson.GetBlockTemplateResult) { r.PreviousHash = "00ff" }, "invalid previousblockhash"},
		{"prev not hex", func(r *btcjson.GetBlockTemplateResult) { r.PreviousHash = strings.Repeat("g", 64) }, "invalid previousblockhash"},
		{"height zero", func(r *btcjson.GetBlockTemplateResult) { r.Height = 0 }, "invalid height 0"},
		{"tx not hex", func(r *btcjson.GetBlockTemplateResult) { r.Transactions[0].Data = "zz" }, "transaction 0: invalid hex"},
		{"tx truncated", func(r *btcjson.GetBlockTemplateResult) { r.Transactions[0].Data = r.Transactions[0].Data[:60] }, "transaction 0"},
		{"tx trailing", func(r *btcjson.GetBlockTemplateResult) { r.Transactions[0].Data += "00" }, "transaction 0: 1 bytes after the transaction"},
		{"txid mismatch", func(r *btcjson.GetBlockTemplateResult) { r.Transactions[0].TxID = strings.Repeat("0", 64) }, "does not match its data"},
		{"no coinbase", func(r *btcjson.GetBlockTemplateResult) { r.CoinbaseTxn = nil }, "neither coinbasetxn nor coinbasevalue"},
		{"coinbase garbage", func(r *btcjson.GetBlockTemplateResult) { r.CoinbaseTxn.Data = "01" }, "coinbasetxn"},
		{"negative value", func(r *btcjson.GetBlockTemplateResult) {
			v := int64(-1)
			r.CoinbaseTxn, r.CoinbaseValue = nil, &v
		}, "negative coinbasevalue"},
		{"bad witness commitment", func(r *btcjson.GetBlockTemplateResult) { r.DefaultWitnessCommitment = "6a24aa21" }, "invalid default_witness_commitment"},
		{"bad aux flags", func(r *btcjson.GetBlockTemplateResult) {
			r.CoinbaseAux = &btcjson.GetBlockTemplateResultAux{Flags: "q"}
		}, "coinbaseaux"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := loadGBT(t, "btcd_gbt_coinbasetxn.json")
			tt.mutate(r)
			_, err := parseTemplate(r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestWitnessCommitmentScript accepts bitcoind's whole script and btcd's
// bare commitment, giving the same output script.
func TestWitnessCommitmentScript(t *testing.T) {
	commitment := strings.Repeat("5a", 32)
	want, _ := hex.DecodeString("6a24aa21a9ed" + commitment)
	for _, in := range []string{commitment, "6a24aa21a9ed" + commitment} {
		got, err := witnessCommitmentScript(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %x, %v; want %x", in, got, err, want)
		}
	}
	for _, in := range []string{"", "00", strings.Repeat("5a", 31), "6a24aa21a9ee" + commitment, "zz"} {
		if _, err := witnessCommitmentScript(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestBlockTime(t *testing.T) {
	tmpl := &btcTemplate{minTime: 1000}
	for _, tt := range []struct{ now, want int64 }{{999, 1000}, {1000, 1000}, {1500, 1500}} {
		if got := tmpl.blockTime(tt.now); got != tt.want {
			t.Errorf("blockTime(%d) = %d, want %d", tt.now, got, tt.want)
		}
	}
}
