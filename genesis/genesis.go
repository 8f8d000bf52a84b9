package genesis

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm"
	evmbridge "github.com/mmgeth/mmgeth/evm/bridge"
)

// TotalSupplyBTC is the BTC that can ever exist on the sidechain: Bitcoin's.
const TotalSupplyBTC = 21_000_000

// BridgeAddress holds the supply not yet pegged in (Rootstock's address).
var BridgeAddress = common.HexToAddress("0x0000000000000000000000000000000001000006")

// Genesis builds the genesis block definition: the chain config, the seal
// that anchors the difficulty, geth's system contracts (Prague refuses to run
// without the EIP-7002/7251 ones), the BTC supply and the Bitcoin light
// client (BtcRelay, its storage made by running its constructor).
func (s *Spec) Genesis() (*core.Genesis, error) {
	alloc := core.SystemContractAllocs()
	bridge := evm.BTCToWei(TotalSupplyBTC)
	if s.DevAccounts > 0 {
		keys, err := s.DevKeys()
		if err != nil {
			return nil, err
		}
		each := evm.BTCToWei(s.DevBalanceBTC)
		for _, k := range keys {
			alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Set(each)}
			bridge.Sub(bridge, each)
		}
	}
	alloc[BridgeAddress] = types.Account{Balance: bridge}
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
