package tests

// Peg-out end to end (issue 12): the peg-in harness with mmminer sending
// btcd only anchors (--btc.anchors-only), so that Bitcoin-anchored
// finality moves; two federators (mmfed run, members 0 and 1 of the
// regtest 2-of-3) sign, broadcast and confirm; member 2 never runs. Member
// 1's key is in an mmfed signer in strict mode (it proves each batch from
// btcd before signing): its mmfed run --signer holds a gas key only.
//
//	go test ./tests/ -run TestBtcdPegOut -v

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/rpc"
)

// TestBtcdPegOut is issue 12's must-show: R, credited 1 BTC by a peg-in,
// requests 0.4 BTC to a fresh P2WPKH; mm_getPegOutStatus walks queued →
// batched → awaiting_finality → signing → ready → confirmed; member 0
// refuses to sign before finality, signs, is killed with -9 before any
// broadcast and restarted without signing again; btcd accepts the
// transaction the federators assembled; the payee gets 0.4 BTC less its
// fee share, the fee is feeRate × vsize within a few vbytes of btcd's; and
// every UTXO the Bridge lists reconciles with btcd's UTXO set.
func TestBtcdPegOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs btcd, mmgeth, mmminer and three mmfed")
	}
	h := startPegE2E(t, "--btc.anchors-only")
	ctx := context.Background()
	h.checkSupplyAndAudit("start")

	// R's 1 BTC, as in TestBtcdPegIn (mmminer paused: the test's blocks).
	R := newKey(t)
	rAddr, _, _ := h.pegIn(R, 100_000_000)

	// The federators' keys, in member (script) order, and gas for them.
	fedn, err := h.relayView(nil).Federation(0)
	if err != nil {
		t.Fatal(err)
	}
	_, dev, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	members := make([]string, len(fedn.Pubkeys)) // hex keys by member index
	var payer0 common.Address
	for _, k := range dev.Members {
		i := slices.IndexFunc(fedn.Pubkeys, func(p []byte) bool { return bytes.Equal(p, k.PubKey().SerializeCompressed()) })
		if i < 0 {
			t.Fatalf("dev member key %x is not in the regtest federation", k.PubKey().SerializeCompressed())
		}
		members[i] = hex.EncodeToString(k.Serialize())
		if i == 0 {
			payer0 = crypto.PubkeyToAddress(k.ToECDSA().PublicKey)
		}
	}
	gas1 := newKey(t) // member 1's federator pays with its own key
	for i, payer := range []common.Address{payer0, crypto.PubkeyToAddress(gas1.PublicKey)} {
		gas := big.NewInt(1e16) // 0.01 BTC pays the federator's transactions
		if r := h.sendValue(h.payer, payer, gas, nil); r.Status != 1 {
			t.Fatalf("gas for member %d: transfer failed", i)
		}
	}
	h.checkSupplyAndAudit("federators' gas")

	// mmminer's anchors from here on, about one a sidechain block: a
	// batch's block is anchored one block after it, finalized (K = 2) one
	// more later.
	h.harness.minerProxy.Up(t)
	h.waitFinalizedNear()

	// The request: 0.4 BTC to a fresh P2WPKH.
	payee := newKey(t)
	payeeScript := append([]byte{0x00, 0x14}, address.Hash160(crypto.CompressPubkey(&payee.PublicKey))...)
	amount := new(big.Int).Mul(big.NewInt(40_000_000), bridge.SatToWei)
	before := h.balances(rAddr, bridge.BridgeAddress)
	req := h.sendValue(R, bridge.BridgeAddress, amount, bridge.RequestPegOutInput(payeeScript))
	if req.Status != 1 {
		t.Fatalf("requestPegOut failed: %s", h.traceRevert(req.TxHash))
	}
	after := h.balances(rAddr, bridge.BridgeAddress)
	if d := new(big.Int).Sub(after[1], before[1]); d.Cmp(amount) != 0 {
		t.Errorf("the Bridge's balance rose by %v wei, want %v", d, amount)
	}
	h.checkSupplyAndAudit("requestPegOut")
	startBtc := h.btcHeight()
	reqID := uint64(1)
	walk := []string{h.pegOutStatus(reqID).State}

	// Member 0 builds the batch (anyone may), then waits for finality:
	// its log says so, and it has not signed while the status showed the
	// batch unfinalized.
	fed0 := h.startFederator(0, members[0])
	firstLog := fed0.logPath
	var st rpc.PegOutStatus
	btcdWaitFor(t, fed0, 60*time.Second, "the batch finalized", func() bool {
		st = h.pegOutStatus(reqID)
		walk = append(walk, st.State)
		if (st.State == rpc.PegOutBatched || st.State == rpc.PegOutAwaitingFinality) && len(st.Signers) != 0 {
			t.Fatalf("signed before finality: %+v", st)
		}
		return st.State != rpc.PegOutQueued && st.State != rpc.PegOutBatched && st.State != rpc.PegOutAwaitingFinality
	})
	if st.BatchID != 1 || st.Threshold != 2 || st.Finalized < st.BatchBlock {
		t.Fatalf("finalized batch: %+v", st)
	}
	h.checkSupplyAndAudit("buildPegOutBatch")

	// Member 0 signs; it is killed (-9) before any broadcast (one
	// signature of two: the batch is not ready).
	btcdWaitFor(t, fed0, 90*time.Second, "member 0's signatures", func() bool {
		st = h.pegOutStatus(reqID)
		walk = append(walk, st.State)
		return slices.Equal(st.Signers, []int{0})
	})
	syscall.Kill(-fed0.cmd.Process.Pid, syscall.SIGKILL)
	<-fed0.exited
	if st = h.pegOutStatus(reqID); st.State != rpc.PegOutSigning {
		t.Fatalf("after member 0 signed: %+v", st)
	}
	h.checkSupplyAndAudit("member 0's signatures")
	h.checkFedStatus(st)

	// Member 1 (through its signer) makes it ready; member 0, restarted on
	// its datadir, must not sign again; either broadcasts, and the batch
	// confirms.
	sock, signer1 := h.startSigner(1, members[1])
	fed1 := h.startFederator(1, hex.EncodeToString(crypto.FromECDSA(gas1)), sock)
	btcdWaitFor(t, fed1, 60*time.Second, "ready", func() bool {
		st = h.pegOutStatus(reqID)
		walk = append(walk, st.State)
		return st.State != rpc.PegOutSigning
	})
	readyBtc := h.btcHeight()
	fed0 = h.startFederator(0, members[0])
	btcdWaitFor(t, fed0, 120*time.Second, "confirmed", func() bool {
		st = h.pegOutStatus(reqID)
		walk = append(walk, st.State)
		return st.State == rpc.PegOutConfirmed
	})
	doneBtc := h.btcHeight()
	seen := slices.Compact(walk)
	t.Logf("mm_getPegOutStatus walked %v", seen)
	// The walk goes forward only, through every state; batched and
	// awaiting_finality each last about one sidechain block while anchors
	// come every second, so a poll may see only one of them (the member's
	// log shows it waited for finality either way).
	order := []string{rpc.PegOutQueued, rpc.PegOutBatched, rpc.PegOutAwaitingFinality, rpc.PegOutSigning, rpc.PegOutReady,
		rpc.PegOutConfirmed}
	last := -1
	for _, state := range seen {
		i := slices.Index(order, state)
		if i <= last {
			t.Errorf("mm_getPegOutStatus walked %v: %s out of order (want a walk along %v)", seen, state, order)
		}
		last = i
	}
	for _, must := range []string{rpc.PegOutQueued, rpc.PegOutSigning, rpc.PegOutReady, rpc.PegOutConfirmed} {
		if !slices.Contains(seen, must) {
			t.Errorf("mm_getPegOutStatus walked %v without %s", seen, must)
		}
	}
	if !slices.Contains(seen, rpc.PegOutBatched) && !slices.Contains(seen, rpc.PegOutAwaitingFinality) {
		t.Errorf("mm_getPegOutStatus walked %v with no state before finality", seen)
	}
	if awaited, err := os.ReadFile(firstLog); err != nil || !strings.Contains(string(awaited), "Batch awaits finality") {
		t.Errorf("member 0 never logged waiting for finality (%v)", err)
	}
	if n := h.signatureEvents(1, 0); n != 1 {
		t.Errorf("member 0 sent %d PegOutSignatures for batch 1 across its kill -9, want 1", n)
	}
	logged, err := os.ReadFile(filepath.Join(h.fedDir(0), "signed.log"))
	if err != nil {
		t.Fatal(err)
	}
	var tx rpc.PegOutTx
	h.call(&tx, "mm_getPegOutTx", hexutil.Uint64(1))
	if lines := strings.Count(string(logged), "\n"); lines != len(tx.Sighashes) {
		t.Errorf("member 0's signed.log holds %d lines for %d inputs:\n%s", lines, len(tx.Sighashes), logged)
	}
	if logged, err := os.ReadFile(filepath.Join(h.fedDir(1), "signer", "signed.log")); err != nil ||
		strings.Count(string(logged), "\n") != len(tx.Sighashes) {
		t.Errorf("member 1's signer logged %q (%v) for %d inputs", logged, err, len(tx.Sighashes))
	}
	// Member 1's signer ran in strict mode: it signed only after proving
	// the batch from btcd, and says how long that took.
	signerLog, err := os.ReadFile(signer1.logPath)
	if err != nil {
		t.Fatal(err)
	}
	proven := regexp.MustCompile(`Batch proven from Bitcoin.* batch=1 version=0 .*took=(\S+)`).FindAllSubmatch(signerLog, -1)
	if len(proven) == 0 {
		t.Errorf("member 1's strict signer never proved batch 1:\n%s", signerLog)
	}
	for _, m := range proven {
		t.Logf("strict signer: batch 1 proven from Bitcoin (anchor proof K deep in btcd, %d sighash storage proofs) in %s", len(tx.Sighashes), m[1])
	}
	if _, err := os.Stat(filepath.Join(h.fedDir(1), "signed.log")); err == nil {
		t.Error("member 1's federator, which holds no member key, wrote a signed log")
	}
	if len(tx.Signatures) != 2 || tx.Signatures["0"] == nil || tx.Signatures["1"] == nil || len(tx.SignedTx) == 0 || tx.Txid != st.BtcTxid {
		t.Fatalf("mm_getPegOutTx: signatures %v, signed %d bytes, txid %s (status %s)", tx.Signatures, len(tx.SignedTx), tx.Txid, st.BtcTxid)
	}

	// btcd's view of the transaction: it accepted and mined it (btcd has
	// no transaction index: the block is found through the payee's output).
	txid, err := chainhash.NewHashFromStr(st.BtcTxid)
	if err != nil {
		t.Fatal(err)
	}
	_, _, block, err := h.btc.TxBlock(ctx, *txid, 0)
	if err != nil || block == nil {
		t.Fatalf("btcd has no block with %s: %v", st.BtcTxid, err)
	}
	var mined *wire.MsgTx
	for _, btx := range block.Transactions {
		if btx.TxHash() == *txid {
			mined = btx
		}
	}
	var minedRaw bytes.Buffer
	if mined == nil || mined.Serialize(&minedRaw) != nil || !bytes.Equal(minedRaw.Bytes(), tx.SignedTx) {
		t.Fatalf("btcd's block %s does not hold mm_getPegOutTx's signed bytes of %s", block.BlockHash(), st.BtcTxid)
	}
	btcdVsize := (blockchain.GetTransactionWeight(btcutil.NewTx(mined)) + 3) / 4 // btcd's own weight rule
	payeeOut := mined.TxOut[0].Value
	if !bytes.Equal(mined.TxOut[0].PkScript, payeeScript) || payeeOut != 40_000_000-int64(st.FeeShareSat) {
		t.Errorf("payee output %d sat to %x; want %d to %x", payeeOut, mined.TxOut[0].PkScript, 40_000_000-int64(st.FeeShareSat), payeeScript)
	}
	// The fee is what the inputs hold beyond the outputs.
	var audit rpc.PegAudit
	h.call(&audit, "mm_getPegAudit")
	var inSat, outSat int64
	for _, u := range audit.Utxos {
		if u.BatchID == 1 && u.State == "spent" {
			inSat += int64(u.ValueSat)
		}
	}
	for _, o := range mined.TxOut {
		outSat += o.Value
	}
	contractVsize := int64(st.FeeSat) / int64(st.FeeRate)
	if inSat-outSat != int64(st.FeeSat) || int64(st.FeeSat) != int64(st.FeeRate)*contractVsize ||
		contractVsize < btcdVsize || contractVsize > btcdVsize+3 {
		t.Errorf("fee %d sat (inputs %d − outputs %d = %d) at %d sat/vB: vsize %d, btcd's %d", st.FeeSat, inSat, outSat, inSat-outSat,
			st.FeeRate, contractVsize, btcdVsize)
	}
	t.Logf("peg-out: fee %d sat = %d sat/vB × %d vB (btcd: %d vB); payee %d sat; latency %d Bitcoin blocks from request to "+
		"confirmPegOut (%d from ready), request at Bitcoin %d", st.FeeSat, st.FeeRate, contractVsize, btcdVsize, payeeOut,
		doneBtc-startBtc, doneBtc-readyBtc, startBtc)
	h.checkSupplyAndAudit("confirmPegOut")
	h.reconcile()
}

