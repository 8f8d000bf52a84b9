package consensus

import (
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/lru"
	gethconsensus "github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/mmgeth/mmgeth/evm"
	"github.com/mmgeth/mmgeth/mergemine"
)

// Engine is the merged-mining consensus engine: go-ethereum's
// consensus.Engine for a chain whose blocks carry a Bitcoin merged-mining
// proof in header.Extra. It keeps no state besides its parameters and is
// safe for concurrent use.
type Engine struct {
	params    Params
	tag       []byte
	paramsErr error // Params.Validate's verdict; every check fails with it

	// The ASERT anchor (daa.go): read from the genesis seal once, at
	// construction, rather than looked up and decoded per header.
	anchorDifficulty *big.Int
	anchorTime       uint64

	// verified holds the hashes of headers that passed every rule. A hash
	// commits to the parent and every field, so a header verified when a
	// peer announced it need not be verified again when geth's InsertChain
	// asks: each proof is checked once per block.
	verified *lru.Cache[common.Hash, struct{}]
	// proven holds the proofs that passed mergemine.Verify (provenKey), so
	// that a proof the work server checked before sealing a template is not
	// checked again when the sealed header is verified.
	proven      *lru.Cache[common.Hash, struct{}]
	proofChecks atomic.Uint64
}

var _ gethconsensus.Engine = (*Engine)(nil)

// verifiedCacheSize bounds the verified-header cache: more than the headers
// sync verifies ahead of their import (p2p: at most six batches of 192) and
// the blocks announced meanwhile.
const verifiedCacheSize = 4096

// provenCacheSize bounds the proven-proof cache: a proof is looked up at
// most a few blocks after it was checked ahead of its header.
const provenCacheSize = 256

// New returns an engine for the network parameters p on the chain whose
// genesis header is genesis. Invalid parameters or a genesis without a valid
// seal do not panic: the engine then refuses every header and template with
// that error (matching ErrInvalidParams).
func New(p Params, genesis *types.Header) *Engine {
	e := &Engine{params: p, tag: []byte(p.Tag), paramsErr: p.Validate(), verified: lru.NewCache[common.Hash, struct{}](verifiedCacheSize),
		proven: lru.NewCache[common.Hash, struct{}](provenCacheSize)}
	if p.MinDifficulty != nil {
		e.params.MinDifficulty = new(big.Int).Set(p.MinDifficulty)
	}
	if e.paramsErr == nil {
		e.paramsErr = e.setAnchor(genesis)
	}
	return e
}

func (e *Engine) setAnchor(genesis *types.Header) error {
	if genesis == nil || genesis.Number == nil || genesis.Number.Sign() != 0 {
		return fmt.Errorf("%w: no genesis header for the difficulty anchor", ErrInvalidParams)
	}
	s, err := DecodeSeal(genesis.Extra)
	if err != nil {
		return fmt.Errorf("%w: genesis seal: %w", ErrInvalidParams, err)
	}
	e.anchorDifficulty, e.anchorTime = s.Difficulty, genesis.Time
	return nil
}

// ProofChecks counts the merged-mining proofs this engine has verified;
// tests use it to show that a block's proof is checked once.
func (e *Engine) ProofChecks() uint64 { return e.proofChecks.Load() }

// Params returns the engine's network parameters.
func (e *Engine) Params() Params {
	p := e.params
	if p.MinDifficulty != nil {
		p.MinDifficulty = new(big.Int).Set(p.MinDifficulty)
	}
	return p
}

// Author returns the coinbase: the merged miner's sidechain address, which
// the miner chose in the template it committed to.
func (e *Engine) Author(header *types.Header) (common.Address, error) {
	return header.Coinbase, nil
}

// NextDifficulty is the seal difficulty required of the child of parent:
// ASERT anchored at the chain's genesis, or at its first block on networks
// whose Params.Anchor says so (daa.go). It fails only when the engine's
// parameters are invalid.
func (e *Engine) NextDifficulty(parent *types.Header) (*big.Int, error) {
	if e.paramsErr != nil {
		return nil, e.paramsErr
	}
	if parent == nil || parent.Number == nil {
		return nil, gethconsensus.ErrUnknownAncestor
	}
	number := parent.Number.Uint64()
	if !e.params.anchoredAtFirstBlock() {
		return e.params.asertDifficulty(e.anchorDifficulty, e.anchorTime, number, parent.Time), nil
	}
	if number == 0 {
		// Block 1 is the anchor: it keeps the genesis difficulty.
		return new(big.Int).Set(e.anchorDifficulty), nil
	}
	// Block 1 kept the genesis difficulty, and every block from it on
	// carries block 1's time in its nonce (anchorNonce).
	return e.params.asertDifficulty(e.anchorDifficulty, parent.Nonce.Uint64(), number-1, parent.Time), nil
}

