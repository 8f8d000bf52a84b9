package genesis

import (
	"bytes"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm"
	evmbridge "github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/peg"
)

// The first accounts of "test test ... junk", as Hardhat and anvil list them.
var wellKnownDev = []string{
	"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
	"0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
	"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
}

// TestDevKeysFollowTheMnemonic: dev and regtest prefund the same 20 public
// accounts (regtest's pay the relayer's gas before any peg-in).
func TestDevKeysFollowTheMnemonic(t *testing.T) {
	for _, name := range []string{"dev", "regtest"} {
		spec, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := spec.DevKeys()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 20 {
			t.Fatalf("%s: %d dev keys, want 20", name, len(keys))
		}
		gen, err := spec.Genesis()
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range wellKnownDev {
			addr := crypto.PubkeyToAddress(keys[i].PublicKey)
			if addr != common.HexToAddress(want) {
				t.Errorf("%s: account %d is %s, want %s", name, i, addr, want)
			}
			if bal := gen.Alloc[addr].Balance; bal == nil || bal.Cmp(evm.BTCToWei(10000)) != 0 {
				t.Errorf("%s: account %d holds %v wei, want 10000 BTC", name, i, bal)
			}
		}
	}
}

func TestEveryNetworkHoldsTheWholeSupply(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			spec, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			gen, err := spec.Genesis()
			if err != nil {
				t.Fatal(err)
			}
			sum := new(big.Int)
			for _, acc := range gen.Alloc {
				sum.Add(sum, acc.Balance)
			}
			if want := evm.BTCToWei(TotalSupplyBTC); sum.Cmp(want) != 0 {
				t.Fatalf("alloc sums to %v, want %v", sum, want)
			}
			for _, sys := range []common.Address{params.WithdrawalQueueAddress, params.ConsolidationQueueAddress, params.HistoryStorageAddress} {
				if len(gen.Alloc[sys].Code) == 0 {
					t.Errorf("system contract %s missing", sys)
				}
			}
			block := gen.MustCommit(rawdb.NewMemoryDatabase(), triedb.NewDatabase(rawdb.NewMemoryDatabase(), triedb.HashDefaults))
			if block.Difficulty().Sign() != 0 {
				t.Fatal("genesis difficulty must be 0: geth runs old EVM rules otherwise")
			}
			seal, err := consensus.DecodeSeal(block.Extra())
			if err != nil {
				t.Fatalf("genesis seal: %v", err)
			}
			if seal.Difficulty.Cmp(spec.GenesisDifficulty) != 0 || seal.Proof != nil {
				t.Fatalf("genesis seal %+v", seal)
			}
			if gen.Config.ChainID.Uint64() != spec.ChainID {
				t.Fatal("chain id not carried into the chain config")
			}
		})
	}
}

