package genesis

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/peg"
)

//go:embed specs/*.json
var specFiles embed.FS

// Spec is one network's parameters.
type Spec struct {
	Name      string `json:"name"`
	ChainID   uint64 `json:"chainId"`
	NetworkID uint64 `json:"networkId"`
	Timestamp uint64 `json:"timestamp"`
	GasLimit  uint64 `json:"gasLimit"`
	// BaseFee is the genesis base fee in wei; EIP-1559 moves it from there.
	BaseFee *big.Int `json:"baseFee"`
	// Confirmations is how deep a block must be buried under the head to be
	// reported as `safe` and `finalized`: with merged mining, finality is the
	// Bitcoin work piled on a block, so it is a depth, not a vote.
	Confirmations uint64 `json:"confirmations"`
	// GenesisDifficulty is sealed into the genesis header and anchors the
	// difficulty adjustment.
	GenesisDifficulty *big.Int         `json:"genesisDifficulty"`
	MergeMining       consensus.Params `json:"mergeMining"`
	// DevMnemonic, DevAccounts and DevBalanceBTC prefund BIP-44 accounts of a
	// well-known mnemonic, on local networks only (dev and regtest, where
	// someone must hold BTC to pay gas before any peg-in, e.g. a relayer):
	// their keys are public.
	DevMnemonic   string   `json:"devMnemonic,omitempty"`
	DevAccounts   int      `json:"devAccounts,omitempty"`
	DevBalanceBTC int64    `json:"devBalanceBTC,omitempty"`
	Bootnodes     []string `json:"bootnodes,omitempty"`
	// Local marks a network that lives on one machine (dev, regtest): its
	// nodes listen for peers on loopback unless told otherwise. It is not
	// part of the genesis block.
	Local bool `json:"local,omitempty"`
	// Bitcoin is the Bitcoin network the chain's light client (BtcRelay,
	// deployed at genesis) follows.
	Bitcoin BitcoinSpec `json:"bitcoin"`
	// Finality chooses how `safe` and `finalized` are computed.
	Finality FinalitySpec `json:"finality"`
	// Peg is the two-way peg's section (PEG.md §4.5): the federation and the
	// peg-in and peg-out parameters the Bridge is deployed with. Its light
	// client and finality fields come from the bitcoin and finality
	// sections and must be left out here (PegParams fills them). Dev and
	// regtest use peg.DevFederation; testnet's 3-of-5 is a placeholder
	// derived the same way from the public dev mnemonic
	// (peg.DeriveFederation(peg.DevMnemonic, 3, 5, 2, 3, 4320)), to be
	// replaced by the real federators' keys before launch.
	Peg peg.Params `json:"peg"`
}

// PegParams is the peg section completed from the bitcoin and finality
// sections: the whole of PEG.md §4.5 for this network, as DerivePolicy and
// the Bridge's deployment take it. The light client's checkpoint is the
// Bitcoin network's genesis block (BitcoinSpec).
func (s *Spec) PegParams() (*peg.Params, error) {
	net, err := s.Bitcoin.Params()
	if err != nil {
		return nil, err
	}
	p := s.Peg
	p.Federation.Members = slices.Clone(p.Federation.Members)
	p.Federation.Emergency = slices.Clone(p.Federation.Emergency)
	p.Network = net.Name
	p.MaxForkDepth = s.Bitcoin.MaxForkDepth
	p.MaxHeadersPerCall = uint32(s.Bitcoin.MaxHeadersPerCall)
	p.Checkpoint = peg.Checkpoint{Height: 0, Hash: net.GenesisHash.String()}
	p.Finality = peg.Finality{Mode: s.Finality.Mode, K: uint32(s.Finality.K)}
	if s.Finality.Mode == FinalityDepth {
		p.Finality.K = uint32(s.Confirmations)
	}
	return &p, nil
}

// BitcoinSpec configures the on-chain Bitcoin light client (PEG.md §2.1).
// Its rules come from btcd's chaincfg for Network; the checkpoint is that
// network's genesis block (height 0, a retarget boundary), which suits
// regtest and a testnet that has not launched; a network launched on
// mainnet would name a recent retarget boundary instead.
type BitcoinSpec struct {
	// Network is "regtest", "testnet4" or "mainnet".
	Network string `json:"network"`
	// MaxForkDepth bounds the Bitcoin reorgs the light client follows.
	MaxForkDepth uint32 `json:"maxForkDepth"`
	// MaxHeadersPerCall bounds one receiveHeaders call (gas).
	MaxHeadersPerCall uint16 `json:"maxHeadersPerCall"`
}