// waitFinalizedNear waits for mmminer's anchors to finalize blocks within
// 5 of the head: the steady state, past the burst of anchors it held back.
func (h *pegE2E) waitFinalizedNear() {
	h.t.Helper()
	btcdWaitFor(h.t, h.harness.miner, 90*time.Second, "finalized near the head", func() bool {
		var info rpc.FinalityInfo
		if err := h.rc.Call(&info, "mm_getFinality"); err != nil {
			h.t.Fatal(err)
		}
		head, err := h.eth.BlockNumber(context.Background())
		return err == nil && uint64(info.Finalized.Number)+5 >= head
	})
}

// startFederator runs mmfed run for member with its hex key, on a datadir
// kept across restarts; with a signer socket, key is only the gas key.
func (h *pegE2E) startFederator(member int, key string, signer ...string) *btcdProcess {
	h.t.Helper()
	dir := h.fedDir(member)
	keyArgs := []string{"--key", h.keyFile(dir, "member.key", key)}
	if len(signer) > 0 {
		keyArgs = []string{"--signer", signer[0], "--gas.key", h.keyFile(dir, "gas.key", key)}
	}
	args := slices.Clone(h.harness.fedArgs[:1]) // the mmfed binary
	args = append(args, "run", "--member", fmt.Sprint(member), "--datadir", dir, "--rpc", h.url,
		"--btc.rpc", h.harness.node.RPCURL(), "--btc.user", h.harness.node.User, "--btc.pass", h.harness.node.Pass,
		"--interval", "250ms", "--verbose")
	return btcdStart(h.t, fmt.Sprintf("mmfed-member%d", member), append(args, keyArgs...))
}

