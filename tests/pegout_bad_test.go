package tests

// Peg-out faults end to end (issue 12): PEG.md §12's peg-out bad-input
// rows and the unauthorized-spend halt against real btcd, mmgeth, mmminer
// and mmfed, and a federator whose node lies about a batch's bytes.
//
//	go test ./tests/ -run TestBtcdPegOutFaults -v

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/btcspv"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/rpc"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// TestBtcdPegOutFaults: every peg-out row of PEG.md §12 returns its named
// error through eth_call and in a mined transaction (decoded as cast and
// ethers decode it) and changes nothing but the sender's gas: balances,
// the Bridge's ledger, its queue, the sum of all balances. A federator
// (mmfed run, member 1) whose node hands it a batch with other bytes than
// its own rebuild refuses to sign, logs it and counts it. mm_getPegOutTx's
// PSBT, finalized, is the signed transaction btcd mines. Members 0 and 1
// then spend a federation UTXO outside any batch; proven, it halts
// peg-outs; peg-ins go on; every UTXO still reconciles with btcd.
func TestBtcdPegOutFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs btcd, mmgeth, mmminer and mmfed")
	}
	h := startPegE2E(t, "--btc.anchors-only")
	ctx := context.Background()
	h.checkSupplyAndAudit("start")

	// R's two deposits, mined in one Bitcoin block in an order btcd
	// picks: the batch spends the one registered first (FIFO), the theft
	// the other.
	R := newKey(t)
	rAddr, depScript, deposits := h.pegIn(R, 100_000_000, 50_000_000)

	payee := newKey(t)
	payeeScript := append([]byte{0x00, 0x14}, address.Hash160(crypto.CompressPubkey(&payee.PublicKey))...)
	tenth := new(big.Int).Mul(big.NewInt(10_000_000), bridge.SatToWei)
	h.refuse("1 wei over a sat multiple", R, new(big.Int).Add(tenth, big.NewInt(1)), bridge.RequestPegOutInput(payeeScript),
		"NotSatoshiMultiple()")
	h.refuse("below minimum", R, new(big.Int).Mul(big.NewInt(9_999), bridge.SatToWei), bridge.RequestPegOutInput(payeeScript),
		"BelowMinimumPegOut(sat=9999)")
	h.refuse("OP_RETURN script", R, tenth, bridge.RequestPegOutInput([]byte{0x6a, 0x04, 'm', 'm', 'g', 'e'}), "UnsupportedScript()")

	// 0.4 BTC to the payee, batched at once (anyone may build).
	if r := h.sendValue(R, bridge.BridgeAddress, new(big.Int).Mul(big.NewInt(40_000_000), bridge.SatToWei),
		bridge.RequestPegOutInput(payeeScript)); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("requestPegOut: %s", h.traceRevert(r.TxHash))
	}
	built := h.sendOK(h.payer, bridge.BridgeAddress, bridge.BuildPegOutBatchInput())
	h.checkSupplyAndAudit("batch")
	const batch = 1
	var ptx rpc.PegOutTx
	h.call(&ptx, "mm_getPegOutTx", hexutil.Uint64(batch))
	keys := h.memberKeys()
	stranger, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{9}, 32))
	h.refuse("signature by a non-member key", h.payer, nil, bridge.AddSignaturesInput(batch, 0, 0, signRSV(stranger, ptx.Sighashes)),
		"BadSignature(input=0)")
	good := signRSV(keys[0], ptx.Sighashes)
	high := bytes.Clone(good)
	var s btcec.ModNScalar
	s.SetByteSlice(high[32:64])
	s.Negate()
	sb := s.Bytes()
	copy(high[32:64], sb[:])
	high[64] ^= 1 // -s recovers with the other id
	h.refuse("high-S", h.payer, nil, bridge.AddSignaturesInput(batch, 0, 0, high), "HighS(input=0)")
	h.sendOK(h.payer, bridge.BridgeAddress, bridge.AddSignaturesInput(batch, 0, 0, good))
	h.refuse("a second submission", h.payer, nil, bridge.AddSignaturesInput(batch, 0, 0, good), "AlreadySigned(m=0)")

	// Member 1's mmfed, fed a batch whose payee script is not the
	// request's by a lying node, refuses once the batch is final.
	gas := new(big.Int).Mul(big.NewInt(1_000_000), bridge.SatToWei)
	if r := h.sendValue(h.payer, crypto.PubkeyToAddress(keys[1].ToECDSA().PublicKey), gas, nil); r.Status != 1 {
		t.Fatal("gas for member 1: transfer failed")
	}
	h.harness.minerProxy.Up(t)
	h.waitFinalizedNear()
	liar, lies := pegOutTxLiar(t, h.url, payeeScript)
	metricsPort := btcd.FreePort(t)
	fed1 := h.startFederatorAt(1, keys[1], liar, "--metrics", "--metrics.port", strconv.Itoa(metricsPort))
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/debug/metrics/prometheus", metricsPort)
	var refusals float64
	btcdWaitFor(t, fed1, 60*time.Second, "member 1's refusal", func() bool {
		logged, err := os.ReadFile(fed1.logPath)
		if err != nil || !strings.Contains(string(logged), "Refused to sign a batch") {
			return false
		}
		refusals = value(t, scrapeMetrics(t, metricsURL), "mmfed_sign_refused_mismatch")
		return refusals >= 1
	})
	if logged, _ := os.ReadFile(fed1.logPath); !strings.Contains(string(logged), "differs from this federator's own rebuild") {
		t.Errorf("member 1 refused for another reason:\n%s", logged)
	}
	stopProcess(fed1)
	if st := h.pegOutStatus(1); !slices.Equal(st.Signers, []int{0}) || st.State != rpc.PegOutSigning || lies.Load() == 0 {
		t.Fatalf("after member 1's refusal (%d lies told): %+v", lies.Load(), st)
	}
	t.Logf("member 1, told other bytes %d times, refused (mmfed_sign_refused_mismatch %v) and did not sign", lies.Load(), refusals)
	if logged, err := os.ReadFile(filepath.Join(h.fedDir(1), "signed.log")); err != nil || len(logged) != 0 {
		t.Errorf("member 1's signed.log after refusing: %q (%v)", logged, err)
	}

	// Member 1 signs the true batch: the PSBT, finalized with btcd's psbt
	// package (peg.FinalizePSBT fills the witnesses, psbt.Extract), is the
	// signed transaction.
	signed := h.sendOK(h.payer, bridge.BridgeAddress, bridge.AddSignaturesInput(batch, 0, 1, signRSV(keys[1], ptx.Sighashes)))
	h.call(&ptx, "mm_getPegOutTx", hexutil.Uint64(batch))
	packet, err := psbt.NewFromRawBytes(strings.NewReader(ptx.PSBT), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(packet.Inputs) != 1 || len(packet.Inputs[0].PartialSigs) != 2 {
		t.Fatalf("PSBT inputs %+v", packet.Inputs)
	}
	fedn, err := h.relayView(nil).Federation(0)
	if err != nil {
		t.Fatal(err)
	}
	final, err := peg.FinalizePSBT(packet, fedn.Pubkeys, int(fedn.Threshold))
	if err != nil {
		t.Fatal(err)
	}
	var finalRaw bytes.Buffer
	if err := final.Serialize(&finalRaw); err != nil || !bytes.Equal(finalRaw.Bytes(), ptx.SignedTx) || len(ptx.SignedTx) == 0 {
		t.Fatalf("the finalized PSBT is not mm_getPegOutTx's signed transaction (%v)", err)
	}

	// Confirm too early: with mmminer's Bitcoin blocks paused, the test
	// counts confirmations.
	h.harness.minerProxy.Down()
	time.Sleep(500 * time.Millisecond) // a block mmminer was submitting lands
	txid, err := h.btc.SendRawTransaction(ctx, final)
	if err != nil {
		t.Fatalf("btcd refused the finalized PSBT: %v", err)
	}
	h.generate(1)
	h.refuse("confirm too early", h.payer, nil, h.confirmInput(txid, batch), "InsufficientConfirmations(have=1, need=3)")
	h.generate(2)
	confirmed := h.sendOK(h.payer, bridge.BridgeAddress, h.confirmInput(txid, batch))
	if st := h.pegOutStatus(1); st.State != rpc.PegOutConfirmed {
		t.Fatalf("after confirmPegOut: %+v", st)
	}
	h.checkSupplyAndAudit("confirmPegOut")
	h.reconcile()

	// Members 0 and 1 spend the deposit the batch left to themselves outside
	// any batch; anyone proves it; peg-outs halt.
	utxos, err := h.relayView(nil).AllUtxos()
	if err != nil {
		t.Fatal(err)
	}
	var unspent, batched []bridge.UtxoInfo
	for _, u := range utxos {
		if slices.Contains(deposits, chainhash.Hash(u.Txid)) {
			switch {
			case u.State == bridge.UtxoUnspent:
				unspent = append(unspent, u)
			case u.State == bridge.UtxoSpent && u.BatchID == batch:
				batched = append(batched, u)
			}
		}
	}
	if len(unspent) != 1 || len(batched) != 1 {
		t.Fatalf("R's deposits among the Bridge's UTXOs: one spent by batch %d and one unspent wanted: %+v", batch, utxos)
	}
	stolen := unspent[0]
	theft := h.unauthorizedSpend(stolen, keys[0], keys[1], payeeScript)
	theftID, err := h.btc.SendRawTransaction(ctx, theft)
	if err != nil {
		t.Fatalf("btcd refused the 2-of-3 spend: %v", err)
	}
	h.generate(3)
	var raw bytes.Buffer
	if err := theft.SerializeNoWitness(&raw); err != nil {
		t.Fatal(err)
	}
	report := bridge.ReportUnauthorizedSpendInput(raw.Bytes(), h.inclusion(theftID), 0)
	before := h.accounting()
	r := h.sendOK(h.payer, bridge.BridgeAddress, report)
	fault := slices.IndexFunc(r.Logs, func(l *types.Log) bool {
		return l.Topics[0] == bridge.BridgeABI.Events["FederationFault"].ID && l.Topics[1] == common.Hash(theftID)
	})
	after := h.accounting()
	if fault < 0 || after.FaultSat != before.FaultSat+stolen.ValueSat || after.CustodySat != before.CustodySat-stolen.ValueSat {
		t.Fatalf("report: FederationFault at %d; accounting %+v → %+v", fault, before, after)
	}
	if q, err := h.relayView(nil).PegOutQueue(); err != nil || !q.Halted {
		t.Fatalf("not halted: %+v (%v)", q, err)
	}
	t.Logf("gas, one input: buildPegOutBatch %d, addSignatures %d (the second, READY), confirmPegOut %d, reportUnauthorizedSpend %d",
		built.GasUsed, signed.GasUsed, confirmed.GasUsed, r.GasUsed)
	h.checkSupplyAndAudit("reportUnauthorizedSpend")
	h.refuse("request after the halt", R, tenth, bridge.RequestPegOutInput(payeeScript), "PegOutsHalted()")
	h.refuse("batch after the halt", h.payer, nil, bridge.BuildPegOutBatchInput(), "PegOutsHalted()")
	h.refuse("the same report again", h.payer, nil, report,
		fmt.Sprintf("NotFederationUtxo(key=%v)", common.Hash(stolen.Key)))

	// Peg-ins go on: 0.2 BTC to R.
	balance := h.balances(rAddr)[0]
	again, err := h.btc.SendRawTransaction(ctx, h.pay(depScript, 20_000_000))
	if err != nil {
		t.Fatal(err)
	}
	h.generate(3)
	h.waitStatus(again, 0, rpc.PegInCredited, nil)
	if d := new(big.Int).Sub(h.balances(rAddr)[0], balance); d.Cmp(new(big.Int).Mul(big.NewInt(20_000_000), bridge.SatToWei)) != 0 {
		t.Errorf("a peg-in after the halt credited %v wei", d)
	}
	h.checkSupplyAndAudit("peg-in after the halt")

	// The audit lists the stolen UTXO spent, btcd has it spent, custody
	// is what btcd holds.
	var audit rpc.PegAudit
	h.call(&audit, "mm_getPegAudit")
	if j := slices.IndexFunc(audit.Utxos, func(u rpc.AuditUtxo) bool { return u.Txid == chainhash.Hash(stolen.Txid).String() }); j < 0 ||
		audit.Utxos[j].State != "spent" {
		t.Errorf("mm_getPegAudit on the stolen UTXO: %+v", audit.Utxos)
	}
	h.reconcile()
}

