package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/btcspv"
	"github.com/mmgeth/mmgeth/peg"
)

var (
	alice = common.HexToAddress("0xa11ce")
	bob   = common.HexToAddress("0xb0b")
)

func weiOfSat(s int64) *big.Int { return new(big.Int).Mul(big.NewInt(s), SatToWei) }

// program is recipient's P2WSH program as peg (Go, btcd) derives it.
func (h *pegHarness) program(recipient common.Address) common.Hash {
	h.t.Helper()
	s, err := peg.DepositScript(harnessChainID, recipient, h.policy.Federation.WitnessScript)
	if err != nil {
		h.t.Fatal(err)
	}
	return common.Hash(peg.WitnessProgram(s))
}

// TestPegInCredits is the happy path: 1 BTC paid to alice's deposit address
// and proven at 3 confirmations moves exactly 10^18 wei from the Bridge to
// alice, with PegIn, the deposit record and the ledger to match. The Go
// reference (btcspv's parser and SPV check, peg's deposit script) accepts
// the same bytes.
func TestPegInCredits(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	h.checkSupply()
	d := h.deposit(alice, 1e8, 3)
	bridgeBefore, aliceBefore := h.balance(BridgeAddress), h.balance(alice)

	r := h.mustRegister(d.PegInProof, StatusCredited)

	if got := new(big.Int).Sub(h.balance(alice), aliceBefore); got.Cmp(big.NewInt(1e18)) != 0 {
		t.Errorf("alice gained %v wei, want 1e18", got)
	}
	if got := new(big.Int).Sub(bridgeBefore, h.balance(BridgeAddress)); got.Cmp(big.NewInt(1e18)) != 0 {
		t.Errorf("the Bridge lost %v wei, want 1e18", got)
	}
	txid := txidOf(d.PegInProof)
	ev := event(t, r, "PegIn")
	if ev["txid"] != txid || ev["recipient"] != alice || ev["vout"] != uint32(0) || ev["valueSat"] != uint64(1e8) || ev["btcHeight"] != d.height {
		t.Errorf("PegIn %v", ev)
	}
	got := h.deposit0(txid, 0)
	want := Deposit{Status: StatusCredited, UtxoState: UtxoUnspent, Recipient: alice, ValueSat: 1e8,
		BtcHeight: d.height, Epoch: 0}
	if got != want {
		t.Errorf("getDeposit %+v, want %+v", got, want)
	}
	if a := h.checkSupply(); a.CustodySat != 1e8 || a.PegInTotalSat != 1e8 || a.BackedWei.Cmp(big.NewInt(1e18)) != 0 {
		t.Errorf("accounting %+v", a)
	}

	// The Go reference on the same inputs.
	tx, err := btcspv.ParseTx(d.BtcTx)
	if err != nil || common.Hash(tx.TxID) != txid || tx.Outputs[0].Value != 1e8 {
		t.Fatalf("btcspv.ParseTx: %v %v", tx.TxID, err)
	}
	if !bytes.Equal(tx.Outputs[0].Script, append([]byte{0x00, 0x20}, h.program(alice).Bytes()...)) {
		t.Error("peg's program is not what the output pays")
	}
	if confs, err := btcspv.VerifyInclusion(h.ref, tx.TxID, btcspv.Inclusion(d.Inclusion), 3); err != nil || confs != 3 {
		t.Errorf("btcspv.VerifyInclusion: %d, %v", confs, err)
	}
}

// referenceErr is the btcspv error of each proof rule, by its Solidity name.
var referenceErr = map[string]error{
	"BadHeaderLength":           btcspv.ErrBadHeaderLength,
	"BlockNotInBestChain":       btcspv.ErrBlockNotInBestChain,
	"InsufficientConfirmations": btcspv.ErrInsufficientConfirmations,
	"MalformedProof":            btcspv.ErrMalformedProof,
	"DepthMismatch":             btcspv.ErrDepthMismatch,
	"BadTxIndex":                btcspv.ErrBadTxIndex,
	"MerkleMismatch":            btcspv.ErrMerkleMismatch,
	"CoinbaseProofMismatch":     btcspv.ErrCoinbaseProofMismatch,
	"MalformedTx":               btcspv.ErrMalformedTx,
	"Tx64Bytes":                 btcspv.ErrTx64Bytes,
}

