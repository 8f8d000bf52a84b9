package node

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/rpc"
)

// auditPage is the sidechain blocks one mm_getPegAudit page reads the
// Bridge's deposit events from.
const auditPage = 10_000

// errNoBitcoinNode: the method reads Bitcoin, and the node was started
// without one.
var errNoBitcoinNode = errors.New("this method needs a Bitcoin node: start mmgeth with --btc.rpc (and --btc.user, --btc.pass)")

// pegBackend serves the peg methods of the mm namespace (PEG.md §9) from
// the Bridge and BtcRelay at the head (through evm/bridge's View), the
// network's peg parameters, and the node's own Bitcoin node when it has one.
type pegBackend struct {
	bc      *core.BlockChain
	chainID uint32
	params  *peg.Params
	btc     *btcrpc.Client // nil without --btc.rpc
	watch   *depositWatch  // nil without --peg.watch
	// finality is the chain's finality state (mm_getFinality's source).
	finality func() (*chain.FinalityStatus, error)
	// logs is the RPC service's log filter (set once it exists).
	logs func(ctx context.Context, from, to uint64, addresses []common.Address, topics [][]common.Hash) ([]*types.Log, error)
}

// headState is the Bridge's and BtcRelay's view at the head, and the state
// it reads.
func (p *pegBackend) headState() (*bridge.View, *state.StateDB, *types.Header, error) {
	head := p.bc.CurrentBlock()
	st, err := p.bc.StateAt(head.Root, head.Number, head.Time)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("state of head %d: %w", head.Number, err)
	}
	return bridge.NewView(st, p.bc.Config()), st, head, nil
}

// policy is the §7 policy with what the contracts hold at the head in
// every on-chain field: the active federation (keys, thresholds, the script
// read from its FedScript account), the Bridge's numbers, policyHash and
// the light client's checkpoint; the spec gives only what the chain does
// not hold (network name, finality). CheckPolicy then compares the chain
// with itself: the script with its keys, signers with keys, the change
// program with the script.
func (p *pegBackend) policy(view *bridge.View, st *state.StateDB) (*peg.Policy, bridge.Policy, error) {
	pol, err := peg.DerivePolicy(p.chainID, p.params)
	if err != nil {
		return nil, bridge.Policy{}, err
	}
	onChain, err := view.Policy()
	if err != nil {
		return nil, bridge.Policy{}, fmt.Errorf("Bridge.policy: %w", err)
	}
	epoch, err := view.ActiveEpoch()
	if err != nil {
		return nil, bridge.Policy{}, fmt.Errorf("Bridge.activeEpoch: %w", err)
	}
	fed, err := view.Federation(epoch)
	if err != nil {
		return nil, bridge.Policy{}, fmt.Errorf("Bridge.federation(%d): %w", epoch, err)
	}
	if pol.PolicyHash, err = view.PolicyHash(); err != nil {
		return nil, bridge.Policy{}, fmt.Errorf("Bridge.policyHash: %w", err)
	}
	cpHash, cpHeight, err := view.Checkpoint()
	if err != nil {
		return nil, bridge.Policy{}, fmt.Errorf("BtcRelay.checkpoint: %w", err)
	}

	f := &pol.Federation
	f.Epoch = epoch
	f.Threshold, f.Emergency.Threshold = int(fed.Threshold), int(fed.EmergencyThreshold)
	f.Emergency.CSVDelayBlocks, f.Emergency.RefreshAgeBlocks = fed.CSVDelay, onChain.RefreshAgeBlocks
	f.Members = f.Members[:0]
	for i, pk := range fed.Pubkeys {
		m := peg.Member{Index: i, Pubkey: pk}
		if i < len(fed.Signers) {
			m.Signer = fed.Signers[i]
		}
		f.Members = append(f.Members, m)
	}
	f.Emergency.Pubkeys = f.Emergency.Pubkeys[:0]
	for _, pk := range fed.EmergencyPubkeys {
		f.Emergency.Pubkeys = append(f.Emergency.Pubkeys, pk)
	}
	// FedScript's code is 0x00 ‖ the script (PEG.md §1).
	if code := st.GetCode(fed.FedScript); len(code) > 0 {
		f.WitnessScript = code[1:]
	} else {
		f.WitnessScript = nil
	}
	f.WitnessScriptAsm, _ = txscript.DisasmString(f.WitnessScript) // a bad script fails scriptBuiltFromKeys
	f.FedScriptCodeHash = st.GetCodeHash(fed.FedScript)
	f.ChangeProgram = fed.ChangeProgram[:]
	pol.Contracts.FedScript = fed.FedScript

	pol.ChainID = onChain.ChainID
	pol.PegIn = peg.PegInPolicy{
		Confirmations: onChain.PegInConfirmations, MinSat: onChain.MinPegInSat, CapSat: onChain.PegInCapSat,
		RelayerFeeSat: uint64(onChain.PegInRelayerFeeSat), SatToWei: bridge.SatToWei.String(),
	}
	if onChain.FastConfirmations > 0 {
		pol.PegIn.FastTier = &peg.FastTier{MaxSat: onChain.FastMaxSat, Confirmations: onChain.FastConfirmations, CapSatPer100Blks: onChain.FastCapSatPer100Blocks}
	}
	o := &pol.PegOut
	o.MinSat, o.BatchIntervalBlocks = onChain.MinPegOutSat, onChain.BatchIntervalBlocks
	o.MaxInputs, o.MaxOutputs = int(onChain.MaxInputs), int(onChain.MaxOutputs)
	// No fee-rate votes exist before peg-out: the current rate is the
	// start value.
	o.FeeRate = peg.FeeRateBounds{Min: onChain.FeeRateMin, Max: onChain.FeeRateMax, Current: onChain.FeeRateStart}
	o.Confirmations, o.RBFAfterBtcBlocks, o.DailyOutflowCapSat = onChain.PegOutConfirmations, onChain.RBFAfterBtcBlocks, onChain.DailyOutflowCapSat
	pol.LightClient.Checkpoint = peg.Checkpoint{Height: cpHeight, Hash: chainhash.Hash(cpHash).String()}
	pol.Checks = peg.CheckPolicy(pol)
	return pol, onChain, nil
}

