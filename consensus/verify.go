package consensus

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"runtime"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/misc"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mmgeth/mmgeth/mergemine"
)

// VerifyHeader checks a header against its parent, which must be known to
// chain.
func (e *Engine) VerifyHeader(chain gethconsensus.ChainHeaderReader, header *types.Header) error {
	return e.verifyHeaderAt(chain, []*types.Header{header}, 0, time.Now())
}

// VerifyHeaders checks a batch of headers on a pool of goroutines, one per
// CPU, as the proof and difficulty checks of one header do not depend on
// the verdict on the others. Each header's parent is the previous header of
// the batch when it links to it, else it is looked up in chain. Results
// come out in the order of headers; closing (or sending on) the returned
// channel abandons the rest.
func (e *Engine) VerifyHeaders(chain gethconsensus.ChainHeaderReader, headers []*types.Header) (chan<- struct{}, <-chan error) {
	abort := make(chan struct{})
	results := make(chan error, len(headers))
	if len(headers) == 0 {
		return abort, results
	}
	var (
		now     = time.Now()
		workers = min(runtime.GOMAXPROCS(0), len(headers))
		inputs  = make(chan int)
		done    = make(chan int, workers)
		errs    = make([]error, len(headers))
	)
	for range workers {
		go func() {
			for i := range inputs {
				errs[i] = e.verifyHeaderAt(chain, headers, i, now)
				done <- i
			}
		}()
	}
	go func() {
		defer close(inputs)
		var (
			next    = 0
			out     = 0
			checked = make([]bool, len(headers))
			feed    = inputs
		)
		for {
			select {
			case feed <- next:
				if next++; next == len(headers) {
					feed = nil // all handed out; only collect from now on
				}
			case i := <-done:
				// errs[i] was written before i was sent on done.
				for checked[i] = true; out < len(headers) && checked[out]; out++ {
					results <- errs[out] // buffered for every header: never blocks
				}
				if out == len(headers) {
					return
				}
			case <-abort:
				return
			}
		}
	}()
	return abort, results
}

// verifyHeaderAt verifies headers[i] of a batch, finding its parent.
func (e *Engine) verifyHeaderAt(chain gethconsensus.ChainHeaderReader, headers []*types.Header, i int, now time.Time) error {
	if e.paramsErr != nil {
		return e.paramsErr
	}
	header := headers[i]
	if !validNumber(header) {
		return ErrInvalidNumber
	}
	hash := header.Hash()
	if e.verified.Contains(hash) {
		// RLP writes an optional field left nil as its zero value when a
		// later one is set, so a header built in-process can hash like a
		// verified one without its fields: those rules run again.
		return verifyPresence(chain.Config(), header)
	}
	var parent *types.Header
	if i > 0 && headers[i-1].Hash() == header.ParentHash {
		parent = headers[i-1]
	} else {
		parent = chain.GetHeader(header.ParentHash, header.Number.Uint64()-1)
	}
	if parent == nil {
		return gethconsensus.ErrUnknownAncestor
	}
	if err := e.verifyHeader(chain, header, parent, now); err != nil {
		return err
	}
	e.verified.Add(hash, struct{}{})
	return nil
}

// VerifyUncles holds the engine's body rules, as it is the only hook of
// geth's Engine that sees the body (core's ValidateBody calls it first).
func (e *Engine) VerifyUncles(chain gethconsensus.ChainReader, block *types.Block) error {
	return e.VerifyBody(block.Body())
}

