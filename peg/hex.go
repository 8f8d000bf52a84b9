package peg

import (
	"encoding/hex"
	"fmt"
)

// Hex is a byte string written as bare lowercase hex in JSON, the way
// Bitcoin tools write scripts and keys; EVM values in the policy keep geth's
// 0x form.
type Hex []byte

func (h Hex) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

func (h *Hex) UnmarshalText(text []byte) error {
	b, err := hex.DecodeString(string(text))
	if err != nil {
		return fmt.Errorf("bare hex expected: %w", err)
	}
	*h = b
	return nil
}

func (h Hex) String() string { return hex.EncodeToString(h) }