func TestParseRejectsBadSpecs(t *testing.T) {
	good := `{"name":"x","chainId":1,"networkId":1,"gasLimit":30000000,"baseFee":1,"genesisDifficulty":10,
	  "mergeMining":{"tag":"T:","targetSpacing":1,"halfLife":10,"minDifficulty":1,"maxExtraSize":4096},
	  "bitcoin":{"network":"regtest","maxForkDepth":100,"maxHeadersPerCall":200},"finality":{"mode":"bitcoin","k":2},
	  "peg":{"federation":{"threshold":2,"members":["020960c3b3fa7a53d760def1912f62db1f339e8fe33b8b8cdf86be6e5b20fc3bc9",
	    "02889b9cfa74fe7f30365f5d8d4d49608ca44fe30575c8b41bd05dc781905ee090","03074bee7e2d6b425da3b04b4f139585e1dfd562ef4f9224a274e7efe1ee81dba5"],
	    "emergencyThreshold":1,"emergency":["034f23735c89167a0c6ddb1afa8ad9b0bdce5d1ff9d1da422ed59b2e5485e65dae"],"csvDelayBlocks":144},
	    "refreshAgeBlocks":72,"pegInConfirmations":3,"minPegInSat":10000,"maxInputs":50,"maxOutputs":50}}`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good spec rejected: %v", err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"unknown field":    {`"name":"x"`, `"name":"x","gasLimt":1`, "unknown field"},
		"no chain id":      {`"chainId":1`, `"chainId":0`, "chainId"},
		"no base fee":      {`"baseFee":1`, `"baseFee":0`, "baseFee"},
		"no tag":           {`"tag":"T:"`, `"tag":""`, "tag"},
		"dev w/o phrase":   {`"name":"x"`, `"name":"x","devAccounts":2`, "devMnemonic"},
		"too much for dev": {`"name":"x"`, `"name":"x","devMnemonic":"a","devAccounts":3,"devBalanceBTC":8000000`, "supply"},
		"not json":         {`{`, `[`, "network spec"},
		"bitcoin network":  {`"network":"regtest"`, `"network":"signet"`, "bitcoin.network"},
		"no fork depth":    {`"maxForkDepth":100`, `"maxForkDepth":0`, "maxForkDepth"},
		"finality mode":    {`"mode":"bitcoin"`, `"mode":"votes"`, "finality"},
		"bitcoin k of 0":   {`"k":2`, `"k":0`, "finality"},
		"peg network":      {`"refreshAgeBlocks":72`, `"refreshAgeBlocks":72,"network":"regtest"`, "bitcoin and finality sections"},
		"peg no confs":     {`"pegInConfirmations":3`, `"pegInConfirmations":0`, "pegInConfirmations"},
		"peg 1-of-3":       {`"threshold":2`, `"threshold":1`, "threshold"},
		"peg refresh age":  {`"refreshAgeBlocks":72`, `"refreshAgeBlocks":140`, "refreshBeforeCsv"},
	} {
		_, err := Parse([]byte(strings.Replace(good, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
	}
	if _, err := Load("mainnet"); err == nil || !strings.Contains(err.Error(), "dev") {
		t.Errorf("unknown network: %v", err)
	}
}

// TestGenesisHashesPinned pins each network's genesis block: any change in
// the specs, the EVM, the compiler output of the bridge contracts or their
// constructors shows here first, as a different chain; spec fields that are
// not part of core.Genesis (local, bootnodes) must not change it.
func TestGenesisHashesPinned(t *testing.T) {
	want := map[string]string{
		"dev":     "0xb71833db082ac0495e5f9396f915ebdad68772fba774da7ce1bbb6f46a065d70",
		"regtest": "0xc8551e5f4fd4be63252e9841443c511dff9a87c66c22ad0abc589ef68433fb1b",
		"testnet": "0x0602cfa9151bbb837b8e10020cd48e899e808adc18d50c9b12c715e245f7134b",
	}
	wantChainID := map[string]uint64{"dev": 31337, "regtest": 7772, "testnet": 7771}
	for _, name := range Names() {
		spec, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		gen, err := spec.Genesis()
		if err != nil {
			t.Fatal(err)
		}
		if got := gen.ToBlock().Hash().Hex(); got != want[name] {
			t.Errorf("%s genesis %s, pinned %s", name, got, want[name])
		}
		// The chain id is not in the genesis header, so the hash above does
		// not cover it; dev's is Hardhat's and anvil's local chain id.
		if got := gen.Config.ChainID.Uint64(); got != wantChainID[name] {
			t.Errorf("%s chain id %d, pinned %d", name, got, wantChainID[name])
		}
		relay := gen.Alloc[evmbridge.BtcRelayAddress]
		if len(relay.Code) == 0 || len(relay.Storage) == 0 {
			t.Errorf("%s: BtcRelay not deployed at genesis", name)
		}
		if len(gen.Alloc[evmbridge.BridgeOutAddress].Code) == 0 {
			t.Errorf("%s: BridgeOut, the Bridge's peg-out half, not deployed at genesis", name)
		}
		flipped := *spec
		flipped.Local = !spec.Local
		if g, _ := flipped.Genesis(); g.ToBlock().Hash().Hex() != want[name] {
			t.Errorf("%s: the local flag changes the genesis", name)
		}
	}
}

// TestLocalNetworks: dev and regtest live on one machine, testnet does not.
func TestLocalNetworks(t *testing.T) {
	for name, local := range map[string]bool{"dev": true, "regtest": true, "testnet": false} {
		spec, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Local != local {
			t.Errorf("%s: local %v, want %v", name, spec.Local, local)
		}
	}
}

// TestGenesisPeg: every network's genesis holds the peg its spec names
// (PEG.md §1, §4.5): the Bridge with the rest of the supply, its policy,
// chain id and federation; the FedScript account with 0x00 ‖ the
// federation script; a ledger whose invariant holds with nothing pegged in;
// and a policy that passes every check of §7 on the values the contracts
// hold. Dev and regtest use the dev federation; testnet's is the 3-of-5
// placeholder derived from the same public mnemonic.
func TestGenesisPeg(t *testing.T) {
	devFed, _, err := peg.DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	placeholder, _, err := peg.DeriveFederation(peg.DevMnemonic, 3, 5, 2, 3, 4320)
	if err != nil {
		t.Fatal(err)
	}
	wantFed := map[string]*peg.Federation{"dev": devFed, "regtest": devFed, "testnet": placeholder}
	wantConfs := map[string]uint32{"dev": 1, "regtest": 3, "testnet": 10}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			spec, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&spec.Peg.Federation, wantFed[name]) {
				t.Fatalf("federation %+v, want %+v", spec.Peg.Federation, wantFed[name])
			}
			gen, err := spec.Genesis()
			if err != nil {
				t.Fatal(err)
			}
			st := genesisState(t, gen)
			view := evmbridge.NewView(st, gen.Config)

			pol, err := view.Policy()
			if err != nil {
				t.Fatal(err)
			}
			if uint64(pol.ChainID) != spec.ChainID || pol.PegInConfirmations != wantConfs[name] || pol.MinPegInSat != spec.Peg.MinPegInSat {
				t.Errorf("policy %+v", pol)
			}
			params, err := spec.PegParams()
			if err != nil {
				t.Fatal(err)
			}
			derived, err := peg.DerivePolicy(uint32(spec.ChainID), params)
			if err != nil {
				t.Fatal(err)
			}
			fed, err := view.Federation(0)
			if err != nil {
				t.Fatal(err)
			}
			code := st.GetCode(fed.FedScript)
			if fed.FedScript != common.Address(peg.FedScriptAddress(0)) || len(code) == 0 || code[0] != 0 ||
				!bytes.Equal(code[1:], derived.Federation.WitnessScript) {
				t.Fatalf("FedScript at %v: %x", fed.FedScript, code)
			}
			// The policy as mm_getPegPolicy will build it: on-chain values in.
			derived.Federation.FedScriptCodeHash = st.GetCodeHash(fed.FedScript)
			derived.Federation.ChangeProgram = fed.ChangeProgram[:]
			for i := range derived.Federation.Members {
				derived.Federation.Members[i].Signer = fed.Signers[i]
			}
			if failed := peg.CheckPolicy(derived).Failed(); len(failed) > 0 {
				t.Errorf("policy checks fail on genesis: %v", failed)
			}

			acct, err := view.Accounting()
			if err != nil {
				t.Fatal(err)
			}
			dev := new(big.Int).Mul(big.NewInt(int64(spec.DevAccounts)), evm.BTCToWei(spec.DevBalanceBTC))
			if !acct.InvariantHolds || acct.ExcessWei.Sign() != 0 || acct.BackedWei.Sign() != 0 || acct.UnbackedGenesisWei.Cmp(dev) != 0 ||
				new(big.Int).Add(acct.BalanceWei, dev).Cmp(evm.BTCToWei(TotalSupplyBTC)) != 0 {
				t.Errorf("genesis accounting %+v", acct)
			}
		})
	}
}

// genesisState is the state a node starts from: gen's alloc applied.
func genesisState(t *testing.T, gen *core.Genesis) *state.StateDB {
	t.Helper()
	st, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		t.Fatal(err)
	}
	for addr, acct := range gen.Alloc {
		st.SetCode(addr, acct.Code, tracing.CodeChangeGenesis)
		st.SetNonce(addr, acct.Nonce, tracing.NonceChangeGenesis)
		for k, v := range acct.Storage {
			st.SetState(addr, k, v)
		}
		if acct.Balance != nil {
			st.SetBalance(addr, uint256.MustFromBig(acct.Balance), tracing.BalanceIncreaseGenesisBalance)
		}
	}
	return st
}