func (p *pegBackend) headPolicy() (*peg.Policy, error) {
	view, st, _, err := p.headState()
	if err != nil {
		return nil, err
	}
	pol, _, err := p.policy(view, st)
	return pol, err
}

func (p *pegBackend) Policy() (any, error) { return p.headPolicy() }

func (p *pegBackend) DepositAddress(recipient common.Address) (*rpc.DepositAddress, error) {
	pol, err := p.headPolicy()
	if err != nil {
		return nil, err
	}
	d, err := pol.Deposit(recipient)
	if err != nil {
		return nil, fmt.Errorf("recipient %v: %w", recipient, err)
	}
	if p.watch != nil {
		if err := p.watch.add(recipient); err != nil {
			return nil, fmt.Errorf("watch list: %w", err)
		}
	}
	return &rpc.DepositAddress{
		Address: d.Address, ScriptPubKey: hexutil.Bytes(d.ScriptPubKey), WitnessScript: hexutil.Bytes(d.WitnessScript),
		Epoch: d.Epoch, Recipient: recipient, PolicyHash: pol.PolicyHash, Watched: p.watch != nil,
	}, nil
}

func (p *pegBackend) VerifyDepositAddress(address string, recipient common.Address) (*rpc.DepositVerdict, error) {
	pol, err := p.headPolicy()
	if err != nil {
		return nil, err
	}
	if err := pol.VerifyDepositAddress(address, recipient.Hex()); err != nil {
		return &rpc.DepositVerdict{Valid: false, Reason: err.Error()}, nil
	}
	return &rpc.DepositVerdict{Valid: true}, nil
}