// reference runs the Go reference over a proof in the Bridge's order: the
// parser, then the SPV check of the txid of the bytes given.
func (h *pegHarness) reference(p *PegInProof) error {
	tx, err := btcspv.ParseTx(p.BtcTx)
	if err != nil {
		return err
	}
	_, err = btcspv.VerifyInclusion(h.ref, tx.TxID, btcspv.Inclusion(p.Inclusion), h.params.PegInConfirmations)
	return err
}

// TestPegInBadInputs: every peg-in bad input of PEG.md §12 (and the parser's
// and recipient's own) reverts with its named error and arguments and moves
// no balance; where the rule has a Go twin, the Go reference refuses the
// same bytes for the same reason.
func TestPegInBadInputs(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	h.watch(bob)
	credited := h.deposit(alice, 1e8, 3)
	h.mustRegister(credited.PegInProof, StatusCredited)
	d := h.deposit(alice, 2e8, 3)
	txid := txidOf(d.PegInProof)

	type mutation func(p *PegInProof)
	withTx := func(f func([]byte) []byte) mutation {
		return func(p *PegInProof) { p.BtcTx = f(bytes.Clone(p.BtcTx)) }
	}
	valueAt := bytes.Index(d.BtcTx, binary.LittleEndian.AppendUint64(nil, 2e8))
	var witnessTx bytes.Buffer
	wtx := d.tx.Copy()
	wtx.TxIn[0].Witness = wire.TxWitness{{0x01}}
	if err := wtx.Serialize(&witnessTx); err != nil || valueAt < 0 {
		t.Fatal(err, valueAt)
	}
	for _, c := range []struct {
		name   string
		mutate mutation
		want   string
		args   map[string]any
	}{
		{"wrong amount", withTx(func(b []byte) []byte { b[valueAt+1] ^= 1; return b }), "MerkleMismatch", nil},
		{"replayed proof", func(p *PegInProof) { *p = *credited.PegInProof }, "AlreadyProcessed",
			map[string]any{"txid": txidOf(credited.PegInProof), "vout": uint32(0)}},
		{"other vout (change)", func(p *PegInProof) { p.Vout = 1 }, "NotADeposit",
			map[string]any{"vout": uint32(1), "wantProgram": h.program(alice)}},
		{"tx not to the federation", func(p *PegInProof) { *p = *h.proof(d.block, d.height, d.other, 0, alice) }, "NotADeposit",
			map[string]any{"vout": uint32(0), "wantProgram": h.program(alice)}},
		{"wrong recipient", func(p *PegInProof) { p.Recipient = bob }, "NotADeposit",
			map[string]any{"vout": uint32(0), "wantProgram": h.program(bob)}},
		{"recipient zero", func(p *PegInProof) { p.Recipient = common.Address{} }, "InvalidRecipient", nil},
		{"recipient Bridge", func(p *PegInProof) { p.Recipient = BridgeAddress }, "InvalidRecipient", nil},
		{"vout out of range", func(p *PegInProof) { p.Vout = 2 }, "VoutOutOfRange", map[string]any{"vout": uint32(2)}},
		{"header of 79 bytes", func(p *PegInProof) { p.Inclusion.Header = p.Inclusion.Header[:79] }, "BadHeaderLength", nil},
		{"wrong height", func(p *PegInProof) { p.Inclusion.Height++ }, "BlockNotInBestChain",
			map[string]any{"hash": common.Hash(d.block.BlockHash()), "height": d.height + 1}},
		{"branch of 33 bytes", func(p *PegInProof) { p.Inclusion.TxBranch = append(p.Inclusion.TxBranch[:32:32], 0) }, "MalformedProof", nil},
		{"coinbase branch shorter", func(p *PegInProof) { p.Inclusion.CoinbaseBranch = p.Inclusion.CoinbaseBranch[32:] }, "DepthMismatch", nil},
		{"txIndex 0", func(p *PegInProof) { p.Inclusion.TxIndex = 0 }, "BadTxIndex", map[string]any{"index": uint32(0)}},
		{"index bit flipped", func(p *PegInProof) { p.Inclusion.TxIndex ^= 1 }, "MerkleMismatch", nil},
		{"branch bit flipped", func(p *PegInProof) {
			p.Inclusion.TxBranch = bytes.Clone(p.Inclusion.TxBranch)
			p.Inclusion.TxBranch[40] ^= 0x10
		}, "MerkleMismatch", nil},
		{"wrong coinbase preimage", func(p *PegInProof) { p.Inclusion.CoinbasePreimage[0] ^= 1 }, "CoinbaseProofMismatch", nil},
		{"tx truncated", withTx(func(b []byte) []byte { return b[:len(b)-1] }), "MalformedTx", nil},
		{"trailing byte", withTx(func(b []byte) []byte { return append(b, 0) }), "MalformedTx", nil},
		{"witness serialization", withTx(func([]byte) []byte { return witnessTx.Bytes() }), "MalformedTx",
			map[string]any{"offset": big.NewInt(4)}},
		{"64-byte tx", withTx(func(b []byte) []byte { return b[:64] }), "Tx64Bytes", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			p := *d.PegInProof
			c.mutate(&p)
			re := h.refuse(relayer, p.Input(), c.want)
			for name, want := range c.args {
				if got := arg(t, re, name); !equalArg(got, want) {
					t.Errorf("%s: %s = %v, want %v", c.want, name, got, want)
				}
			}
			// The Go reference, for the rules it has: the same verdict.
			if ref, ok := referenceErr[c.want]; ok {
				err := h.reference(&p)
				if !errors.Is(err, ref) {
					t.Errorf("Go reference: %v, want %v", err, ref)
				}
				var te *btcspv.TxError
				if errors.As(err, &te) && !equalArg(arg(t, re, "offset"), big.NewInt(int64(te.Offset))) {
					t.Errorf("MalformedTx offset %v, Go reference %d", arg(t, re, "offset"), te.Offset)
				}
			}
		})
	}
	h.t = t
	// None of it touched the good deposit, which still registers.
	if s := h.deposit0(txid, 0).Status; s != StatusNone {
		t.Fatalf("deposit status %v after refusals", s)
	}
	h.mustRegister(d.PegInProof, StatusCredited)
}

