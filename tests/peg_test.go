package tests

// Peg-in end to end (issue 11): btcd in regtest, mmgeth --regtest --mine
// --peg.watch --btc.rpc, mmminer and mmfed relay --watch.node, each its own
// process; the test pays deposit addresses from btcd's mined coins.
//
//	go test ./tests/ -run TestBtcdPegIn -v

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	bin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/btcwallet"
	"github.com/mmgeth/mmgeth/rpc"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// devKey1 is the second account of the public dev mnemonic: it pays for
// the test's own transactions, devKey for the relayer's.
const devKey1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

// pegE2E is the running system and what the test keeps of it.
type pegE2E struct {
	*relayChains
	harness *relayHarness
	url     string
	rc      *gethrpc.Client
	fed     *btcdProcess
	wallet  *btcwallet.Wallet
	chainID *big.Int
	payer   *ecdsa.PrivateKey // devKey1
	fedDirs map[int]string    // federators' datadirs, by member
	// accounts: every account that ever held value (genesis alloc, and
	// each sender, recipient and coinbase of every block read so far).
	accounts map[common.Address]bool
	read     uint64 // sidechain blocks read into accounts: 0..read-1
}

// TestBtcdPegIn is issue 11's must-show against a real Bitcoin node: 1.0
// BTC paid from btcd's mined coins to mm_getDepositAddress(R) raises R's
// balance by exactly 10^18 wei and lowers the Bridge's by as much after 3
// confirmations, relayed by mmfed; mm_getPegInStatus walks unconfirmed →
// confirming → credited; PegIn is emitted; the sum of all balances stays 21M
// BTC and mm_getPegAudit's invariant holds after every operation. The
// bad inputs that need a real network each return their named error
// through eth_call and through a mined transaction and change no balance:
// insufficient confirmations, replay, below minimum (then refunded by R,
// NotRecipient for anyone else), a block off the best chain (then credited
// after the reorg that makes it best). The other rows of PEG.md §12 are
// evm/bridge's TestPegIn* on the same bytecode.
func TestBtcdPegIn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs btcd, mmgeth, mmminer and mmfed")
	}
	h := startPegE2E(t)
	ctx := context.Background()

	// The policy: every check passes, and R's deposit address is derived
	// again from its JSON with btcd's libraries alone.
	R, R2 := newKey(t), newKey(t)
	rAddr, r2Addr := crypto.PubkeyToAddress(R.PublicKey), crypto.PubkeyToAddress(R2.PublicKey)
	var raw json.RawMessage
	h.call(&raw, "mm_getPegPolicy")
	pol := decodePolicyJSON(t, raw)
	if len(pol.Checks) != 8 || slices.Contains(slices.Collect(maps.Values(pol.Checks)), false) {
		t.Fatalf("mm_getPegPolicy checks %v", pol.Checks)
	}
	var dep rpc.DepositAddress
	h.call(&dep, "mm_getDepositAddress", rAddr)
	if got := pol.depositAddress(t, rAddr); got != dep.Address || !dep.Watched {
		t.Fatalf("deposit address %s (watched %v), re-derived from the policy JSON %s", dep.Address, dep.Watched, got)
	}
	var verdict rpc.DepositVerdict
	if h.call(&verdict, "mm_verifyDepositAddress", dep.Address, rAddr); !verdict.Valid {
		t.Fatalf("mm_verifyDepositAddress: %+v", verdict)
	}
	h.checkSupplyAndAudit("start")

	// 1.0 BTC to R's address.
	before := h.balances(rAddr, bridge.BridgeAddress)
	tx := h.pay(dep.ScriptPubKey, 100_000_000)
	txid, err := h.btc.SendRawTransaction(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	walk := []string{h.status(txid, 0).Status}
	if walk[0] != rpc.PegInUnconfirmed {
		t.Fatalf("status after broadcast: %s", walk[0])
	}
	depositHeight := h.generate(1)
	st := h.status(txid, 0)
	if st.Status != rpc.PegInConfirming || st.BtcConfirmations != 1 || st.LightClientConfirmations != 1 || st.Required != 3 || *st.Recipient != rAddr {
		t.Fatalf("status at 1 confirmation: %+v", st)
	}
	walk = append(walk, st.Status)
	var proof rpc.PegInProof
	h.call(&proof, "mm_getPegInProof", txid.String(), 0, rAddr)
	h.expectRevert("1 confirmation", proof.Calldata, "InsufficientConfirmations(have=1, need=3)", rAddr)

	h.generate(2)
	credit := h.waitStatus(txid, 0, rpc.PegInCredited, &walk)
	// "ready" (BtcRelay has the confirmations, registerPegIn not yet
	// mined) shows when a poll falls between the two.
	seen := slices.Compact(walk)
	t.Logf("mm_getPegInStatus walked %v", seen)
	if walked := slices.DeleteFunc(slices.Clone(seen), func(s string) bool { return s == rpc.PegInReady }); !slices.Equal(walked,
		[]string{rpc.PegInUnconfirmed, rpc.PegInConfirming, rpc.PegInCredited}) {
		t.Errorf("mm_getPegInStatus walked %v", seen)
	}
	after := h.balances(rAddr, bridge.BridgeAddress)
	oneBTC := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	if d := new(big.Int).Sub(after[0], before[0]); d.Cmp(oneBTC) != 0 {
		t.Errorf("R's balance rose by %v wei, want 10^18", d)
	}
	if d := new(big.Int).Sub(before[1], after[1]); d.Cmp(oneBTC) != 0 {
		t.Errorf("the Bridge's balance fell by %v wei, want 10^18", d)
	}
	pegIn := h.pegInLog(txid, "PegIn")
	vals, err := bridge.BridgeABI.Events["PegIn"].Inputs.NonIndexed().Unpack(pegIn.Data)
	if err != nil || common.BytesToAddress(pegIn.Topics[2][:]) != rAddr || vals[1].(uint64) != 100_000_000 || vals[2].(uint32) != uint32(depositHeight) {
		t.Fatalf("PegIn %v: %v (%v)", pegIn.Topics, vals, err)
	}
	receipt, err := h.eth.TransactionReceipt(ctx, pegIn.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	relayAtCredit, err := h.relayView(receipt.BlockNumber).BestChain()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peg-in latency: credited in sidechain block %d with BtcRelay at %d, %d Bitcoin blocks from the deposit's (%d); "+
		"registerPegIn of a %d-byte transaction at merkle depth %d: %d gas (depth 12: evm/bridge TestPegInGas)",
		receipt.BlockNumber, relayAtCredit.Height, relayAtCredit.Height-uint32(depositHeight)+1, depositHeight,
		len(proof.BtcTx), len(proof.Inclusion.TxBranch)/32, receipt.GasUsed)
	if credit.LightClientConfirmations < 3 || relayAtCredit.Height-uint32(depositHeight)+1 != 3 {
		t.Errorf("credited at %d Bitcoin blocks, want 3", relayAtCredit.Height-uint32(depositHeight)+1)
	}
	h.checkSupplyAndAudit("credit")
	h.expectAudited(txid, 0, "credited", 100_000_000)

	// Replay of the same proof.
	h.expectRevert("replay", proof.Calldata, fmt.Sprintf("AlreadyProcessed(txid=%v, vout=0)", common.Hash(txid)), rAddr)

	// Below the minimum: registered (by the relayer), rejected, refundable
	// by R only.
	small := h.pay(dep.ScriptPubKey, 5_000)
	smallID, err := h.btc.SendRawTransaction(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	before = h.balances(rAddr, bridge.BridgeAddress)
	h.generate(3)
	st = h.waitStatus(smallID, 0, rpc.PegInRejected, nil)
	if st.Reason != "below_min" || st.ValueSat != 5_000 {
		t.Fatalf("below-minimum status %+v", st)
	}
	if after := h.balances(rAddr, bridge.BridgeAddress); after[0].Cmp(before[0]) != 0 || after[1].Cmp(before[1]) != 0 {
		t.Errorf("a rejected deposit moved balances: %v → %v", before, after)
	}
	rejected := h.pegInLog(smallID, "PegInRejected")
	if vals, err := bridge.BridgeABI.Events["PegInRejected"].Inputs.NonIndexed().Unpack(rejected.Data); err != nil || vals[2].(uint8) != 1 {
		t.Errorf("PegInRejected %v (%v), want reason 1", vals, err)
	}
	h.checkSupplyAndAudit("rejection")
	refundTo := append([]byte{0x00, 0x14}, make([]byte, 20)...) // P2WPKH
	refund := bridge.RefundDepositInput(common.Hash(smallID), 0, refundTo)
	h.expectRevert("refund by another", refund, "NotRecipient()", rAddr)
	h.sendOK(R, bridge.BridgeAddress, refund)
	if st := h.status(smallID, 0); st.Status != rpc.PegInRefundRequested || st.RequestID != 1 {
		t.Errorf("after the refund: %+v", st)
	}
	h.checkSupplyAndAudit("refund")

	// A deposit in a block off the best chain: a sibling S of btcd's tip,
	// built here, kept by btcd as a side branch and stored by BtcRelay
	// (equal work: the first seen stays best). R2's address comes from
	// the policy alone, so the relayer does not watch it: the test relays
	// it itself, as a user with mm_getPegInProof would.
	h.generate(1) // an empty tip: the reorg below drops nothing registered
	tipHeight := h.chainsInStep()
	parentHash, err := h.btc.BlockHash(ctx, int64(tipHeight)-1)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := h.btc.BlockHeader(ctx, parentHash)
	if err != nil {
		t.Fatal(err)
	}
	r2Script := pol.pkScript(t, r2Addr)
	sideTx := h.pay(r2Script, 10_000_000)
	side, err := btcd.BranchWith(parent, int32(tipHeight)-1, 1, uint64(time.Now().UnixNano()), []*wire.MsgTx{sideTx})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.btc.SubmitBlock(ctx, side[0]); err != nil {
		t.Fatal(err)
	}
	var header bytes.Buffer
	if err := side[0].Header.Serialize(&header); err != nil {
		t.Fatal(err)
	}
	h.sendOK(h.payer, bridge.BtcRelayAddress, bridge.ReceiveHeadersInput(header.Bytes()))
	sideProof, err := bridge.NewPegInProof(side[0], tipHeight, sideTx, 0, r2Addr)
	if err != nil {
		t.Fatal(err)
	}
	sideHash := side[0].BlockHash()
	h.expectRevert("block off the best chain", sideProof.Input(),
		fmt.Sprintf("BlockNotInBestChain(hash=%v, height=%d)", common.Hash(sideHash), tipHeight), r2Addr)
	// S's child makes S's branch the heavier: btcd and BtcRelay reorg.
	child, err := btcd.Branch(&side[0].Header, int32(tipHeight), 1, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.btc.SubmitBlock(ctx, child[0]); err != nil {
		t.Fatal(err)
	}
	if best, _ := h.btc.BestBlockHash(ctx); best != child[0].BlockHash() {
		t.Fatalf("btcd did not reorg to S's branch: tip %v", best)
	}
	h.generate(1) // the third confirmation
	before = h.balances(r2Addr, bridge.BridgeAddress)
	var r2Proof rpc.PegInProof
	h.call(&r2Proof, "mm_getPegInProof", sideTx.TxHash().String(), 0, r2Addr)
	if string(r2Proof.Calldata) != string(sideProof.Input()) || r2Proof.LightClientConfirmations != 3 {
		t.Fatalf("mm_getPegInProof after the reorg: %d confirmations, same calldata %v", r2Proof.LightClientConfirmations,
			string(r2Proof.Calldata) == string(sideProof.Input()))
	}
	h.sendOK(h.payer, bridge.BridgeAddress, r2Proof.Calldata)
	if st := h.status(sideTx.TxHash(), 0); st.Status != rpc.PegInCredited {
		t.Fatalf("after the reorg: %+v", st)
	}
	after = h.balances(r2Addr, bridge.BridgeAddress)
	tenth := new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil)
	if d := new(big.Int).Sub(after[0], before[0]); d.Cmp(tenth) != 0 || new(big.Int).Sub(before[1], after[1]).Cmp(tenth) != 0 {
		t.Errorf("0.1 BTC after the reorg: R2 +%v, Bridge %v → %v", d, before[1], after[1])
	}
	h.reorgLogged(sideHash)
	t.Logf("block off the best chain: the same proof credited 0.1 BTC to R2 once a reorg made %v best", sideHash)
	h.checkSupplyAndAudit("credit after the reorg")
	h.expectAudited(sideTx.TxHash(), 0, "credited", 10_000_000)
}

// startPegE2E starts btcd, mmgeth, mmminer and the relayer, lets the
// relayer catch BtcRelay up, and pauses mmminer's Bitcoin blocks (it goes
// on sealing sidechain blocks), so that Bitcoin blocks come from the test
// alone and confirmations are counted exactly. minerFlags go to mmminer.
func startPegE2E(t *testing.T, minerFlags ...string) *pegE2E {
	ctx := context.Background()
	// The node's own Bitcoin RPC (mm_getPegInProof, statuses) goes to btcd
	// directly, not through the test's proxies.
	r := startRelayHarness(t, func(node *btcd.Node) []string {
		return []string{"--http.api", "eth,net,web3,mm,debug", "--peg.watch",
			"--btc.rpc", node.RPCURL(), "--btc.user", node.User, "--btc.pass", node.Pass}
	}, minerFlags...)
	btc, eth := r.btc, r.eth
	r.fedArgs = append(r.fedArgs, "--watch.node")
	fed := r.startRelayer()
	r.minerProxy.Down()
	time.Sleep(500 * time.Millisecond) // a block mmminer was submitting lands
	r.waitInStep(fed, 90*time.Second, "BtcRelay at btcd's tip")

	wallet, err := btcwallet.New(btc, btcd.MiningKey(), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	chainID, err := eth.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	payer, err := crypto.HexToECDSA(strings.TrimPrefix(devKey1, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := genesis.Load("regtest")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	h := &pegE2E{relayChains: r.relayChains, harness: r, url: r.url, rc: eth.Client(), fed: fed, wallet: wallet, chainID: chainID, payer: payer,
		accounts: make(map[common.Address]bool)}
	for a := range gen.Alloc {
		h.accounts[a] = true
	}
	return h
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (h *pegE2E) call(result any, method string, args ...any) {
	h.t.Helper()
	if err := h.rc.Call(result, method, args...); err != nil {
		h.t.Fatalf("%s: %v", method, err)
	}
}

// pay builds a payment of amountSat to pkScript from btcd's mined coins.
func (h *pegE2E) pay(pkScript []byte, amountSat int64) *wire.MsgTx {
	h.t.Helper()
	tx, err := h.wallet.Pay(context.Background(), pkScript, amountSat, 2_000)
	if err != nil {
		h.t.Fatal(err)
	}
	return tx
}

// generate mines n Bitcoin blocks, waits for BtcRelay to hold them, and
// returns the height of the first.
// pegIn pays each amount to R's deposit address from btcd's coins, buries
// the payments 3 deep and waits until each is credited; it returns R's
// address, its deposit script and the deposits' txids.
func (h *pegE2E) pegIn(R *ecdsa.PrivateKey, sats ...int64) (common.Address, []byte, []chainhash.Hash) {
	h.t.Helper()
	rAddr := crypto.PubkeyToAddress(R.PublicKey)
	var dep rpc.DepositAddress
	h.call(&dep, "mm_getDepositAddress", rAddr)
	var ids []chainhash.Hash
	for _, sat := range sats {
		id, err := h.btc.SendRawTransaction(context.Background(), h.pay(dep.ScriptPubKey, sat))
		if err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	h.generate(3)
	for _, id := range ids {
		h.waitStatus(id, 0, rpc.PegInCredited, nil)
	}
	h.checkSupplyAndAudit("peg-in")
	return rAddr, dep.ScriptPubKey, ids
}

func (h *pegE2E) generate(n int) int64 {
	h.t.Helper()
	if _, err := h.btc.Generate(context.Background(), n); err != nil {
		h.t.Fatal(err)
	}
	return int64(h.chainsInStep()) - int64(n) + 1
}

// chainsInStep waits for BtcRelay at btcd's tip and returns its height.
func (h *pegE2E) chainsInStep() uint32 {
	h.t.Helper()
	return h.waitInStep(h.fed, 60*time.Second, "BtcRelay at btcd's tip").Height
}

func (h *pegE2E) status(txid chainhash.Hash, vout uint32) rpc.PegInStatus {
	h.t.Helper()
	var st rpc.PegInStatus
	h.call(&st, "mm_getPegInStatus", txid.String(), vout)
	return st
}

// waitStatus polls mm_getPegInStatus until it reports want, noting every
// status seen in walk.
func (h *pegE2E) waitStatus(txid chainhash.Hash, vout uint32, want string, walk *[]string) rpc.PegInStatus {
	h.t.Helper()
	var st rpc.PegInStatus
	btcdWaitFor(h.t, h.fed, 60*time.Second, "peg-in status "+want, func() bool {
		st = h.status(txid, vout)
		if walk != nil {
			*walk = append(*walk, st.Status)
		}
		return st.Status == want
	})
	return st
}

// balances reads accounts at the latest block.
func (h *pegE2E) balances(accounts ...common.Address) []*big.Int {
	h.t.Helper()
	out := make([]*big.Int, len(accounts))
	for i, a := range accounts {
		b, err := h.eth.BalanceAt(context.Background(), a, nil)
		if err != nil {
			h.t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// send signs and sends a call with a fixed gas limit (so that a call that
// reverts is mined too) and returns its receipt.
func (h *pegE2E) send(key *ecdsa.PrivateKey, to common.Address, input []byte) *types.Receipt {
	h.t.Helper()
	return h.sendValue(key, to, nil, input)
}

// sendValue is send with value wei (nil: none).
func (h *pegE2E) sendValue(key *ecdsa.PrivateKey, to common.Address, value *big.Int, input []byte) *types.Receipt {
	h.t.Helper()
	ctx := context.Background()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := h.eth.PendingNonceAt(ctx, from)
	if err != nil {
		h.t.Fatal(err)
	}
	head, err := h.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	tip := big.NewInt(1e9)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(h.chainID), &types.DynamicFeeTx{
		ChainID: h.chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip),
		Gas: 1_000_000, To: &to, Value: value, Data: input,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.eth.SendTransaction(ctx, tx); err != nil {
		h.t.Fatal(err)
	}
	var receipt *types.Receipt
	btcdWaitFor(h.t, h.fed, 60*time.Second, "receipt of "+tx.Hash().Hex(), func() bool {
		receipt, err = h.eth.TransactionReceipt(ctx, tx.Hash())
		return err == nil
	})
	return receipt
}

func (h *pegE2E) sendOK(key *ecdsa.PrivateKey, to common.Address, input []byte) *types.Receipt {
	h.t.Helper()
	r := h.send(key, to, input)
	if r.Status != types.ReceiptStatusSuccessful {
		h.t.Fatalf("transaction %v to %v failed: %s", r.TxHash, to, h.traceRevert(r.TxHash))
	}
	return r
}

// traceRevert is the decoded revert of a mined transaction, from
// debug_traceTransaction's call tracer.
func (h *pegE2E) traceRevert(tx common.Hash) string {
	h.t.Helper()
	var trace struct {
		Output hexutil.Bytes `json:"output"`
		Error  string        `json:"error"`
	}
	h.call(&trace, "debug_traceTransaction", tx, map[string]any{"tracer": "callTracer"})
	return bridge.DecodeRevert(trace.Output).Error()
}

// expectRevert sends input to the Bridge (BtcRelay's errors pass through
// it) from the payer, as refuse does.
func (h *pegE2E) expectRevert(what string, input []byte, want string, watched ...common.Address) {
	h.t.Helper()
	h.refuse(what, h.payer, nil, input, want, watched...)
}

func (h *pegE2E) accounting() bridge.Accounting {
	h.t.Helper()
	a, err := h.relayView(nil).Accounting()
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

// checkSupplyAndAudit requires the sum of every balance to be 21M BTC
// and mm_getPegAudit's invariant to hold, at one block.
func (h *pegE2E) checkSupplyAndAudit(what string) {
	h.t.Helper()
	ctx := context.Background()
	head, err := h.eth.BlockNumber(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(h.chainID)
	for ; h.read <= head; h.read++ {
		block, err := h.eth.BlockByNumber(ctx, new(big.Int).SetUint64(h.read))
		if err != nil {
			h.t.Fatal(err)
		}
		h.accounts[block.Coinbase()] = true
		for _, tx := range block.Transactions() {
			from, err := types.Sender(signer, tx)
			if err != nil {
				h.t.Fatal(err)
			}
			h.accounts[from] = true
			if tx.To() != nil {
				h.accounts[*tx.To()] = true
			}
		}
	}
	// Value also reaches accounts no transaction names: the Bridge's
	// credits. Every PegIn recipient is in the logs.
	logs, err := h.eth.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: big.NewInt(0), ToBlock: new(big.Int).SetUint64(head),
		Addresses: []common.Address{bridge.BridgeAddress}, Topics: [][]common.Hash{{bridge.BridgeABI.Events["PegIn"].ID}}})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range logs {
		h.accounts[common.BytesToAddress(l.Topics[2][:])] = true
	}
	sum := new(big.Int)
	at := new(big.Int).SetUint64(head)
	for a := range h.accounts {
		b, err := h.eth.BalanceAt(ctx, a, at)
		if err != nil {
			h.t.Fatal(err)
		}
		sum.Add(sum, b)
	}
	total := new(big.Int).Mul(big.NewInt(bridge.TotalSupplyBTC*1e8), bridge.SatToWei)
	if sum.Cmp(total) != 0 {
		h.t.Errorf("%s: the %d accounts hold %v wei at block %d, want 21M BTC (%v)", what, len(h.accounts), sum, head, total)
	}
	var audit rpc.PegAudit
	h.call(&audit, "mm_getPegAudit")
	if !audit.Invariant || audit.OrphanedCreditsSat != 0 {
		h.t.Errorf("%s: mm_getPegAudit invariant %v, orphaned %d sat: %+v", what, audit.Invariant, audit.OrphanedCreditsSat, audit.Accounting)
	}
}

// expectAudited requires mm_getPegAudit to list the deposit.
func (h *pegE2E) expectAudited(txid chainhash.Hash, vout uint32, status string, valueSat uint64) {
	h.t.Helper()
	var audit rpc.PegAudit
	h.call(&audit, "mm_getPegAudit")
	for _, d := range audit.Deposits {
		if d.Txid == txid.String() && d.Vout == vout {
			if d.Status != status || d.ValueSat != valueSat || d.Orphaned || d.BtcBlock == "" || d.UtxoState != "unspent" {
				h.t.Errorf("audited deposit %+v, want %s of %d sat", d, status, valueSat)
			}
			return
		}
	}
	h.t.Errorf("mm_getPegAudit lists no deposit %v:%d among %d", txid, vout, len(audit.Deposits))
}

// pegInLog is the Bridge's one event named event for txid.
func (h *pegE2E) pegInLog(txid chainhash.Hash, event string) types.Log {
	h.t.Helper()
	logs, err := h.eth.FilterLogs(context.Background(), ethereum.FilterQuery{FromBlock: big.NewInt(0),
		Addresses: []common.Address{bridge.BridgeAddress}, Topics: [][]common.Hash{{bridge.BridgeABI.Events[event].ID}, {common.Hash(txid)}}})
	if err != nil || len(logs) != 1 {
		h.t.Fatalf("%s logs of %v: %d (%v)", event, txid, len(logs), err)
	}
	return logs[0]
}

// reorgLogged requires a BtcReorg event to newBest's child or above: the
// light client followed btcd onto the side branch.
func (h *pegE2E) reorgLogged(side chainhash.Hash) {
	h.t.Helper()
	logs, err := h.eth.FilterLogs(context.Background(), ethereum.FilterQuery{FromBlock: big.NewInt(0),
		Addresses: []common.Address{bridge.BtcRelayAddress}, Topics: [][]common.Hash{{bridge.BtcRelayABI.Events["BtcReorg"].ID}}})
	if err != nil || len(logs) == 0 {
		h.t.Fatalf("no BtcReorg (%v)", err)
	}
	ev, ok := bridge.ParseBtcReorg(&logs[len(logs)-1])
	info, err := h.relayView(nil).HeaderInfo(common.Hash(side))
	if !ok || ev.Depth != 1 || err != nil || !info.InBestChain || ev.ForkHeight != info.Height-1 {
		h.t.Fatalf("BtcReorg %+v; side block %+v (%v)", ev, info, err)
	}
}

// policyJSON is the part of mm_getPegPolicy a wallet needs to derive a
// deposit address, read as plain JSON (no mmgeth type).
type policyJSON struct {
	ChainID        uint32 `json:"chainId"`
	BitcoinNetwork string `json:"bitcoinNetwork"`
	Federation     struct {
		WitnessScript         string `json:"witnessScript"`
		DepositScriptTemplate string `json:"depositScriptTemplate"`
	} `json:"federation"`
	Checks map[string]bool `json:"checks"`
}

func decodePolicyJSON(t *testing.T, raw json.RawMessage) *policyJSON {
	var p policyJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.BitcoinNetwork != "regtest" || p.Federation.DepositScriptTemplate != "1901{chainId:u32be}{recipient:20}75{witnessScript}" {
		t.Fatalf("policy %+v", p)
	}
	return &p
}

// pkScript follows depositScriptTemplate with btcd's libraries and
// crypto/sha256 only: 0x19 0x01 ‖ u32be(chainId) ‖ recipient ‖ 0x75 ‖
// witnessScript, and its P2WSH output script.
func (p *policyJSON) pkScript(t *testing.T, recipient common.Address) []byte {
	fed, err := hex.DecodeString(p.Federation.WitnessScript)
	if err != nil {
		t.Fatal(err)
	}
	script := bin.BigEndian.AppendUint32([]byte{0x19, 0x01}, p.ChainID)
	script = append(append(append(script, recipient[:]...), 0x75), fed...)
	program := sha256.Sum256(script)
	return append([]byte{0x00, 0x20}, program[:]...)
}

func (p *policyJSON) depositAddress(t *testing.T, recipient common.Address) string {
	a, err := address.NewAddressWitnessScriptHash(p.pkScript(t, recipient)[2:], &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress()
}
