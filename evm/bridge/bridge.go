package bridge

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/peg"
)

// BridgeAddress is where genesis places the Bridge (PEG.md §1), Rootstock's
// bridge address; its balance is the supply not yet pegged in.
var BridgeAddress = common.Address(peg.BridgeAddress)

// TotalSupplyBTC is all the BTC the sidechain can hold, Bitcoin's supply;
// Bridge.sol's TOTAL_WEI is this in wei.
const TotalSupplyBTC = 21_000_000

// SatToWei is the wei of one satoshi (18 − 8 decimals).
var SatToWei = big.NewInt(1e10)

// BridgeOutAddress holds BridgeOut, the Bridge's peg-out half: its code
// runs in the Bridge's storage through the Bridge's fallback, so every
// peg-out call goes to BridgeAddress (Bridge.sol, BridgeOut.sol).
var BridgeOutAddress = common.HexToAddress("0x0000000000000000000000000000000001000008")

var (
	//go:embed Bridge.bin
	bridgeBin string
	//go:embed Bridge.abi.json
	bridgeABIJSON string
	//go:embed BridgeOut.bin
	bridgeOutBin string
	//go:embed BridgeOut.abi.json
	bridgeOutABIJSON string

	// BridgeABI is the ABI served at BridgeAddress: Bridge.sol's and
	// BridgeOut.sol's functions (events and errors are shared).
	BridgeABI         = mergeABI(mustABI(bridgeABIJSON), mustABI(bridgeOutABIJSON))
	bridgeCreation    = common.FromHex(strings.TrimSpace(bridgeBin))
	bridgeOutCreation = common.FromHex(strings.TrimSpace(bridgeOutBin))
)

// mergeABI adds b's functions, events and errors to a; the constructor is a's.
func mergeABI(a, b abi.ABI) abi.ABI {
	for n, m := range b.Methods {
		if _, dup := a.Methods[n]; dup {
			panic("evm/bridge: both halves of the Bridge define " + n)
		}
		a.Methods[n] = m
	}
	for n, e := range b.Events {
		a.Events[n] = e
	}
	for n, e := range b.Errors {
		a.Errors[n] = e
	}
	return a
}

// DepositStatus mirrors the Solidity enum (IBridge.sol).
type DepositStatus uint8

const (
	StatusNone DepositStatus = iota
	StatusCredited
	StatusCreditHeld
	StatusRejectedBelowMin
	StatusRejectedCap
	StatusRefundRequested
)

func (s DepositStatus) String() string {
	names := []string{"none", "credited", "held", "rejected_below_min", "rejected_cap", "refund_requested"}
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("DepositStatus(%d)", uint8(s))
}

// UtxoState and RequestState mirror the Solidity enums.
type (
	UtxoState    uint8
	RequestState uint8
)

const (
	UtxoNone UtxoState = iota
	UtxoUnspent
	UtxoReserved
	UtxoSpent
)

func (s UtxoState) String() string {
	names := []string{"none", "unspent", "reserved", "spent"}
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("UtxoState(%d)", uint8(s))
}

const (
	RequestNone RequestState = iota
	RequestQueued
	RequestBatched
	RequestRefunded
	RequestConfirmed
)

// Policy mirrors the Solidity struct: the peg parameters the Bridge holds.
// Unpacking is positional (abi.ConvertType), packing goes by the abi tags.
type Policy struct {
	ChainID                uint32 `abi:"chainId"`
	PegInConfirmations     uint32
	FastConfirmations      uint32
	MinPegInSat            uint64
	PegInCapSat            uint64
	PegInRelayerFeeSat     uint32
	FastMaxSat             uint64
	FastCapSatPer100Blocks uint64
	MinPegOutSat           uint64
	BatchIntervalBlocks    uint64
	MaxInputs              uint16
	MaxOutputs             uint16
	FeeRateMin             uint64
	FeeRateMax             uint64
	FeeRateStart           uint64
	PegOutConfirmations    uint32
	RBFAfterBtcBlocks      uint32 `abi:"rbfAfterBtcBlocks"`
	DailyOutflowCapSat     uint64
	RefreshAgeBlocks       uint32
}

