package bridge

// Differential testing of BtcRelay against btcspv, its Go reference (PEG.md
// §10.4): the same headers and proofs go through both, and everything either
// side can observe must agree. This file holds the error-class table and the
// harness that compares the two; diff_headers_test.go and
// diff_inclusion_test.go hold the cases and the fuzz targets.

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/mmgeth/mmgeth/btcspv"
)

// diffRule pairs a btcspv sentinel with the custom error BtcRelay reverts
// with for the same rule. detail matches the reference's message; its
// groups, in order, are the contract error's arguments args, each written
// "name verb" with the fmt verb the reference prints it with ("hash" for a
// hash, which the reference prints in display order). Comparing them checks
// the computed values (the bits wanted, the median time, the fork height),
// not only the rule's name.
type diffRule struct {
	rule   error
	name   string
	detail *regexp.Regexp
	args   []string
}

// diffRules is the one mapping between the two sides' error classes, for
// every rule of receiveHeaders and verifyInclusion (PEG.md §2.3, §3).
var diffRules = []diffRule{
	{btcspv.ErrBadHeadersLength, "BadHeadersLength", regexp.MustCompile(`: (\d+) bytes$`), []string{"len %d"}},
	{btcspv.ErrTooManyHeaders, "TooManyHeaders", regexp.MustCompile(`: (\d+) headers, at most (\d+)$`), []string{"n %d", "max %d"}},
	{btcspv.ErrUnknownParent, "UnknownParent", regexp.MustCompile(`: previous block ([0-9a-f]{64})$`), []string{"prev hash"}},
	{btcspv.ErrBadBits, "BadBits", regexp.MustCompile(`: nBits ([0-9a-f]{8})$`), []string{"bits %08x"}},
	{btcspv.ErrInsufficientPoW, "InsufficientPoW", nil, nil},
	{btcspv.ErrUnexpectedBits, "UnexpectedBits", regexp.MustCompile(`: nBits ([0-9a-f]{8}), want ([0-9a-f]{8})$`), []string{"have %08x", "want %08x"}},
	{btcspv.ErrTimeTooOld, "TimeTooOld", regexp.MustCompile(`: time (\d+), median time past (\d+)$`), []string{"time %d", "mtp %d"}},
	{btcspv.ErrTimeTooNew, "TimeTooNew", regexp.MustCompile(`: time (\d+), limit (\d+)$`), []string{"time %d", "limit %d"}},
	{btcspv.ErrTimeWarp, "TimeWarp", nil, nil},
	{btcspv.ErrBadVersion, "BadVersion", regexp.MustCompile(`: version (-?\d+) at height \d+$`), []string{"version %d"}},
	{btcspv.ErrForkTooDeep, "ForkTooDeep", regexp.MustCompile(`: fork at (\d+), best (\d+), max depth \d+$`), []string{"forkHeight %d", "best %d"}},
	{btcspv.ErrChainworkOverflow, "ChainworkOverflow", nil, nil},
	{btcspv.ErrBadHeaderLength, "BadHeaderLength", nil, nil},
	{btcspv.ErrBlockNotInBestChain, "BlockNotInBestChain", regexp.MustCompile(`: block ([0-9a-f]{64}) at height (\d+)$`), []string{"hash hash", "height %d"}},
	{btcspv.ErrInsufficientConfirmations, "InsufficientConfirmations", regexp.MustCompile(`: (\d+), need (\d+)$`), []string{"have %d", "need %d"}},
	{btcspv.ErrMalformedProof, "MalformedProof", nil, nil},
	{btcspv.ErrDepthMismatch, "DepthMismatch", nil, nil},
	{btcspv.ErrBadTxIndex, "BadTxIndex", regexp.MustCompile(`: index (\d+)`), []string{"index %d"}},
	{btcspv.ErrMerkleMismatch, "MerkleMismatch", nil, nil},
	{btcspv.ErrCoinbaseProofMismatch, "CoinbaseProofMismatch", nil, nil},
}

// refHeader finds the header a refused batch failed at in the reference's
// error ("header i (hash): ...").
var refHeader = regexp.MustCompile(`^header \d+ \(([0-9a-f]{64})\): `)

