package genesis

import (
	"fmt"
	"maps"
	"math/big"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm"
	evmbridge "github.com/mmgeth/mmgeth/evm/bridge"
)

// TotalSupplyBTC is the BTC that can ever exist on the sidechain: Bitcoin's.
const TotalSupplyBTC = evmbridge.TotalSupplyBTC

// BridgeAddress holds the supply not yet pegged in (Rootstock's address).
var BridgeAddress = evmbridge.BridgeAddress

// Genesis builds the genesis block definition: the chain config, the seal
// that anchors the difficulty, geth's system contracts (Prague refuses to run
// without the EIP-7002/7251 ones), the dev allocations, the peg (the Bridge
// holding the rest of the BTC supply, and its federation script account) and
// the Bitcoin light client; the contracts' storage is made by running their
// constructors.
func (s *Spec) Genesis() (*core.Genesis, error) {
	alloc := core.SystemContractAllocs()
	unbacked := new(big.Int)
	if s.DevAccounts > 0 {
		keys, err := s.DevKeys()
		if err != nil {
			return nil, err
		}
		each := evm.BTCToWei(s.DevBalanceBTC)
		for _, k := range keys {
			alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Set(each)}
			unbacked.Add(unbacked, each)
		}
	}
	params, err := s.PegParams()
	if err != nil {
		return nil, err
	}
	pegAlloc, _, err := evmbridge.DeployPeg(uint32(s.ChainID), params, unbacked)
	if err != nil {
		return nil, fmt.Errorf("deploying the Bridge: %w", err)
	}
	maps.Copy(alloc, pegAlloc)
	btcNet, err := s.Bitcoin.Params()
	if err != nil {
		return nil, err
	}
	relay, err := evmbridge.DeployBtcRelay(evmbridge.NewRelayParams(btcNet, s.Bitcoin.MaxForkDepth, s.Bitcoin.MaxHeadersPerCall), evmbridge.GenesisCheckpoint(btcNet))
	if err != nil {
		return nil, fmt.Errorf("deploying BtcRelay: %w", err)
	}
	alloc[evmbridge.BtcRelayAddress] = relay
	seal := consensus.Seal{Version: consensus.SealVersion, Difficulty: new(big.Int).Set(s.GenesisDifficulty)}
	return &core.Genesis{
		Config:     evm.ChainConfig(new(big.Int).SetUint64(s.ChainID)),
		Timestamp:  s.Timestamp,
		ExtraData:  seal.Bytes(),
		GasLimit:   s.GasLimit,
		BaseFee:    new(big.Int).Set(s.BaseFee),
		Difficulty: new(big.Int),
		Alloc:      alloc,
	}, nil
}
