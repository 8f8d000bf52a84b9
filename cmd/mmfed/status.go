package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"math/bits"
	"os"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg/fed"
	"github.com/mmgeth/mmgeth/rpc"
)

var (
	jsonFlag = &cli.BoolFlag{
		Name:  "json",
		Usage: "print JSON, for scripts",
	}
	statusDataDirFlag = &cli.StringFlag{
		Name:  "datadir",
		Usage: "this member's datadir (mmfed run's, or mmfed signer's with --signer): adds its signed log and 24-hour outflow",
	}
)

var statusCommand = &cli.Command{
	Name:  "status",
	Usage: "print the federation, custody and its invariant, the peg-outs in flight and, with --datadir, this member's signing state",
	Description: "Reads the Bridge's views and mm_getPegAudit from --rpc. The federation: epoch, threshold, each member's " +
		"public key and signer address. Custody: custodySat, the sum of the UTXOs the Bridge lists, and the accounting " +
		"invariant. Peg-outs: the queued requests, whether peg-outs are halted, and every unconfirmed batch with its state, " +
		"signers and Bitcoin txid (awaiting_finality while its block is above finalized). With --datadir: the inputs and " +
		"batches in signed.log and what they paid out in the last 24 hours, against --cap.daily when given.",
	Flags:  []cli.Flag{rpcFlag, statusDataDirFlag, capFlag, jsonFlag},
	Action: runStatus,
}

// fedStatus is what mmfed status prints (--json: as is).
type fedStatus struct {
	Block      uint64       `json:"block"`
	Finalized  uint64       `json:"finalized"`
	Epoch      uint16       `json:"epoch"`
	Threshold  uint8        `json:"threshold"`
	Members    []fedMember  `json:"members"`
	CustodySat uint64       `json:"custodySat"`
	UtxoSumSat uint64       `json:"utxoSumSat"`
	Utxos      int          `json:"unspentUtxos"`
	Invariant  bool         `json:"invariant"`
	Halted     bool         `json:"halted"`
	Queued     uint64       `json:"queuedRequests"`
	Batches    []fedBatch   `json:"batches"` // unconfirmed, oldest first
	Local      *localStatus `json:"local,omitempty"`
}

type fedMember struct {
	Index  int            `json:"index"`
	Pubkey hexutil.Bytes  `json:"pubkey"`
	Signer common.Address `json:"signer"`
}

type fedBatch struct {
	ID           uint64 `json:"id"`
	Version      int    `json:"version"`
	State        string `json:"state"` // awaiting_finality, signing, ready
	CreatedBlock uint64 `json:"createdBlock"`
	Requests     uint16 `json:"requests"`
	AmountSat    uint64 `json:"amountSat"`
	FeeSat       uint64 `json:"feeSat"`
	Signers      []int  `json:"signers"`
	Txid         string `json:"btcTxid"`
}

type localStatus struct {
	DataDir       string `json:"datadir"`
	SignedInputs  int    `json:"signedInputs"`
	SignedBatches int    `json:"signedBatches"`
	Outflow24hSat int64  `json:"outflow24hSat"`
	CapDailySat   int64  `json:"capDailySat"` // 0: no cap (or not given)
}

func runStatus(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unexpected arguments %q", c.Args().Slice())
	}
	capSat, err := capSat(c)
	if err != nil {
		return err
	}
	var local *localStatus
	if dir := c.String(statusDataDirFlag.Name); dir != "" {
		// Read before any node call: a wrong directory is the operator's
		// error to see at once.
		if local, err = readLocal(dir, capSat); err != nil {
			return err
		}
	}
	side, _, err := dialSidechain(c)
	if err != nil {
		return err
	}
	defer side.Close()
	ctx, cancel := context.WithTimeout(c.Context, time.Minute)
	defer cancel()
	st, err := readStatus(ctx, side.Client(), fed.BridgeView(ctx, side))
	if err != nil {
		return fmt.Errorf("--rpc %s: %w", c.String(rpcFlag.Name), err)
	}
	st.Local = local
	if c.Bool(jsonFlag.Name) {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(c, st)
	return nil
}

