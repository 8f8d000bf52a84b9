package bridge

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// BtcRelayAddress is where genesis places BtcRelay (PEG.md §1).
var BtcRelayAddress = common.HexToAddress("0x0000000000000000000000000000000001000007")

var (
	//go:embed BtcRelay.bin
	btcRelayBin string
	//go:embed BtcRelay.abi.json
	btcRelayABIJSON string

	// BtcRelayABI is the committed ABI of BtcRelay.sol.
	BtcRelayABI = mustABI(btcRelayABIJSON)
	// btcRelayCreation is the committed creation code, without constructor
	// arguments.
	btcRelayCreation = common.FromHex(strings.TrimSpace(btcRelayBin))
)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic("evm/bridge: committed ABI does not parse: " + err.Error())
	}
	return a
}

// RelayParams mirrors the Solidity struct of the same name (IBtcRelay.sol).
type RelayParams struct {
	PowLimit            *big.Int
	PowLimitBits        uint32
	NoRetargeting       bool
	ReduceMinDifficulty bool
	EnforceBIP94        bool
	TargetTimespan      uint32
	RetargetInterval    uint16
	Bip34Height         uint32
	Bip66Height         uint32
	Bip65Height         uint32
	MaxForkDepth        uint32
	MaxHeadersPerCall   uint16
}

// Checkpoint mirrors the Solidity struct: the trusted first header.
// PrevTimes are the timestamps of the blocks below it, newest first, at most
// 10 (the rest of its median-time-past window).
type Checkpoint struct {
	Header    []byte
	Height    uint32
	Chainwork *big.Int
	PrevTimes []uint32
}

// BtcInclusion mirrors the Solidity struct of PEG.md §3. Hashes are in
// Bitcoin's internal byte order (chainhash.Hash's bytes).
type BtcInclusion struct {
	Header           []byte
	Height           uint32
	TxIndex          uint32
	TxBranch         []byte
	CoinbasePreimage [32]byte
	CoinbaseBranch   []byte
}

// BestChain is the result of bestChain().
type BestChain struct {
	Hash      common.Hash
	Height    uint32
	Chainwork *big.Int
}

// HeaderInfo is the result of headerInfo(hash).
type HeaderInfo struct {
	Known       bool
	Height      uint32
	Time        uint32
	Bits        uint32
	Chainwork   *big.Int
	Prev        common.Hash
	InBestChain bool
}

// BtcRelayCreationCode is the committed creation code followed by the
// ABI-encoded constructor arguments.
func BtcRelayCreationCode(p RelayParams, cp Checkpoint) ([]byte, error) {
	args, err := BtcRelayABI.Pack("", p, cp)
	if err != nil {
		return nil, fmt.Errorf("BtcRelay constructor arguments: %w", err)
	}
	return append(bytes.Clone(btcRelayCreation), args...), nil
}

// ReceiveHeadersInput is the calldata of receiveHeaders(headers), headers
// being n×80 bytes of wire-format headers, parent first.
func ReceiveHeadersInput(headers []byte) []byte {
	data, err := BtcRelayABI.Pack("receiveHeaders", headers)
	if err != nil {
		panic(err) // only a Go type mismatch, which the signature rules out
	}
	return data
}

// UnpackReceiveHeaders decodes receiveHeaders' return data.
func UnpackReceiveHeaders(ret []byte) (accepted uint16, bestHeight uint32, err error) {
	out, err := BtcRelayABI.Unpack("receiveHeaders", ret)
	if err != nil {
		return 0, 0, err
	}
	return out[0].(uint16), out[1].(uint32), nil
}

// BtcReorg is the event BtcRelay emits when its best chain moves to
// another branch (PEG.md §2.4).
type BtcReorg struct {
	OldBest, NewBest common.Hash
	ForkHeight       uint32
	Depth            uint32 // best-chain blocks that left it
}