func equalArg(got, want any) bool {
	if g, ok := got.(*big.Int); ok {
		w, ok := want.(*big.Int)
		return ok && g.Cmp(w) == 0
	}
	return got == want
}

// TestPegInConfirmations: a deposit at 1 confirmation is refused with
// InsufficientConfirmations(1, 3) and credited two blocks later: peg-in
// latency on regtest is 3 Bitcoin blocks.
func TestPegInConfirmations(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	d := h.deposit(alice, 1e8, 1)
	re := h.refuse(relayer, d.Input(), "InsufficientConfirmations")
	if arg(t, re, "have") != uint32(1) || arg(t, re, "need") != uint32(3) {
		t.Fatalf("%v", re)
	}
	if !errors.Is(h.reference(d.PegInProof), btcspv.ErrInsufficientConfirmations) {
		t.Error("the Go reference accepts 1 confirmation")
	}
	h.extend(1)
	h.refuse(relayer, d.Input(), "InsufficientConfirmations")
	h.extend(1)
	h.mustRegister(d.PegInProof, StatusCredited)
	t.Logf("peg-in latency: %d Bitcoin blocks (deposit block included)", h.height-d.height+1)
}

// TestPegInAfterReorg: a deposit in a block that BtcRelay holds on a side
// branch (equal work: the first seen stays best) is BlockNotInBestChain;
// once the branch becomes best by a reorg the same proof credits.
func TestPegInAfterReorg(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	h.extend(2)
	fork, forkHeight := h.tip, h.height
	h.extend(3) // the best branch: heights forkHeight+1 … +3

	tx := h.payTx(h.depositOut(alice, 1e8), wire.NewTxOut(changeSat, h.p2pkh()))
	side := h.mine(fork, forkHeight, tx)
	s1 := h.mine(&side.Header, forkHeight+1)
	s2 := h.mine(&s1.Header, forkHeight+2) // side branch: as long as the best, not heavier
	p := h.proof(side, forkHeight+1, tx, 0, alice)
	re := h.refuse(relayer, p.Input(), "BlockNotInBestChain")
	if arg(t, re, "hash") != common.Hash(side.BlockHash()) || arg(t, re, "height") != forkHeight+1 {
		t.Fatalf("%v", re)
	}
	if !errors.Is(h.reference(p), btcspv.ErrBlockNotInBestChain) {
		t.Error("the Go reference sees the side block in the best chain")
	}
	h.mine(&s2.Header, forkHeight+3) // the side branch is now heavier
	if best := h.best(); best.Hash != common.Hash(h.tip.BlockHash()) || best.Height != forkHeight+4 {
		t.Fatalf("BtcRelay did not reorg to the side branch: %+v", best)
	}
	h.mustRegister(p, StatusCredited)
}

