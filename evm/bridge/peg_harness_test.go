package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/btcspv"
	"github.com/mmgeth/mmgeth/peg"
)

// pegHarness is a regtest peg: BtcRelay from the regtest genesis, the
// Bridge and its FedScript from DeployPeg with PEG.md §4.5's regtest column
// (the dev federation, 3 confirmations, 10,000 sat minimum) and a dev
// allocation, so that unbackedGenesisWei is not zero. Bitcoin blocks are
// real blocks of real transactions, ground to regtest's target and relayed
// both to BtcRelay and to btcspv.Chain, the Go reference.
type pegHarness struct {
	*harness
	params  *peg.Params
	policy  *peg.Policy
	ref     *btcspv.Chain
	tip     *wire.BlockHeader
	height  uint32
	seq     uint32            // makes coinbases and spent outpoints unique
	wallet  *btcec.PrivateKey // signs the deposits' inputs
	watched map[common.Address]bool
	supply  *big.Int // the sum of the watched balances at genesis
}

var (
	relayer = common.HexToAddress("0x5e1a7e5")
	devAcct = common.HexToAddress("0xde7")
	// devAlloc is what devAcct got at genesis, outside the Bridge.
	devAlloc = new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
)

// regtestPegParams is PEG.md §4.5's regtest column.
func regtestPegParams(t testing.TB) *peg.Params {
	t.Helper()
	fed, _, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	return &peg.Params{
		Network:             "regtest",
		Federation:          *fed,
		RefreshAgeBlocks:    72,
		PegInConfirmations:  3,
		MinPegInSat:         10_000,
		MinPegOutSat:        10_000,
		BatchIntervalBlocks: 10,
		MaxInputs:           50,
		MaxOutputs:          50,
		FeeRate:             peg.FeeRateBounds{Min: 1, Max: 1000, Current: 2},
		PegOutConfirmations: 3,
		RBFAfterBtcBlocks:   3,
		Finality:            peg.Finality{Mode: "bitcoin", K: 2},
		MaxForkDepth:        100,
		MaxHeadersPerCall:   200,
		Checkpoint:          peg.Checkpoint{Height: 0, Hash: chaincfg.RegressionNetParams.GenesisHash.String()},
	}
}

func newPegHarness(t testing.TB, params *peg.Params) *pegHarness {
	t.Helper()
	net := &chaincfg.RegressionNetParams
	alloc, pol, err := DeployPeg(harnessChainID, params, devAlloc)
	if err != nil {
		t.Fatalf("DeployPeg: %v", err)
	}
	relay, err := DeployBtcRelay(NewRelayParams(net, params.MaxForkDepth, uint16(params.MaxHeadersPerCall)), GenesisCheckpoint(net))
	if err != nil {
		t.Fatal(err)
	}
	alloc[BtcRelayAddress] = relay
	alloc[devAcct] = types.Account{Balance: devAlloc}
	ref, err := btcspv.NewChain(btcspv.NewParams(net, params.MaxForkDepth), btcspv.GenesisCheckpoint(net))
	if err != nil {
		t.Fatal(err)
	}
	wallet, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	tip := net.GenesisBlock.Header
	h := &pegHarness{
		harness: newHarnessAlloc(t, alloc),
		params:  params, policy: pol, ref: ref, tip: &tip, wallet: wallet,
		watched: map[common.Address]bool{},
	}
	// Blocks are 600 s apart; a day of them stays within TimeTooNew.
	h.now = uint64(tip.Timestamp.Unix()) + 86_400
	for a := range alloc {
		h.watch(a)
	}
	h.watch(relayer)
	h.watch(common.Address{}) // the coinbase: fees would land there
	h.supply = h.sumBalances()
	return h
}

// watch adds an account to the supply check.
func (h *pegHarness) watch(a common.Address) { h.watched[a] = true }

func (h *pegHarness) balance(a common.Address) *big.Int {
	return h.st.GetBalance(a).ToBig()
}

