package peg

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// PolicyVersion is the version of the policy JSON (§7).
const PolicyVersion = 1

// DepositScriptTemplate spells DepositScript for readers of the policy.
const DepositScriptTemplate = "1901{chainId:u32be}{recipient:20}75{witnessScript}"

// BtcRelayAddress is the Bitcoin light client contract (§1).
var BtcRelayAddress = [20]byte{16: 0x01, 19: 0x07}

// FedScriptAddress is the data contract holding 0x00 ‖ the federation
// script of an epoch (§1).
func FedScriptAddress(epoch uint16) [20]byte {
	a := [20]byte{16: 0x01}
	binary.BigEndian.PutUint16(a[18:], 0x0600+epoch)
	return a
}

// Params are a network's peg parameters (§4.5): the genesis spec's peg
// section.
type Params struct {
	Network             string        `json:"network"`
	Federation          Federation    `json:"federation"`
	RefreshAgeBlocks    uint32        `json:"refreshAgeBlocks"`
	PegInConfirmations  uint32        `json:"pegInConfirmations"`
	FastTier            *FastTier     `json:"fastTier,omitempty"`
	MinPegInSat         uint64        `json:"minPegInSat"`
	PegInCapSat         uint64        `json:"pegInCapSat"`
	PegInRelayerFeeSat  uint64        `json:"pegInRelayerFeeSat"`
	MinPegOutSat        uint64        `json:"minPegOutSat"`
	BatchIntervalBlocks uint64        `json:"batchIntervalBlocks"`
	MaxInputs           int           `json:"maxInputs"`
	MaxOutputs          int           `json:"maxOutputs"`
	FeeRate             FeeRateBounds `json:"feeRateSatPerVByte"`
	PegOutConfirmations uint32        `json:"pegOutConfirmations"`
	RBFAfterBtcBlocks   uint32        `json:"rbfAfterBtcBlocks"`
	DailyOutflowCapSat  uint64        `json:"dailyOutflowCapSat"`
	Finality            Finality      `json:"finality"`
	MaxForkDepth        uint32        `json:"maxForkDepth"`
	MaxHeadersPerCall   uint32        `json:"maxHeadersPerCall"`
	Checkpoint          Checkpoint    `json:"checkpoint"`
}

// FastTier lets small deposits credit after fewer confirmations, within a
// cap per 100 Bitcoin blocks (§4.2 step 5).
type FastTier struct {
	MaxSat           uint64 `json:"maxSat"`
	Confirmations    uint32 `json:"confirmations"`
	CapSatPer100Blks uint64 `json:"capSatPer100Blocks"`
}

// FeeRateBounds clamp the federation's fee-rate votes, in sat/vB. Current
// is the start value in a spec and the clamped median vote on chain.
type FeeRateBounds struct {
	Min     uint64 `json:"min"`
	Max     uint64 `json:"max"`
	Current uint64 `json:"current"`
}

// Finality is the mode of the finalized tag (§6): "bitcoin" (anchored K
// Bitcoin blocks deep) or "depth" (K sidechain blocks, dev only).
type Finality struct {
	Mode string `json:"mode"`
	K    uint32 `json:"K"`
}

// Checkpoint is the light client's first Bitcoin header; Hash is in
// display (RPC) byte order.
type Checkpoint struct {
	Height uint32 `json:"height"`
	Hash   string `json:"hash"`
}

// Policy is the JSON of mm_getPegPolicy (§7), with two fields §7 lacks:
// federation.fedScriptCodeHash and federation.changeProgram, the on-chain
// values that fedScriptCodeMatches and changeProgramMatches compare with.
type Policy struct {
	Version        int          `json:"version"`
	PolicyHash     common.Hash  `json:"policyHash"`
	ChainID        uint32       `json:"chainId"`
	BitcoinNetwork string       `json:"bitcoinNetwork"`
	Contracts      Contracts    `json:"contracts"`
	Federation     PolicyFed    `json:"federation"`
	PegIn          PegInPolicy  `json:"pegIn"`
	PegOut         PegOutPolicy `json:"pegOut"`
	LightClient    LightClient  `json:"lightClient"`
	Finality       Finality     `json:"finality"`
	Checks         Checks       `json:"checks"`
}

// Contracts are the peg's fixed EVM addresses.
type Contracts struct {
	Bridge    common.Address `json:"bridge"`
	BtcRelay  common.Address `json:"btcRelay"`
	FedScript common.Address `json:"fedScript"`
}

