package bridge

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// checkBatchSlots requires BatchSlot's word and every SighashSlot of every
// version of batch id to hold what getPegOutBatch and pegOutTx say.
func checkBatchSlots(t *testing.T, h *pegHarness, id uint64) {
	t.Helper()
	b, err := h.view.PegOutBatch(id)
	if err != nil {
		t.Fatal(err)
	}
	head := DecodeBatchHead(h.st.GetState(BridgeAddress, BatchSlot(id)))
	want := BatchHead{State: b.State, Versions: uint8(b.Versions()), Epoch: b.Epoch, NInputs: uint16(len(b.InputKeys)),
		CreatedBlock: b.CreatedBlock}
	if head != want {
		t.Fatalf("batch %d's first word decodes to %+v, getPegOutBatch says %+v", id, head, want)
	}
	for v := range b.Versions() {
		_, _, sighashes, err := h.view.PegOutTx(id, uint8(v))
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sighashes {
			if got := h.st.GetState(BridgeAddress, SighashSlot(id, uint8(v), i)); got != s {
				t.Fatalf("batch %d version %d sighash %d: slot holds %x, pegOutTx %x", id, v, i, got, s)
			}
		}
		if got := h.st.GetState(BridgeAddress, SighashSlot(id, uint8(v), len(sighashes))); got != (common.Hash{}) {
			t.Fatalf("batch %d version %d: a sighash slot past its %d inputs holds %x", id, v, len(sighashes), got)
		}
	}
}

// TestBatchSlots: the slots a strict signer proves are the batch's, for a
// batch of three inputs and two requests built by the real bytecode (the
// bump test checks a version 1).
func TestBatchSlots(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	h.depositMany(alice, 3e7, 3e7, 3e7)
	h.request(alice, 4e7, outP2WPKH)
	h.request(alice, 3e7, outP2WPKH)
	id, _, _ := h.build()
	if id == 0 {
		t.Fatal("no batch")
	}
	checkBatchSlots(t, h, id)
	if head := DecodeBatchHead(h.st.GetState(BridgeAddress, BatchSlot(id))); head.NInputs != 3 || head.State != BatchSigning {
		t.Fatalf("batch head %+v, want 3 inputs, signing", head)
	}
}