// RequiredConfirmations is what registerPegIn asks of a deposit of
// valueSat: the fast tier's count when the value qualifies (the tier's
// window cap may still send it to the normal count), else
// pegInConfirmations.
func (p Policy) RequiredConfirmations(valueSat uint64) uint32 {
	if p.FastConfirmations > 0 && valueSat <= p.FastMaxSat {
		return p.FastConfirmations
	}
	return p.PegInConfirmations
}

// Federation mirrors the Solidity struct: one epoch's keys and scripts.
type Federation struct {
	Threshold          uint8
	EmergencyThreshold uint8
	CSVDelay           uint32 `abi:"csvDelay"`
	FedScript          common.Address
	ScriptLength       uint16
	ChangeProgram      [32]byte
	Pubkeys            [][]byte
	Signers            []common.Address
	EmergencyPubkeys   [][]byte
}

// Deposit is getDeposit's answer.
type Deposit struct {
	Status    DepositStatus
	UtxoState UtxoState
	Recipient common.Address
	ValueSat  uint64
	BtcHeight uint32
	Epoch     uint16
	RequestID uint64 `abi:"requestId"`
}

// PegOutRequest is getPegOutRequest's answer; BatchID is the batch paying
// it once BATCHED or CONFIRMED, else 0.
type PegOutRequest struct {
	Requester common.Address
	AmountSat uint64
	State     RequestState
	BtcScript []byte
	BatchID   uint64
}

// Accounting is accounting()'s answer: the custody ledger and the supply
// invariant of PEG.md §8 (IBridge.sol documents each field).
type Accounting struct {
	CustodySat         uint64
	PendingOutSat      uint64
	SurplusSat         uint64
	HeldWei            *big.Int
	PegInTotalSat      uint64
	PegOutTotalSat     uint64
	FaultSat           uint64
	FeeDeficitSat      uint64
	UnbackedGenesisWei *big.Int
	BalanceWei         *big.Int
	BackedWei          *big.Int
	ExcessWei          *big.Int
	InvariantHolds     bool
}

// NewPolicy takes the Bridge's policy from a network's peg parameters.
func NewPolicy(chainID uint32, p *peg.Params) (Policy, error) {
	if p.MaxInputs < 0 || p.MaxInputs > math.MaxUint16 || p.MaxOutputs < 0 || p.MaxOutputs > math.MaxUint16 {
		return Policy{}, fmt.Errorf("maxInputs %d / maxOutputs %d out of range", p.MaxInputs, p.MaxOutputs)
	}
	// 32 bits keep the policy's hot fields in one storage slot; a relayer
	// fee is below minPegInSat anyway, far under 42 BTC.
	if p.PegInRelayerFeeSat > math.MaxUint32 {
		return Policy{}, fmt.Errorf("pegInRelayerFeeSat %d over 32 bits", p.PegInRelayerFeeSat)
	}
	pol := Policy{
		ChainID:             chainID,
		PegInConfirmations:  p.PegInConfirmations,
		MinPegInSat:         p.MinPegInSat,
		PegInCapSat:         p.PegInCapSat,
		PegInRelayerFeeSat:  uint32(p.PegInRelayerFeeSat),
		MinPegOutSat:        p.MinPegOutSat,
		BatchIntervalBlocks: p.BatchIntervalBlocks,
		MaxInputs:           uint16(p.MaxInputs),
		MaxOutputs:          uint16(p.MaxOutputs),
		FeeRateMin:          p.FeeRate.Min,
		FeeRateMax:          p.FeeRate.Max,
		FeeRateStart:        p.FeeRate.Current,
		PegOutConfirmations: p.PegOutConfirmations,
		RBFAfterBtcBlocks:   p.RBFAfterBtcBlocks,
		DailyOutflowCapSat:  p.DailyOutflowCapSat,
		RefreshAgeBlocks:    p.RefreshAgeBlocks,
	}
	if f := p.FastTier; f != nil {
		pol.FastConfirmations, pol.FastMaxSat, pol.FastCapSatPer100Blocks = f.Confirmations, f.MaxSat, f.CapSatPer100Blks
	}
	return pol, nil
}

