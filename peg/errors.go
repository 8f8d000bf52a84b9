package peg

import "errors"

// The rules of this package. Every error a function here returns matches
// exactly one of these with errors.Is; the returned error may add details
// after the rule's text. Section numbers are those of shared/PEG.md.
var (
	// ErrMemberCount: 1 ≤ n ≤ 15 (§4.1, §7 thresholdsSane). Fifteen keeps n
	// a one-byte OP_n and matches the largest federation planned (mainnet
	// 11-of-15, §4.5).
	ErrMemberCount = errors.New("the federation needs 1 to 15 members")

	// ErrThreshold: n/2 < t ≤ n (§7 thresholdsSane). A minority threshold
	// would let a minority of members move the whole custody.
	ErrThreshold = errors.New("the member threshold must be a majority of the members and at most their number")

	// ErrEmergencyCount: 1 ≤ e ≤ 15, for the same one-byte OP_e as members.
	ErrEmergencyCount = errors.New("the emergency branch needs 1 to 15 keys")

	// ErrEmergencyThreshold: 1 ≤ m ≤ e (§7 thresholdsSane).
	ErrEmergencyThreshold = errors.New("the emergency threshold must be between 1 and the number of emergency keys")

	// ErrCSVDelay: BIP-68 relative locks in blocks hold 16 bits, and a zero
	// delay would open the emergency branch at once.
	ErrCSVDelay = errors.New("the CSV delay must be 1 to 65535 blocks")

	// ErrUncompressedKey: BIP-143 policy (SCRIPT_VERIFY_WITNESS_PUBKEYTYPE)
	// makes segwit spends with uncompressed keys non-standard.
	ErrUncompressedKey = errors.New("a federation key is not compressed")

	// ErrInvalidKey: not a 33-byte SEC1 point on secp256k1.
	ErrInvalidKey = errors.New("a federation key is not a valid secp256k1 point")

	// ErrUnsortedKeys: keys appear in the script in ascending order of
	// their 33 bytes (§4.1), so that a member's index is its script
	// position, which CHECKMULTISIG's signature order depends on.
	ErrUnsortedKeys = errors.New("federation keys are not in ascending byte order")

	// ErrDuplicateKey: a key listed twice, in one list or in both. Inside a
	// list it would count one holder twice toward the threshold; across
	// lists it would let a member open the emergency branch alone.
	ErrDuplicateKey = errors.New("a federation key appears twice")

	// ErrScriptTooLarge: Bitcoin Core relays P2WSH spends whose witness
	// script is at most 3600 bytes (MAX_STANDARD_P2WSH_SCRIPT_SIZE).
	ErrScriptTooLarge = errors.New("the deposit witness script exceeds 3600 bytes")

	// ErrUnsupportedNetwork: the peg runs on Bitcoin mainnet, testnet4 and
	// regtest only (§4.5).
	ErrUnsupportedNetwork = errors.New("the Bitcoin network is not mainnet, testnet4 or regtest")

	// ErrAddressEncoding: not a valid Bitcoin address string.
	ErrAddressEncoding = errors.New("the address does not decode")

	// ErrWrongNetwork: a valid address of another Bitcoin network.
	ErrWrongNetwork = errors.New("the address is for another Bitcoin network")

	// ErrNotP2WSH: deposit addresses are always witness v0 script hashes.
	ErrNotP2WSH = errors.New("the address is not a P2WSH address")

	// ErrRecipientHex: recipients are written 0x followed by hex.
	ErrRecipientHex = errors.New("the recipient is not 0x-prefixed hex")

	// ErrRecipientLength: recipients are 20-byte EVM addresses.
	ErrRecipientLength = errors.New("the recipient is not 20 bytes")

	// ErrInvalidRecipient: the Bridge refuses recipient 0 (the change
	// address) and the Bridge itself (§4.2 InvalidRecipient), so BTC sent
	// to their addresses could never be credited.
	ErrInvalidRecipient = errors.New("the recipient can never be credited (zero or the Bridge)")

	// ErrAddressMismatch: the address is well formed but is not the
	// deposit address of that recipient under this policy.
	ErrAddressMismatch = errors.New("the address is not the recipient's deposit address")
)

// The rules of the peg-out side (§5.2, §5.4).
var (
	// ErrNothingToBatch: no request left to pay, none given or all refunded
	// as dust after their fee share (the Bridge's NothingToBatch).
	ErrNothingToBatch = errors.New("no peg-out request to batch")

	// ErrInsufficientFunds: the FIFO UTXOs, up to maxInputs, do not cover
	// the requested amounts, or a refresh's fee and change (the Bridge's
	// InsufficientFederationFunds).
	ErrInsufficientFunds = errors.New("the federation's UTXOs do not cover the batch")

	// ErrUnsupportedScript: peg-outs pay P2PKH, P2SH, P2WPKH, P2WSH or
	// P2TR only (§5.1), the scripts whose dust limit §5.2 knows.
	ErrUnsupportedScript = errors.New("the peg-out script is not P2PKH, P2SH, P2WPKH, P2WSH or P2TR")

	// ErrNothingToRefresh: no UTXO is old enough to need a refresh.
	ErrNothingToRefresh = errors.New("no federation UTXO needs a refresh")

	// ErrBadSignature: an on-chain signature (r ‖ s ‖ v) is malformed:
	// not 65 bytes, v not 27 or 28, r or s zero or out of range, or high S.
	ErrBadSignature = errors.New("malformed r‖s‖v signature")

	// ErrNotEnoughSignatures: fewer signatures than the branch's threshold.
	ErrNotEnoughSignatures = errors.New("fewer signatures than the threshold")

	// ErrSpendInvalid: btcd's script engine, with standard flags, refuses
	// an input's witness; Bitcoin Core would not relay the transaction.
	ErrSpendInvalid = errors.New("the script engine refuses the spend")
)
