package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// codePeg is the code of every peg method's own failures (PEG.md §9): a
// Bitcoin node that is missing or does not know the transaction, an
// address of another network, and so on. Arguments that do not parse are
// -32602 as everywhere.
const codePeg = -33100

// PegBackend is what the peg methods of the mm namespace read (PEG.md §9);
// the node fills it from the Bridge and BtcRelay at the head, its network's
// peg parameters and, when it has one, its Bitcoin node (--btc.rpc).
type PegBackend interface {
	// Policy is the policy JSON of PEG.md §7 with its checks.
	Policy() (any, error)
	// DepositAddress derives recipient's deposit address, and with watching
	// on remembers recipient for relayers (mm_watchedDeposits).
	DepositAddress(recipient common.Address) (*DepositAddress, error)
	// VerifyDepositAddress re-derives recipient's address and compares.
	VerifyDepositAddress(address string, recipient common.Address) (*DepositVerdict, error)
	PegInStatus(ctx context.Context, txid string, vout uint32) (*PegInStatus, error)
	PegInProof(ctx context.Context, txid string, vout uint32, recipient common.Address) (*PegInProof, error)
	// Audit is the ledger and the deposits registered in canonical blocks
	// from..from+limit-1 (a page; Next continues).
	Audit(ctx context.Context, from uint64) (*PegAudit, error)
	// WatchedDeposits lists watch registrations from cursor on.
	WatchedDeposits(cursor uint64) (*WatchedDeposits, error)
	PegOutStatus(ctx context.Context, requestID uint64) (*PegOutStatus, error)
	// PegOutTx is a batch version's transaction; version nil: the newest.
	PegOutTx(ctx context.Context, batchID uint64, version *uint8) (*PegOutTx, error)
}

// Peg-out statuses, in the order a request meets them (PEG.md §9).
// Batched: in a batch whose sidechain block no Bitcoin anchor covers yet;
// awaiting_finality: anchored, not yet K deep (members do not sign before).
const (
	PegOutQueued           = "queued"
	PegOutBatched          = "batched"
	PegOutAwaitingFinality = "awaiting_finality"
	PegOutSigning          = "signing"
	PegOutReady            = "ready"
	PegOutConfirmed        = "confirmed"
	PegOutRefunded         = "refunded"
)

// PegOutStatus is mm_getPegOutStatus's answer.
type PegOutStatus struct {
	RequestID uint64         `json:"requestId"`
	State     string         `json:"state"`
	Requester common.Address `json:"requester"`
	AmountSat uint64         `json:"amountSat"`
	BtcScript hexutil.Bytes  `json:"btcScript"`
	// The rest is set once the request is in a batch.
	BatchID     uint64 `json:"batchId,omitempty"`
	Version     uint8  `json:"version"`
	BatchBlock  uint64 `json:"batchBlock,omitempty"`
	Finalized   uint64 `json:"finalized"`
	BtcTxid     string `json:"btcTxid,omitempty"`
	Signers     []int  `json:"signers"`
	Threshold   int    `json:"threshold,omitempty"`
	FeeShareSat uint64 `json:"feeShareSat,omitempty"`
	FeeRate     uint32 `json:"feeRate,omitempty"`
	FeeSat      uint64 `json:"feeSat,omitempty"`
}

// PegOutTx is mm_getPegOutTx's answer: the unsigned transaction, its
// sighashes, every member's signatures (r‖s‖v per input), the same as a
// BIP-174 PSBT (base64: witness UTXOs, witness scripts, sighash types and
// the partial signatures so far) and, once t members signed, the signed
// transaction, checked with btcd's script engine.
type PegOutTx struct {
	BatchID    uint64                   `json:"batchId"`
	Version    uint8                    `json:"version"`
	State      string                   `json:"state"`
	Txid       string                   `json:"txid"`
	UnsignedTx hexutil.Bytes            `json:"unsignedTx"`
	Sighashes  []common.Hash            `json:"sighashes"`
	Signatures map[string]hexutil.Bytes `json:"signatures"`
	Threshold  int                      `json:"threshold"`
	PSBT       string                   `json:"psbt"`
	SignedTx   hexutil.Bytes            `json:"signedTx,omitempty"`
}

// DepositAddress is mm_getDepositAddress's answer.
type DepositAddress struct {
	Address       string         `json:"address"`
	ScriptPubKey  hexutil.Bytes  `json:"scriptPubKey"`
	WitnessScript hexutil.Bytes  `json:"witnessScript"`
	Epoch         uint16         `json:"epoch"`
	Recipient     common.Address `json:"recipient"`
	PolicyHash    common.Hash    `json:"policyHash"`
	// Watched: this node lists the address for relayers (--peg.watch).
	Watched bool `json:"watched"`
}

// DepositVerdict is mm_verifyDepositAddress's answer; Reason says which
// rule a wrong address breaks.
type DepositVerdict struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
}