func (p *pegBackend) WatchedDeposits(cursor uint64) (*rpc.WatchedDeposits, error) {
	if p.watch == nil {
		return nil, errors.New("this node keeps no watch list: start mmgeth with --peg.watch")
	}
	pol, err := p.headPolicy()
	if err != nil {
		return nil, err
	}
	rs, next, err := p.watch.list(cursor)
	if err != nil {
		return nil, err
	}
	out := &rpc.WatchedDeposits{Deposits: []rpc.WatchedDeposit{}, Next: hexutil.Uint64(next)}
	for i, r := range rs {
		d, err := pol.Deposit(r)
		if err != nil {
			return nil, err
		}
		out.Deposits = append(out.Deposits, rpc.WatchedDeposit{Index: hexutil.Uint64(cursor + uint64(i)), Recipient: r, Address: d.Address, ScriptPubKey: hexutil.Bytes(d.ScriptPubKey)})
	}
	return out, nil
}

// parseTxid reads a txid as Bitcoin nodes print it (display order).
func parseTxid(s string) (chainhash.Hash, error) {
	h, err := chainhash.NewHashFromStr(strings.TrimPrefix(s, "0x"))
	if err != nil || len(strings.TrimPrefix(s, "0x")) != 2*chainhash.HashSize {
		return chainhash.Hash{}, fmt.Errorf("txid %q: want 64 hex digits, as Bitcoin nodes print it", s)
	}
	return *h, nil
}

func (p *pegBackend) PegInStatus(ctx context.Context, txid string, vout uint32) (*rpc.PegInStatus, error) {
	hash, err := parseTxid(txid)
	if err != nil {
		return nil, err
	}
	view, _, _, err := p.headState()
	if err != nil {
		return nil, err
	}
	pol, err := view.Policy()
	if err != nil {
		return nil, err
	}
	st := &rpc.PegInStatus{Txid: hash.String(), Vout: vout}
	dep, err := view.GetDeposit(common.Hash(hash), vout)
	if err != nil {
		return nil, fmt.Errorf("Bridge.getDeposit: %w", err)
	}
	if dep.Status != bridge.StatusNone {
		// Registered: the Bridge's record is the answer, and BtcRelay's
		// count the confirmations.
		st.ValueSat, st.Recipient, st.BtcHeight, st.RequestID = dep.ValueSat, &dep.Recipient, dep.BtcHeight, dep.RequestID
		st.Required = pol.RequiredConfirmations(dep.ValueSat)
		best, err := view.BestChain()
		if err != nil {
			return nil, err
		}
		if best.Height >= dep.BtcHeight {
			st.LightClientConfirmations = best.Height - dep.BtcHeight + 1
		}
		st.BtcConfirmations = st.LightClientConfirmations
		switch dep.Status {
		case bridge.StatusCredited:
			st.Status = rpc.PegInCredited
		case bridge.StatusCreditHeld:
			st.Status = rpc.PegInHeld
		case bridge.StatusRejectedBelowMin:
			st.Status, st.Reason = rpc.PegInRejected, "below_min"
		case bridge.StatusRejectedCap:
			st.Status, st.Reason = rpc.PegInRejected, "cap"
		case bridge.StatusRefundRequested:
			st.Status = rpc.PegInRefundRequested
		default:
			return nil, fmt.Errorf("Bridge.getDeposit: unknown status %v", dep.Status)
		}
		return st, nil
	}
	st.Status = rpc.PegInUnknown
	if p.btc == nil {
		st.Reason = "not registered on the sidechain; " + errNoBitcoinNode.Error() + " to look for it on Bitcoin"
		return st, nil
	}
	out, height, block, err := p.btc.TxBlock(ctx, hash, vout)
	if err != nil {
		return nil, fmt.Errorf("Bitcoin node: %w", err)
	}
	if out == nil {
		st.Reason = "the Bitcoin node has no unspent output " + hash.String() + fmt.Sprintf(":%d", vout) +
			" in its best chain or mempool (not broadcast yet, on a side branch, or spent)"
		return st, nil
	}
	st.ValueSat = uint64(out.ValueSat)
	st.Required = pol.RequiredConfirmations(st.ValueSat)
	st.Recipient = p.watchedRecipient(out.PkScript)
	if block == nil {
		st.Status = rpc.PegInUnconfirmed
		return st, nil
	}
	blockHash := block.BlockHash()
	st.BtcBlock, st.BtcHeight, st.BtcConfirmations = blockHash.String(), uint32(height), uint32(out.Confirmations)
	if st.LightClientConfirmations, err = view.Confirmations(common.Hash(blockHash)); err != nil {
		return nil, err
	}
	st.Status = rpc.PegInConfirming
	if st.LightClientConfirmations >= st.Required {
		st.Status = rpc.PegInReady
	}
	return st, nil
}