// PolicyFed is the active federation epoch as the contracts hold it.
type PolicyFed struct {
	Epoch                 uint16          `json:"epoch"`
	Threshold             int             `json:"threshold"`
	Members               []Member        `json:"members"`
	Emergency             PolicyEmergency `json:"emergency"`
	WitnessScript         Hex             `json:"witnessScript"`
	WitnessScriptAsm      string          `json:"witnessScriptAsm"`
	DepositScriptTemplate string          `json:"depositScriptTemplate"`
	// FedScriptCodeHash is the code hash of FedScriptAddress(epoch), which
	// eth_getProof can prove against a state root.
	FedScriptCodeHash common.Hash `json:"fedScriptCodeHash"`
	ChangeProgram     Hex         `json:"changeProgram"`
	// ChangeAddress holds coins of the federation only: BTC sent there is
	// never credited to anyone (§4.3).
	ChangeAddress string `json:"changeAddress"`
}

// Member is one federator: its Bitcoin key and the EVM address that
// ecrecover yields for its signatures (§5.3).
type Member struct {
	Index  int            `json:"index"`
	Pubkey Hex            `json:"pubkey"`
	Signer common.Address `json:"signer"`
}

// PolicyEmergency is the CSV-delayed branch and the refresh age that keeps
// coins from ever reaching it.
type PolicyEmergency struct {
	Threshold        int    `json:"threshold"`
	Pubkeys          []Hex  `json:"pubkeys"`
	CSVDelayBlocks   uint32 `json:"csvDelayBlocks"`
	RefreshAgeBlocks uint32 `json:"refreshAgeBlocks"`
}

// PegInPolicy: §4.2.
type PegInPolicy struct {
	Confirmations uint32    `json:"confirmations"`
	FastTier      *FastTier `json:"fastTier"`
	MinSat        uint64    `json:"minSat"`
	CapSat        uint64    `json:"capSat"`
	RelayerFeeSat uint64    `json:"relayerFeeSat"`
	SatToWei      string    `json:"satToWei"`
}

// PegOutPolicy: §5.
type PegOutPolicy struct {
	MinSat              uint64        `json:"minSat"`
	BatchIntervalBlocks uint64        `json:"batchIntervalBlocks"`
	MaxInputs           int           `json:"maxInputs"`
	MaxOutputs          int           `json:"maxOutputs"`
	FeeRate             FeeRateBounds `json:"feeRateSatPerVByte"`
	Confirmations       uint32        `json:"confirmations"`
	RBFAfterBtcBlocks   uint32        `json:"rbfAfterBtcBlocks"`
	SigningGate         SigningGate   `json:"signingGate"`
	DailyOutflowCapSat  uint64        `json:"dailyOutflowCapSat"`
	Halted              bool          `json:"halted"`
}

// SigningGate is what a federator waits for before signing a batch (§5.5).
type SigningGate struct {
	Mode string `json:"mode"`
	K    uint32 `json:"K"`
}

// LightClient: §2.
type LightClient struct {
	Checkpoint        Checkpoint `json:"checkpoint"`
	MaxForkDepth      uint32     `json:"maxForkDepth"`
	MaxHeadersPerCall uint32     `json:"maxHeadersPerCall"`
}

// Checks are the results of CheckPolicy, named as in §7.
type Checks struct {
	ScriptBuiltFromKeys  bool `json:"scriptBuiltFromKeys"`
	FedScriptCodeMatches bool `json:"fedScriptCodeMatches"`
	ChangeProgramMatches bool `json:"changeProgramMatches"`
	SignersMatchPubkeys  bool `json:"signersMatchPubkeys"`
	PubkeysSortedUnique  bool `json:"pubkeysSortedUnique"`
	ThresholdsSane       bool `json:"thresholdsSane"`
	RefreshBeforeCsv     bool `json:"refreshBeforeCsv"`
	ScriptStandard       bool `json:"scriptStandard"`
}

// Failed names the checks that failed, for the RPC warning and the startup
// log; none means the policy is sound.
func (c Checks) Failed() []string {
	var failed []string
	for _, ch := range []struct {
		name string
		ok   bool
	}{
		{"scriptBuiltFromKeys", c.ScriptBuiltFromKeys},
		{"fedScriptCodeMatches", c.FedScriptCodeMatches},
		{"changeProgramMatches", c.ChangeProgramMatches},
		{"signersMatchPubkeys", c.SignersMatchPubkeys},
		{"pubkeysSortedUnique", c.PubkeysSortedUnique},
		{"thresholdsSane", c.ThresholdsSane},
		{"refreshBeforeCsv", c.RefreshBeforeCsv},
		{"scriptStandard", c.ScriptStandard},
	} {
		if !ch.ok {
			failed = append(failed, ch.name)
		}
	}
	return failed
}