// Peg-in statuses, in the order a deposit meets them (PEG.md §9). Ready
// is this node's addition: BtcRelay holds the confirmations, so
// registerPegIn would succeed now and only waits for a relayer (or the
// user, with mm_getPegInProof).
const (
	PegInUnknown         = "unknown"
	PegInUnconfirmed     = "unconfirmed"
	PegInConfirming      = "confirming"
	PegInReady           = "ready"
	PegInCredited        = "credited"
	PegInHeld            = "held"
	PegInRejected        = "rejected"
	PegInRefundRequested = "refund_requested"
)

// PegInStatus is mm_getPegInStatus's answer. Hashes are in display order,
// as Bitcoin nodes print them.
type PegInStatus struct {
	Status string `json:"status"`
	// Reason explains unknown and rejected ("below_min", "cap").
	Reason    string          `json:"reason,omitempty"`
	Txid      string          `json:"txid"`
	Vout      uint32          `json:"vout"`
	ValueSat  uint64          `json:"valueSat"`
	Recipient *common.Address `json:"recipient"` // null while not registered and not watched
	BtcBlock  string          `json:"btcBlock,omitempty"`
	BtcHeight uint32          `json:"btcHeight,omitempty"`
	// BtcConfirmations are the Bitcoin node's (0 in its mempool);
	// LightClientConfirmations BtcRelay's, which registerPegIn checks.
	BtcConfirmations         uint32 `json:"btcConfirmations"`
	LightClientConfirmations uint32 `json:"lightClientConfirmations"`
	Required                 uint32 `json:"required"`
	// RequestID is the refund's peg-out request once refund_requested.
	RequestID uint64 `json:"requestId,omitempty"`
}

// PegInProof is mm_getPegInProof's answer: registerPegIn's arguments, and
// Calldata, the whole input for a transaction to Bridge (`cast send
// <bridge> <calldata>`).
type PegInProof struct {
	Bridge    common.Address `json:"bridge"`
	Calldata  hexutil.Bytes  `json:"calldata"`
	BtcTx     hexutil.Bytes  `json:"btcTx"`
	Inclusion BtcInclusion   `json:"inclusion"`
	Vout      uint32         `json:"vout"`
	Recipient common.Address `json:"recipient"`
	BtcBlock  string         `json:"btcBlock"`
	// LightClientConfirmations below Required: registerPegIn would fail
	// now; BtcRelay needs more headers (mmfed relay sends them).
	LightClientConfirmations uint32 `json:"lightClientConfirmations"`
	Required                 uint32 `json:"required"`
}

// BtcInclusion is the SPV proof struct of PEG.md §3, hashes in internal
// byte order as the contract takes them.
type BtcInclusion struct {
	Header           hexutil.Bytes `json:"header"`
	Height           uint32        `json:"height"`
	TxIndex          uint32        `json:"txIndex"`
	TxBranch         hexutil.Bytes `json:"txBranch"`
	CoinbasePreimage common.Hash   `json:"coinbasePreimage"`
	CoinbaseBranch   hexutil.Bytes `json:"coinbaseBranch"`
}

// PegAudit is mm_getPegAudit's answer: the Bridge's accounting() at the
// head, the §8 invariant's verdict, and one page of the deposits it holds.
type PegAudit struct {
	Block      BlockRef `json:"block"`
	Accounting any      `json:"accounting"`
	// Invariant is accounting().invariantHolds, recomputed by the node from
	// the Bridge's balance; both must agree for it to be true.
	Invariant bool `json:"invariant"`
	// OrphanedCreditsSat: deposits registered from a Bitcoin block that is
	// no longer in BtcRelay's best chain (PEG.md §2.4), in this page.
	OrphanedCreditsSat uint64         `json:"orphanedCreditsSat"`
	Deposits           []AuditDeposit `json:"deposits"`
	// Utxos are every custody record the Bridge lists (utxos()), spent
	// ones included; CustodySat is accounting().custodySat and UtxoSumSat
	// the sum of the unspent and reserved records, which must equal it.
	Utxos      []AuditUtxo `json:"utxos"`
	CustodySat uint64      `json:"custodySat"`
	UtxoSumSat uint64      `json:"utxoSumSat"`
	// From..To is the sidechain range this page read; Next is the From of
	// the next page, null once To is the head.
	From uint64  `json:"from"`
	To   uint64  `json:"to"`
	Next *uint64 `json:"next"`
}

// AuditDeposit is one registered deposit output.
type AuditDeposit struct {
	Txid      string         `json:"txid"`
	Vout      uint32         `json:"vout"`
	Recipient common.Address `json:"recipient"`
	ValueSat  uint64         `json:"valueSat"`
	Status    string         `json:"status"`
	UtxoState string         `json:"utxoState"`
	BtcHeight uint32         `json:"btcHeight"`
	// BtcBlock is read from the registering transaction's proof; empty
	// when a contract made the call (its input is not registerPegIn's).
	BtcBlock string `json:"btcBlock,omitempty"`
	// Orphaned: BtcBlock is no longer in BtcRelay's best chain.
	Orphaned bool        `json:"orphaned"`
	Tx       common.Hash `json:"tx"`
	Block    uint64      `json:"block"`
}