// watchedRecipient is the watched recipient whose deposit address script
// pays, if any.
func (p *pegBackend) watchedRecipient(script []byte) *common.Address {
	if p.watch == nil {
		return nil
	}
	pol, err := p.headPolicy()
	if err != nil {
		return nil
	}
	for cursor := uint64(0); ; {
		rs, next, err := p.watch.list(cursor)
		if err != nil || len(rs) == 0 {
			return nil
		}
		for _, r := range rs {
			if d, err := pol.Deposit(r); err == nil && string(d.ScriptPubKey) == string(script) {
				return &r
			}
		}
		cursor = next
	}
}

func (p *pegBackend) PegInProof(ctx context.Context, txid string, vout uint32, recipient common.Address) (*rpc.PegInProof, error) {
	hash, err := parseTxid(txid)
	if err != nil {
		return nil, err
	}
	if p.btc == nil {
		return nil, errNoBitcoinNode
	}
	view, st, _, err := p.headState()
	if err != nil {
		return nil, err
	}
	pol, onChain, err := p.policy(view, st)
	if err != nil {
		return nil, err
	}
	out, height, block, err := p.btc.TxBlock(ctx, hash, vout)
	switch {
	case err != nil:
		return nil, fmt.Errorf("Bitcoin node: %w", err)
	case out == nil:
		return nil, fmt.Errorf("the Bitcoin node has no unspent output %s:%d in its best chain or mempool", hash, vout)
	case block == nil:
		return nil, fmt.Errorf("%s is not mined yet (it is in the Bitcoin node's mempool)", hash)
	}
	// A proof for the wrong recipient would only buy a NotADeposit revert.
	d, err := pol.Deposit(recipient)
	if err != nil {
		return nil, fmt.Errorf("recipient %v: %w", recipient, err)
	}
	if string(d.ScriptPubKey) != string(out.PkScript) {
		return nil, fmt.Errorf("output %s:%d pays script %x, not %v's deposit address %s", hash, vout, out.PkScript, recipient, d.Address)
	}
	var proof *bridge.PegInProof
	for _, tx := range block.Transactions {
		if tx.TxHash() == hash {
			if proof, err = bridge.NewPegInProof(block, uint32(height), tx, vout, recipient); err != nil {
				return nil, err
			}
		}
	}
	blockHash := block.BlockHash()
	confs, err := view.Confirmations(common.Hash(blockHash))
	if err != nil {
		return nil, err
	}
	in := proof.Inclusion
	return &rpc.PegInProof{
		Bridge: bridge.BridgeAddress, Calldata: proof.Input(), BtcTx: proof.BtcTx, Vout: vout, Recipient: recipient,
		Inclusion: rpc.BtcInclusion{
			Header: in.Header, Height: in.Height, TxIndex: in.TxIndex, TxBranch: in.TxBranch,
			CoinbasePreimage: in.CoinbasePreimage, CoinbaseBranch: in.CoinbaseBranch,
		},
		BtcBlock: blockHash.String(), LightClientConfirmations: confs, Required: onChain.RequiredConfirmations(uint64(out.ValueSat)),
	}, nil
}