// TestPegInBelowMinimum: 5,000 sat (minimum 10,000) is tracked, not
// credited: PegInRejected(reason 1), surplus in the ledger; only the
// recipient may turn it into a refund request, once.
func TestPegInBelowMinimum(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	h.watch(bob)
	d := h.deposit(alice, 5_000, 3)
	aliceBefore, bridgeBefore := h.balance(alice), h.balance(BridgeAddress)
	r := h.mustRegister(d.PegInProof, StatusRejectedBelowMin)
	if h.balance(alice).Cmp(aliceBefore) != 0 || h.balance(BridgeAddress).Cmp(bridgeBefore) != 0 {
		t.Fatal("a rejected deposit moved wei")
	}
	txid := txidOf(d.PegInProof)
	if ev := event(t, r, "PegInRejected"); ev["reason"] != uint8(1) || ev["valueSat"] != uint64(5_000) || ev["recipient"] != alice {
		t.Errorf("PegInRejected %v", ev)
	}
	if a := h.checkSupply(); a.CustodySat != 5_000 || a.SurplusSat != 5_000 || a.PegInTotalSat != 0 {
		t.Errorf("accounting %+v", a)
	}
	h.refuse(relayer, d.Input(), "AlreadyProcessed")

	p2wpkh := append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0xab}, 20)...)
	h.refuse(bob, RefundDepositInput(txid, 0, p2wpkh), "NotRecipient")
	h.refuse(alice, RefundDepositInput(txid, 0, []byte{0x6a, 0x01, 0x00}), "UnsupportedScript")
	h.refuse(alice, RefundDepositInput(txid, 1, p2wpkh), "NotRefundable") // the change output: no deposit

	res := h.send(alice, BridgeAddress, nil, RefundDepositInput(txid, 0, p2wpkh))
	if res.err != nil {
		t.Fatal(res.err)
	}
	id, err := UnpackRefundDeposit(res.ret)
	if err != nil || id != 1 {
		t.Fatalf("request id %d, %v", id, err)
	}
	a := h.checkSupply()
	if a.SurplusSat != 0 || a.PendingOutSat != 5_000 || a.CustodySat != 5_000 {
		t.Errorf("accounting after refund %+v", a)
	}
	if dd := h.deposit0(txid, 0); dd.Status != StatusRefundRequested || dd.RequestID != 1 {
		t.Errorf("deposit %+v", dd)
	}
	req, err := h.view.PegOutRequest(1)
	if err != nil || req.Requester != alice || req.AmountSat != 5_000 || req.State != RequestQueued || !bytes.Equal(req.BtcScript, p2wpkh) {
		t.Errorf("request %+v, %v", req, err)
	}
	if ev := event(t, res, "PegOutRequested"); ev["amountSat"] != uint64(5_000) || ev["requester"] != alice {
		t.Errorf("PegOutRequested %v", ev)
	}
	h.refuse(alice, RefundDepositInput(txid, 0, p2wpkh), "NotRefundable")

	// Below a P2PKH output's dust: no refund can ever pay it.
	dust := h.deposit(alice, 545, 3)
	h.mustRegister(dust.PegInProof, StatusRejectedBelowMin)
	p2pkh := h.p2pkh()
	h.refuse(alice, RefundDepositInput(txidOf(dust.PegInProof), 0, p2pkh), "RefundBelowDust")
	// A credited deposit is no refund's.
	ok := h.deposit(alice, 1e8, 3)
	h.mustRegister(ok.PegInProof, StatusCredited)
	h.refuse(alice, RefundDepositInput(txidOf(ok.PegInProof), 0, p2wpkh), "NotRefundable")
}