// NewFederation takes a federation from a derived policy: the signers and
// the change program are what peg computes. The constructor derives the
// change program and script length again from the script itself, so
// PolicyHash over these values matching policyHash() on chain shows that Go
// and Solidity build the same change script.
func NewFederation(pol *peg.Policy) Federation {
	f := Federation{
		Threshold:          uint8(pol.Federation.Threshold),
		EmergencyThreshold: uint8(pol.Federation.Emergency.Threshold),
		CSVDelay:           pol.Federation.Emergency.CSVDelayBlocks,
		FedScript:          common.Address(peg.FedScriptAddress(pol.Federation.Epoch)),
		ScriptLength:       uint16(len(pol.Federation.WitnessScript)),
		ChangeProgram:      [32]byte(pol.Federation.ChangeProgram),
	}
	for _, m := range pol.Federation.Members {
		f.Pubkeys = append(f.Pubkeys, m.Pubkey)
		f.Signers = append(f.Signers, m.Signer)
	}
	for _, k := range pol.Federation.Emergency.Pubkeys {
		f.EmergencyPubkeys = append(f.EmergencyPubkeys, k)
	}
	return f
}

// BridgeCreationCode is the committed creation code followed by the
// ABI-encoded constructor arguments.
func BridgeCreationCode(pol Policy, fed Federation, fedScript []byte, unbackedGenesisWei *big.Int) ([]byte, error) {
	args, err := BridgeABI.Pack("", pol, fed, fedScript, unbackedGenesisWei)
	if err != nil {
		return nil, fmt.Errorf("Bridge constructor arguments: %w", err)
	}
	return append(bytes.Clone(bridgeCreation), args...), nil
}

// PolicyHash is keccak256(abi.encode(policy, federation)), what the
// Bridge's policyHash() returns (PEG.md §7), computed from Go values.
func PolicyHash(pol Policy, fed Federation) (common.Hash, error) {
	method := BridgeABI.Methods["policy"]
	fedArgs := BridgeABI.Methods["federation"].Outputs
	enc, err := abi.Arguments{method.Outputs[0], fedArgs[0]}.Pack(pol, fed)
	if err != nil {
		return common.Hash{}, err
	}
	return crypto.Keccak256Hash(enc), nil
}

// Calldata of the Bridge's transactions. Packing can fail only on a Go type
// mismatch, which the signatures rule out.

// RegisterPegInInput is the calldata of registerPegIn(btcTx, p, vout,
// recipient); PegInProof.Input builds it from a block.
func RegisterPegInInput(btcTx []byte, p BtcInclusion, vout uint32, recipient common.Address) []byte {
	return mustPack(BridgeABI, "registerPegIn", btcTx, p, vout, recipient)
}

// RefundDepositInput is the calldata of refundDeposit(txid, vout, btcScript).
func RefundDepositInput(txid common.Hash, vout uint32, btcScript []byte) []byte {
	return mustPack(BridgeABI, "refundDeposit", txid, vout, btcScript)
}

// ClaimInput is the calldata of claim(to).
func ClaimInput(to common.Address) []byte {
	return mustPack(BridgeABI, "claim", to)
}

// UnpackRegisterPegIn decodes registerPegIn's return data.
func UnpackRegisterPegIn(ret []byte) (DepositStatus, error) {
	out, err := BridgeABI.Unpack("registerPegIn", ret)
	if err != nil {
		return 0, err
	}
	return DepositStatus(out[0].(uint8)), nil
}

// UnpackRefundDeposit decodes refundDeposit's return data: the request id.
func UnpackRefundDeposit(ret []byte) (uint64, error) {
	out, err := BridgeABI.Unpack("refundDeposit", ret)
	if err != nil {
		return 0, err
	}
	return out[0].(uint64), nil
}

func mustPack(a abi.ABI, method string, args ...any) []byte {
	data, err := a.Pack(method, args...)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", method, err))
	}
	return data
}
