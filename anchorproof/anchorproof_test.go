package anchorproof_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// maxProofSize is PEG.md §13's goal for an anchor proof's JSON.
const maxProofSize = 10 * 1024

// proofFor finds the anchor of x as mm_getAnchorProof does and builds the
// proof.
func proofFor(t *testing.T, c *testchain.Chain, x *types.Header) *anchorproof.Proof {
	t.Helper()
	a, anchor, err := c.AnchorFor(x, func(h *types.Header) bool {
		return !anchorproof.NeedsState(x, h) || c.BlockChain().HasState(h.Root)
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := anchorproof.Build(c.BlockChain(), x, anchor, a.BtcHeight, a.Depth)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// byteFields lists the proof's byte fields (every hex string of its JSON)
// as slices that alias the proof, so that a flip through them changes it.
// The Bitcoin hash, a string, is flipped by the test itself.
func byteFields(p *anchorproof.Proof) map[string][]byte {
	f := map[string][]byte{
		"target.hash": p.Target.Hash[:], "target.headerRlp": p.Target.HeaderRLP,
		"anchor.hash": p.Anchor.Hash[:], "anchor.headerRlp": p.Anchor.HeaderRLP,
		"bitcoin.header": p.Bitcoin.Header,
	}
	if h := p.History; h != nil {
		f["history.address"], f["history.slot"] = h.Address[:], h.Slot[:]
		for i, n := range h.AccountProof {
			f[fmt.Sprintf("history.accountProof[%d]", i)] = n
		}
		for i, n := range h.StorageProof {
			f[fmt.Sprintf("history.storageProof[%d]", i)] = n
		}
	}
	return f
}

// TestAnchorProof: the proof of block 11 from the anchor 100 blocks above
// it (found by the chain's anchor index, 2 deep in BtcRelay) verifies,
// through its JSON form, is at most 10 KB, and every single-byte change of
// any of its byte fields, the Bitcoin hash included, makes it invalid. The
// proof of the anchor itself carries no history proof.
func TestAnchorProof(t *testing.T) {
	c := testchain.New(t, testchain.Options{Spec: testchain.BitcoinFinalitySpec(t)})
	tag := []byte(c.Spec.MergeMining.Tag)
	ac := c.BuildAnchored(100)
	p := proofFor(t, c, ac.Target.Header())
	if uint64(p.Anchor.Number) != ac.Anchor.NumberU64() || p.Anchor.Hash != ac.Anchor.Hash() || p.History == nil {
		t.Fatalf("proof from block %d with history %v, want the anchor %d", p.Anchor.Number, p.History != nil, ac.Anchor.NumberU64())
	}
	if p.Bitcoin.DepthAtNode != 2 || p.Bitcoin.Height != 11 {
		t.Errorf("bitcoin block at height %d, depth %d; want 11, 2", p.Bitcoin.Height, p.Bitcoin.DepthAtNode)
	}
	enc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("anchor proof for a block 100 below its anchor: %d bytes of JSON (%d account and %d storage trie nodes)", len(enc), len(p.History.AccountProof), len(p.History.StorageProof))
	if len(enc) > maxProofSize {
		t.Errorf("proof is %d bytes, over %d", len(enc), maxProofSize)
	}
	var decoded anchorproof.Proof
	if err := json.Unmarshal(enc, &decoded); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := anchorproof.Verify(&decoded, tag)
	if err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	t.Logf("verified in %v", time.Since(start))
	if res.Target.Hash() != ac.Target.Hash() || res.Target.Root != ac.Target.Root() || res.BitcoinHash != chainhash.DoubleHashH(c.BitcoinHeader(ac.Anchor)) {
		t.Errorf("result %x / %v, want the target and the anchor's Bitcoin block", res.Target.Hash(), res.BitcoinHash)
	}

	flips := 0
	for name, field := range byteFields(&decoded) {
		for i := range field {
			field[i] ^= 0x01
			if _, err := anchorproof.Verify(&decoded, tag); !errors.Is(err, anchorproof.ErrInvalid) {
				t.Errorf("%s byte %d flipped: %v, want invalid", name, i, err)
			}
			field[i] ^= 0x01
			flips++
		}
	}
	good := decoded.Bitcoin.Hash
	hash, err := chainhash.NewHashFromStr(good)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hash {
		h := *hash
		h[i] ^= 0x01
		decoded.Bitcoin.Hash = h.String()
		if _, err := anchorproof.Verify(&decoded, tag); !errors.Is(err, anchorproof.ErrInvalid) {
			t.Errorf("bitcoin.hash byte %d flipped: %v, want invalid", i, err)
		}
		flips++
	}
	decoded.Bitcoin.Hash = good
	if _, err := anchorproof.Verify(&decoded, tag); err != nil {
		t.Fatalf("proof no longer valid after the flips were undone: %v", err)
	}
	t.Logf("%d single-byte flips, all refused", flips)

	// Wrong tag: another network's proof.
	if _, err := anchorproof.Verify(&decoded, []byte("MMGETHREG:")); !errors.Is(err, anchorproof.ErrInvalid) {
		t.Errorf("proof checked under another network's tag: %v, want invalid", err)
	}
	// A trie node that is not on the path.
	padded := decoded
	history := *decoded.History
	history.AccountProof = append(append([]hexutil.Bytes(nil), history.AccountProof...), hexutil.Bytes{0xc0})
	padded.History = &history
	if _, err := anchorproof.Verify(&padded, tag); !errors.Is(err, anchorproof.ErrInvalid) {
		t.Errorf("proof with an extra trie node: %v, want invalid", err)
	}

	self := proofFor(t, c, ac.Anchor.Header())
	if self.History != nil || self.Target.Hash != self.Anchor.Hash {
		t.Fatalf("proof of the anchor itself: history %v, target %x", self.History != nil, self.Target.Hash)
	}
	if _, err := anchorproof.Verify(self, tag); err != nil {
		t.Errorf("proof of the anchor itself refused: %v", err)
	}
}
