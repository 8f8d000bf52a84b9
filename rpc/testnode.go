package rpc

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
)

// The test-node methods of anvil 1.7.1 and Hardhat, served under both
// prefixes (anvil_*, hardhat_*) on dev nodes, with anvil's parameters and
// results; where Hardhat's result differs, its namespace answers Hardhat's.
// Each state change is mined into a block of its own at once, so that
// every change reaches peers inside a real, merged-mined block (the dev
// operations of package consensus): reads see it at "latest" as on anvil,
// and the block number moves by one.

// TestNode is what the test-node methods need of the dev node.
type TestNode interface {
	SetBalance(addr common.Address, balance *big.Int) error
	SetCode(addr common.Address, code []byte) error
	SetStorageAt(addr common.Address, slot, value common.Hash) error
	SetNonce(addr common.Address, nonce uint64) error
	// Impersonate starts (on) or stops sending from addr without its key.
	Impersonate(addr common.Address, on bool)
	AutoImpersonate(on bool)
	// MineBlocks seals n blocks, each interval seconds after the previous
	// (0: the default clock).
	MineBlocks(ctx context.Context, n, interval uint64) error
	SetAutomine(on bool)
	Automine() bool
	// SetIntervalMining seals a block every seconds; 0 stops it.
	SetIntervalMining(seconds uint64)
	// DropTransaction removes one pending transaction; false if unknown.
	DropTransaction(hash common.Hash) bool
	DropAllTransactions()
	// Reset returns the chain to its genesis and forgets every setting.
	Reset() error
	// DumpState is anvil's state dump: gzip of its JSON; LoadState applies one.
	DumpState() ([]byte, error)
	LoadState(dump []byte) error
	SetCoinbase(addr common.Address)
	SetNextBlockBaseFee(fee *big.Int) error
	SetBlockGasLimit(limit uint64) error
	// TimeOffset is the total evm_increaseTime offset, in seconds.
	TimeOffset() uint64
}

// anvilAPI is the anvil namespace.
type anvilAPI struct{ s *Service }

func (api *anvilAPI) node() TestNode { return api.s.cfg.Dev }

// SetBalance serves anvil_setBalance.
func (api *anvilAPI) SetBalance(addr common.Address, balance *math.HexOrDecimal256) error {
	if balance == nil {
		return &invalidParamsError{"missing balance"}
	}
	return api.node().SetBalance(addr, (*big.Int)(balance))
}

// SetCode serves anvil_setCode.
func (api *anvilAPI) SetCode(addr common.Address, code hexutil.Bytes) error {
	return api.node().SetCode(addr, code)
}

// SetStorageAt serves anvil_setStorageAt: true once set, as anvil answers.
func (api *anvilAPI) SetStorageAt(addr common.Address, slot *math.HexOrDecimal256, value common.Hash) (bool, error) {
	if slot == nil {
		return false, &invalidParamsError{"missing slot"}
	}
	if err := api.node().SetStorageAt(addr, common.BigToHash((*big.Int)(slot)), value); err != nil {
		return false, err
	}
	return true, nil
}

// SetNonce serves anvil_setNonce.
func (api *anvilAPI) SetNonce(addr common.Address, nonce math.HexOrDecimal64) error {
	return api.node().SetNonce(addr, uint64(nonce))
}

// ImpersonateAccount serves anvil_impersonateAccount.
func (api *anvilAPI) ImpersonateAccount(addr common.Address) {
	api.node().Impersonate(addr, true)
}

// StopImpersonatingAccount serves anvil_stopImpersonatingAccount.
func (api *anvilAPI) StopImpersonatingAccount(addr common.Address) {
	api.node().Impersonate(addr, false)
}

// AutoImpersonateAccount serves anvil_autoImpersonateAccount.
func (api *anvilAPI) AutoImpersonateAccount(on bool) { api.node().AutoImpersonate(on) }

// Mine serves anvil_mine [blocks, interval]: one block by default.
func (api *anvilAPI) Mine(ctx context.Context, blocks, interval *math.HexOrDecimal64) error {
	n := uint64(1)
	if blocks != nil {
		n = uint64(*blocks)
	}
	var every uint64
	if interval != nil {
		every = uint64(*interval)
	}
	return api.node().MineBlocks(ctx, n, every)
}

// SetAutomine serves anvil_setAutomine (evm_setAutomine).
func (api *anvilAPI) SetAutomine(on bool) { api.node().SetAutomine(on) }

// GetAutomine serves anvil_getAutomine.
func (api *anvilAPI) GetAutomine() bool { return api.node().Automine() }

// SetIntervalMining serves anvil_setIntervalMining (evm_setIntervalMining),
// in seconds as anvil takes it.
func (api *anvilAPI) SetIntervalMining(seconds math.HexOrDecimal64) {
	api.node().SetIntervalMining(uint64(seconds))
}

// DropTransaction serves anvil_dropTransaction: the hash if it was pending,
// else null.
func (api *anvilAPI) DropTransaction(hash common.Hash) *common.Hash {
	if api.node().DropTransaction(hash) {
		return &hash
	}
	return nil
}

// DropAllTransactions serves anvil_dropAllTransactions.
func (api *anvilAPI) DropAllTransactions() { api.node().DropAllTransactions() }

// resetArgs is anvil_reset's and hardhat_reset's optional parameter.
type resetArgs struct {
	Forking *struct {
		JSONRPCURL  string               `json:"jsonRpcUrl"`
		BlockNumber *math.HexOrDecimal64 `json:"blockNumber"`
	} `json:"forking"`
}