// startSigner runs mmfed signer for member with its hex key, on its own
// datadir, in strict mode against the test's btcd, and returns its socket
// once it serves.
func (h *pegE2E) startSigner(member int, key string) (string, *btcdProcess) {
	h.t.Helper()
	dir := filepath.Join(h.fedDir(member), "signer")
	sock := filepath.Join(dir, "signer.sock")
	args := slices.Clone(h.harness.fedArgs[:1])
	args = append(args, "signer", "--key", h.keyFile(dir, "member.key", key), "--datadir", dir, "--rpc", h.url, "--verbose",
		"--strict", "--network", "regtest",
		"--btc.rpc", h.harness.node.RPCURL(), "--btc.user", h.harness.node.User, "--btc.pass", h.harness.node.Pass)
	p := btcdStart(h.t, fmt.Sprintf("mmfed-signer%d", member), args)
	btcdWaitFor(h.t, p, 30*time.Second, "the signer's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	return sock, p
}

// keyFile writes key to dir/name (0600) and returns its path.
func (h *pegE2E) keyFile(dir, name, key string) string {
	h.t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		h.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path
}

// checkFedStatus: mmfed status --json shows the batch of st as signing by
// member 0, and member 0's signed log and outflow.
func (h *pegE2E) checkFedStatus(st rpc.PegOutStatus) {
	h.t.Helper()
	out, err := exec.Command(h.harness.fedArgs[0], "status", "--json", "--rpc", h.url, "--datadir", h.fedDir(0)).Output()
	if err != nil {
		h.t.Fatalf("mmfed status: %v", err)
	}
	var status struct {
		Threshold int
		Batches   []struct {
			ID      uint64
			State   string
			Signers []int
			BtcTxid string
		}
		Local struct{ SignedInputs, SignedBatches int }
	}
	if err := json.Unmarshal(out, &status); err != nil {
		h.t.Fatal(err)
	}
	if status.Threshold != 2 || len(status.Batches) != 1 || status.Batches[0].ID != st.BatchID || status.Batches[0].State != "signing" ||
		!slices.Equal(status.Batches[0].Signers, []int{0}) || status.Batches[0].BtcTxid != st.BtcTxid ||
		status.Local.SignedBatches != 1 || status.Local.SignedInputs == 0 {
		h.t.Errorf("mmfed status --json:\n%s", out)
	}
}

// fedDir is member's datadir, one per test.
func (h *pegE2E) fedDir(member int) string {
	if h.fedDirs == nil {
		h.fedDirs = map[int]string{}
	}
	if h.fedDirs[member] == "" {
		h.fedDirs[member] = h.t.TempDir()
	}
	return h.fedDirs[member]
}

func (h *pegE2E) pegOutStatus(id uint64) rpc.PegOutStatus {
	h.t.Helper()
	var st rpc.PegOutStatus
	h.call(&st, "mm_getPegOutStatus", hexutil.Uint64(id))
	return st
}

func (h *pegE2E) btcHeight() int64 {
	h.t.Helper()
	n, err := h.btc.BlockCount(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// signatureEvents counts member's PegOutSignatures for batch.
func (h *pegE2E) signatureEvents(batch uint64, member uint8) int {
	h.t.Helper()
	logs, err := h.eth.FilterLogs(context.Background(), ethereum.FilterQuery{FromBlock: big.NewInt(0),
		Addresses: []common.Address{bridge.BridgeAddress}, Topics: [][]common.Hash{{bridge.BridgeABI.Events["PegOutSignatures"].ID},
			{common.BigToHash(new(big.Int).SetUint64(batch))}, {common.BigToHash(big.NewInt(int64(member)))}}})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(logs)
}

// reconcile checks every custody record the Bridge lists against btcd's
// UTXO set: held ones unspent with the same value and script, spent ones
// gone, and their sum custodySat.
func (h *pegE2E) reconcile() {
	h.t.Helper()
	var audit rpc.PegAudit
	h.call(&audit, "mm_getPegAudit")
	var held uint64
	for _, u := range audit.Utxos {
		txid, err := chainhash.NewHashFromStr(u.Txid)
		if err != nil {
			h.t.Fatal(err)
		}
		out, err := h.btc.TxOut(context.Background(), *txid, u.Vout, false)
		if err != nil {
			h.t.Fatal(err)
		}
		switch u.State {
		case "unspent", "reserved":
			held += u.ValueSat
			if out == nil || out.ValueSat != int64(u.ValueSat) || !bytes.Equal(out.PkScript, u.ScriptPubKey) {
				h.t.Errorf("Bridge UTXO %s:%d (%d sat, %x) in btcd: %+v", u.Txid, u.Vout, u.ValueSat, []byte(u.ScriptPubKey), out)
			}
		case "spent":
			if out != nil {
				h.t.Errorf("Bridge UTXO %s:%d is spent, btcd has it unspent: %+v", u.Txid, u.Vout, out)
			}
		default:
			h.t.Errorf("Bridge UTXO %s:%d in state %s", u.Txid, u.Vout, u.State)
		}
	}
	if held != audit.CustodySat || audit.UtxoSumSat != held || !audit.Invariant {
		h.t.Errorf("reconciliation: btcd holds %d sat of the Bridge's UTXOs, custodySat %d, audit sum %d, invariant %v",
			held, audit.CustodySat, audit.UtxoSumSat, audit.Invariant)
	}
	h.t.Logf("reconciliation: %d UTXOs listed, %d sat held in btcd = custodySat", len(audit.Utxos), held)
}