// Audit reads accounting() at the head, recomputes the §8 invariant from
// the Bridge's balance, and lists the deposits whose PegIn or
// PegInRejected event is in the page's blocks, each with its record, the
// Bitcoin block its proof named and whether that block is still in
// BtcRelay's best chain.
func (p *pegBackend) Audit(ctx context.Context, from uint64) (*rpc.PegAudit, error) {
	view, st, head, err := p.headState()
	if err != nil {
		return nil, err
	}
	if from > head.Number.Uint64() {
		return nil, fmt.Errorf("from %d is above the head %d", from, head.Number)
	}
	acct, err := view.Accounting()
	if err != nil {
		return nil, fmt.Errorf("Bridge.accounting: %w", err)
	}
	to := min(head.Number.Uint64(), from+auditPage-1)
	a := &rpc.PegAudit{
		Block: rpc.NewBlockRef(head), Accounting: newAuditAccounting(acct), Deposits: []rpc.AuditDeposit{}, From: from, To: to,
		Invariant: acct.InvariantHolds && invariantHolds(acct, st.GetBalance(bridge.BridgeAddress).ToBig()),
	}
	if to < head.Number.Uint64() {
		next := to + 1
		a.Next = &next
	}
	a.CustodySat = acct.CustodySat
	if a.Utxos, a.UtxoSumSat, err = p.auditUtxos(view); err != nil {
		return nil, err
	}
	// Custody is exactly the records still held: a difference is a
	// ledger bug, whatever the contract's own invariant says.
	a.Invariant = a.Invariant && a.UtxoSumSat == a.CustodySat
	events := [][]common.Hash{{bridge.BridgeABI.Events["PegIn"].ID, bridge.BridgeABI.Events["PegInRejected"].ID}}
	logs, err := p.logs(ctx, from, to, []common.Address{bridge.BridgeAddress}, events)
	if err != nil {
		return nil, err
	}
	for _, l := range logs {
		if len(l.Topics) < 2 || len(l.Data) < 32 {
			continue
		}
		// Both events start their data with vout.
		vout := uint32(new(big.Int).SetBytes(l.Data[:32]).Uint64())
		dep, err := view.GetDeposit(l.Topics[1], vout)
		if err != nil {
			return nil, err
		}
		ad := rpc.AuditDeposit{
			Txid: chainhash.Hash(l.Topics[1]).String(), Vout: vout, Recipient: dep.Recipient, ValueSat: dep.ValueSat,
			Status: dep.Status.String(), UtxoState: dep.UtxoState.String(), BtcHeight: dep.BtcHeight, Tx: l.TxHash, Block: l.BlockNumber,
		}
		if blockHash, ok := p.provenBlock(l); ok {
			ad.BtcBlock = blockHash.String()
			at, err := view.BlockHashAt(dep.BtcHeight)
			if err != nil {
				return nil, err
			}
			if ad.Orphaned = at != common.Hash(blockHash); ad.Orphaned {
				a.OrphanedCreditsSat += dep.ValueSat
			}
		}
		a.Deposits = append(a.Deposits, ad)
	}
	return a, nil
}

// provenBlock is the Bitcoin block the registerPegIn transaction of a
// deposit event proved inclusion in (the Bridge stores only its height).
func (p *pegBackend) provenBlock(l *types.Log) (chainhash.Hash, bool) {
	block := p.bc.GetBlock(l.BlockHash, l.BlockNumber)
	if block == nil || int(l.TxIndex) >= len(block.Transactions()) {
		return chainhash.Hash{}, false
	}
	input := block.Transactions()[l.TxIndex].Data()
	method := bridge.BridgeABI.Methods["registerPegIn"]
	if len(input) < 4 || string(input[:4]) != string(method.ID) {
		return chainhash.Hash{}, false // a contract called the Bridge
	}
	args, err := method.Inputs.Unpack(input[4:])
	if err != nil {
		return chainhash.Hash{}, false
	}
	incl := *abi.ConvertType(args[1], new(bridge.BtcInclusion)).(*bridge.BtcInclusion)
	return chainhash.DoubleHashH(incl.Header), true
}

