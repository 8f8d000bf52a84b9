package consensus

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/mergemine"
)

// SealVersion is the only seal layout defined so far.
const SealVersion = 1

// MaxVanitySize caps the free-form bytes a miner may put in the seal, as
// geth caps Extra for proof-of-stake blocks.
const MaxVanitySize = 32

// Seal errors. Each wraps ErrMalformedSeal, the header rule they break.
var (
	ErrMalformedSeal  = errors.New("malformed seal in header extra")
	ErrSealVersion    = fmt.Errorf("%w: unsupported seal version", ErrMalformedSeal)
	ErrSealDifficulty = fmt.Errorf("%w: seal difficulty out of range (0, 2^256]", ErrMalformedSeal)
	ErrVanityTooLong  = fmt.Errorf("%w: vanity longer than %d bytes", ErrMalformedSeal, MaxVanitySize)
)

// Seal is what header.Extra holds: RLP [Version, Difficulty, Vanity, Proof,
// Ops]. Proof is absent in the genesis seal and in the templates miners work
// on, so the seal hash is computed over the seal without it. Ops, the dev
// operations the block applies (devops.go), are absent on every block of a
// non-dev network, so their seals are [Version, Difficulty, Vanity, Proof]
// exactly as before Ops existed; a template with Ops and no proof encodes
// the missing proof as an empty list ("nil" tag).
type Seal struct {
	Version    uint64
	Difficulty *big.Int
	Vanity     []byte
	Proof      *mergemine.Proof `rlp:"optional,nil"`
	Ops        []DevOp          `rlp:"optional"`
}

// DecodeSeal parses header.Extra. It is strict so that one header has one
// encoding: rlp rejects non-canonical integers, extra list elements and
// trailing bytes; the version must be SealVersion, the difficulty within
// (0, 2^256], the vanity at most MaxVanitySize bytes, each dev operation in
// its one encoding, and the whole the encoding Bytes writes. The proof is
// only parsed here; mergemine.Verify judges it, and whether the network
// allows dev operations is the engine's rule.
func DecodeSeal(extra []byte) (*Seal, error) {
	var s Seal
	if err := rlp.DecodeBytes(extra, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedSeal, err)
	}
	switch {
	case s.Version != SealVersion:
		return nil, fmt.Errorf("%w: have %d, want %d", ErrSealVersion, s.Version, SealVersion)
	case s.Difficulty.Sign() <= 0 || s.Difficulty.Cmp(two256) > 0:
		return nil, fmt.Errorf("%w: %v", ErrSealDifficulty, s.Difficulty)
	case len(s.Vanity) > MaxVanitySize:
		return nil, fmt.Errorf("%w: %d bytes", ErrVanityTooLong, len(s.Vanity))
	}
	if err := validateOps(s.Ops); err != nil {
		return nil, err
	}
	// The optional fields give some seals a second encoding (an empty Ops
	// list written out, an empty proof before no Ops): only the one Bytes
	// writes is valid.
	if !bytes.Equal(s.Bytes(), extra) {
		return nil, fmt.Errorf("%w: not the canonical encoding", ErrMalformedSeal)
	}
	return &s, nil
}

// Bytes returns the RLP encoding of the seal, or nil if it has none: a nil
// or negative difficulty, which DecodeSeal never returns.
func (s *Seal) Bytes() []byte {
	if s.Ops != nil && len(s.Ops) == 0 {
		// rlp writes a non-nil empty optional list; no Ops is written as none.
		c := *s
		c.Ops = nil
		s = &c
	}
	b, err := rlp.EncodeToBytes(s)
	if err != nil {
		return nil
	}
	return b
}

// withoutProof returns a copy of the seal as miners see it in a template.
func (s *Seal) withoutProof() *Seal {
	return &Seal{Version: s.Version, Difficulty: s.Difficulty, Vanity: s.Vanity, Ops: s.Ops}
}

// SealHash is the hash miners commit to in the Bitcoin coinbase (Rootstock's
// hashForMergedMining): keccak256 of the header's RLP with Extra replaced by
// the seal re-encoded without its proof. It commits to the difficulty and
// to every other header field, and cannot commit to the proof that carries
// it. A header whose Extra is not a valid seal is hashed as it is; the
// engine rejects such headers before it needs a seal hash.
func SealHash(h *types.Header) common.Hash {
	s, err := DecodeSeal(h.Extra)
	if err != nil {
		return h.Hash()
	}
	return sealHash(h, s)
}

// sealHash is SealHash for a header whose seal s is already decoded.
func sealHash(h *types.Header, s *Seal) common.Hash {
	if s.Proof == nil {
		return h.Hash()
	}
	unsealed := *h
	unsealed.Extra = s.withoutProof().Bytes()
	return unsealed.Hash()
}