// ruleFor returns the one entry of diffRules that err matches.
func ruleFor(t testing.TB, err error) diffRule {
	t.Helper()
	var found []diffRule
	for _, r := range diffRules {
		if errors.Is(err, r.rule) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("reference error %q matches %d rules of the table, want 1", err, len(found))
	}
	return found[0]
}

// displayHash prints a hash as the reference does (chainhash order).
func displayHash(v any) string {
	h, ok := v.(common.Hash)
	if !ok {
		return fmt.Sprintf("%v (not a hash)", v)
	}
	return chainhash.Hash(h).String()
}

// sameError requires the contract's failure (evm) to be the reference's
// (ref): the same rule, the same failing header, the same arguments.
func sameError(t testing.TB, what string, ref, evm error) {
	t.Helper()
	r := ruleFor(t, ref)
	var re *RevertError
	if !errors.As(evm, &re) {
		t.Fatalf("DIVERGENCE %s: reference refuses with %v, the EVM fails without a custom error: %v", what, ref, evm)
	}
	if re.Name != r.name {
		t.Fatalf("DIVERGENCE %s: reference %v, contract %v", what, ref, re)
	}
	args := map[string]any{}
	for _, a := range re.Args {
		args[a.Name] = a.Value
	}
	msg := ref.Error()
	if m := refHeader.FindStringSubmatch(msg); m != nil {
		if hash, ok := args["hash"]; ok && displayHash(hash) != m[1] {
			t.Fatalf("DIVERGENCE %s: reference fails at header %s, contract at %s (%v)", what, m[1], displayHash(hash), re)
		}
	}
	if r.detail == nil {
		return
	}
	m := r.detail.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("reference message %q no longer has the form %v", msg, r.detail)
	}
	for i, a := range r.args {
		name, verb, _ := strings.Cut(a, " ")
		v, ok := args[name]
		if !ok {
			t.Fatalf("contract error %v has no argument %q", re, name)
		}
		got := fmt.Sprintf(verb, v)
		if verb == "hash" {
			got = displayHash(v)
		}
		if got != m[i+1] {
			t.Fatalf("DIVERGENCE %s: %s is %s in the reference (%v), %s in the contract (%v)", what, name, m[i+1], ref, got, re)
		}
	}
}

// relayParamsOf is BtcRelay's constructor argument for the reference's
// parameters.
func relayParamsOf(p btcspv.Params) RelayParams {
	return RelayParams{
		PowLimit:            new(big.Int).Set(p.PowLimit),
		PowLimitBits:        p.PowLimitBits,
		NoRetargeting:       p.NoRetargeting,
		ReduceMinDifficulty: p.ReduceMinDifficulty,
		EnforceBIP94:        p.EnforceBIP94,
		TargetTimespan:      p.TargetTimespan,
		RetargetInterval:    uint16(p.RetargetInterval),
		Bip34Height:         p.BIP34Height,
		Bip66Height:         p.BIP66Height,
		Bip65Height:         p.BIP65Height,
		MaxForkDepth:        p.MaxForkDepth,
		MaxHeadersPerCall:   uint16(p.MaxHeadersPerCall),
	}
}

// checkpointOf is the contract's checkpoint for the reference's: the same
// fields, with the previous timestamps newest first instead of oldest first.
func checkpointOf(cp btcspv.Checkpoint) Checkpoint {
	prev := slices.Clone(cp.PrevTimes)
	slices.Reverse(prev)
	if prev == nil {
		prev = []uint32{}
	}
	return Checkpoint{Header: bytes.Clone(cp.Header80[:]), Height: cp.Height, Chainwork: new(big.Int).Set(cp.Chainwork), PrevTimes: prev}
}

func inclusionOf(p btcspv.Inclusion) BtcInclusion {
	return BtcInclusion{
		Header: p.Header, Height: p.Height, TxIndex: p.TxIndex,
		TxBranch: p.TxBranch, CoinbasePreimage: p.CoinbasePreimage, CoinbaseBranch: p.CoinbaseBranch,
	}
}

// diffPair is one light client on both sides: a btcspv.Chain and BtcRelay
// on an in-memory state, started from the same parameters and checkpoint
// and fed the same calls.
type diffPair struct {
	t   testing.TB
	p   btcspv.Params
	cp  btcspv.Checkpoint
	ref *btcspv.Chain
	evm *harness
	// log holds the accepted batches, for clone to replay on the
	// reference (which cannot be copied).
	log []submission
}