// Params returns btcd's parameters of the Bitcoin network.
func (b *BitcoinSpec) Params() (*chaincfg.Params, error) {
	switch b.Network {
	case "regtest":
		return &chaincfg.RegressionNetParams, nil
	case "testnet4":
		return &chaincfg.TestNet4Params, nil
	case "mainnet":
		return &chaincfg.MainNetParams, nil
	}
	return nil, fmt.Errorf("bitcoin.network %q: want regtest, testnet4 or mainnet", b.Network)
}

// Finality modes (PEG.md §6): "depth" is head minus Confirmations blocks;
// "bitcoin" is the newest block committed by a Bitcoin block K deep in the
// light client's best chain.
const (
	FinalityDepth   = "depth"
	FinalityBitcoin = "bitcoin"
)

// FinalitySpec chooses the finality rule.
type FinalitySpec struct {
	Mode string `json:"mode"`
	// K is the Bitcoin depth an anchor needs in "bitcoin" mode.
	K uint64 `json:"k,omitempty"`
}

// Names lists the embedded networks.
func Names() []string {
	entries, _ := specFiles.ReadDir("specs")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// Load returns the embedded spec of the named network.
func Load(name string) (*Spec, error) {
	data, err := specFiles.ReadFile(path.Join("specs", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("unknown network %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return Parse(data)
}

// Parse decodes and checks a spec. Unknown fields are errors so that a typo
// in an operator's spec file cannot silently fall back to a default.
func Parse(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("network spec: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("network spec %q: %w", s.Name, err)
	}
	return &s, nil
}

func (s *Spec) validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("name missing")
	case s.ChainID == 0:
		return fmt.Errorf("chainId missing")
	case s.NetworkID == 0:
		return fmt.Errorf("networkId missing")
	case s.GasLimit == 0:
		return fmt.Errorf("gasLimit missing")
	case s.BaseFee == nil || s.BaseFee.Sign() <= 0:
		return fmt.Errorf("baseFee must be positive")
	case s.GenesisDifficulty == nil || s.GenesisDifficulty.Sign() <= 0:
		return fmt.Errorf("genesisDifficulty must be positive")
	case s.DevAccounts < 0 || s.DevBalanceBTC < 0:
		return fmt.Errorf("dev allocations must not be negative")
	case s.DevAccounts > 0 && s.DevMnemonic == "":
		return fmt.Errorf("devAccounts without devMnemonic")
	}
	if new(big.Int).Mul(big.NewInt(int64(s.DevAccounts)), big.NewInt(s.DevBalanceBTC)).Cmp(big.NewInt(TotalSupplyBTC)) > 0 {
		return fmt.Errorf("dev allocations exceed the %d BTC supply", TotalSupplyBTC)
	}
	if _, err := s.Bitcoin.Params(); err != nil {
		return err
	}
	if s.Bitcoin.MaxForkDepth == 0 || s.Bitcoin.MaxHeadersPerCall == 0 {
		return fmt.Errorf("bitcoin.maxForkDepth and bitcoin.maxHeadersPerCall must be positive")
	}
	switch {
	case s.Finality.Mode == FinalityDepth:
	case s.Finality.Mode == FinalityBitcoin && s.Finality.K > 0:
	default:
		return fmt.Errorf("finality: mode %q with k %d; want \"depth\", or \"bitcoin\" with k > 0", s.Finality.Mode, s.Finality.K)
	}
	if err := s.validatePeg(); err != nil {
		return fmt.Errorf("peg: %w", err)
	}
	return s.MergeMining.Validate()
}

// validatePeg refuses fields that belong to other sections (they would be
// silently overwritten) and a peg the Bridge would not deploy with: the
// policy checks of PEG.md §7 must all pass.
func (s *Spec) validatePeg() error {
	p := &s.Peg
	if p.Network != "" || p.MaxForkDepth != 0 || p.MaxHeadersPerCall != 0 || p.Checkpoint != (peg.Checkpoint{}) || p.Finality != (peg.Finality{}) {
		return fmt.Errorf("network, maxForkDepth, maxHeadersPerCall, checkpoint and finality come from the bitcoin and finality sections")
	}
	if s.ChainID > math.MaxUint32 {
		return fmt.Errorf("chainId %d does not fit the deposit script's 32 bits", s.ChainID)
	}
	if p.PegInConfirmations == 0 || p.MinPegInSat <= p.PegInRelayerFeeSat {
		return fmt.Errorf("pegInConfirmations must be positive and minPegInSat above pegInRelayerFeeSat")
	}
	if err := p.Federation.Validate(); err != nil {
		return err
	}
	params, err := s.PegParams()
	if err != nil {
		return err
	}
	pol, err := peg.DerivePolicy(uint32(s.ChainID), params)
	if err != nil {
		return err
	}
	if failed := pol.Checks.Failed(); len(failed) > 0 {
		return fmt.Errorf("policy checks fail: %v", failed)
	}
	return nil
}