func readLocal(dir string, capSat int64) (*localStatus, error) {
	path := filepath.Join(dir, signedLogName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--datadir %s: no %s (not a member's datadir, or it never signed)", dir, signedLogName)
	}
	l, err := fed.OpenSignedLog(path)
	if err != nil {
		return nil, fmt.Errorf("--datadir: %w", err)
	}
	defer l.Close()
	ls := &localStatus{DataDir: dir, Outflow24hSat: l.Outflow(time.Now().Add(-fed.CapWindow)), CapDailySat: capSat}
	ls.SignedInputs, ls.SignedBatches = l.Len()
	return ls, nil
}

func readStatus(ctx context.Context, c *gethrpc.Client, view *bridge.View) (*fedStatus, error) {
	var fin rpc.FinalityInfo
	if err := c.CallContext(ctx, &fin, "mm_getFinality"); err != nil {
		return nil, fmt.Errorf("mm_getFinality: %w", err)
	}
	var audit rpc.PegAudit
	if err := c.CallContext(ctx, &audit, "mm_getPegAudit"); err != nil {
		return nil, fmt.Errorf("mm_getPegAudit: %w", err)
	}
	st := &fedStatus{Block: uint64(audit.Block.Number), Finalized: uint64(fin.Finalized.Number), CustodySat: audit.CustodySat,
		UtxoSumSat: audit.UtxoSumSat, Invariant: audit.Invariant, Batches: []fedBatch{}}
	for _, u := range audit.Utxos {
		if u.State == "unspent" {
			st.Utxos++
		}
	}
	epoch, err := view.ActiveEpoch()
	if err != nil {
		return nil, fmt.Errorf("Bridge.activeEpoch: %w", err)
	}
	f, err := view.Federation(epoch)
	if err != nil {
		return nil, fmt.Errorf("Bridge.federation(%d): %w", epoch, err)
	}
	st.Epoch, st.Threshold = epoch, f.Threshold
	for i, pk := range f.Pubkeys {
		st.Members = append(st.Members, fedMember{Index: i, Pubkey: pk, Signer: f.Signers[i]})
	}
	q, err := view.PegOutQueue()
	if err != nil {
		return nil, fmt.Errorf("Bridge.pegOutQueue: %w", err)
	}
	st.Halted = q.Halted
	if q.Last >= q.Next {
		st.Queued = q.Last - q.Next + 1
	}
	// Batches confirm roughly in order and at most q.Inflight are open:
	// walk down from the newest until all of them are found.
	for id := q.Batches; id > 0 && len(st.Batches) < int(q.Inflight); id-- {
		b, err := view.PegOutBatch(id)
		if err != nil {
			return nil, fmt.Errorf("Bridge.getPegOutBatch(%d): %w", id, err)
		}
		if b.State != bridge.BatchSigning && b.State != bridge.BatchReady {
			continue
		}
		v := b.Versions() - 1
		fb := fedBatch{ID: id, Version: v, State: b.State.String(), CreatedBlock: b.CreatedBlock, Requests: b.NRequests,
			AmountSat: b.RequestedSat, FeeSat: b.FeeSat[v], Signers: []int{}, Txid: chainhash.Hash(b.Txids[v]).String()}
		if b.State == bridge.BatchSigning && b.CreatedBlock > st.Finalized {
			fb.State = rpc.PegOutAwaitingFinality
		}
		for m := range bits.Len16(b.SignedBitmap[v]) {
			if b.SignedBitmap[v]&(1<<m) != 0 {
				fb.Signers = append(fb.Signers, m)
			}
		}
		st.Batches = append([]fedBatch{fb}, st.Batches...)
	}
	return st, nil
}

func printStatus(c *cli.Context, st *fedStatus) {
	w := c.App.Writer
	fmt.Fprintf(w, "Sidechain block %d, finalized %d\n", st.Block, st.Finalized)
	fmt.Fprintf(w, "Federation: epoch %d, %d of %d\n", st.Epoch, st.Threshold, len(st.Members))
	for _, m := range st.Members {
		fmt.Fprintf(w, "  member %d  %x  signer %s\n", m.Index, []byte(m.Pubkey), m.Signer)
	}
	verdict := "holds"
	if !st.Invariant {
		verdict = "BROKEN"
	}
	fmt.Fprintf(w, "Custody: %s BTC in %d unspent UTXOs (listed sum %s BTC); invariant %s\n", btc(st.CustodySat), st.Utxos,
		btc(st.UtxoSumSat), verdict)
	halted := ""
	if st.Halted {
		halted = "; PEG-OUTS HALTED (a proven spend outside a batch)"
	}
	fmt.Fprintf(w, "Peg-outs: %d queued, %d batches open%s\n", st.Queued, len(st.Batches), halted)
	for _, b := range st.Batches {
		fmt.Fprintf(w, "  batch %d v%d  %s  block %d  %d requests  %s BTC  fee %d sat  signers %v  txid %s\n", b.ID, b.Version,
			b.State, b.CreatedBlock, b.Requests, btc(b.AmountSat), b.FeeSat, b.Signers, b.Txid)
	}
	if l := st.Local; l != nil {
		fmt.Fprintf(w, "This member (%s): %d inputs signed in %d batches; paid out in the last 24 h: %s BTC", l.DataDir,
			l.SignedInputs, l.SignedBatches, btc(uint64(l.Outflow24hSat)))
		if l.CapDailySat > 0 {
			fmt.Fprintf(w, " of a %s BTC cap", btc(uint64(l.CapDailySat)))
		}
		fmt.Fprintln(w)
	}
}

// btc formats satoshi as BTC with all eight decimals.
func btc(sat uint64) string {
	return new(big.Rat).SetFrac64(int64(sat), 1e8).FloatString(8)
}
