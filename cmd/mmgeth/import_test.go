package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestImportRefusesWithdrawal runs `mmgeth import` on a chain file holding a
// valid block followed by one that withdraws 1 BTC (with a valid proof):
// the import fails naming the rule, the valid block stays imported, and the
// withdrawal's recipient has nothing.
func TestImportRefusesWithdrawal(t *testing.T) {
	tc := testchain.New(t, testchain.Options{})
	good := tc.Extend(tc.BlockChain().Genesis(), 1, 0)[0]
	var bad *types.Block
	for _, br := range tc.RuleBreakers(good) {
		if br.Name == "withdrawal of 1 BTC" {
			bad = br.Block
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "chain.rlp")
	var data []byte
	for _, b := range []*types.Block{good, bad} {
		enc, err := rlp.EncodeToBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, enc...)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	datadir := filepath.Join(dir, "node")
	code, _, msg := runApp("import", "--dev", "--datadir", datadir, file)
	if code == 0 || !strings.Contains(msg, consensus.ErrWithdrawals.Error()) {
		t.Fatalf("import: exit %d, %q; want a failure naming %q", code, msg, consensus.ErrWithdrawals)
	}
	if code, out, msg := runApp("export", "--dev", "--datadir", datadir, filepath.Join(dir, "out.rlp")); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, msg)
	}
	exported, err := os.Open(filepath.Join(dir, "out.rlp"))
	if err != nil {
		t.Fatal(err)
	}
	defer exported.Close()
	stream := rlp.NewStream(exported, 0)
	for _, want := range []*types.Block{tc.BlockChain().Genesis(), good} {
		var b types.Block
		if err := stream.Decode(&b); err != nil || b.Hash() != want.Hash() {
			t.Fatalf("exported block %d: %v, hash %x, want %x", want.NumberU64(), err, b.Hash(), want.Hash())
		}
	}
	if err := stream.Decode(new(types.Block)); err == nil {
		t.Fatal("the datadir holds a block after the valid one")
	}
}
