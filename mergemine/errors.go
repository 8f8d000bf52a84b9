package mergemine

import (
	"errors"
	"fmt"
)

// The rules of Verify. Each error Verify returns matches exactly one of these
// with errors.Is; the returned error may add details after the rule's text.
// Paths are those of rsksmart/rskj, rskj-core/src/main/java/.
var (
	// ErrEmptyTag reports a verifier misconfiguration rather than a bad
	// proof: with no tag there is nothing to look for in the coinbase.
	ErrEmptyTag = errors.New("the merged-mining tag is empty")

	// ErrMerkleProofTooLong: RSKIP-180 caps the proof at 30 levels.
	// Rootstock: co/rsk/validators/Rskip92MerkleProofValidator (constructor,
	// Constants.getMaxBitcoinMergedMiningMerkleProofLength).
	ErrMerkleProofTooLong = errors.New("the merkle proof is longer than 960 bytes (30 levels)")

	// ErrMerkleProofLength: the proof is a bare list of 32-byte hashes.
	// Rootstock: Rskip92MerkleProofValidator (constructor).
	ErrMerkleProofLength = errors.New("the merkle proof length is not a multiple of 32 bytes")

	// ErrHeaderSize: RSKIP-98. Rootstock: co/rsk/validators/BtcHeaderSizeRule,
	// applied by ProofOfWorkRule.bitcoinMergedMiningHeaderIsValid, and
	// BlockFactory at decode time.
	ErrHeaderSize = errors.New("the Bitcoin header is not exactly 80 bytes")

	// ErrPoW: LE256(SHA256d(header)) must not exceed floor(2^256/difficulty),
	// difficulty below 3 counting as 3. Rootstock: ProofOfWorkRule.isValid
	// with co/rsk/util/DifficultyUtils.difficultyToTarget.
	ErrPoW = errors.New("the Bitcoin header hash is above the target of the difficulty")

	// ErrCoinbaseMalformed: the compressed coinbase cannot even hold its
	// midstate. Rootstock fails the same input with an exception while
	// splitting it in ProofOfWorkRule.isValid.
	ErrCoinbaseMalformed = errors.New("the compressed coinbase is shorter than its 40-byte SHA-256 midstate")

	// ErrTagMissing: the coinbase tail holds no tag at all.
	// Rootstock: ProofOfWorkRule.isValid (lastIndexOfSubList of TAG‖hash).
	ErrTagMissing = errors.New("the coinbase does not contain the merged-mining tag")

	// ErrCommitmentMismatch: the tail has the tag, but no occurrence of it is
	// followed by the committed hash; the miner worked on another block.
	// Rootstock: the same check as ErrTagMissing, which it does not tell
	// apart.
	ErrCommitmentMismatch = errors.New("no merged-mining tag in the coinbase is followed by the committed hash")

	// ErrTagOffset: the committed tag must start in the first 64 bytes of the
	// tail, so that a midstate cannot swallow an earlier commitment.
	// Rootstock: ProofOfWorkRule.isValid (rskTagPosition >= 64).
	ErrTagOffset = errors.New("the committed tag starts 64 or more bytes into the coinbase tail")

	// ErrTagNotLast: the committed hash must follow the last tag of the tail.
	// Rootstock: ProofOfWorkRule.isValid (rskTagPosition != lastTag).
	ErrTagNotLast = errors.New("the committed hash does not follow the last merged-mining tag")

	// ErrTooManyBytesAfterHash: at most 128 bytes may follow the committed
	// hash. Rootstock: ProofOfWorkRule.isValid with
	// co/rsk/config/RskMiningConstants.MAX_BYTES_AFTER_MERGED_MINING_HASH.
	ErrTooManyBytesAfterHash = errors.New("more than 128 bytes follow the committed hash in the coinbase")

	// ErrCoinbaseTooShort: a coinbase of 64 bytes or fewer could pose as an
	// inner merkle node. Rootstock: ProofOfWorkRule.isValid
	// (coinbaseLength <= 64).
	ErrCoinbaseTooShort = errors.New("the coinbase is not longer than 64 bytes")

	// ErrByteCountAlignment: the midstate must cover whole SHA-256 blocks.
	// Rootstock does not check it: BouncyCastle ignores the partial-block
	// buffer while Go's crypto/sha256 would hash it, so any other value could
	// make the two disagree. Rootstock's producer
	// (co/rsk/mine/MinerServerImpl.compressCoinbase) only emits multiples of
	// 64, so no real proof is refused.
	ErrByteCountAlignment = errors.New("the coinbase midstate byte count is not a multiple of 64")

	// ErrMerkleNodeIsTx: the leaf-node weakness defence. When a (left, right)
	// pair of the fold, each in display byte order as Rootstock holds them,
	// parses as a valid 64-byte Bitcoin transaction, the proof is refused.
	// Rootstock: co/rsk/peg/utils/MerkleTreeUtils.combineLeftRight.
	ErrMerkleNodeIsTx = errors.New("a pair of merkle nodes parses as a 64-byte Bitcoin transaction")

	// ErrMerkleRootMismatch: the coinbase txid folded with the proof must give
	// the header's merkle root. Rootstock: Rskip92MerkleProofValidator.isValid.
	ErrMerkleRootMismatch = errors.New("the coinbase and merkle proof do not lead to the Bitcoin header's merkle root")
)

// ruleError adds details to a rule's error while keeping errors.Is working.
func ruleError(rule error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule, fmt.Sprintf(format, args...))
}