// TestPegInCap: with a 1.5 BTC cap on pegged-in BTC, the second 1 BTC
// deposit is tracked as REJECTED_CAP (reason 2), not credited.
func TestPegInCap(t *testing.T) {
	params := regtestPegParams(t)
	params.PegInCapSat = 150_000_000
	h := newPegHarness(t, params)
	h.watch(alice)
	h.mustRegister(h.deposit(alice, 1e8, 3).PegInProof, StatusCredited)
	r := h.mustRegister(h.deposit(alice, 1e8, 3).PegInProof, StatusRejectedCap)
	if ev := event(t, r, "PegInRejected"); ev["reason"] != uint8(2) {
		t.Errorf("PegInRejected %v", ev)
	}
	if a := h.checkSupply(); a.PegInTotalSat != 1e8 || a.SurplusSat != 1e8 || a.CustodySat != 2e8 {
		t.Errorf("accounting %+v", a)
	}
	// Exactly up to the cap is allowed.
	h.mustRegister(h.deposit(alice, 5e7, 3).PegInProof, StatusCredited)
}

// refuserCode is a contract wallet that refuses plain value transfers (it
// reverts on empty calldata) and forwards any call to the Bridge, so that
// it can claim: a real contract recipient, not a stand-in caller.
func refuserCode() []byte {
	code := []byte{
		0x36, 0x60, 0x07, 0x57, // CALLDATASIZE PUSH1 7 JUMPI: calldata → forward
		0x5f, 0x5f, 0xfd, // PUSH0 PUSH0 REVERT: a plain transfer is refused
		0x5b, 0x36, 0x5f, 0x5f, 0x37, // JUMPDEST; CALLDATACOPY(0, 0, size)
		0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x73, // retSize retOff argsSize argsOff value, PUSH20 Bridge
	}
	code = append(code, BridgeAddress.Bytes()...)
	return append(code,
		0x5a, 0xf1, // GAS CALL
		0x3d, 0x5f, 0x5f, 0x3e, // RETURNDATACOPY(0, 0, size)
		0x60, 0x32, 0x57, // PUSH1 0x32 JUMPI: success → return
		0x3d, 0x5f, 0xfd, // REVERT(0, size)
		0x5b, 0x3d, 0x5f, 0xf3, // JUMPDEST RETURN(0, size)
	)
}