type submission struct {
	raw []byte
	now uint32
}

func newDiffPair(t testing.TB, p btcspv.Params, cp btcspv.Checkpoint) *diffPair {
	t.Helper()
	ref, err := btcspv.NewChain(p, cp)
	if err != nil {
		t.Fatalf("btcspv.NewChain: %v", err)
	}
	d := &diffPair{t: t, p: p, cp: cp, ref: ref, evm: newHarness(t, relayParamsOf(p), checkpointOf(cp))}
	d.sameBest("deployment")
	return d
}

// clone returns an independent copy for test t: the EVM state is copied
// (no redeployment, no re-execution), the reference replays the log.
func (d *diffPair) clone(t testing.TB) *diffPair {
	t.Helper()
	ref, err := btcspv.NewChain(d.p, d.cp)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.log {
		if _, err := ref.ReceiveHeaders(s.raw, s.now); err != nil {
			t.Fatalf("replaying an accepted batch: %v", err)
		}
	}
	st := d.evm.st.Copy()
	evm := &harness{t: t, st: st, cfg: d.evm.cfg, now: d.evm.now, txs: d.evm.txs, view: NewView(st, d.evm.cfg)}
	return &diffPair{t: t, p: d.p, cp: d.cp, ref: ref, evm: evm, log: slices.Clip(d.log)}
}

// receive sends one receiveHeaders call to both sides at time now and
// compares everything the call can change: the verdict and error class;
// on acceptance the count, the best chain, the reorg events, the best-chain
// index at every height the call may have touched, and what each side
// stores about every header of the batch. It reports acceptance.
func (d *diffPair) receive(raw []byte, now uint32) bool {
	d.t.Helper()
	before := d.ref.BestChain()
	receipt, refErr := d.ref.ReceiveHeaders(raw, now)
	d.evm.now = uint64(now)
	res := d.evm.tx(ReceiveHeadersInput(raw))
	what := fmt.Sprintf("receiveHeaders(%d bytes, now %d)", len(raw), now)

	switch {
	case refErr != nil && res.err == nil:
		d.t.Fatalf("DIVERGENCE %s: reference refuses (%v), contract accepts", what, refErr)
	case refErr == nil && res.err != nil:
		d.t.Fatalf("DIVERGENCE %s: reference accepts, contract refuses (%v)", what, res.err)
	case refErr != nil:
		sameError(d.t, what, refErr, res.err)
		d.sameBest(what)
		d.sameHeaders(what, raw)
		return false
	}

	accepted, bestHeight, err := UnpackReceiveHeaders(res.ret)
	if err != nil {
		d.t.Fatal(err)
	}
	after := d.ref.BestChain()
	if int(accepted) != receipt.Accepted || bestHeight != after.Height {
		d.t.Fatalf("DIVERGENCE %s: reference accepted %d to height %d, contract %d to %d", what, receipt.Accepted, after.Height, accepted, bestHeight)
	}
	if got := countLogs(res.logs, "BtcHeadersAccepted"); got != min(receipt.Accepted, 1) {
		d.t.Fatalf("%s: %d BtcHeadersAccepted events for %d new headers", what, got, receipt.Accepted)
	}
	reorgs := decodeReorgs(d.t, res.logs)
	if len(reorgs) != len(receipt.Reorgs) {
		d.t.Fatalf("DIVERGENCE %s: reference reorgs %+v, contract %+v", what, receipt.Reorgs, reorgs)
	}
	lo := min(before.Height, after.Height)
	for i, r := range receipt.Reorgs {
		if reorgs[i] != r {
			d.t.Fatalf("DIVERGENCE %s: reorg %d is %+v in the reference, %+v in the contract", what, i, r, reorgs[i])
		}
		lo = min(lo, r.ForkHeight)
	}
	d.sameBest(what)
	for i := 0; i < len(raw); i += btcspv.HeaderSize {
		if info, ok := d.ref.HeaderInfo(chainhash.DoubleHashH(raw[i : i+btcspv.HeaderSize])); ok {
			lo = min(lo, info.Height)
		}
	}
	// Heights from the lowest one touched to one past the highest tip: a
	// reorg to a shorter branch must have cleared the old tip's heights.
	for h := lo; h <= max(before.Height, after.Height)+1; h++ {
		d.sameHashAt(what, h)
	}
	d.sameHeaders(what, raw)
	d.log = append(d.log, submission{raw: bytes.Clone(raw), now: now})
	return true
}

