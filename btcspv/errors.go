package btcspv

import (
	"errors"
	"fmt"
)

// The rules of ReceiveHeaders, in the order PEG.md §2.3 applies them. Each is
// named after the custom error BtcRelay reverts with (PEG.md §8), so that the
// differential tests of §10.4 can compare error classes one to one. Every
// error ReceiveHeaders returns matches exactly one of them with errors.Is.
var (
	// ErrBadHeadersLength: the batch is not a positive whole number of
	// 80-byte headers. An empty batch is refused here too: there is no
	// separate EmptyBatch error in the contract's ABI.
	ErrBadHeadersLength = errors.New("BadHeadersLength: the batch is not n×80 bytes with n ≥ 1")

	// ErrTooManyHeaders: more than Params.MaxHeadersPerCall headers, which
	// bounds a batch's gas to about 14M (PEG.md §2.5).
	ErrTooManyHeaders = errors.New("TooManyHeaders: the batch holds more headers than allowed per call")

	// ErrUnknownParent: the header's previous-block hash is not a stored
	// header. Headers must come parent first, from the checkpoint on.
	ErrUnknownParent = errors.New("UnknownParent: the previous block is not known")

	// ErrBadBits: nBits decodes to a target that is zero, negative or above
	// the network's proof-of-work limit. btcd: blockchain/validate.go
	// checkProofOfWork (its first two checks).
	ErrBadBits = errors.New("BadBits: nBits is not a positive target within the proof-of-work limit")

	// ErrInsufficientPoW: the header hash, read as a little-endian number,
	// is above the target its own nBits claims. btcd: checkProofOfWork
	// (ErrHighHash).
	ErrInsufficientPoW = errors.New("InsufficientPoW: the header hash is above its target")

	// ErrUnexpectedBits: nBits is not what the retarget rules require after
	// the parent. btcd: blockchain/difficulty.go calcNextRequiredDifficulty,
	// checked in validate.go CheckBlockHeaderContext.
	ErrUnexpectedBits = errors.New("UnexpectedBits: nBits differs from the required difficulty")

	// ErrTimeTooOld: the timestamp is not after the median of the last 11
	// timestamps ending at the parent. btcd: CheckBlockHeaderContext with
	// blockindex.go CalcPastMedianTime.
	ErrTimeTooOld = errors.New("TimeTooOld: the timestamp is not after the median time past")

	// ErrTimeTooNew: the timestamp is more than two hours after the caller's
	// clock (the sidechain block time stands in for btcd's adjusted time).
	// btcd: validate.go CheckBlockHeaderSanity (MaxTimeOffsetSeconds).
	ErrTimeTooNew = errors.New("TimeTooNew: the timestamp is more than two hours in the future")

	// ErrTimeWarp: BIP-94 (testnet4): the first block of a retarget period
	// may not be more than 600 s older than its parent. btcd: validate.go
	// assertNoTimeWarp.
	ErrTimeWarp = errors.New("TimeWarp: a retarget block is more than 600 s older than its parent")

	// ErrBadVersion: versions below 2, 3 and 4 are refused from the BIP-34,
	// BIP-66 and BIP-65 heights on. btcd: CheckBlockHeaderContext
	// (ErrBlockVersionTooOld).
	ErrBadVersion = errors.New("BadVersion: the block version is outdated at this height")

	// ErrForkTooDeep: the header's branch leaves the best chain more than
	// Params.MaxForkDepth blocks below the tip. btcd has no such rule (it
	// stops forks at checkpoints instead); it bounds the contract's reorg
	// walk (PEG.md §2.4).
	ErrForkTooDeep = errors.New("ForkTooDeep: the branch forks too far below the best tip")

	// ErrChainworkOverflow: the cumulative work no longer fits in 128 bits,
	// the width BtcRelay stores. Rootstock wrapped instead and stopped
	// (RSKIP434).
	ErrChainworkOverflow = errors.New("ChainworkOverflow: cumulative chainwork exceeds 128 bits")
)

// The checks of VerifyInclusion, in PEG.md §3's order, named after the
// contract's custom errors.
var (
	// ErrBadHeaderLength: the proof's header is not 80 bytes.
	ErrBadHeaderLength = errors.New("BadHeaderLength: the proof's header is not 80 bytes")

	// ErrBlockNotInBestChain: the header is not the best chain's block at
	// the claimed height; an unknown header gives the same error.
	ErrBlockNotInBestChain = errors.New("BlockNotInBestChain: the header is not in the best chain at the claimed height")

	// ErrInsufficientConfirmations: the block is in the best chain but not
	// yet deep enough.
	ErrInsufficientConfirmations = errors.New("InsufficientConfirmations: the block has fewer confirmations than required")

	// ErrMalformedProof: the tx branch is not whole 32-byte hashes, or it is
	// deeper than MaxMerkleDepth.
	ErrMalformedProof = errors.New("MalformedProof: the tx branch is not d×32 bytes with d ≤ 20")

	// ErrDepthMismatch: the coinbase branch and the tx branch differ in
	// length, so the coinbase cannot pin the tree's depth.
	ErrDepthMismatch = errors.New("DepthMismatch: the coinbase branch and the tx branch differ in length")

	// ErrBadTxIndex: index 0 (the coinbase, never a deposit) or an index the
	// branch's depth cannot reach.
	ErrBadTxIndex = errors.New("BadTxIndex: the tx index is 0 or beyond the branch's depth")

	// ErrMerkleMismatch: the txid folded along the branch does not give the
	// header's merkle root.
	ErrMerkleMismatch = errors.New("MerkleMismatch: the txid and branch do not lead to the header's merkle root")

	// ErrCoinbaseProofMismatch: SHA-256 of the coinbase preimage folded
	// along the coinbase branch at index 0 does not give the merkle root.
	ErrCoinbaseProofMismatch = errors.New("CoinbaseProofMismatch: the coinbase preimage and branch do not lead to the merkle root")
)

// The transaction parser's errors (PEG.md §3).
var (
	// ErrMalformedTx: the bytes are not one canonical non-witness
	// transaction. Returned errors are *TxError, which carry the offset.
	ErrMalformedTx = errors.New("MalformedTx")

	// ErrTx64Bytes: a 64-byte transaction is indistinguishable from an inner
	// merkle node (BIP-53/BIP-54), so it is never proven.
	ErrTx64Bytes = errors.New("Tx64Bytes: a 64-byte transaction cannot be told from a merkle node")
)

// Errors of construction and of proof building, which no peer can cause.
var (
	// ErrBadCheckpoint: the checkpoint cannot anchor the header chain (see
	// NewChain).
	ErrBadCheckpoint = errors.New("the checkpoint cannot anchor a header chain")

	// ErrTxNotInBlock: BuildInclusion was asked for a txid the block does
	// not contain.
	ErrTxNotInBlock = errors.New("the transaction is not in the block")
)

// TxError is ErrMalformedTx with where parsing stopped: the offset of the
// field that could not be read, as the contract's MalformedTx(offset) reports
// it.
type TxError struct {
	Offset int
	Reason string
}

func (e *TxError) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", ErrMalformedTx, e.Offset, e.Reason)
}

func (e *TxError) Unwrap() error { return ErrMalformedTx }

// ruleError adds details to a rule's error while keeping errors.Is working.
func ruleError(rule error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule, fmt.Sprintf(format, args...))
}