// TestPegInHeldCredit: a recipient contract that refuses value gets a held
// credit (status CREDIT_HELD, PegInCreditHeld), the wei staying in the
// Bridge; it claims it to an account of its choice, once.
func TestPegInHeldCredit(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	wallet := common.HexToAddress("0xc0de")
	h.st.SetCode(wallet, refuserCode(), 0)
	h.watch(wallet)
	h.watch(bob)
	if r := h.send(devAcct, wallet, uint256.NewInt(1), nil); r.err == nil {
		t.Fatal("the refuser accepted a plain transfer")
	}
	d := h.deposit(wallet, 3e8, 3)
	bridgeBefore := h.balance(BridgeAddress)
	r := h.mustRegister(d.PegInProof, StatusCreditHeld)
	if h.balance(BridgeAddress).Cmp(bridgeBefore) != 0 || h.balance(wallet).Sign() != 0 {
		t.Fatal("a held credit moved wei")
	}
	if ev := event(t, r, "PegInCreditHeld"); ev["recipient"] != wallet || ev["amountWei"].(*big.Int).Cmp(weiOfSat(3e8)) != 0 {
		t.Errorf("PegInCreditHeld %v", ev)
	}
	event(t, r, "PegIn")
	if held, _ := h.view.HeldCredit(wallet); held.Cmp(weiOfSat(3e8)) != 0 {
		t.Errorf("heldCredit %v", held)
	}
	if a := h.checkSupply(); a.HeldWei.Cmp(weiOfSat(3e8)) != 0 || a.PegInTotalSat != 3e8 {
		t.Errorf("accounting %+v", a)
	}
	h.refuse(bob, ClaimInput(bob), "NothingHeld")
	h.refuse(relayer, ClaimInput(BridgeAddress), "InvalidRecipient")

	// The wallet claims to bob (through its forwarding code).
	if r := h.send(relayer, wallet, nil, ClaimInput(bob)); r.err != nil {
		t.Fatalf("claim: %v", r.err)
	} else if ev := event(t, r, "CreditClaimed"); ev["recipient"] != wallet || ev["to"] != bob {
		t.Errorf("CreditClaimed %v", ev)
	}
	if h.balance(bob).Cmp(weiOfSat(3e8)) != 0 || new(big.Int).Sub(bridgeBefore, h.balance(BridgeAddress)).Cmp(weiOfSat(3e8)) != 0 {
		t.Fatalf("claim paid bob %v", h.balance(bob))
	}
	if a := h.checkSupply(); a.HeldWei.Sign() != 0 {
		t.Errorf("accounting %+v", a)
	}
	if r := h.send(relayer, wallet, nil, ClaimInput(bob)); r.err == nil {
		t.Fatal("second claim paid")
	} else if re := new(RevertError); !errors.As(r.err, &re) || re.Name != "NothingHeld" {
		t.Fatalf("second claim: %v", r.err)
	}
	h.checkSupply()
}