func (d *diffPair) sameBest(what string) {
	d.t.Helper()
	ref := d.ref.BestChain()
	evm := d.evm.best()
	if evm.Hash != common.Hash(ref.Hash) || evm.Height != ref.Height || evm.Chainwork.Cmp(ref.Chainwork) != 0 {
		d.t.Fatalf("DIVERGENCE after %s: best chain %v/%d/%v in the reference, %v/%d/%v in the contract",
			what, common.Hash(ref.Hash), ref.Height, ref.Chainwork, evm.Hash, evm.Height, evm.Chainwork)
	}
}

func (d *diffPair) sameHashAt(what string, height uint32) {
	d.t.Helper()
	ref, _ := d.ref.BlockHashAt(height) // zero where there is none, as the contract's
	if evm := d.evm.hashAt(height); evm != common.Hash(ref) {
		d.t.Fatalf("DIVERGENCE after %s: mainChain[%d] is %v in the reference, %v in the contract", what, height, common.Hash(ref), evm)
	}
}

// sameHeaders compares headerInfo and confirmations of each header in raw
// (whole headers only), known or not.
func (d *diffPair) sameHeaders(what string, raw []byte) {
	d.t.Helper()
	for i := 0; i+btcspv.HeaderSize <= len(raw); i += btcspv.HeaderSize {
		hash := chainhash.DoubleHashH(raw[i : i+btcspv.HeaderSize])
		ref, known := d.ref.HeaderInfo(hash)
		evm, err := d.evm.view.HeaderInfo(common.Hash(hash))
		if err != nil {
			d.t.Fatal(err)
		}
		if evm.Known != known || known && (evm.Height != ref.Height || evm.Time != ref.Time || evm.Bits != ref.Bits ||
			evm.Chainwork.Cmp(ref.Chainwork) != 0 || evm.Prev != common.Hash(ref.Prev) || evm.InBestChain != ref.InBestChain) {
			d.t.Fatalf("DIVERGENCE after %s: header %v is %+v (known %v) in the reference, %+v in the contract", what, hash, ref, known, evm)
		}
		confs, err := d.evm.view.Confirmations(common.Hash(hash))
		if err != nil {
			d.t.Fatal(err)
		}
		if ref := d.ref.Confirmations(hash); confs != ref {
			d.t.Fatalf("DIVERGENCE after %s: header %v has %d confirmations in the reference, %d in the contract", what, hash, ref, confs)
		}
	}
}

// verify runs one inclusion proof through VerifyInclusion and the
// contract's verifyInclusion: the same verdict, error class and
// confirmations. Where the contract got past the store checks, CheckProof
// (the reference's store-free half) must give its verdict too. It returns
// the reference's error.
func (d *diffPair) verify(txid chainhash.Hash, p btcspv.Inclusion, minConfs uint32) error {
	d.t.Helper()
	what := fmt.Sprintf("verifyInclusion(height %d, index %d, minConfs %d)", p.Height, p.TxIndex, minConfs)
	confs, refErr := btcspv.VerifyInclusion(d.ref, txid, p, minConfs)
	evmConfs, evmErr := d.evm.view.VerifyInclusion(common.Hash(txid), inclusionOf(p), minConfs)
	switch {
	case refErr != nil && evmErr == nil:
		d.t.Fatalf("DIVERGENCE %s: reference refuses (%v), contract accepts with %d confirmations", what, refErr, evmConfs)
	case refErr == nil && evmErr != nil:
		d.t.Fatalf("DIVERGENCE %s: reference accepts with %d confirmations, contract refuses (%v)", what, confs, evmErr)
	case refErr != nil:
		sameError(d.t, what, refErr, evmErr)
	case confs != evmConfs:
		d.t.Fatalf("DIVERGENCE %s: %d confirmations in the reference, %d in the contract", what, confs, evmConfs)
	}
	var re *RevertError
	if errors.As(evmErr, &re) && slices.Contains([]string{"BlockNotInBestChain", "InsufficientConfirmations"}, re.Name) {
		return refErr
	}
	if checkErr := btcspv.CheckProof(txid, p); (checkErr == nil) != (evmErr == nil) {
		d.t.Fatalf("DIVERGENCE %s: CheckProof says %v, contract %v", what, checkErr, evmErr)
	} else if checkErr != nil {
		sameError(d.t, "CheckProof", checkErr, evmErr)
	}
	return refErr
}