// AuditUtxo is one custody record: a deposit or a change output.
type AuditUtxo struct {
	Txid         string         `json:"txid"`
	Vout         uint32         `json:"vout"`
	ValueSat     uint64         `json:"valueSat"`
	State        string         `json:"state"`
	Recipient    common.Address `json:"recipient"`
	ScriptPubKey hexutil.Bytes  `json:"scriptPubKey"`
	BtcHeight    uint32         `json:"btcHeight"`
	Epoch        uint16         `json:"epoch"`
	BatchID      uint64         `json:"batchId,omitempty"`
}

// WatchedDeposits is mm_watchedDeposits' answer: registrations in the
// order they were made; Next is the cursor of the following page.
type WatchedDeposits struct {
	Deposits []WatchedDeposit `json:"deposits"`
	Next     hexutil.Uint64   `json:"next"`
}

// WatchedDeposit is a watched recipient and its address under the active
// epoch.
type WatchedDeposit struct {
	Index        hexutil.Uint64 `json:"index"`
	Recipient    common.Address `json:"recipient"`
	Address      string         `json:"address"`
	ScriptPubKey hexutil.Bytes  `json:"scriptPubKey"`
}

// mmPegAPI is the peg part of the mm namespace, registered only with a
// PegBackend.
type mmPegAPI struct{ s *Service }

// pegError gives a backend failure code -33100 unless it has its own.
func pegError(err error) error {
	var coded interface{ ErrorCode() int }
	if err == nil || errors.As(err, &coded) {
		return err
	}
	return &codedError{codePeg, err.Error()}
}

// GetPegPolicy returns the peg policy (PEG.md §7).
func (api *mmPegAPI) GetPegPolicy() (any, error) {
	p, err := api.s.cfg.Peg.Policy()
	return p, pegError(err)
}

// GetDepositAddress returns recipient's deposit address.
func (api *mmPegAPI) GetDepositAddress(recipient common.Address) (*DepositAddress, error) {
	d, err := api.s.cfg.Peg.DepositAddress(recipient)
	return d, pegError(err)
}

// VerifyDepositAddress says whether address is recipient's deposit address.
func (api *mmPegAPI) VerifyDepositAddress(address string, recipient common.Address) (*DepositVerdict, error) {
	v, err := api.s.cfg.Peg.VerifyDepositAddress(address, recipient)
	return v, pegError(err)
}

// GetPegInStatus returns where output vout of Bitcoin transaction txid
// (display order) stands; vout defaults to 0.
func (api *mmPegAPI) GetPegInStatus(ctx context.Context, txid string, vout *uint32) (*PegInStatus, error) {
	var v uint32
	if vout != nil {
		v = *vout
	}
	st, err := api.s.cfg.Peg.PegInStatus(ctx, txid, v)
	return st, pegError(err)
}

// GetPegInProof returns registerPegIn's arguments for output vout of txid
// paying recipient's deposit address.
func (api *mmPegAPI) GetPegInProof(ctx context.Context, txid string, vout uint32, recipient common.Address) (*PegInProof, error) {
	p, err := api.s.cfg.Peg.PegInProof(ctx, txid, vout, recipient)
	return p, pegError(err)
}

// GetPegAudit returns the ledger, its invariant and the deposits
// registered from sidechain block from on (default 0), one page.
func (api *mmPegAPI) GetPegAudit(ctx context.Context, from *hexutil.Uint64) (*PegAudit, error) {
	var f uint64
	if from != nil {
		f = uint64(*from)
	}
	a, err := api.s.cfg.Peg.Audit(ctx, f)
	return a, pegError(err)
}

// WatchedDeposits lists the watched recipients from cursor on.
func (api *mmPegAPI) WatchedDeposits(cursor *hexutil.Uint64) (*WatchedDeposits, error) {
	var c uint64
	if cursor != nil {
		c = uint64(*cursor)
	}
	w, err := api.s.cfg.Peg.WatchedDeposits(c)
	return w, pegError(err)
}

// GetPegOutStatus returns where peg-out request id stands.
func (api *mmPegAPI) GetPegOutStatus(ctx context.Context, id hexutil.Uint64) (*PegOutStatus, error) {
	st, err := api.s.cfg.Peg.PegOutStatus(ctx, uint64(id))
	return st, pegError(err)
}

// GetPegOutTx returns a batch version's transaction (default: the newest
// version), its signatures, and the signed transaction once ready.
func (api *mmPegAPI) GetPegOutTx(ctx context.Context, batchID hexutil.Uint64, version *hexutil.Uint64) (*PegOutTx, error) {
	var v *uint8
	if version != nil {
		if *version > 255 {
			return nil, &invalidParamsError{fmt.Sprintf("version %d: versions are 0..255", *version)}
		}
		b := uint8(*version)
		v = &b
	}
	tx, err := api.s.cfg.Peg.PegOutTx(ctx, uint64(batchID), v)
	return tx, pegError(err)
}