// TestBridgeMatchesPeg: what the Bridge holds and derives (policy, the
// federation, deposit scripts, the change program, policyHash) is what the
// Go side (peg, NewPolicy, PolicyHash) computes, and CheckPolicy passes on
// the on-chain values.
func TestBridgeMatchesPeg(t *testing.T) {
	params := regtestPegParams(t)
	h := newPegHarness(t, params)
	for _, r := range []common.Address{alice, bob, common.HexToAddress("0xffffffffffffffffffffffffffffffffffffffff")} {
		script, program, err := h.view.DepositScript(r, 0)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := peg.DepositScript(harnessChainID, r, h.policy.Federation.WitnessScript)
		if !bytes.Equal(script, want) || program != h.program(r) {
			t.Errorf("depositScript(%v) differs from peg's", r)
		}
	}
	pol, err := h.view.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if want := wantPolicy(t, params); pol != want {
		t.Errorf("policy %+v, want %+v", pol, want)
	}
	fed, err := h.view.Federation(0)
	if err != nil {
		t.Fatal(err)
	}
	goFed := NewFederation(h.policy)
	if fed.ChangeProgram != goFed.ChangeProgram || fed.ScriptLength != goFed.ScriptLength || len(fed.Signers) != 3 ||
		fed.Threshold != 2 || fed.EmergencyThreshold != 1 || fed.CSVDelay != 144 || len(fed.EmergencyPubkeys) != 1 {
		t.Errorf("federation %+v, Go %+v", fed, goFed)
	}
	for i, pk := range goFed.Pubkeys {
		if !bytes.Equal(fed.Pubkeys[i], pk) {
			t.Errorf("member %d key %x, want %x", i, fed.Pubkeys[i], pk)
		}
	}
	onChain, err := h.view.PolicyHash()
	if err != nil {
		t.Fatal(err)
	}
	if goHash, err := PolicyHash(wantPolicy(t, params), goFed); err != nil || goHash != onChain {
		t.Errorf("policyHash %v on chain, %v in Go (%v)", onChain, goHash, err)
	}
	// CheckPolicy on the values the contracts hold.
	p := *h.policy
	p.Federation.FedScriptCodeHash = h.st.GetCodeHash(fed.FedScript)
	p.Federation.ChangeProgram = fed.ChangeProgram[:]
	for i := range p.Federation.Members {
		p.Federation.Members[i].Signer = fed.Signers[i]
	}
	if failed := peg.CheckPolicy(&p).Failed(); len(failed) > 0 {
		t.Errorf("CheckPolicy on chain values fails %v", failed)
	}
	if code := h.st.GetCode(fed.FedScript); code[0] != 0x00 || !bytes.Equal(code[1:], h.policy.Federation.WitnessScript) {
		t.Error("FedScript code is not 0x00 ‖ federation script")
	}
}