func countLogs(logs []*types.Log, event string) int {
	n := 0
	for _, l := range logs {
		if l.Topics[0] == BtcRelayABI.Events[event].ID {
			n++
		}
	}
	return n
}

// decodeReorgs reads the BtcReorg events of a call, in order.
func decodeReorgs(t testing.TB, logs []*types.Log) []btcspv.Reorg {
	t.Helper()
	ev := BtcRelayABI.Events["BtcReorg"]
	var out []btcspv.Reorg
	for _, l := range logs {
		if l.Topics[0] != ev.ID {
			continue
		}
		vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, btcspv.Reorg{
			OldBest: chainhash.Hash(l.Topics[1]), NewBest: chainhash.Hash(l.Topics[2]),
			ForkHeight: vals[0].(uint32), Depth: vals[1].(uint32),
		})
	}
	return out
}

// TestDiffRuleTable: the table covers each rule once, and names only errors
// the contract's ABI declares, with the arguments it declares.
func TestDiffRuleTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range diffRules {
		e, ok := BtcRelayABI.Errors[r.name]
		if !ok {
			t.Fatalf("BtcRelay declares no error %s", r.name)
		}
		if seen[r.name] {
			t.Fatalf("%s appears twice", r.name)
		}
		seen[r.name] = true
		if !strings.HasPrefix(r.rule.Error(), r.name+":") {
			t.Fatalf("%s is mapped to the reference rule %q", r.name, r.rule)
		}
		if r.detail != nil && r.detail.NumSubexp() != len(r.args) {
			t.Fatalf("%s: %d groups for %d arguments", r.name, r.detail.NumSubexp(), len(r.args))
		}
		for _, a := range r.args {
			name, _, _ := strings.Cut(a, " ")
			if !slices.ContainsFunc(e.Inputs, func(in abi.Argument) bool { return in.Name == name }) {
				t.Fatalf("%s has no argument %s", r.name, name)
			}
		}
	}
	// Every custom error of the ABI but the constructor's is some rule's.
	for name := range BtcRelayABI.Errors {
		if !seen[name] && name != "InvalidConfig" {
			t.Fatalf("contract error %s is in no rule of the table", name)
		}
	}
}

// TestDiffParams: the reference's networks and the genesis builder's
// RelayParams, each derived from btcd's chaincfg on its own, agree, so the
// differential tests deploy what genesis deploys.
func TestDiffParams(t *testing.T) {
	for _, c := range []struct {
		ref   btcspv.Params
		depth uint32
	}{{btcspv.MainNet, 2016}, {btcspv.TestNet4, 144}, {btcspv.RegTest, 100}} {
		var net *chaincfg.Params
		for _, n := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet4Params, &chaincfg.RegressionNetParams} {
			if n.Name == c.ref.Name {
				net = n
			}
		}
		got, want := relayParamsOf(c.ref), NewRelayParams(net, c.depth, 200)
		if got.PowLimit.Cmp(want.PowLimit) != 0 {
			t.Fatalf("%s: powLimit %x, genesis %x", c.ref.Name, got.PowLimit, want.PowLimit)
		}
		got.PowLimit = want.PowLimit
		if got != want {
			t.Fatalf("%s: reference %+v, genesis %+v", c.ref.Name, got, want)
		}
		cp := checkpointOf(btcspv.GenesisCheckpoint(net))
		if g := GenesisCheckpoint(net); !bytes.Equal(cp.Header, g.Header) || cp.Height != g.Height || cp.Chainwork.Cmp(g.Chainwork) != 0 || len(cp.PrevTimes) != len(g.PrevTimes) {
			t.Fatalf("%s: checkpoint %+v, genesis %+v", c.ref.Name, cp, g)
		}
	}
}
