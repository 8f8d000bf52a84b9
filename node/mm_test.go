package node

import (
	"encoding/json"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/testchain"
	"github.com/mmgeth/mmgeth/rpc"
)

// TestMMNamespace serves a chain whose block 111 is an anchor 2 Bitcoin
// blocks deep (testchain.BuildAnchored) from a node in Bitcoin finality
// mode, over its default HTTP modules: mm_getBtcLightClient reports
// BtcRelay's tip and regtest checkpoint, mm_getFinality the anchor behind
// finalized, the "finalized" and "safe" tags follow it, mm_getAnchorProof
// of block 11 verifies, and the finality gauges read the same chain.
func TestMMNamespace(t *testing.T) {
	spec := testchain.BitcoinFinalitySpec(t)
	tc := testchain.New(t, testchain.Options{Spec: spec})
	ac := tc.BuildAnchored(100)

	n, client := startNode(t, Config{Spec: spec})
	if _, err := n.InsertBlocks(ac.Blocks); err != nil {
		t.Fatal(err)
	}
	head := ac.Blocks[len(ac.Blocks)-1]

	var lc rpc.BtcLightClient
	if err := client.Call(&lc, "mm_getBtcLightClient"); err != nil {
		t.Fatal(err)
	}
	tip := chainhash.DoubleHashH(tc.BitcoinHeader(ac.Blocks[len(ac.Blocks)-2]))
	regtest := chaincfg.RegressionNetParams
	if lc.BestHeight != 12 || lc.BestHash != tip.String() || lc.Address != bridge.BtcRelayAddress {
		t.Errorf("light client at %d %s, want 12 %s", lc.BestHeight, lc.BestHash, tip)
	}
	if lc.Checkpoint.Hash != regtest.GenesisHash.String() || lc.Checkpoint.Height != 0 || !lc.Params.NoRetargeting || lc.Params.PowLimitBits != regtest.PowLimitBits {
		t.Errorf("checkpoint %+v, params %+v: want regtest's", lc.Checkpoint, lc.Params)
	}

	var fin rpc.FinalityInfo
	if err := client.Call(&fin, "mm_getFinality"); err != nil {
		t.Fatal(err)
	}
	if fin.Mode != "bitcoin" || fin.K != 2 || fin.Finalized.Hash != ac.Anchor.Hash() || fin.LightClientHeight != 12 {
		t.Errorf("finality %+v, want bitcoin mode, K 2, block %d finalized", fin, ac.Anchor.NumberU64())
	}
	if a := fin.Anchor; a == nil || a.Block.Hash != ac.Anchor.Hash() || a.BtcHeight != 11 || a.Depth != 2 || a.BtcHash != chainhash.DoubleHashH(tc.BitcoinHeader(ac.Anchor)).String() {
		t.Errorf("anchor %+v, want block %d at Bitcoin height 11, depth 2", a, ac.Anchor.NumberU64())
	}
	if a := fin.NewestAnchor; a == nil || a.Block.Number != hexutil.Uint64(ac.Anchor.NumberU64()+1) || a.Depth != 1 {
		t.Errorf("newest anchor %+v, want block %d at depth 1", a, ac.Anchor.NumberU64()+1)
	}
	safe := head.NumberU64() - spec.Confirmations
	if uint64(fin.Safe.Number) != safe {
		t.Errorf("safe %d, want head - %d = %d", fin.Safe.Number, spec.Confirmations, safe)
	}
	for tag, want := range map[string]uint64{"finalized": ac.Anchor.NumberU64(), "safe": safe} {
		var b struct{ Number hexutil.Uint64 }
		if err := client.Call(&b, "eth_getBlockByNumber", tag, false); err != nil {
			t.Fatal(err)
		}
		if uint64(b.Number) != want {
			t.Errorf("eth_getBlockByNumber(%q) = %d, want %d", tag, b.Number, want)
		}
	}

	var raw json.RawMessage
	if err := client.Call(&raw, "mm_getAnchorProof", hexutil.Uint64(ac.Target.NumberU64())); err != nil {
		t.Fatal(err)
	}
	var p anchorproof.Proof
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	res, err := anchorproof.Verify(&p, []byte(spec.MergeMining.Tag))
	if err != nil {
		t.Fatalf("served proof refused: %v", err)
	}
	if res.Target.Hash() != ac.Target.Hash() || res.Anchor.Hash() != ac.Anchor.Hash() {
		t.Errorf("proof of %d from %d, want %d from %d", res.Target.Number, res.Anchor.Number, ac.Target.NumberU64(), ac.Anchor.NumberU64())
	}
	// The head is anchored by nothing yet.
	if err := client.Call(&raw, "mm_getAnchorProof", "latest"); err == nil {
		t.Error("proof served for the unanchored head")
	}

	m := &metricsService{n: n}
	m.measureFinality(head.Header())
	lag := int64(head.NumberU64() - ac.Anchor.NumberU64())
	if finalityLagGauge.Snapshot().Value() != lag || lightClientGauge.Snapshot().Value() != 12 ||
		finalityLagSecGauge.Snapshot().Value() != int64(head.Time()-ac.Anchor.Time()) {
		t.Errorf("gauges: lag %d blocks %ds, light client %d; want %d blocks, %ds, 12",
			finalityLagGauge.Snapshot().Value(), finalityLagSecGauge.Snapshot().Value(), lightClientGauge.Snapshot().Value(), lag, head.Time()-ac.Anchor.Time())
	}
	// Every block's proof is a regtest Bitcoin block, and the chain's 114
	// blocks span less than an hour.
	if got := anchorsGauge.Snapshot().Value(); got != int64(len(ac.Blocks)) {
		t.Errorf("anchors per hour %d, want %d", got, len(ac.Blocks))
	}
}
