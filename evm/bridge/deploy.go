package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/evm"
	"github.com/mmgeth/mmgeth/peg"
)

// NewRelayParams copies a Bitcoin network's rules from btcd chaincfg, the one
// source of truth for them (PEG.md §2.1), and adds the relay's own limits.
func NewRelayParams(net *chaincfg.Params, maxForkDepth uint32, maxHeadersPerCall uint16) RelayParams {
	timespan := net.TargetTimespan / time.Second
	return RelayParams{
		PowLimit:            new(big.Int).Set(net.PowLimit),
		PowLimitBits:        net.PowLimitBits,
		NoRetargeting:       net.PoWNoRetargeting,
		ReduceMinDifficulty: net.ReduceMinDifficulty,
		EnforceBIP94:        net.EnforceBIP94,
		TargetTimespan:      uint32(timespan),
		RetargetInterval:    uint16(net.TargetTimespan / net.TargetTimePerBlock),
		Bip34Height:         uint32(net.BIP0034Height),
		Bip66Height:         uint32(net.BIP0066Height),
		Bip65Height:         uint32(net.BIP0065Height),
		MaxForkDepth:        maxForkDepth,
		MaxHeadersPerCall:   maxHeadersPerCall,
	}
}

// NewCheckpoint builds a checkpoint from a header and what a full node knows
// about it: its height, its cumulative chainwork and the timestamps of up to
// 10 blocks below it, newest first.
func NewCheckpoint(h *wire.BlockHeader, height uint32, chainwork *big.Int, prevTimes []uint32) (Checkpoint, error) {
	var buf bytes.Buffer
	if err := h.Serialize(&buf); err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Header: buf.Bytes(), Height: height, Chainwork: new(big.Int).Set(chainwork), PrevTimes: prevTimes}, nil
}

// GenesisCheckpoint is a network's genesis block at height 0, as regtest
// uses (PEG.md §2.1). Its chainwork is its own work, as btcd counts it.
func GenesisCheckpoint(net *chaincfg.Params) Checkpoint {
	h := net.GenesisBlock.Header
	cp, err := NewCheckpoint(&h, 0, blockchain.CalcWork(h.Bits), nil)
	if err != nil {
		panic(err) // serializing a fixed header into memory cannot fail
	}
	return cp
}

// deployGas bounds a constructor run; BtcRelay's needs well under 1M.
const deployGas = 30_000_000

// DeployBtcRelay runs BtcRelay's constructor in a throwaway in-memory EVM
// and returns the account genesis places at BtcRelayAddress: the runtime
// code and the storage the constructor wrote (PEG.md §10.3). Running the
// real constructor keeps the storage layout in Solidity only.
func DeployBtcRelay(p RelayParams, cp Checkpoint) (types.Account, error) {
	code, err := BtcRelayCreationCode(p, cp)
	if err != nil {
		return types.Account{}, err
	}
	return runConstructor(code)
}

// runConstructor creates a contract and reads back its code and storage.
// The constructor runs at another address than the genesis one, which is
// why the contracts' constructors must not use address(this); they must
// not depend on the chain id or block fields either.
func runConstructor(code []byte) (types.Account, error) {
	st, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		return types.Account{}, err
	}
	// The hook only collects which slots were written; values are read from
	// the state afterwards, so a write undone by a revert cannot leak in.
	touched := map[common.Address]map[common.Hash]struct{}{}
	hooks := &tracing.Hooks{OnStorageChange: func(a common.Address, slot, _, _ common.Hash) {
		if touched[a] == nil {
			touched[a] = map[common.Hash]struct{}{}
		}
		touched[a][slot] = struct{}{}
	}}
	blockCtx := vm.BlockContext{
		CanTransfer: core.CanTransfer,
		Transfer:    core.Transfer,
		GetHash:     func(uint64) common.Hash { return common.Hash{} },
		GasLimit:    deployGas,
		BlockNumber: new(big.Int),
		Difficulty:  new(big.Int),
		BaseFee:     new(big.Int),
		BlobBaseFee: new(big.Int),
		Random:      &common.Hash{}, // post-merge rules: PUSH0 and friends
	}
	cfg := evm.ChainConfig(big.NewInt(1))
	e := vm.NewEVM(blockCtx, state.NewHookedState(st, hooks), cfg, vm.Config{})
	var deployer common.Address
	ret, addr, _, err := e.Create(deployer, code, vm.NewGasBudget(deployGas, 0), new(uint256.Int))
	if err != nil {
		if errors.Is(err, vm.ErrExecutionReverted) {
			return types.Account{}, fmt.Errorf("constructor: %w", DecodeRevert(ret))
		}
		return types.Account{}, fmt.Errorf("constructor: %w", err)
	}
	for a := range touched {
		if a != addr {
			return types.Account{}, fmt.Errorf("constructor wrote storage of %v, not only its own", a)
		}
	}
	storage := map[common.Hash]common.Hash{}
	for slot := range touched[addr] {
		if v := st.GetState(addr, slot); v != (common.Hash{}) {
			storage[slot] = v
		}
	}
	return types.Account{Code: st.GetCode(addr), Storage: storage, Balance: new(big.Int)}, nil
}

// DeployPeg builds the peg's genesis accounts for a chain (PEG.md §1,
// §10.3): the Bridge, its storage made by its constructor from the network's
// peg parameters and its balance the whole supply less unbackedGenesisWei
// (the dev allocations), and the FedScript data contract of epoch 0, whose
// code is 0x00 ‖ the federation script, and BridgeOut, the Bridge's
// peg-out half (code only). It returns the derived policy too,
// the one the contracts now hold.
func DeployPeg(chainID uint32, params *peg.Params, unbackedGenesisWei *big.Int) (types.GenesisAlloc, *peg.Policy, error) {
	total := new(big.Int).Mul(big.NewInt(TotalSupplyBTC), big.NewInt(1e18))
	if unbackedGenesisWei.Sign() < 0 || unbackedGenesisWei.Cmp(total) > 0 {
		return nil, nil, fmt.Errorf("genesis allocations of %v wei outside the supply", unbackedGenesisWei)
	}
	pol, err := peg.DerivePolicy(chainID, params)
	if err != nil {
		return nil, nil, err
	}
	if failed := pol.Checks.Failed(); len(failed) > 0 {
		return nil, nil, fmt.Errorf("peg policy fails %v", failed)
	}
	bp, err := NewPolicy(chainID, params)
	if err != nil {
		return nil, nil, err
	}
	fed := NewFederation(pol)
	code, err := BridgeCreationCode(bp, fed, pol.Federation.WitnessScript, unbackedGenesisWei)
	if err != nil {
		return nil, nil, err
	}
	bridge, err := runConstructor(code)
	if err != nil {
		return nil, nil, fmt.Errorf("Bridge: %w", err)
	}
	bridge.Balance = total.Sub(total, unbackedGenesisWei)
	out, err := runConstructor(bridgeOutCreation)
	if err != nil {
		return nil, nil, fmt.Errorf("BridgeOut: %w", err)
	}
	if len(out.Storage) != 0 {
		return nil, nil, errors.New("BridgeOut: its creation wrote storage; it must hold none")
	}
	return types.GenesisAlloc{
		BridgeAddress:    bridge,
		BridgeOutAddress: out,
		fed.FedScript:    {Code: append([]byte{0x00}, pol.Federation.WitnessScript...), Balance: new(big.Int)},
	}, pol, nil
}