// DerivePolicy computes the policy that a genesis built from params holds
// for chainID at federation epoch 0, with its checks. The node replaces the
// on-chain values (signers, fedScriptCodeHash, changeProgram, current fee
// rate, halted, policyHash) with what the contracts hold and checks again;
// PolicyHash stays zero here, since it hashes the contracts' ABI encoding.
func DerivePolicy(chainID uint32, params *Params) (*Policy, error) {
	net, err := Network(params.Network)
	if err != nil {
		return nil, err
	}
	fed := &params.Federation
	script, err := FederationScript(fed)
	if err != nil {
		return nil, err
	}
	asm, err := txscript.DisasmString(script)
	if err != nil {
		return nil, err
	}
	change, err := DepositScript(chainID, [20]byte{}, script)
	if err != nil {
		return nil, err
	}
	changeAddr, err := ScriptAddress(net, change)
	if err != nil {
		return nil, err
	}
	members := make([]Member, len(fed.Members))
	for i, pk := range fed.Members {
		signer, err := signerOf(pk)
		if err != nil {
			return nil, err
		}
		members[i] = Member{Index: i, Pubkey: pk, Signer: signer}
	}
	program := WitnessProgram(change)
	gate := SigningGate{Mode: "depth", K: params.Finality.K}
	if params.Finality.Mode == "bitcoin" {
		gate.Mode = "bitcoin-finality"
	}
	p := &Policy{
		Version:        PolicyVersion,
		ChainID:        chainID,
		BitcoinNetwork: net.Name,
		Contracts:      Contracts{Bridge: BridgeAddress, BtcRelay: BtcRelayAddress, FedScript: FedScriptAddress(0)},
		Federation: PolicyFed{
			Threshold: fed.Threshold,
			Members:   members,
			Emergency: PolicyEmergency{
				Threshold:        fed.EmergencyThreshold,
				Pubkeys:          fed.Emergency,
				CSVDelayBlocks:   fed.CSVDelay,
				RefreshAgeBlocks: params.RefreshAgeBlocks,
			},
			WitnessScript:         script,
			WitnessScriptAsm:      asm,
			DepositScriptTemplate: DepositScriptTemplate,
			FedScriptCodeHash:     fedScriptCodeHash(script),
			ChangeProgram:         program[:],
			ChangeAddress:         changeAddr,
		},
		PegIn: PegInPolicy{
			Confirmations: params.PegInConfirmations,
			FastTier:      params.FastTier,
			MinSat:        params.MinPegInSat,
			CapSat:        params.PegInCapSat,
			RelayerFeeSat: params.PegInRelayerFeeSat,
			SatToWei:      "10000000000",
		},
		PegOut: PegOutPolicy{
			MinSat:              params.MinPegOutSat,
			BatchIntervalBlocks: params.BatchIntervalBlocks,
			MaxInputs:           params.MaxInputs,
			MaxOutputs:          params.MaxOutputs,
			FeeRate:             params.FeeRate,
			Confirmations:       params.PegOutConfirmations,
			RBFAfterBtcBlocks:   params.RBFAfterBtcBlocks,
			SigningGate:         gate,
			DailyOutflowCapSat:  params.DailyOutflowCapSat,
		},
		LightClient: LightClient{
			Checkpoint:        params.Checkpoint,
			MaxForkDepth:      params.MaxForkDepth,
			MaxHeadersPerCall: params.MaxHeadersPerCall,
		},
		Finality: params.Finality,
	}
	p.Checks = CheckPolicy(p)
	return p, nil
}

// CheckPolicy runs the checks of §7 on p alone; each looks at its own
// fields, so a tampered field fails its own check even when the others
// pass.
func CheckPolicy(p *Policy) Checks {
	f := p.federation()
	return Checks{
		ScriptBuiltFromKeys:  p.scriptBuiltFromKeys(f),
		FedScriptCodeMatches: fedScriptCodeHash(p.Federation.WitnessScript) == p.Federation.FedScriptCodeHash,
		ChangeProgramMatches: p.changeProgramMatches(),
		SignersMatchPubkeys:  p.signersMatchPubkeys(),
		PubkeysSortedUnique:  f.validateKeys() == nil,
		ThresholdsSane:       f.validateThresholds() == nil,
		RefreshBeforeCsv:     refreshBeforeCSV(p.Federation.Emergency.RefreshAgeBlocks, p.Federation.Emergency.CSVDelayBlocks),
		ScriptStandard:       p.scriptStandard(),
	}
}

func (p *Policy) federation() *Federation {
	f := &Federation{
		Threshold:          p.Federation.Threshold,
		EmergencyThreshold: p.Federation.Emergency.Threshold,
		Emergency:          p.Federation.Emergency.Pubkeys,
		CSVDelay:           p.Federation.Emergency.CSVDelayBlocks,
	}
	for _, m := range p.Federation.Members {
		f.Members = append(f.Members, m.Pubkey)
	}
	return f
}

