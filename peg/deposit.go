package peg

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

const (
	// DepositFormat is the version byte inside every deposit script.
	DepositFormat = 0x01
	// depositPrefixLen is the push of 25 bytes (format, chain id,
	// recipient) and its OP_DROP.
	depositPrefixLen = 1 + 25 + 1
	// MaxWitnessScriptSize is Bitcoin Core's MAX_STANDARD_P2WSH_SCRIPT_SIZE.
	MaxWitnessScriptSize = 3600
)

// BridgeAddress is the Bridge contract (§1). It is no valid recipient: the
// Bridge refuses to credit itself (§4.2).
var BridgeAddress = [20]byte{16: 0x01, 19: 0x06}

// DepositScript returns the witness script of recipient's deposit address
// (§4.1): 0x19 ‖ 0x01 ‖ u32be(chainID) ‖ recipient ‖ OP_DROP ‖ fedScript.
// Recipient 0 gives the federation's change script. fedScript is taken as
// built by FederationScript; only its size is checked, since a deposit
// script over the standard size could never be spent through the mempool.
func DepositScript(chainID uint32, recipient [20]byte, fedScript []byte) ([]byte, error) {
	if depositPrefixLen+len(fedScript) > MaxWitnessScriptSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrScriptTooLarge, depositPrefixLen+len(fedScript))
	}
	s := make([]byte, 0, depositPrefixLen+len(fedScript))
	s = append(s, txscript.OP_DATA_25, DepositFormat)
	s = binary.BigEndian.AppendUint32(s, chainID)
	s = append(s, recipient[:]...)
	s = append(s, txscript.OP_DROP)
	return append(s, fedScript...), nil
}

// WitnessProgram is the P2WSH program of a witness script: its SHA-256.
func WitnessProgram(witnessScript []byte) [32]byte { return sha256.Sum256(witnessScript) }

// PkScript is the P2WSH output script of a witness script: 0x00 0x20 ‖
// program.
func PkScript(witnessScript []byte) []byte {
	p := WitnessProgram(witnessScript)
	return append([]byte{txscript.OP_0, txscript.OP_DATA_32}, p[:]...)
}

// Network returns the chaincfg parameters of a peg network by the name
// chaincfg gives it: "mainnet", "testnet4" or "regtest".
func Network(name string) (*chaincfg.Params, error) {
	for _, p := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet4Params, &chaincfg.RegressionNetParams} {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedNetwork, name)
}

// ScriptAddress is the bech32 P2WSH address of a witness script on net.
func ScriptAddress(net *chaincfg.Params, witnessScript []byte) (string, error) {
	p := WitnessProgram(witnessScript)
	a, err := address.NewAddressWitnessScriptHash(p[:], net)
	if err != nil {
		return "", err
	}
	return a.EncodeAddress(), nil
}

// ParseDepositAddress returns the P2WSH program of addr, which must be a
// P2WSH address of net. It tells nothing about whose address it is: compare
// the program with a re-derived one (Policy.VerifyDepositAddress).
func ParseDepositAddress(net *chaincfg.Params, addr string) ([32]byte, error) {
	a, err := address.DecodeAddress(addr, net)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %v", ErrAddressEncoding, err)
	}
	if !a.IsForNet(net) {
		return [32]byte{}, fmt.Errorf("%w: %s is not for %s", ErrWrongNetwork, addr, net.Name)
	}
	wsh, ok := a.(*address.AddressWitnessScriptHash)
	if !ok {
		return [32]byte{}, fmt.Errorf("%w: %T", ErrNotP2WSH, a)
	}
	var p [32]byte
	copy(p[:], wsh.WitnessProgram())
	return p, nil
}

// ParseRecipient reads a recipient as RPC callers write it: 0x and 40 hex
// digits, in either case.
func ParseRecipient(s string) ([20]byte, error) {
	var r [20]byte
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok {
		digits, ok = strings.CutPrefix(s, "0X")
	}
	b, err := hex.DecodeString(digits)
	if !ok || err != nil {
		return r, fmt.Errorf("%w: %q", ErrRecipientHex, s)
	}
	if len(b) != len(r) {
		return r, fmt.Errorf("%w: %d bytes", ErrRecipientLength, len(b))
	}
	copy(r[:], b)
	return r, nil
}

// creditable reports whether the Bridge would ever credit recipient.
func creditable(recipient [20]byte) bool {
	return recipient != [20]byte{} && recipient != BridgeAddress
}

// DepositAddress returns recipient's deposit address on net and the witness
// script that spends it. Recipients the Bridge would never credit get
// ErrInvalidRecipient: handing out their address would lose the deposit.
func DepositAddress(net *chaincfg.Params, chainID uint32, recipient [20]byte, fedScript []byte) (string, []byte, error) {
	if !creditable(recipient) {
		return "", nil, ErrInvalidRecipient
	}
	script, err := DepositScript(chainID, recipient, fedScript)
	if err != nil {
		return "", nil, err
	}
	addr, err := ScriptAddress(net, script)
	return addr, script, err
}
