package fed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	gosync "sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg"
)

// Signer holds one member's key. It is given only references (a batch and
// version, a fee rate and nonce) and reads everything else from its own
// sidechain node, so that the process asking cannot get an arbitrary
// digest signed: LocalSigner in mmfed run's process, or mmfed signer over
// a unix socket (RemoteSigner).
type Signer interface {
	// PubKey is the member key's compressed public key.
	PubKey(ctx context.Context) ([]byte, error)
	// SignBatch returns r‖s‖v per input of the batch version, after the
	// signing rules; a refusal wraps the rule's error (ErrNotFinalized…).
	SignBatch(ctx context.Context, id uint64, version uint8) ([]byte, error)
	// SignFeeVote returns the 65-byte signature of the member's vote.
	SignFeeVote(ctx context.Context, rate uint32, nonce uint64) ([]byte, error)
}

// The refusals a signer adds to SignRules': requests that name no batch of
// its own awaiting signatures, and fee votes above its bound.
var (
	ErrNotSigning = errors.New("the batch version does not await this federation's signatures")
	ErrVoteFee    = errors.New("the fee-rate vote is outside the signer's bound")
)

// countRefusal counts err in its rule's counter, if it is a refusal.
func countRefusal(err error) {
	for rule, c := range refusals {
		if errors.Is(err, rule) {
			c.Inc(1)
		}
	}
}

// federation is what a member needs of the active epoch, fixed for its life.
type federation struct {
	epoch     uint16
	fed       bridge.Federation
	fedScript []byte
	policy    bridge.Policy
}

// readFederation reads the active epoch's federation, policy and script.
func readFederation(ctx context.Context, side *ethclient.Client) (*federation, error) {
	view := BridgeView(ctx, side)
	epoch, err := view.ActiveEpoch()
	if err != nil {
		return nil, fmt.Errorf("Bridge.activeEpoch: %w", err)
	}
	fed, err := view.Federation(epoch)
	if err != nil {
		return nil, fmt.Errorf("Bridge.federation(%d): %w", epoch, err)
	}
	policy, err := view.Policy()
	if err != nil {
		return nil, fmt.Errorf("Bridge.policy: %w", err)
	}
	var code []byte
	if err := timed(ctx, func(c context.Context) (err error) {
		code, err = side.CodeAt(c, fed.FedScript, nil)
		return err
	}); err != nil {
		return nil, err
	}
	// FedScript's code is 00 ‖ script, so that it cannot run.
	if len(code) != int(fed.ScriptLength)+1 || code[0] != 0 {
		return nil, fmt.Errorf("FedScript %v holds %d bytes, want 1 + %d", fed.FedScript, len(code), fed.ScriptLength)
	}
	return &federation{epoch: epoch, fed: fed, fedScript: code[1:], policy: policy}, nil
}

func (f *federation) batchParams() peg.BatchParams {
	return peg.BatchParams{ChainID: f.policy.ChainID, FedScript: f.fedScript, Threshold: int(f.fed.Threshold),
		MaxInputs: int(f.policy.MaxInputs), MaxOutputs: int(f.policy.MaxOutputs)}
}

// SignerConfig is what a LocalSigner runs with.
type SignerConfig struct {
	// Sidechain is the signer's own view of the chain: the batch, its
	// requests and inputs, and finality are read there.
	Sidechain *ethclient.Client
	Key       *btcec.PrivateKey
	// SignedLog is the path of the append-only log of signed inputs.
	SignedLog   string
	MaxFeeRate  int64 // sat/vB; batches and votes above it are refused
	DailyCapSat int64 // 0: off
	// Strict, when set, proves the node's word from Bitcoin before the
	// rules run (PEG.md §5.5 rule 6).
	Strict *Strict
	Log    *slog.Logger
}

// LocalSigner signs with a key in this process, after SignRules.
type LocalSigner struct {
	cfg   SignerConfig
	rules *SignRules

	mu     gosync.Mutex // one signing at a time: Check then sign
	fed    *federation  // read on first use
	member uint8
}