// anchorNonce is the one valid header.Nonce of header, child of parent: 0
// on networks anchored at genesis; on networks anchored at their first
// block, the anchor's time: block 1's own time, then the parent's nonce, so
// that each header proves the anchor time its difficulty used from its
// parent alone.
func (e *Engine) anchorNonce(header, parent *types.Header) types.BlockNonce {
	switch {
	case !e.params.anchoredAtFirstBlock():
		return types.BlockNonce{}
	case header.Number.Uint64() == 1:
		return types.EncodeNonce(header.Time)
	}
	return parent.Nonce
}

// Prepare fills the consensus fields of a template: Difficulty 0, Nonce
// (anchorNonce: 0, or the difficulty anchor's time; set header.Time first),
// MixDigest from the parent's Bitcoin header, and Extra = the seal without
// proof at the required difficulty. Whatever the caller put in Extra
// beforehand (as geth's miner does with its extra data) becomes the seal's
// vanity, so it must be at most MaxVanitySize bytes.
func (e *Engine) Prepare(chain gethconsensus.ChainHeaderReader, header *types.Header) error {
	if e.paramsErr != nil {
		return e.paramsErr
	}
	if header.Number == nil || header.Number.Sign() <= 0 || !header.Number.IsUint64() {
		return ErrInvalidNumber
	}
	if len(header.Extra) > MaxVanitySize {
		return fmt.Errorf("%w: %d bytes", ErrVanityTooLong, len(header.Extra))
	}
	parent := chain.GetHeader(header.ParentHash, header.Number.Uint64()-1)
	if parent == nil {
		return gethconsensus.ErrUnknownAncestor
	}
	difficulty, err := e.NextDifficulty(parent)
	if err != nil {
		return err
	}
	mix, err := mixDigest(parent)
	if err != nil {
		return err
	}
	header.Difficulty = new(big.Int)
	header.Nonce = e.anchorNonce(header, parent)
	header.MixDigest = mix
	seal := &Seal{Version: SealVersion, Difficulty: difficulty, Vanity: common.CopyBytes(header.Extra)}
	header.Extra = seal.Bytes()
	return nil
}

// Finalize credits the block's base fees, baseFee*gasUsed, to the coinbase
// instead of burning them, so that supply only changes through the peg.
// Tips are already paid by geth's state transition; there is no subsidy.
// On dev networks it then applies the seal's dev operations, in order
// (devops.go): they change state by fiat, so there the supply is whatever
// the operator set. verifyHeader refuses operations on other networks, so
// none reaches here.
func (e *Engine) Finalize(chain gethconsensus.ChainHeaderReader, header *types.Header, state vm.StateDB, body *types.Body) {
	evm.CreditBaseFee(state, header)
	if !e.params.Dev {
		return
	}
	if seal, err := DecodeSeal(header.Extra); err == nil {
		applyOps(state, seal.Ops)
	}
}

// Seal always fails: a block is sealed when a Bitcoin miner's proof for
// its seal hash reaches the work server, never by the engine.
func (e *Engine) Seal(chain gethconsensus.ChainHeaderReader, block *types.Block, results chan<- *types.Block, stop <-chan struct{}) error {
	return ErrSealNotSupported
}

// SealHash is the hash a merged miner commits to; see SealHash.
func (e *Engine) SealHash(header *types.Header) common.Hash {
	return SealHash(header)
}

// CalcDifficulty returns 0, the value of header.Difficulty on every block.
// The sidechain difficulty lives in the seal; see NextDifficulty.
func (e *Engine) CalcDifficulty(chain gethconsensus.ChainHeaderReader, time uint64, parent *types.Header) *big.Int {
	return new(big.Int)
}

// Close does nothing: the engine runs no background work.
func (e *Engine) Close() error {
	return nil
}

// mixDigest is the PREVRANDAO of the child of parent: the SHA256d of the
// parent's Bitcoin header in wire order, or zero if the parent has no proof
// (only genesis). Nobody knows it before the parent is mined.
func mixDigest(parent *types.Header) (common.Hash, error) {
	s, err := DecodeSeal(parent.Extra)
	if err != nil {
		return common.Hash{}, fmt.Errorf("parent %x: %w", parent.Hash(), err)
	}
	if s.Proof == nil {
		return common.Hash{}, nil
	}
	return common.Hash(mergemine.HeaderHash(s.Proof.BitcoinHeader)), nil
}