func (h *pegHarness) sumBalances() *big.Int {
	sum := new(big.Int)
	for a := range h.watched {
		sum.Add(sum, h.balance(a))
	}
	return sum
}

func (h *pegHarness) balances() map[common.Address]string {
	m := map[common.Address]string{}
	for a := range h.watched {
		m[a] = h.balance(a).String()
	}
	return m
}

// checkSupply runs after every peg operation: no wei appeared or vanished
// among the watched accounts (every account a peg operation can touch),
// and the Bridge's accounting() satisfies PEG.md §8's invariant as an
// equality, recomputed here from the balance rather than trusted.
func (h *pegHarness) checkSupply() Accounting {
	h.t.Helper()
	if sum := h.sumBalances(); sum.Cmp(h.supply) != 0 {
		h.t.Fatalf("balances sum to %v, genesis %v", sum, h.supply)
	}
	a, err := h.view.Accounting()
	if err != nil {
		h.t.Fatal(err)
	}
	if !a.InvariantHolds || a.ExcessWei.Sign() != 0 {
		h.t.Fatalf("accounting invariant: holds %v, excess %v (%+v)", a.InvariantHolds, a.ExcessWei, a)
	}
	if a.BalanceWei.Cmp(h.balance(BridgeAddress)) != 0 || a.UnbackedGenesisWei.Cmp(devAlloc) != 0 {
		h.t.Fatalf("accounting reads balance %v, unbacked %v", a.BalanceWei, a.UnbackedGenesisWei)
	}
	total := new(big.Int).Mul(big.NewInt(TotalSupplyBTC), big.NewInt(1e18))
	rhs := new(big.Int).Sub(total, h.balance(BridgeAddress))
	rhs.Add(rhs, a.HeldWei).Sub(rhs, devAlloc)
	// In big integers: faults can exceed what is owed (uint64 would wrap).
	sat := new(big.Int).SetUint64(a.PendingOutSat)
	sat.Add(sat, new(big.Int).SetUint64(a.SurplusSat))
	sat.Sub(sat, new(big.Int).SetUint64(a.FaultSat))
	sat.Sub(sat, new(big.Int).SetUint64(a.FeeDeficitSat))
	rhs.Add(rhs, sat.Mul(sat, SatToWei))
	lhs := new(big.Int).Mul(new(big.Int).SetUint64(a.CustodySat), SatToWei)
	if lhs.Cmp(rhs) != 0 {
		h.t.Fatalf("custody %v wei, circulating and owed %v wei", lhs, rhs)
	}
	return a
}

// ---------------------------------------------------------------- Bitcoin

// mine builds a block of txs on parent (a coinbase first), grinds it and
// relays its header to BtcRelay and to the reference chain.
func (h *pegHarness) mine(parent *wire.BlockHeader, parentHeight uint32, txs ...*wire.MsgTx) *wire.MsgBlock {
	h.t.Helper()
	h.seq++
	coinbase := wire.NewMsgTx(1)
	sig := binary.LittleEndian.AppendUint32([]byte{0x04}, h.seq) // unique, so every coinbase txid is
	coinbase.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), sig, nil))
	coinbase.AddTxOut(wire.NewTxOut(50e8, h.p2pkh()))
	b := &wire.MsgBlock{Transactions: append([]*wire.MsgTx{coinbase}, txs...)}
	utxs := make([]*btcutil.Tx, len(b.Transactions))
	for i, tx := range b.Transactions {
		utxs[i] = btcutil.NewTx(tx)
	}
	b.Header = wire.BlockHeader{
		Version:    4,
		PrevBlock:  parent.BlockHash(),
		MerkleRoot: blockchain.CalcMerkleRoot(utxs, false),
		Timestamp:  parent.Timestamp.Add(600e9),
		Bits:       chaincfg.RegressionNetParams.PowLimitBits,
	}
	grind(&b.Header)
	raw := headerBytes(&b.Header)
	h.submit(raw)
	if _, err := h.ref.ReceiveHeaders(raw, uint32(h.now)); err != nil {
		h.t.Fatalf("reference chain: %v", err)
	}
	if parentHeight+1 > h.height {
		h.tip, h.height = &b.Header, parentHeight+1
	}
	return b
}