// invariantHolds recomputes PEG.md §8 from the ledger and the Bridge's
// balance as the state holds it, rather than trusting the contract's own
// comparison alone.
func invariantHolds(a bridge.Accounting, balance *big.Int) bool {
	if balance.Cmp(a.BalanceWei) != 0 {
		return false
	}
	total := new(big.Int).Mul(big.NewInt(bridge.TotalSupplyBTC*1e8), bridge.SatToWei)
	backed := new(big.Int).Sub(total, balance)
	backed.Add(backed, a.HeldWei).Sub(backed, a.UnbackedGenesisWei)
	if backed.Cmp(a.BackedWei) != 0 {
		return false
	}
	sat := new(big.Int).SetUint64(a.PendingOutSat)
	sat.Add(sat, new(big.Int).SetUint64(a.SurplusSat))
	sat.Sub(sat, new(big.Int).SetUint64(a.FaultSat)).Sub(sat, new(big.Int).SetUint64(a.FeeDeficitSat))
	right := sat.Mul(sat, bridge.SatToWei).Add(sat, backed)
	left := new(big.Int).Mul(new(big.Int).SetUint64(a.CustodySat), bridge.SatToWei)
	return left.Cmp(right) >= 0
}

// auditAccounting is accounting() in JSON: satoshi amounts as numbers
// (all below 2^53), wei amounts as hex quantities, as eth_getBalance.
type auditAccounting struct {
	CustodySat         uint64       `json:"custodySat"`
	PendingOutSat      uint64       `json:"pendingOutSat"`
	SurplusSat         uint64       `json:"surplusSat"`
	HeldWei            *hexutil.Big `json:"heldWei"`
	PegInTotalSat      uint64       `json:"pegInTotalSat"`
	PegOutTotalSat     uint64       `json:"pegOutTotalSat"`
	FaultSat           uint64       `json:"faultSat"`
	FeeDeficitSat      uint64       `json:"feeDeficitSat"`
	UnbackedGenesisWei *hexutil.Big `json:"unbackedGenesisWei"`
	BalanceWei         *hexutil.Big `json:"balanceWei"`
	BackedWei          *hexutil.Big `json:"backedWei"`
	ExcessWei          *hexutil.Big `json:"excessWei"`
	InvariantHolds     bool         `json:"invariantHolds"`
}

func newAuditAccounting(a bridge.Accounting) auditAccounting {
	return auditAccounting{
		CustodySat: a.CustodySat, PendingOutSat: a.PendingOutSat, SurplusSat: a.SurplusSat, HeldWei: (*hexutil.Big)(a.HeldWei),
		PegInTotalSat: a.PegInTotalSat, PegOutTotalSat: a.PegOutTotalSat, FaultSat: a.FaultSat, FeeDeficitSat: a.FeeDeficitSat,
		UnbackedGenesisWei: (*hexutil.Big)(a.UnbackedGenesisWei), BalanceWei: (*hexutil.Big)(a.BalanceWei),
		BackedWei: (*hexutil.Big)(a.BackedWei), ExcessWei: (*hexutil.Big)(a.ExcessWei), InvariantHolds: a.InvariantHolds,
	}
}

// pegBackend builds the peg methods' backend and checks the policy the
// chain holds at its head, logging each failing check (PEG.md §7): a node
// whose contracts disagree with their own keys still serves, so that the
// policy can be inspected, but says so loudly.
func (n *Node) pegBackend() (*pegBackend, error) {
	params, err := n.cfg.Spec.PegParams()
	if err != nil {
		return nil, err
	}
	pb := &pegBackend{bc: n.chain, chainID: uint32(n.cfg.Spec.ChainID), params: params, finality: n.mmchain.FinalityStatus}
	if n.cfg.BtcRPC != "" {
		if pb.btc, err = btcrpc.New(n.cfg.BtcRPC, n.cfg.BtcUser, n.cfg.BtcPass); err != nil {
			return nil, err
		}
	}
	if n.cfg.PegWatch {
		pb.watch = &depositWatch{db: n.db}
	}
	pol, err := pb.headPolicy()
	if err != nil {
		return nil, fmt.Errorf("peg policy: %w", err)
	}
	if failed := pol.Checks.Failed(); len(failed) > 0 {
		log.Error("CRIT: the peg policy the chain holds fails its checks; do not send BTC to its deposit addresses", "failed", failed)
	}
	return pb, nil
}

// decodeRevert names the bridge contracts' custom errors in revert
// messages (rpc.Config.DecodeRevert).
func decodeRevert(data []byte) string {
	if e := bridge.DecodeRevert(data); e.Name != "" && e.Name != "Error" {
		return e.Error()
	}
	return ""
}