// refuse sends input with value wei (nil: none) from key to the Bridge
// through eth_call and in a mined transaction, and requires both to revert
// with want, the custom error as DecodeRevert prints it, and to change
// nothing: the watched accounts' and the Bridge's balances, the Bridge's
// ledger and queue; the sender pays exactly its gas.
func (h *pegE2E) refuse(what string, key *ecdsa.PrivateKey, value *big.Int, input []byte, want string, watched ...common.Address) {
	h.t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	watched = append(watched, bridge.BridgeAddress, from)
	before, ledger, queue := h.balances(watched...), h.accounting(), h.queue()
	call := map[string]any{"from": from, "to": bridge.BridgeAddress, "data": hexutil.Bytes(input)}
	if value != nil {
		call["value"] = (*hexutil.Big)(value)
	}
	var out hexutil.Bytes
	err := h.rc.Call(&out, "eth_call", call, "latest")
	var de gethrpc.DataError
	if !errors.As(err, &de) {
		h.t.Fatalf("%s: eth_call did not revert: %v", what, err)
	}
	data, _ := hexutil.Decode(fmt.Sprint(de.ErrorData()))
	if got := bridge.DecodeRevert(data).Error(); got != want || err.Error() != "execution reverted: "+want {
		h.t.Fatalf("%s: eth_call reverted with %s (message %q), want %s", what, got, err, want)
	}
	r := h.sendValue(key, bridge.BridgeAddress, value, input)
	if r.Status != types.ReceiptStatusFailed {
		h.t.Fatalf("%s: the mined transaction succeeded", what)
	}
	if got := h.traceRevert(r.TxHash); got != want {
		h.t.Fatalf("%s: the mined transaction reverted with %s, want %s", what, got, want)
	}
	after := h.balances(watched...)
	fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	for i, a := range watched {
		if a == from {
			after[i].Add(after[i], fee)
		}
		if before[i].Cmp(after[i]) != 0 {
			h.t.Errorf("%s: balance of %v moved %v → %v (gas %v)", what, a, before[i], after[i], fee)
		}
	}
	if got := h.accounting(); fmt.Sprint(got) != fmt.Sprint(ledger) {
		h.t.Errorf("%s: the ledger moved: %+v → %+v", what, ledger, got)
	}
	if got := h.queue(); got != queue {
		h.t.Errorf("%s: the queue moved: %+v → %+v", what, queue, got)
	}
	h.t.Logf("%s: %s through eth_call and in transaction %v (block %d)", what, want, r.TxHash, r.BlockNumber)
	h.checkSupplyAndAudit(what)
}