// VerifyBody applies the body rules: no uncles, no withdrawals (core would
// credit them: they would mint BTC), no blob transactions, and impersonated
// transactions only on dev networks and well formed. The header rules
// already require the roots of an empty uncle and withdrawal list; these
// make the body agree without hashing it.
func (e *Engine) VerifyBody(body *types.Body) error {
	if n := len(body.Uncles); n > 0 {
		return fmt.Errorf("%w: block has %d", ErrUncles, n)
	}
	if n := len(body.Withdrawals); n > 0 {
		return fmt.Errorf("%w: body carries %d", ErrWithdrawals, n)
	}
	for i, tx := range body.Transactions {
		if tx.Type() == types.BlobTxType || len(tx.BlobHashes()) > 0 {
			return fmt.Errorf("%w: transaction %d (%x)", ErrBlobTransaction, i, tx.Hash())
		}
		_, impersonated, err := ImpersonatedSender(tx)
		switch {
		case err != nil:
			return fmt.Errorf("transaction %d (%x): %w", i, tx.Hash(), err)
		case impersonated && !e.params.Dev:
			return fmt.Errorf("%w: transaction %d (%x) on a network that is not a dev network", ErrImpersonation, i, tx.Hash())
		}
	}
	return nil
}

// validNumber reports whether a header has a number its parent can precede.
func validNumber(h *types.Header) bool {
	return h.Number != nil && h.Number.Sign() > 0 && h.Number.IsUint64()
}

// verifyHeader applies every header rule (errors.go) to header, whose parent
// is parent. The cheap structural rules come first, the proof last.
func (e *Engine) verifyHeader(chain gethconsensus.ChainHeaderReader, header, parent *types.Header, now time.Time) error {
	cfg := chain.Config()
	if parent.Number == nil || header.Number.Uint64() != parent.Number.Uint64()+1 {
		return fmt.Errorf("%w: have %v, parent %v", ErrInvalidNumber, header.Number, parent.Number)
	}
	if uint64(len(header.Extra)) > e.params.MaxExtraSize {
		return fmt.Errorf("%w: %d > %d bytes", ErrExtraTooLarge, len(header.Extra), e.params.MaxExtraSize)
	}
	seal, err := DecodeSeal(header.Extra)
	if err != nil {
		return err
	}
	if header.Difficulty == nil || header.Difficulty.Sign() != 0 {
		return fmt.Errorf("%w: have %v", ErrNonZeroDifficulty, header.Difficulty)
	}
	if len(seal.Ops) > 0 && !e.params.Dev {
		return fmt.Errorf("%w: %d operations", ErrDevOperations, len(seal.Ops))
	}
	baseFee, gasLimit := headerOverrides(seal.Ops)
	if header.UncleHash != types.EmptyUncleHash {
		return fmt.Errorf("%w: uncle hash %x", ErrUncles, header.UncleHash)
	}
	if header.Time <= parent.Time {
		return fmt.Errorf("%w: %d <= %d", ErrTimestamp, header.Time, parent.Time)
	}
	if drift, clock := e.params.MaxFutureDrift, uint64(now.Unix()); drift > 0 && header.Time > clock && header.Time-clock > drift {
		return fmt.Errorf("%w: %d is %ds ahead of the clock, max %d", ErrFutureBlock, header.Time, header.Time-clock, drift)
	}
	// After the time rules: block 1's nonce is its time, so a bad time
	// is reported as such, not as the nonce that follows from it.
	if want := e.anchorNonce(header, parent); header.Nonce != want {
		if e.params.anchoredAtFirstBlock() {
			return fmt.Errorf("%w: have %d, want %d", ErrAnchorTime, header.Nonce.Uint64(), want.Uint64())
		}
		return fmt.Errorf("%w: have %x", ErrNonZeroNonce, header.Nonce)
	}
	if header.GasLimit > params.MaxGasLimit {
		return fmt.Errorf("%w: %d above %d", ErrInvalidGasLimit, header.GasLimit, params.MaxGasLimit)
	}
	if gasLimit != nil {
		// A dev block's declared gas limit (OpGasLimit) replaces the bound.
		if header.GasLimit != *gasLimit {
			return fmt.Errorf("%w: %d, the block declares %d", ErrInvalidGasLimit, header.GasLimit, *gasLimit)
		}
	} else if err := misc.VerifyGaslimit(parent.GasLimit, header.GasLimit); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidGasLimit, err)
	}
	if header.GasUsed > header.GasLimit {
		return fmt.Errorf("%w: %d > %d", ErrInvalidGasUsed, header.GasUsed, header.GasLimit)
	}
	switch {
	case !cfg.IsLondon(header.Number):
		if header.BaseFee != nil {
			return fmt.Errorf("%w: base fee before London", ErrInvalidBaseFee)
		}
	case baseFee != nil || gasLimit != nil:
		// geth's check below would judge the gas limit too; a dev block
		// that declares either gets the base fee rule alone.
		want := baseFee
		if want == nil {
			want = eip1559.CalcBaseFee(cfg, parent)
		}
		if header.BaseFee == nil || header.BaseFee.Cmp(want) != 0 {
			return fmt.Errorf("%w: have %v, want %v", ErrInvalidBaseFee, header.BaseFee, want)
		}
	default:
		// The gas limit half of this check passed above.
		if err := eip1559.VerifyEIP1559Header(cfg, parent, header); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidBaseFee, err)
		}
	}
	if err := verifyForkFields(cfg, header); err != nil {
		return err
	}
	if h := header.WithdrawalsHash; h != nil && *h != types.EmptyWithdrawalsHash {
		return fmt.Errorf("%w: withdrawals root %x", ErrWithdrawals, *h)
	}
	if r := header.ParentBeaconRoot; r != nil && *r != (common.Hash{}) {
		return fmt.Errorf("%w: have %x", ErrParentBeaconRoot, *r)
	}
	if err := verifyNoBlobs(cfg, parent, header); err != nil {
		return err
	}
	mix, err := mixDigest(parent)
	if err != nil {
		return err
	}
	if header.MixDigest != mix {
		return fmt.Errorf("%w: have %x, want %x", ErrInvalidMixDigest, header.MixDigest, mix)
	}
	want, err := e.NextDifficulty(parent)
	if err != nil {
		return err
	}
	if seal.Difficulty.Cmp(want) != 0 {
		return fmt.Errorf("%w: have %v, want %v", ErrWrongDifficulty, seal.Difficulty, want)
	}
	return e.verifyProof(seal.Proof, sealHash(header, seal), seal.Difficulty, header.Time)
}

