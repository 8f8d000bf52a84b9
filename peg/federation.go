package peg

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// Bounds of a federation (§4.1, §7 thresholdsSane).
const (
	MaxMembers   = 15
	MaxEmergency = 15
	// MaxCSVDelay is the largest BIP-68 relative lock in blocks.
	MaxCSVDelay = 0xffff
)

// Federation is one epoch's custody: a t-of-n member multisig and an m-of-e
// emergency multisig that opens CSVDelay blocks after a coin confirms.
// Keys are 33-byte compressed SEC1 points in ascending byte order; a
// member's index is its position in Members.
type Federation struct {
	Threshold          int    `json:"threshold"`
	Members            []Hex  `json:"members"`
	EmergencyThreshold int    `json:"emergencyThreshold"`
	Emergency          []Hex  `json:"emergency"`
	CSVDelay           uint32 `json:"csvDelayBlocks"`
}

// FederationScript returns the federation's witness script (§4.1):
//
//	OP_IF OP_t <pk_1>…<pk_n> OP_n OP_CHECKMULTISIG
//	OP_ELSE <csv> OP_CHECKSEQUENCEVERIFY OP_DROP OP_m <epk_1>…<epk_e> OP_e OP_CHECKMULTISIG
//	OP_ENDIF
//
// It never stands alone on chain: deposit scripts prefix it (DepositScript).
func FederationScript(f *Federation) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f.script()
}

// script builds without validating, so that CheckPolicy can compare bytes
// independently of the other checks.
func (f *Federation) script() ([]byte, error) {
	b := txscript.NewScriptBuilder()
	b.AddOp(txscript.OP_IF)
	addMultisig(b, f.Threshold, f.Members)
	b.AddOp(txscript.OP_ELSE)
	b.AddInt64(int64(f.CSVDelay)).AddOp(txscript.OP_CHECKSEQUENCEVERIFY).AddOp(txscript.OP_DROP)
	addMultisig(b, f.EmergencyThreshold, f.Emergency)
	b.AddOp(txscript.OP_ENDIF)
	return b.Script()
}

func addMultisig(b *txscript.ScriptBuilder, threshold int, keys []Hex) {
	b.AddInt64(int64(threshold))
	for _, k := range keys {
		b.AddData(k)
	}
	b.AddInt64(int64(len(keys))).AddOp(txscript.OP_CHECKMULTISIG)
}

// Validate checks the rules in this order, returning the first broken one:
// ErrMemberCount, ErrThreshold, ErrEmergencyCount, ErrEmergencyThreshold,
// ErrCSVDelay, then the keys (members first) with ErrUncompressedKey,
// ErrInvalidKey, ErrUnsortedKeys and ErrDuplicateKey.
func (f *Federation) Validate() error {
	if err := f.validateThresholds(); err != nil {
		return err
	}
	if f.CSVDelay < 1 || f.CSVDelay > MaxCSVDelay {
		return fmt.Errorf("%w: %d", ErrCSVDelay, f.CSVDelay)
	}
	return f.validateKeys()
}

func (f *Federation) validateThresholds() error {
	n, e := len(f.Members), len(f.Emergency)
	switch {
	case n < 1 || n > MaxMembers:
		return fmt.Errorf("%w: %d", ErrMemberCount, n)
	case f.Threshold <= n/2 || f.Threshold > n:
		return fmt.Errorf("%w: %d-of-%d", ErrThreshold, f.Threshold, n)
	case e < 1 || e > MaxEmergency:
		return fmt.Errorf("%w: %d", ErrEmergencyCount, e)
	case f.EmergencyThreshold < 1 || f.EmergencyThreshold > e:
		return fmt.Errorf("%w: %d-of-%d", ErrEmergencyThreshold, f.EmergencyThreshold, e)
	}
	return nil
}

func (f *Federation) validateKeys() error {
	for _, list := range [][]Hex{f.Members, f.Emergency} {
		for i, k := range list {
			if err := checkKey(k); err != nil {
				return fmt.Errorf("%w: %x", err, []byte(k))
			}
			if i > 0 {
				switch c := bytes.Compare(list[i-1], k); {
				case c == 0:
					return fmt.Errorf("%w: %x", ErrDuplicateKey, []byte(k))
				case c > 0:
					return fmt.Errorf("%w: %x before %x", ErrUnsortedKeys, []byte(list[i-1]), []byte(k))
				}
			}
		}
	}
	for _, m := range f.Members {
		for _, e := range f.Emergency {
			if bytes.Equal(m, e) {
				return fmt.Errorf("%w: %x is a member and an emergency key", ErrDuplicateKey, []byte(m))
			}
		}
	}
	return nil
}

func checkKey(k []byte) error {
	// 65 bytes with 04 (uncompressed) or 06/07 (hybrid) is a real key in
	// the wrong form, worth its own error; anything else is just invalid.
	if len(k) == 65 && (k[0] == 0x04 || k[0] == 0x06 || k[0] == 0x07) {
		return ErrUncompressedKey
	}
	if len(k) != btcec.PubKeyBytesLenCompressed || (k[0] != 0x02 && k[0] != 0x03) {
		return ErrInvalidKey
	}
	if _, err := btcec.ParsePubKey(k); err != nil {
		return ErrInvalidKey
	}
	return nil
}
