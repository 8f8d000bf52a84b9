package rpc

import (
	"context"
	"errors"

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