func wantPolicy(t *testing.T, params *peg.Params) Policy {
	p, err := NewPolicy(harnessChainID, params)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// PEG.md §13's goal for registerPegIn: a 250-byte transaction at merkle
// depth 12, total transaction gas. The Bridge meets it for a recipient
// that exists; crediting a new account adds EIP-161's 25,000 gas, which
// maxRegisterPegIn bounds (doc.go, Gas, says where the rest goes).
const (
	goalRegisterPegIn = 200_000
	maxRegisterPegIn  = goalRegisterPegIn + 25_000
)

// TestPegInGas measures registerPegIn for a deposit of about 250 bytes in a
// block of 2,049 transactions (merkle depth 12), credited to an account
// that did not exist (the dearest credit: 25,000 gas for the new account),
// and to one that does. A first deposit goes before, so that the ledger's
// slots are not zero, as on a chain that has seen any peg-in.
func TestPegInGas(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	h.watch(alice)
	h.watch(bob)
	first := h.mustRegister(h.deposit(bob, 1e8, 3).PegInProof, StatusCredited)
	t.Logf("registerPegIn, the chain's first peg-in (ledger slots from zero), depth 2: %d gas", first.gas)
	filler := make([]*wire.MsgTx, 2046)
	for i := range filler {
		filler[i] = h.payTx(wire.NewTxOut(1000, h.p2pkh()))
	}
	memo := []byte{0x6a, 0x0b, 'm', 'm', 'g', 'e', 't', 'h', '-', 'p', 'e', 'g', '!'} // OP_RETURN: brings the tx to 256 bytes
	tx := h.payTx(h.depositOut(alice, 1e8), wire.NewTxOut(changeSat, h.p2pkh()), wire.NewTxOut(1000, memo))
	tx2 := h.payTx(h.depositOut(alice, 2e8), wire.NewTxOut(changeSat, h.p2pkh()), wire.NewTxOut(1000, memo))
	height := h.height + 1
	b := h.mine(h.tip, h.height, append(filler, tx, tx2)...)
	h.extend(11)
	p := h.proof(b, height, tx, 0, alice)
	if depth := len(p.Inclusion.TxBranch) / 32; depth != 12 {
		t.Fatalf("depth %d", depth)
	}
	r := h.mustRegister(p, StatusCredited)
	t.Logf("registerPegIn, %d-byte tx, merkle depth 12, 12 confirmations, new recipient: %d gas (goal <= %d)", len(p.BtcTx), r.gas, goalRegisterPegIn)
	if r.gas > maxRegisterPegIn {
		t.Errorf("registerPegIn to a new account costs %d gas, bound %d", r.gas, maxRegisterPegIn)
	}
	// The same block's next deposit, to alice who now exists.
	p = h.proof(b, height, tx2, 0, alice)
	r = h.mustRegister(p, StatusCredited)
	t.Logf("registerPegIn, %d-byte tx, merkle depth 12, existing recipient: %d gas (goal <= %d)", len(p.BtcTx), r.gas, goalRegisterPegIn)
	if r.gas > goalRegisterPegIn {
		t.Errorf("registerPegIn costs %d gas, goal %d", r.gas, goalRegisterPegIn)
	}
}

// FuzzParseTxDifferential feeds the same bytes to btcspv.ParseTx and to the
// Bridge's parser (through registerPegIn, whose parsing comes before any
// check that could fail on a garbage proof): both accept, or both refuse
// with the same error and MalformedTx offset.
func FuzzParseTxDifferential(f *testing.F) {
	h := newPegHarness(f, regtestPegParams(f))
	d := h.deposit(alice, 1e8, 1)
	f.Add(d.BtcTx)
	f.Add(d.BtcTx[:len(d.BtcTx)-3])
	f.Add(append(bytes.Clone(d.BtcTx), 1))
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Add([]byte{1, 0, 0, 0, 0xfd, 0x01, 0x00})
	f.Add([]byte{1, 0, 0, 0, 0xfe, 0xff, 0xff, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0x01})
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > btcspv.MaxTxSize+1 {
			return
		}
		h.t = t
		p := *d.PegInProof
		p.BtcTx = raw
		p.Vout = 0
		r := h.send(relayer, BridgeAddress, nil, p.Input())
		var re *RevertError
		if !errors.As(r.err, &re) {
			t.Fatalf("registerPegIn on fuzz bytes: %v", r.err)
		}
		_, goErr := btcspv.ParseTx(raw)
		switch re.Name {
		case "MalformedTx":
			var te *btcspv.TxError
			if !errors.As(goErr, &te) || !equalArg(arg(t, re, "offset"), big.NewInt(int64(te.Offset))) {
				t.Fatalf("contract MalformedTx(%v), Go %v", arg(t, re, "offset"), goErr)
			}
		case "Tx64Bytes":
			if !errors.Is(goErr, btcspv.ErrTx64Bytes) {
				t.Fatalf("contract Tx64Bytes, Go %v", goErr)
			}
		default: // parsed: a later check refused it
			if goErr != nil {
				t.Fatalf("contract parsed (then %v), Go %v", re, goErr)
			}
		}
	})
}

// TestNewPegInProof: the builder sends the non-witness bytes of the
// transaction and the inclusion of its txid, and refuses what registerPegIn
// would refuse anyway (an output it does not have, the coinbase).
func TestNewPegInProof(t *testing.T) {
	h := newPegHarness(t, regtestPegParams(t))
	d := h.deposit(alice, 1e8, 1)
	var raw bytes.Buffer
	_ = d.tx.SerializeNoWitness(&raw)
	if !bytes.Equal(d.BtcTx, raw.Bytes()) || chainhash.DoubleHashH(d.BtcTx) != d.tx.TxHash() || d.Inclusion.TxIndex != 2 || d.Inclusion.Height != d.height {
		t.Fatalf("proof %+v", d.PegInProof)
	}
	if _, err := NewPegInProof(d.block, d.height, d.tx, 2, alice); err == nil {
		t.Error("vout beyond the outputs accepted")
	}
	if _, err := NewPegInProof(d.block, d.height, d.block.Transactions[0], 0, alice); !errors.Is(err, btcspv.ErrBadTxIndex) {
		t.Errorf("coinbase: %v", err)
	}
}