// extend mines n empty blocks on the tip.
func (h *pegHarness) extend(n int) {
	for range n {
		h.mine(h.tip, h.height)
	}
}

func (h *pegHarness) p2pkh() []byte {
	a, err := address.NewAddressPubKeyHash(address.Hash160(h.wallet.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := txscript.PayToAddrScript(a)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// depositOut pays sat to recipient's deposit address as a wallet would:
// the bech32 string from peg.DepositAddress, decoded and turned into an
// output script by btcd.
func (h *pegHarness) depositOut(recipient common.Address, sat int64) *wire.TxOut {
	h.t.Helper()
	net := &chaincfg.RegressionNetParams
	addr, _, err := peg.DepositAddress(net, harnessChainID, recipient, h.policy.Federation.WitnessScript)
	if err != nil {
		h.t.Fatal(err)
	}
	a, err := address.DecodeAddress(addr, net)
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := txscript.PayToAddrScript(a)
	if err != nil {
		h.t.Fatal(err)
	}
	return wire.NewTxOut(sat, s)
}

// payTx spends a (unique, made-up) P2PKH coin of the wallet to outs, with
// a real signature: about 235 bytes for a deposit and a change output.
func (h *pegHarness) payTx(outs ...*wire.TxOut) *wire.MsgTx {
	h.t.Helper()
	h.seq++
	tx := wire.NewMsgTx(2)
	var prev chainhash.Hash
	binary.LittleEndian.PutUint32(prev[:], h.seq)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&prev, 0), nil, nil))
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	sig, err := txscript.SignatureScript(tx, 0, h.p2pkh(), txscript.SigHashAll, h.wallet, true)
	if err != nil {
		h.t.Fatal(err)
	}
	tx.TxIn[0].SignatureScript = sig
	return tx
}

// changeSat is the deposits' change: distinct from every deposit value, so
// that a test can find a deposit's value bytes in the transaction.
const changeSat = 12_345_678

// dep is a deposit made by pegHarness.deposit: tx pays the deposit at
// output 0 and change at output 1; other, an ordinary payment, is in the
// same block, before it, and another payment after it, so that tx is not
// the last leaf (whose index + 1 would prove it again, through Bitcoin's
// duplicated last node).
type dep struct {
	*PegInProof
	block  *wire.MsgBlock
	height uint32
	tx     *wire.MsgTx
	other  *wire.MsgTx
}

// deposit pays sat to recipient in a new block on the tip, then buries it
// under confs-1 blocks.
func (h *pegHarness) deposit(recipient common.Address, sat int64, confs int) *dep {
	h.t.Helper()
	tx := h.payTx(h.depositOut(recipient, sat), wire.NewTxOut(changeSat, h.p2pkh()))
	other := h.payTx(wire.NewTxOut(5e8, h.p2pkh()))
	height := h.height + 1
	b := h.mine(h.tip, h.height, other, tx, h.payTx(wire.NewTxOut(6e8, h.p2pkh())))
	h.extend(confs - 1)
	return &dep{PegInProof: h.proof(b, height, tx, 0, recipient), block: b, height: height, tx: tx, other: other}
}