// scriptBuiltFromKeys also covers the disassembly, since that is what a
// person reading the policy compares keys against.
func (p *Policy) scriptBuiltFromKeys(f *Federation) bool {
	s, err := f.script()
	if err != nil || !bytes.Equal(s, p.Federation.WitnessScript) {
		return false
	}
	asm, err := txscript.DisasmString(s)
	return err == nil && asm == p.Federation.WitnessScriptAsm
}

func (p *Policy) changeProgramMatches() bool {
	net, err := Network(p.BitcoinNetwork)
	if err != nil {
		return false
	}
	change, err := DepositScript(p.ChainID, [20]byte{}, p.Federation.WitnessScript)
	if err != nil {
		return false
	}
	program := WitnessProgram(change)
	addr, err := ScriptAddress(net, change)
	return err == nil && bytes.Equal(program[:], p.Federation.ChangeProgram) && addr == p.Federation.ChangeAddress
}

func (p *Policy) signersMatchPubkeys() bool {
	for i, m := range p.Federation.Members {
		signer, err := signerOf(m.Pubkey)
		if err != nil || m.Index != i || signer != m.Signer {
			return false
		}
	}
	return len(p.Federation.Members) > 0
}

// refreshBeforeCSV leaves max(6, csv/8) blocks to confirm a refresh batch
// before the emergency branch opens (§7); the margin is what Liquid lacked
// in 2020.
func refreshBeforeCSV(refresh, csv uint32) bool {
	if csv < 1 || csv > MaxCSVDelay {
		return false
	}
	margin := max(6, csv/8)
	return refresh >= 1 && csv > margin && refresh <= csv-margin
}

// scriptStandard: the witness script a deposit is spent with (the deposit
// script, 27 bytes longer than the federation script) is within relay
// policy, it parses, the template names deposit format 1, and the change
// address is an address of the policy's network.
func (p *Policy) scriptStandard() bool {
	net, err := Network(p.BitcoinNetwork)
	if err != nil {
		return false
	}
	if _, err := DepositScript(p.ChainID, [20]byte{}, p.Federation.WitnessScript); err != nil {
		return false
	}
	if _, err := txscript.DisasmString(p.Federation.WitnessScript); err != nil {
		return false
	}
	_, err = ParseDepositAddress(net, p.Federation.ChangeAddress)
	return err == nil && p.Federation.DepositScriptTemplate == DepositScriptTemplate
}

// signerOf is the EVM address of a member key: keccak256 of the 64-byte
// uncompressed point without its 0x04 prefix, last 20 bytes, as ecrecover
// returns it.
func signerOf(pubkey []byte) (common.Address, error) {
	pk, err := btcec.ParsePubKey(pubkey)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %x", ErrInvalidKey, pubkey)
	}
	return crypto.PubkeyToAddress(*pk.ToECDSA()), nil
}

// fedScriptCodeHash is the code hash of the FedScript data contract: its
// code is 0x00 (STOP, so it can never run) ‖ the script.
func fedScriptCodeHash(script []byte) common.Hash {
	return crypto.Keccak256Hash([]byte{0x00}, script)
}

// Deposit is mm_getDepositAddress's answer without the policy hash.
type Deposit struct {
	Address       string `json:"address"`
	ScriptPubKey  Hex    `json:"scriptPubKey"`
	WitnessScript Hex    `json:"witnessScript"`
	Epoch         uint16 `json:"epoch"`
}

// Deposit derives recipient's deposit address under p.
func (p *Policy) Deposit(recipient [20]byte) (*Deposit, error) {
	net, err := Network(p.BitcoinNetwork)
	if err != nil {
		return nil, err
	}
	addr, script, err := DepositAddress(net, p.ChainID, recipient, p.Federation.WitnessScript)
	if err != nil {
		return nil, err
	}
	return &Deposit{Address: addr, ScriptPubKey: PkScript(script), WitnessScript: script, Epoch: p.Federation.Epoch}, nil
}

// VerifyDepositAddress is mm_verifyDepositAddress: nil if addr is the
// deposit address of recipient (0x-hex) under p, else the first broken
// rule, whose text is the RPC's reason.
func (p *Policy) VerifyDepositAddress(addr, recipient string) error {
	net, err := Network(p.BitcoinNetwork)
	if err != nil {
		return err
	}
	r, err := ParseRecipient(recipient)
	if err != nil {
		return err
	}
	if !creditable(r) {
		return ErrInvalidRecipient
	}
	have, err := ParseDepositAddress(net, addr)
	if err != nil {
		return err
	}
	script, err := DepositScript(p.ChainID, r, p.Federation.WitnessScript)
	if err != nil {
		return err
	}
	if have != WitnessProgram(script) {
		return ErrAddressMismatch
	}
	return nil
}