// Reset serves anvil_reset. Forking is not supported: a fork has no
// merged-mining proofs to carry on.
func (api *anvilAPI) Reset(args *resetArgs) error {
	if args != nil && args.Forking != nil && args.Forking.JSONRPCURL != "" {
		return &invalidParamsError{"cannot fork another chain: its blocks have no merged-mining proofs of this network to carry on"}
	}
	return api.node().Reset()
}

// DumpState serves anvil_dumpState.
func (api *anvilAPI) DumpState() (hexutil.Bytes, error) { return api.node().DumpState() }

// LoadState serves anvil_loadState.
func (api *anvilAPI) LoadState(dump hexutil.Bytes) (bool, error) {
	if err := api.node().LoadState(dump); err != nil {
		return false, err
	}
	return true, nil
}

// SetCoinbase serves anvil_setCoinbase.
func (api *anvilAPI) SetCoinbase(addr common.Address) { api.node().SetCoinbase(addr) }

// SetNextBlockBaseFeePerGas serves anvil_setNextBlockBaseFeePerGas.
func (api *anvilAPI) SetNextBlockBaseFeePerGas(fee *math.HexOrDecimal256) error {
	if fee == nil {
		return &invalidParamsError{"missing base fee"}
	}
	return api.node().SetNextBlockBaseFee((*big.Int)(fee))
}

// SetBlockGasLimit serves anvil_setBlockGasLimit (evm_setBlockGasLimit).
func (api *anvilAPI) SetBlockGasLimit(limit math.HexOrDecimal64) (bool, error) {
	if err := api.node().SetBlockGasLimit(uint64(limit)); err != nil {
		return false, err
	}
	return true, nil
}

// NodeInfo serves anvil_nodeInfo, with anvil's fields.
func (api *anvilAPI) NodeInfo(ctx context.Context) (map[string]any, error) {
	head := api.s.b.chain.CurrentBlock()
	price, err := (&ethAPI{api.s}).GasPrice(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"currentBlockNumber":    hexutil.Uint64(head.Number.Uint64()),
		"currentBlockTimestamp": head.Time,
		"currentBlockHash":      head.Hash(),
		"hardFork":              "Prague",
		"transactionOrder":      "fees",
		"environment": map[string]any{
			"baseFee":  (*hexutil.Big)(head.BaseFee),
			"chainId":  api.s.cfg.ChainID.Uint64(),
			"gasLimit": hexutil.Uint64(head.GasLimit),
			"gasPrice": price,
		},
		"forkConfig": map[string]any{"forkUrl": nil, "forkBlockNumber": nil, "forkRetryBackoff": nil},
	}, nil
}

// Metadata serves anvil_metadata (and hardhat_metadata), with anvil's
// fields.
func (api *anvilAPI) Metadata() map[string]any {
	head := api.s.b.chain.CurrentBlock()
	return map[string]any{
		"clientVersion":     api.s.cfg.ClientVersion,
		"chainId":           api.s.cfg.ChainID.Uint64(),
		"instanceId":        api.s.instanceID,
		"latestBlockNumber": head.Number.Uint64(),
		"latestBlockHash":   head.Hash(),
		"forkedNetwork":     nil,
		"snapshots":         map[string]any{},
	}
}

// hardhatAPI is the hardhat namespace: anvil's methods under Hardhat's
// names, with Hardhat's results where they differ (true for done).
type hardhatAPI struct{ anvilAPI }

func (api *hardhatAPI) SetBalance(addr common.Address, balance *math.HexOrDecimal256) (bool, error) {
	return true, api.anvilAPI.SetBalance(addr, balance)
}

func (api *hardhatAPI) SetCode(addr common.Address, code hexutil.Bytes) (bool, error) {
	return true, api.anvilAPI.SetCode(addr, code)
}

func (api *hardhatAPI) SetNonce(addr common.Address, nonce math.HexOrDecimal64) (bool, error) {
	return true, api.anvilAPI.SetNonce(addr, nonce)
}

func (api *hardhatAPI) ImpersonateAccount(addr common.Address) bool {
	api.anvilAPI.ImpersonateAccount(addr)
	return true
}

func (api *hardhatAPI) StopImpersonatingAccount(addr common.Address) bool {
	api.anvilAPI.StopImpersonatingAccount(addr)
	return true
}

// Mine serves hardhat_mine: like anvil_mine, but Hardhat's interval is 1 s
// when not given.
func (api *hardhatAPI) Mine(ctx context.Context, blocks, interval *math.HexOrDecimal64) (bool, error) {
	if interval == nil {
		one := math.HexOrDecimal64(1)
		interval = &one
	}
	return true, api.anvilAPI.Mine(ctx, blocks, interval)
}

// DropTransaction serves hardhat_dropTransaction: whether it was pending.
func (api *hardhatAPI) DropTransaction(hash common.Hash) bool {
	return api.node().DropTransaction(hash)
}

func (api *hardhatAPI) Reset(args *resetArgs) (bool, error) {
	return true, api.anvilAPI.Reset(args)
}

func (api *hardhatAPI) SetCoinbase(addr common.Address) bool {
	api.anvilAPI.SetCoinbase(addr)
	return true
}

func (api *hardhatAPI) SetNextBlockBaseFeePerGas(fee *math.HexOrDecimal256) (bool, error) {
	return true, api.anvilAPI.SetNextBlockBaseFeePerGas(fee)
}