func (h *pegHarness) proof(b *wire.MsgBlock, height uint32, tx *wire.MsgTx, vout uint32, recipient common.Address) *PegInProof {
	h.t.Helper()
	p, err := NewPegInProof(b, height, tx, vout, recipient)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// ---------------------------------------------------------------- EVM

func (h *pegHarness) register(p *PegInProof) result {
	h.t.Helper()
	return h.send(relayer, BridgeAddress, nil, p.Input())
}

// mustRegister registers p and requires status.
func (h *pegHarness) mustRegister(p *PegInProof, want DepositStatus) result {
	h.t.Helper()
	r := h.register(p)
	if r.err != nil {
		h.t.Fatalf("registerPegIn: %v", r.err)
	}
	got, err := UnpackRegisterPegIn(r.ret)
	if err != nil || got != want {
		h.t.Fatalf("registerPegIn returned %v (%v), want %v", got, err, want)
	}
	h.checkSupply()
	return r
}

// refuse sends data from `from` to the Bridge and requires the named
// custom error, with no balance and no accounting moved.
func (h *pegHarness) refuse(from common.Address, data []byte, want string) *RevertError {
	h.t.Helper()
	return h.refuseValue(from, nil, data, want)
}

// refuseValue is refuse with value attached (nil: none).
func (h *pegHarness) refuseValue(from common.Address, value *uint256.Int, data []byte, want string) *RevertError {
	h.t.Helper()
	before, acct := h.balances(), h.checkSupply()
	r := h.send(from, BridgeAddress, value, data)
	var re *RevertError
	if !errors.As(r.err, &re) || re.Name != want {
		h.t.Fatalf("got %v, want %s", r.err, want)
	}
	after := h.balances()
	for a, b := range before {
		if after[a] != b {
			h.t.Fatalf("%s: balance of %v moved from %s to %s", want, a, b, after[a])
		}
	}
	if now := h.checkSupply(); !accountingEqual(now, acct) {
		h.t.Fatalf("%s: accounting moved: %+v → %+v", want, acct, now)
	}
	return re
}

// accountingEqual compares every field of two reads of the accounting.
func accountingEqual(a, b Accounting) bool {
	return a.CustodySat == b.CustodySat && a.PendingOutSat == b.PendingOutSat && a.SurplusSat == b.SurplusSat &&
		a.PegInTotalSat == b.PegInTotalSat && a.PegOutTotalSat == b.PegOutTotalSat && a.FaultSat == b.FaultSat &&
		a.FeeDeficitSat == b.FeeDeficitSat && a.InvariantHolds == b.InvariantHolds &&
		a.HeldWei.Cmp(b.HeldWei) == 0 && a.UnbackedGenesisWei.Cmp(b.UnbackedGenesisWei) == 0 &&
		a.BalanceWei.Cmp(b.BalanceWei) == 0 && a.BackedWei.Cmp(b.BackedWei) == 0 && a.ExcessWei.Cmp(b.ExcessWei) == 0
}

func (h *pegHarness) deposit0(txid common.Hash, vout uint32) Deposit {
	h.t.Helper()
	d, err := h.view.GetDeposit(txid, vout)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// txidOf is the txid the Bridge keys a proof's deposit by.
func txidOf(p *PegInProof) common.Hash {
	return common.Hash(chainhash.DoubleHashH(p.BtcTx))
}

// event returns the one log of the named Bridge event, decoded.
func event(t *testing.T, r result, name string) map[string]any {
	t.Helper()
	ev := BridgeABI.Events[name]
	for _, l := range r.logs {
		if l.Address != BridgeAddress || len(l.Topics) == 0 || l.Topics[0] != ev.ID {
			continue
		}
		m := map[string]any{}
		if err := ev.Inputs.UnpackIntoMap(m, l.Data); err != nil {
			t.Fatal(err)
		}
		var indexed []abiArg
		for _, in := range ev.Inputs {
			if in.Indexed {
				indexed = append(indexed, abiArg{in.Name, in.Type.String()})
			}
		}
		for i, in := range indexed {
			if strings.HasPrefix(in.typ, "address") {
				m[in.name] = common.BytesToAddress(l.Topics[1+i][:])
			} else {
				m[in.name] = l.Topics[1+i]
			}
		}
		return m
	}
	t.Fatalf("no %s event in %d logs", name, len(r.logs))
	return nil
}

type abiArg struct{ name, typ string }