func (h *pegE2E) queue() bridge.PegOutQueue {
	h.t.Helper()
	q, err := h.relayView(nil).PegOutQueue()
	if err != nil {
		h.t.Fatal(err)
	}
	return q
}

// memberKeys are the regtest federation's keys in member order.
func (h *pegE2E) memberKeys() []*btcec.PrivateKey {
	h.t.Helper()
	fedn, err := h.relayView(nil).Federation(0)
	if err != nil {
		h.t.Fatal(err)
	}
	_, dev, err := peg.DevFederation()
	if err != nil {
		h.t.Fatal(err)
	}
	keys := make([]*btcec.PrivateKey, len(fedn.Pubkeys))
	for _, k := range dev.Members {
		i := slices.IndexFunc(fedn.Pubkeys, func(p []byte) bool { return bytes.Equal(p, k.PubKey().SerializeCompressed()) })
		if i < 0 {
			h.t.Fatalf("dev member key %x is not in the regtest federation", k.PubKey().SerializeCompressed())
		}
		keys[i] = k
	}
	return keys
}

// signRSV is key's r‖s‖v signature of every sighash, as addSignatures takes them.
func signRSV(key *btcec.PrivateKey, sighashes []common.Hash) []byte {
	var out []byte
	for _, h := range sighashes {
		s := peg.SignRSV(key, h)
		out = append(out, s[:]...)
	}
	return out
}

