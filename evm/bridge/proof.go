package bridge

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/mmgeth/mmgeth/btcspv"
)

// PegInProof is what a relayer or a user sends to registerPegIn: the
// deposit transaction's non-witness bytes, its inclusion proof, the output
// and the recipient its deposit script commits to.
type PegInProof struct {
	BtcTx     []byte
	Inclusion BtcInclusion
	Vout      uint32
	Recipient common.Address
}

// NewPegInProof builds the proof that output vout of tx pays recipient's
// deposit address, tx being in block at height (a raw block from `getblock
// <hash> 0`). The recipient cannot be read from the output (it is inside a
// script hash); the Bridge refuses a wrong one with NotADeposit.
func NewPegInProof(block *wire.MsgBlock, height uint32, tx *wire.MsgTx, vout uint32, recipient common.Address) (*PegInProof, error) {
	if int(vout) >= len(tx.TxOut) {
		return nil, fmt.Errorf("output %d of a transaction with %d", vout, len(tx.TxOut))
	}
	incl, err := btcspv.BuildInclusion(block, height, tx.TxHash())
	if err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	if err := tx.SerializeNoWitness(&raw); err != nil {
		return nil, err
	}
	return &PegInProof{BtcTx: raw.Bytes(), Inclusion: InclusionOf(incl), Vout: vout, Recipient: recipient}, nil
}

// Input is the registerPegIn calldata.
func (p *PegInProof) Input() []byte {
	return RegisterPegInInput(p.BtcTx, p.Inclusion, p.Vout, p.Recipient)
}

// InclusionOf converts btcspv's proof, the Go reference's, into the
// contract's struct: the same fields in the same order.
func InclusionOf(p btcspv.Inclusion) BtcInclusion {
	return BtcInclusion(p)
}
