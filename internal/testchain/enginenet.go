package testchain

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/genesis"
)

// EngineParams are the merged-mining parameters of the engine test network,
// on which the tests of the engine and of fork choice run: the dev network
// with 10 s blocks and a 60 s half-life, so that a block a minute late
// halves the difficulty, and difficulties in the thousands so that fork
// contests have round numbers while a proof still takes only a few
// thousand hashes.
var EngineParams = consensus.Params{
	Tag:                 "MMGETHTEST:",
	TargetSpacing:       10,
	HalfLife:            60,
	MinDifficulty:       big.NewInt(1000),
	MaxFutureDrift:      60,
	MaxBitcoinTimeDrift: 300,
	MaxExtraSize:        4096,
}

// The engine test network's genesis: a real-world time, so that the future
// drift rule applies as on a live network, and its sealed difficulty.
const (
	EngineGenesisTime       = 1_700_000_000
	EngineGenesisDifficulty = 4000
)

// The engine test network's funded accounts and the contract they call.
var (
	KeyA, _ = crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	KeyB, _ = crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	AddrA   = crypto.PubkeyToAddress(KeyA.PublicKey)
	AddrB   = crypto.PubkeyToAddress(KeyB.PublicKey)

	// LogContract emits LOG0 with the caller's address as data:
	// CALLER PUSH1 0 MSTORE PUSH1 32 PUSH1 0 LOG0 STOP.
	LogContract     = common.HexToAddress("0x000000000000000000000000000000000000c0de")
	logContractCode = []byte{0x33, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xa0, 0x00}
)

// NewEngineNet opens a chain on the engine test network, on db as
// Options.DB says.
func NewEngineNet(t testing.TB, db ethdb.Database) *Chain {
	t.Helper()
	spec := devSpec(t)
	spec.MergeMining = EngineParams
	spec.Timestamp = EngineGenesisTime
	spec.GenesisDifficulty = big.NewInt(EngineGenesisDifficulty)
	spec.BaseFee = big.NewInt(params.GWei)
	funds := new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
	return New(t, Options{Spec: spec, DB: db, Alloc: types.GenesisAlloc{
		AddrA:       {Balance: new(big.Int).Set(funds)},
		AddrB:       {Balance: new(big.Int).Set(funds)},
		LogContract: {Code: logContractCode, Balance: new(big.Int)},
	}})
}

// LogTx calls LogContract from key's account.
func LogTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64) *types.Transaction {
	t.Helper()
	return signTx(t, key, &types.DynamicFeeTx{Nonce: nonce, GasTipCap: big.NewInt(2 * params.GWei), GasFeeCap: big.NewInt(10 * params.GWei), Gas: 100_000, To: &LogContract})
}

// TransferTx sends value wei from key's account to to.
func TransferTx(t testing.TB, key *ecdsa.PrivateKey, nonce uint64, to common.Address, value int64) *types.Transaction {
	t.Helper()
	return signTx(t, key, &types.DynamicFeeTx{Nonce: nonce, GasTipCap: big.NewInt(params.GWei), GasFeeCap: big.NewInt(10 * params.GWei), Gas: 21_000, To: &to, Value: big.NewInt(value)})
}

// signTx signs for the dev chain id, which the engine test network keeps.
func signTx(t testing.TB, key *ecdsa.PrivateKey, tx *types.DynamicFeeTx) *types.Transaction {
	t.Helper()
	tx.ChainID = new(big.Int).SetUint64(devSpec(t).ChainID)
	signed, err := types.SignNewTx(key, types.LatestSignerForChainID(tx.ChainID), tx)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func devSpec(t testing.TB) *genesis.Spec {
	t.Helper()
	spec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
