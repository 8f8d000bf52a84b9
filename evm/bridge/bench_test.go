package bridge

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// PEG.md §13 goals, in total transaction gas (intrinsic gas included).
const (
	goalBatchPerHeader = 75_000
	goalSingleHeader   = 120_000
)

func mainnetRelay(t testing.TB, blocks []*wire.MsgBlock) *harness {
	net := &chaincfg.MainNetParams
	h := newHarness(t, NewRelayParams(net, 2016, 200), GenesisCheckpoint(net))
	h.now = uint64(blocks[len(blocks)-1].Header.Timestamp.Unix())
	return h
}

// TestGas reports and bounds the gas of header submission against PEG.md
// §13. Repeat with: go test ./evm/bridge/ -run TestGas -v
func TestGas(t *testing.T) {
	blocks := mainnetBlocks(t)
	h := mainnetRelay(t, blocks)
	const batches, singles = 20, 50
	var perHeader, single uint64
	next := 1
	for range batches {
		batch := make([][]byte, 200)
		for i := range batch {
			batch[i] = headerBytes(&blocks[next].Header)
			next++
		}
		perHeader = max(perHeader, h.submit(batch...).gas/200)
	}
	for range singles {
		single = max(single, h.submit(headerBytes(&blocks[next].Header)).gas)
		next++
	}
	t.Logf("receiveHeaders, batches of 200 mainnet headers: %d gas/header (worst of %d batches; goal <= %d)", perHeader, batches, goalBatchPerHeader)
	t.Logf("receiveHeaders, one header per transaction: %d gas (worst of %d; goal <= %d)", single, singles, goalSingleHeader)
	if perHeader > goalBatchPerHeader {
		t.Errorf("batched header costs %d gas, goal %d", perHeader, goalBatchPerHeader)
	}
	if single > goalSingleHeader {
		t.Errorf("single-header transaction costs %d gas, goal %d", single, goalSingleHeader)
	}

	// verifyInclusion of the last tx of the fullest block synced so far.
	height := 1
	for i := 1; i < next; i++ {
		if len(blocks[i].Transactions) > len(blocks[height].Transactions) {
			height = i
		}
	}
	b := blocks[height]
	txid, p := inclusion(b, uint32(height), len(b.Transactions)-1)
	r := h.tx(VerifyInclusionInput(txid, p, 6))
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Logf("verifyInclusion, block %d (%d txs, depth %d): %d gas as a transaction", height, len(b.Transactions), len(p.TxBranch)/32, r.gas)

	// A header that moves the best chain to another branch (regtest): the
	// same header costs more the deeper the reorg, since each height leaving
	// the best chain gets its parent recorded and its mainChain slot rewritten.
	for _, depth := range []int{1, 10} {
		rh, genesis := regtestRelay(t, 100)
		var c regtestChain
		a, b := genesis, genesis
		for range depth {
			a = c.next(a, nil)
			rh.submit(headerBytes(a))
		}
		for range depth {
			b = c.next(b, nil)
			rh.submit(headerBytes(b))
		}
		t.Logf("receiveHeaders, one header causing a %d-deep reorg: %d gas", depth, rh.submit(headerBytes(c.next(b, nil))).gas)
	}
}

// BenchmarkReceiveHeaders times a batch of 200 mainnet headers in the EVM
// and reports its gas per header.
func BenchmarkReceiveHeaders(b *testing.B) {
	blocks := mainnetBlocks(b)
	batch := make([][]byte, 200)
	for i := range batch {
		batch[i] = headerBytes(&blocks[1+i].Header)
	}
	var gas uint64
	for b.Loop() {
		b.StopTimer()
		h := mainnetRelay(b, blocks)
		b.StartTimer()
		gas = h.submit(batch...).gas
	}
	b.ReportMetric(float64(gas)/200, "gas/header")
}