// NewLocalSigner checks cfg and opens the signed log.
func NewLocalSigner(cfg SignerConfig) (*LocalSigner, error) {
	switch {
	case cfg.Sidechain == nil:
		return nil, errors.New("signer: no sidechain node")
	case cfg.Key == nil:
		return nil, errors.New("signer: no member signing key")
	case cfg.SignedLog == "":
		return nil, errors.New("signer: no signed-log path: without it a restart could sign a conflicting transaction")
	case cfg.MaxFeeRate <= 0:
		return nil, fmt.Errorf("signer: the maximum fee rate must be positive, got %d", cfg.MaxFeeRate)
	case cfg.DailyCapSat < 0:
		return nil, fmt.Errorf("signer: the daily cap must not be negative, got %d", cfg.DailyCapSat)
	case cfg.Strict != nil && (cfg.Strict.Bitcoin == nil || len(cfg.Strict.Tag) == 0 || cfg.Strict.K == 0):
		return nil, errors.New("signer: strict mode needs a Bitcoin node, the network's merged-mining tag and K > 0")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	log, err := OpenSignedLog(cfg.SignedLog)
	if err != nil {
		return nil, fmt.Errorf("signed log: %w", err)
	}
	return &LocalSigner{cfg: cfg, rules: &SignRules{MaxFeeRate: cfg.MaxFeeRate, DailyCapSat: cfg.DailyCapSat, Log: log}}, nil
}

// Close closes the signed log.
func (s *LocalSigner) Close() error { return s.rules.Log.Close() }

func (s *LocalSigner) PubKey(context.Context) ([]byte, error) {
	return s.cfg.Key.PubKey().SerializeCompressed(), nil
}

// init reads the active federation and finds the key's member index in it.
func (s *LocalSigner) init(ctx context.Context) error {
	if s.fed != nil {
		return nil
	}
	f, err := readFederation(ctx, s.cfg.Sidechain)
	if err != nil {
		return err
	}
	pub := s.cfg.Key.PubKey().SerializeCompressed()
	for i, p := range f.fed.Pubkeys {
		if bytes.Equal(p, pub) {
			s.fed, s.member = f, uint8(i)
			s.rules.Params = f.batchParams()
			s.cfg.Log.Info("Signing for a federation", "member", i, "epoch", f.epoch, "threshold", f.fed.Threshold, "of", len(f.fed.Pubkeys))
			return nil
		}
	}
	return fmt.Errorf("the key %x is no member's of epoch %d", pub, f.epoch)
}

// SignBatch reads the batch from its own node and signs it if every rule
// passes; each refusal is logged and counted.
func (s *LocalSigner) SignBatch(ctx context.Context, id uint64, version uint8) (sigs []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.init(ctx); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && isRefusal(err) {
			s.cfg.Log.Error("Refused to sign a batch", "batch", id, "version", version, "err", err)
		}
	}()
	view := BridgeView(ctx, s.cfg.Sidechain)
	b, err := view.PegOutBatch(id)
	var revert *bridge.RevertError
	if errors.As(err, &revert) {
		err := fmt.Errorf("%w: batch %d: %v", ErrNotSigning, id, err)
		countRefusal(err)
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("Bridge.getPegOutBatch(%d): %w", id, err)
	}
	if b.State != bridge.BatchSigning || b.Epoch != s.fed.epoch || int(version) != b.Versions()-1 {
		err := fmt.Errorf("%w: batch %d is %v in epoch %d with %d versions; asked for version %d", ErrNotSigning,
			id, b.State, b.Epoch, b.Versions(), version)
		countRefusal(err)
		return nil, err
	}
	var final *types.Header
	if err := timed(ctx, func(c context.Context) (err error) {
		final, err = s.cfg.Sidechain.HeaderByNumber(c, big.NewInt(int64(gethrpc.FinalizedBlockNumber)))
		return err
	}); err != nil {
		return nil, fmt.Errorf("finalized block: %w", err)
	}
	ts, err := batchToSign(view, id, version, &b)
	if err != nil {
		return nil, err
	}
	var prove func() error
	if s.cfg.Strict != nil {
		prove = func() error { return s.strictCheck(ctx, ts, final.Number.Uint64()) }
	}
	if err := s.rules.Check(ts, final.Number.Uint64(), time.Now(), prove); err != nil {
		return nil, err
	}
	sigs = make([]byte, 0, peg.SigRSVLen*len(ts.Sighashes))
	for _, h := range ts.Sighashes {
		sig := peg.SignRSV(s.cfg.Key, h)
		sigs = append(sigs, sig[:]...)
	}
	s.cfg.Log.Info("Signed a peg-out batch", "batch", id, "version", version, "inputs", len(ts.Sighashes), "paidSat", ts.PaidSat)
	return sigs, nil
}

// SignFeeVote signs the member's vote for rate; the digest is built here,
// with the chain id and member index the signer read itself.
func (s *LocalSigner) SignFeeVote(ctx context.Context, rate uint32, nonce uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.init(ctx); err != nil {
		return nil, err
	}
	if rate == 0 || int64(rate) > s.cfg.MaxFeeRate {
		err := fmt.Errorf("%w: %d sat/vB, bound %d", ErrVoteFee, rate, s.cfg.MaxFeeRate)
		countRefusal(err)
		s.cfg.Log.Error("Refused to sign a fee vote", "rate", rate, "nonce", nonce, "err", err)
		return nil, err
	}
	sig := peg.SignRSV(s.cfg.Key, peg.FeeVoteDigest(s.fed.policy.ChainID, s.member, rate, nonce))
	return sig[:], nil
}

// isRefusal: err is one of the signing rules' refusals.
func isRefusal(err error) bool {
	for rule := range refusals {
		if errors.Is(err, rule) {
			return true
		}
	}
	return false
}

// batchToSign reads what the Bridge says of a batch version: its bytes,
// sighashes, requests and inputs.
func batchToSign(view *bridge.View, id uint64, v uint8, b *bridge.PegOutBatch) (*BatchToSign, error) {
	unsigned, _, hashes, err := view.PegOutTx(id, v)
	if err != nil {
		return nil, fmt.Errorf("Bridge.pegOutTx: %w", err)
	}
	ts := &BatchToSign{ID: id, Version: v, CreatedBlock: b.CreatedBlock, Unsigned: unsigned,
		FeeRate: int64(b.FeeRate[v]), ChangeSat: int64(b.ChangeSat[v]), PaidSat: int64(b.RequestedSat)}
	for _, h := range hashes {
		ts.Sighashes = append(ts.Sighashes, h)
	}
	for rid := b.FirstRequest; rid < b.FirstRequest+uint64(b.NRequests); rid++ {
		r, err := view.PegOutRequest(rid)
		if err != nil {
			return nil, fmt.Errorf("Bridge.getPegOutRequest(%d): %w", rid, err)
		}
		ts.Requests = append(ts.Requests, peg.Request{ID: rid, PkScript: r.BtcScript, AmountSat: int64(r.AmountSat)})
	}
	if ts.Inputs, err = view.PegOutInputs(b); err != nil {
		return nil, err
	}
	return ts, nil
}
