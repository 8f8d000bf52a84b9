package consensus

import (
	"errors"
	"fmt"

	gethconsensus "github.com/ethereum/go-ethereum/consensus"
)

// The header and body rules of the engine. Each rule has its own error;
// errors returned by the engine match exactly one of them with errors.Is
// (plus, where noted, the library's error they wrap), with details after
// the rule's text. The seal's own errors are in seal.go, all wrapping
// ErrMalformedSeal.
var (
	// ErrInvalidParams: the engine's Params fail Params.Validate; every
	// verification then fails with it. Enforced by New/Params.Validate.
	ErrInvalidParams = errors.New("invalid merged-mining parameters")

	// ErrInvalidNumber: a header's number must be its parent's plus one.
	// Enforced by verifyHeader (first, as geth's eip4844 helper panics on a
	// bad pair).
	ErrInvalidNumber = fmt.Errorf("%w: not parent's + 1", gethconsensus.ErrInvalidNumber)

	// ErrExtraTooLarge: header.Extra is capped at Params.MaxExtraSize before
	// it is decoded; core enforces no cap itself. Enforced by verifyHeader.
	ErrExtraTooLarge = errors.New("header extra larger than the network's maximum")

	// ErrNonZeroDifficulty: header.Difficulty is always 0 (geth runs the
	// post-merge EVM only then); the work is in the seal. Enforced by
	// verifyHeader.
	ErrNonZeroDifficulty = errors.New("header difficulty must be 0")

	// ErrNonZeroNonce: header.Nonce is 0 on networks whose difficulty is
	// anchored at genesis. Enforced by verifyHeader.
	ErrNonZeroNonce = errors.New("header nonce must be 0")

	// ErrAnchorTime: on networks anchored at their first block (daa.go),
	// header.Nonce is that block's time: block 1's own, every later block's
	// parent's. Enforced by verifyHeader.
	ErrAnchorTime = errors.New("header nonce is not the difficulty anchor's time")

	// ErrDevOperations: a seal carries dev operations (devops.go) on a
	// network whose parameters do not say dev. Enforced by verifyHeader.
	ErrDevOperations = errors.New("dev operations on a network that is not a dev network")

	// ErrUncles: no uncles, in the header (UncleHash) or in the body.
	// Enforced by verifyHeader and VerifyUncles.
	ErrUncles = errors.New("uncles are not allowed")

	// ErrTimestamp: a header's time must be strictly after its parent's.
	// Enforced by verifyHeader.
	ErrTimestamp = errors.New("timestamp not after the parent's")

	// ErrFutureBlock: a header's time may be at most Params.MaxFutureDrift
	// ahead of the local clock (unchecked when 0). It wraps geth's
	// consensus.ErrFutureBlock. Enforced by verifyHeader.
	ErrFutureBlock = fmt.Errorf("%w: beyond the allowed drift", gethconsensus.ErrFutureBlock)

	// ErrInvalidGasLimit: the gas limit moves by less than parent/1024 per
	// block, stays >= 5000 and <= 2^63-1 (geth's misc.VerifyGaslimit).
	// Enforced by verifyHeader.
	ErrInvalidGasLimit = errors.New("gas limit out of bounds")

	// ErrInvalidGasUsed: gas used may not exceed the gas limit. Enforced by
	// verifyHeader.
	ErrInvalidGasUsed = errors.New("gas used above gas limit")

	// ErrInvalidBaseFee: the base fee is EIP-1559's for the parent (geth's
	// eip1559.VerifyEIP1559Header). Enforced by verifyHeader.
	ErrInvalidBaseFee = errors.New("base fee is not EIP-1559's")

	// ErrForkFields: the header fields of the active forks are present, and
	// those of inactive forks absent: WithdrawalsHash (Shanghai),
	// ParentBeaconRoot (Cancun), RequestsHash (Prague); Amsterdam is not
	// supported. Enforced by verifyHeader.
	ErrForkFields = errors.New("header fields do not match the active forks")

	// ErrWithdrawals: no EIP-4895 withdrawals. geth core credits them itself
	// (core.PostExecution -> ProcessWithdrawals), so an accepted withdrawal
	// would mint BTC; BTC enters only through the peg. The header's
	// WithdrawalsHash must be the empty list's root and the body must carry
	// none. Enforced by verifyHeader (root) and VerifyBody (body, through
	// VerifyUncles and the chain's side-block path).
	ErrWithdrawals = errors.New("withdrawals are not allowed: they would mint BTC")

	// ErrParentBeaconRoot: ParentBeaconRoot is the zero hash; there is no
	// beacon chain, and the field must have one valid value rather than be
	// free data that changes the block hash. Enforced by verifyHeader.
	ErrParentBeaconRoot = errors.New("parent beacon root must be zero")

	// ErrBlobGas: no blobs: BlobGasUsed and ExcessBlobGas are present and 0
	// (and pass geth's eip4844.VerifyEIP4844Header). Because core's
	// ValidateBody requires BlobGasUsed to match the blobs of the body, this
	// rule alone already makes any blob transaction invalid. Enforced by
	// verifyHeader.
	ErrBlobGas = errors.New("blob gas must be 0: blobs are not supported")

	// ErrBlobTransaction: a block body carries a blob transaction. Enforced
	// by VerifyUncles, the one engine hook that sees the body (core's
	// ValidateBody calls it before its own blob-gas check), so such a block
	// is refused with this error rather than core's blob gas mismatch.
	ErrBlobTransaction = errors.New("blob transactions are not supported")

	// ErrInvalidMixDigest: MixDigest (PREVRANDAO) is the SHA256d of the
	// parent's Bitcoin header, zero when the parent has none (genesis).
	// Enforced by verifyHeader.
	ErrInvalidMixDigest = errors.New("mix digest is not the hash of the parent's Bitcoin header")

	// ErrWrongDifficulty: the seal's difficulty is the ASERT value for the
	// parent (daa.go). Enforced by verifyHeader.
	ErrWrongDifficulty = errors.New("seal difficulty differs from the difficulty adjustment")

	// ErrMissingProof: every block but genesis carries a merged-mining
	// proof. Enforced by verifyHeader.
	ErrMissingProof = errors.New("seal has no merged-mining proof")

	// ErrInvalidProof: the proof fails mergemine.Verify against the seal
	// hash, the seal difficulty and the network's tag; the mergemine rule
	// error is wrapped too. Enforced by verifyHeader.
	ErrInvalidProof = errors.New("invalid merged-mining proof")

	// ErrBitcoinTimeDrift: |bitcoinHeader.time - header.Time| <
	// Params.MaxBitcoinTimeDrift (RSKIP179; unchecked when 0). Enforced by
	// verifyHeader.
	ErrBitcoinTimeDrift = errors.New("block time too far from the Bitcoin header time")

	// ErrSealNotSupported is returned by Engine.Seal: blocks are sealed by
	// merged mining, through the work server, not by the engine.
	ErrSealNotSupported = errors.New("the engine does not seal: blocks are sealed by merged mining")
)