// VerifyProof checks a merged-mining proof for the header whose seal hash
// is sealHash, at the seal's difficulty and the block time: the proof rules
// of verifyHeader, with the same errors. The work server calls it before it
// attaches a submitted proof to a template, so that a bogus share costs no
// more than this check; a proof that passes is remembered, and verifying the
// sealed header later does not check it again.
func (e *Engine) VerifyProof(p *mergemine.Proof, sealHash common.Hash, difficulty *big.Int, blockTime uint64) error {
	if e.paramsErr != nil {
		return e.paramsErr
	}
	if difficulty == nil || difficulty.Sign() <= 0 || difficulty.Cmp(two256) > 0 {
		return fmt.Errorf("%w: %v", ErrSealDifficulty, difficulty)
	}
	return e.verifyProof(p, sealHash, difficulty, blockTime)
}

func (e *Engine) verifyProof(p *mergemine.Proof, sealHash common.Hash, difficulty *big.Int, blockTime uint64) error {
	if p == nil {
		return ErrMissingProof
	}
	key := provenKey(p, sealHash, difficulty)
	if !e.proven.Contains(key) {
		e.proofChecks.Add(1)
		if err := mergemine.Verify(p, sealHash, difficulty, e.tag); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
		e.proven.Add(key, struct{}{})
	}
	if maxDrift := e.params.MaxBitcoinTimeDrift; maxDrift > 0 {
		btc, err := mergemine.ParseHeader(p.BitcoinHeader)
		if err != nil { // unreachable after Verify, which checks the size
			return fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
		btcTime := uint64(btc.Timestamp.Unix())
		drift := max(btcTime, blockTime) - min(btcTime, blockTime)
		if drift >= maxDrift {
			return fmt.Errorf("%w: Bitcoin time %d, block time %d, max drift %d", ErrBitcoinTimeDrift, btcTime, blockTime, maxDrift)
		}
	}
	return nil
}

// provenKey names one call of mergemine.Verify: the proof's parts, the
// committed hash and the difficulty, each length-prefixed so that no two
// calls share a key (the tag is the engine's). The cache it keys is a memo
// of a pure function, so a hit is exactly as good as checking again.
func provenKey(p *mergemine.Proof, sealHash common.Hash, difficulty *big.Int) common.Hash {
	h := crypto.NewKeccakState()
	var n [8]byte
	for _, part := range [][]byte{p.BitcoinHeader, p.MerkleProof, p.Coinbase, sealHash[:], difficulty.Bytes()} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var key common.Hash
	h.Read(key[:])
	return key
}

// verifyForkFields checks that the optional header fields are present
// exactly when the fork that introduced them is active.
func verifyForkFields(cfg *params.ChainConfig, h *types.Header) error {
	fields := []struct {
		name    string
		active  bool
		present bool
	}{
		{"withdrawalsHash (Shanghai)", cfg.IsShanghai(h.Number, h.Time), h.WithdrawalsHash != nil},
		{"parentBeaconRoot (Cancun)", cfg.IsCancun(h.Number, h.Time), h.ParentBeaconRoot != nil},
		{"requestsHash (Prague)", cfg.IsPrague(h.Number, h.Time), h.RequestsHash != nil},
		// Amsterdam is unsupported: the engine has no source for a slot number.
		{"blockAccessListHash (Amsterdam)", false, h.BlockAccessListHash != nil},
		{"slotNumber (Amsterdam)", false, h.SlotNumber != nil},
	}
	for _, f := range fields {
		if f.active != f.present {
			return fmt.Errorf("%w: %s present=%v, fork active=%v", ErrForkFields, f.name, f.present, f.active)
		}
	}
	if cfg.IsAmsterdam(h.Number, h.Time) {
		return fmt.Errorf("%w: Amsterdam is not supported", ErrForkFields)
	}
	return nil
}

// verifyPresence is the part of the header rules that a verified header's
// hash does not settle: which optional fields are set.
func verifyPresence(cfg *params.ChainConfig, h *types.Header) error {
	if err := verifyForkFields(cfg, h); err != nil {
		return err
	}
	if (h.BaseFee != nil) != cfg.IsLondon(h.Number) {
		return fmt.Errorf("%w: base fee present=%v", ErrInvalidBaseFee, h.BaseFee != nil)
	}
	if cancun := cfg.IsCancun(h.Number, h.Time); (h.BlobGasUsed != nil) != cancun || (h.ExcessBlobGas != nil) != cancun {
		return fmt.Errorf("%w: blob gas fields present=%v/%v, Cancun active=%v", ErrBlobGas, h.BlobGasUsed != nil, h.ExcessBlobGas != nil, cancun)
	}
	return nil
}

// verifyNoBlobs checks the EIP-4844 fields: present from Cancun on and
// always 0, as this chain carries no blobs.
func verifyNoBlobs(cfg *params.ChainConfig, parent, h *types.Header) error {
	if !cfg.IsCancun(h.Number, h.Time) {
		if h.BlobGasUsed != nil || h.ExcessBlobGas != nil {
			return fmt.Errorf("%w: blob gas fields before Cancun", ErrBlobGas)
		}
		return nil
	}
	if h.BlobGasUsed == nil || *h.BlobGasUsed != 0 {
		return fmt.Errorf("%w: blobGasUsed %v", ErrBlobGas, fmtOptional(h.BlobGasUsed))
	}
	if h.ExcessBlobGas == nil || *h.ExcessBlobGas != 0 {
		return fmt.Errorf("%w: excessBlobGas %v", ErrBlobGas, fmtOptional(h.ExcessBlobGas))
	}
	if err := eip4844.VerifyEIP4844Header(cfg, parent, h); err != nil {
		return fmt.Errorf("%w: %v", ErrBlobGas, err)
	}
	return nil
}

func fmtOptional(v *uint64) string {
	if v == nil {
		return "missing"
	}
	return fmt.Sprint(*v)
}