// ParseBtcReorg decodes l when it is a BtcReorg log of BtcRelay.
func ParseBtcReorg(l *types.Log) (BtcReorg, bool) {
	ev := BtcRelayABI.Events["BtcReorg"]
	if l.Address != BtcRelayAddress || len(l.Topics) != 3 || l.Topics[0] != ev.ID {
		return BtcReorg{}, false
	}
	vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
	if err != nil {
		return BtcReorg{}, false
	}
	return BtcReorg{OldBest: l.Topics[1], NewBest: l.Topics[2], ForkHeight: vals[0].(uint32), Depth: vals[1].(uint32)}, true
}

// VerifyInclusionInput is the calldata of verifyInclusion(txid, p, minConfs).
func VerifyInclusionInput(txid common.Hash, p BtcInclusion, minConfs uint32) []byte {
	data, err := BtcRelayABI.Pack("verifyInclusion", txid, p, minConfs)
	if err != nil {
		panic(err)
	}
	return data
}

// RevertError is a revert decoded against the bridge ABIs, so that RPC can
// show `{"error":"InsufficientConfirmations","have":1,"need":3}` (PEG.md §9)
// rather than raw bytes.
type RevertError struct {
	// Name is the custom error's name, "Error" for a revert string, "Panic"
	// for a Solidity panic, or "" when the data matches nothing known.
	Name string
	Args []Arg
	Data []byte
}

// Arg is one named argument of a custom error, in declaration order.
type Arg struct {
	Name  string
	Value any // common.Hash for bytes32, *big.Int, uintN/intN, string
}

// DecodeRevert decodes revert data. It never fails: unknown data gives a
// RevertError with an empty Name.
func DecodeRevert(data []byte) *RevertError {
	e := &RevertError{Data: bytes.Clone(data)}
	if len(data) < 4 {
		return e
	}
	var id [4]byte
	copy(id[:], data)
	for _, a := range revertABIs {
		ae, err := a.ErrorByID(id)
		if err != nil {
			continue
		}
		vals, err := ae.Inputs.Unpack(data[4:])
		if err != nil {
			return e
		}
		e.Name = ae.Name
		for i, in := range ae.Inputs {
			e.Args = append(e.Args, Arg{Name: in.Name, Value: argValue(vals[i])})
		}
		return e
	}
	if msg, err := abi.UnpackRevert(data); err == nil {
		if bytes.HasPrefix(data, revertSelector) {
			e.Name = "Error"
			e.Args = []Arg{{Name: "message", Value: msg}}
		} else {
			e.Name = "Panic"
			e.Args = []Arg{{Name: "reason", Value: msg}}
		}
	}
	return e
}

// revertABIs are searched in order. A Bridge call can revert with
// BtcRelay's errors too: verifyInclusion's revert data comes back unchanged.
var revertABIs = []*abi.ABI{&BtcRelayABI, &BridgeABI}

var revertSelector = common.FromHex("0x08c379a0") // Error(string)

func argValue(v any) any {
	if b, ok := v.([32]byte); ok {
		return common.Hash(b)
	}
	return v
}

// Error is the Solidity-like form, e.g. UnexpectedBits(hash=0x…, have=1, want=2).
func (e *RevertError) Error() string {
	if e.Name == "" {
		return "execution reverted: 0x" + hex.EncodeToString(e.Data)
	}
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = fmt.Sprintf("%s=%v", a.Name, a.Value)
	}
	return fmt.Sprintf("%s(%s)", e.Name, strings.Join(parts, ", "))
}

// Fields is the JSON form RPC returns: the name under "error", each argument
// under its own name, and the raw data when nothing matched.
func (e *RevertError) Fields() map[string]any {
	m := map[string]any{"error": e.Name}
	if e.Name == "" {
		m["data"] = hexutil.Bytes(e.Data)
	}
	for _, a := range e.Args {
		m[a.Name] = a.Value
	}
	return m
}
