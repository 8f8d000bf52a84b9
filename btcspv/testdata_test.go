package btcspv

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
)

// TestTestdataFromBtcd re-derives the committed vectors from btcd's own
// test file (see testdata/README.md) and checks they are byte for byte what
// it holds, including the previous-block fields the compact file omits.
// With -update it writes them.
func TestTestdataFromBtcd(t *testing.T) {
	f, err := os.Open(btcdFile(t, "blockchain/testdata/blk_0_to_14131.dat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := readBtcdBlocks(t, f)
	if len(blocks) != mainnetTip+1 {
		t.Fatalf("btcd's file holds %d blocks", len(blocks))
	}
	var compact, full bytes.Buffer
	for _, b := range blocks {
		full.Write(b[:HeaderSize])
		compact.Write(b[:4])
		compact.Write(make([]byte, 32))
		compact.Write(b[36:HeaderSize])
	}
	var lines bytes.Buffer
	for _, h := range multiTxBlocks {
		fmt.Fprintf(&lines, "%d %x\n", h, blocks[h])
	}

	if *update {
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write(compact.Bytes())
		w.Close()
		if err := os.WriteFile(headersFile, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(blocksFile, lines.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if !bytes.Equal(loadMainnetHeaders(t), full.Bytes()) {
		t.Fatalf("%s differs from btcd's headers", headersFile)
	}
	committed, err := os.ReadFile(blocksFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, lines.Bytes()) {
		t.Fatalf("%s differs from btcd's blocks", blocksFile)
	}
	for h, b := range loadMainnetBlocks(t) {
		if len(b.Transactions) < 4 {
			t.Fatalf("block %d has %d transactions", h, len(b.Transactions))
		}
		var s bytes.Buffer
		b.Serialize(&s)
		if hex.EncodeToString(s.Bytes()) != hex.EncodeToString(blocks[h]) {
			t.Fatalf("block %d does not round-trip", h)
		}
	}
}