// startFederatorAt runs mmfed run for member against the node at rpcURL,
// with args added.
func (h *pegE2E) startFederatorAt(member int, key *btcec.PrivateKey, rpcURL string, args ...string) *btcdProcess {
	h.t.Helper()
	dir := h.fedDir(member)
	keyFile := filepath.Join(dir, "member.key")
	if err := os.WriteFile(keyFile, []byte(fmt.Sprintf("%x", key.Serialize())), 0o600); err != nil {
		h.t.Fatal(err)
	}
	argv := append([]string{h.harness.fedArgs[0], "run", "--member", fmt.Sprint(member), "--key", keyFile, "--datadir", dir,
		"--rpc", rpcURL, "--btc.rpc", h.harness.node.RPCURL(), "--btc.user", h.harness.node.User, "--btc.pass", h.harness.node.Pass,
		"--interval", "250ms", "--verbose"}, args...)
	return btcdStart(h.t, fmt.Sprintf("mmfed-member%d", member), argv)
}

func stopProcess(p *btcdProcess) {
	p.cmd.Process.Kill()
	<-p.exited
}

// pegOutTxLiar is a JSON-RPC proxy to target on 127.0.0.1 that answers
// every eth_call of Bridge.pegOutTx with the true answer but one byte of
// payee, where it occurs in the unsigned transaction, flipped: a
// compromised node serving a federator. lies counts the answers changed.
func pegOutTxLiar(t *testing.T, target string, payee []byte) (url string, lies *atomic.Int32) {
	lies = new(atomic.Int32)
	method := bridge.BridgeABI.Methods["pegOutTx"]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := http.Post(target, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var req struct {
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		var call struct {
			Data  hexutil.Bytes `json:"data"`
			Input hexutil.Bytes `json:"input"`
		}
		var res map[string]json.RawMessage
		if json.Unmarshal(body, &req) == nil && req.Method == "eth_call" && len(req.Params) > 0 &&
			json.Unmarshal(req.Params[0], &call) == nil &&
			(bytes.HasPrefix(call.Data, method.ID) || bytes.HasPrefix(call.Input, method.ID)) &&
			json.Unmarshal(answer, &res) == nil && res["result"] != nil {
			var out hexutil.Bytes
			if json.Unmarshal(res["result"], &out) == nil {
				if vals, err := method.Outputs.Unpack(out); err == nil {
					unsigned := vals[0].([]byte)
					if i := bytes.Index(unsigned, payee); i >= 0 {
						unsigned[i+len(payee)-1] ^= 1
						if packed, err := method.Outputs.Pack(unsigned, vals[1], vals[2]); err == nil {
							res["result"], _ = json.Marshal(hexutil.Bytes(packed))
							answer, _ = json.Marshal(res)
							lies.Add(1)
						}
					}
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, lies
}

// unauthorizedSpend is members 0 and 1's (keys a, b) spend of u to pkScript,
// outside any batch, built and checked as a batch is (peg.BuildPegOut,
// btcd's script engine).
func (h *pegE2E) unauthorizedSpend(u bridge.UtxoInfo, a, b *btcec.PrivateKey, pkScript []byte) *wire.MsgTx {
	h.t.Helper()
	view := h.relayView(nil)
	fedn, err := view.Federation(u.Epoch)
	if err != nil {
		h.t.Fatal(err)
	}
	pol, err := view.Policy()
	if err != nil {
		h.t.Fatal(err)
	}
	code, err := h.eth.CodeAt(context.Background(), fedn.FedScript, nil)
	if err != nil || len(code) < 2 {
		h.t.Fatalf("FedScript code: %x (%v)", code, err)
	}
	batch, err := peg.BuildPegOut([]peg.Request{{ID: 1, PkScript: pkScript, AmountSat: int64(u.ValueSat)}},
		[]peg.UTXO{{OutPoint: wire.OutPoint{Hash: chainhash.Hash(u.Txid), Index: u.Vout}, ValueSat: int64(u.ValueSat), Recipient: u.Recipient}},
		&peg.BatchParams{ChainID: pol.ChainID, FedScript: code[1:], Threshold: int(fedn.Threshold), FeeRate: 2, MaxInputs: 1, MaxOutputs: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	hashes, err := batch.Sighashes()
	if err != nil {
		h.t.Fatal(err)
	}
	sighashes := make([]common.Hash, len(hashes))
	for i, s := range hashes {
		sighashes[i] = s
	}
	if err := batch.WitnessFromRSV([][]byte{signRSV(a, sighashes), signRSV(b, sighashes)}, int(fedn.Threshold)); err != nil {
		h.t.Fatal(err)
	}
	if err := batch.VerifySpend(); err != nil {
		h.t.Fatal(err)
	}
	return batch.Tx
}

// inclusion is the SPV proof of txid (its output 0 unspent or in btcd's
// chain) for the Bridge.
func (h *pegE2E) inclusion(txid chainhash.Hash) bridge.BtcInclusion {
	h.t.Helper()
	_, height, block, err := h.btc.TxBlock(context.Background(), txid, 0)
	if err != nil || block == nil {
		h.t.Fatalf("btcd has no block with %v: %v", txid, err)
	}
	incl, err := btcspv.BuildInclusion(block, uint32(height), txid)
	if err != nil {
		h.t.Fatal(err)
	}
	return bridge.InclusionOf(incl)
}

func (h *pegE2E) confirmInput(txid chainhash.Hash, batch uint64) []byte {
	h.t.Helper()
	return bridge.ConfirmPegOutInput(batch, 0, h.inclusion(txid))
}
