package genesis

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/triedb"

	"github.com/mmgeth/mmgeth/consensus"
	"github.com/mmgeth/mmgeth/evm"
	evmbridge "github.com/mmgeth/mmgeth/evm/bridge"
)

// The first accounts of "test test ... junk", as Hardhat and anvil list them.
var wellKnownDev = []string{
	"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
	"0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
	"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
}

func TestDevKeysFollowTheMnemonic(t *testing.T) {
	spec, err := Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := spec.DevKeys()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 20 {
		t.Fatalf("%d dev keys, want 20", len(keys))
	}
	for i, want := range wellKnownDev {
		if got := crypto.PubkeyToAddress(keys[i].PublicKey); got != common.HexToAddress(want) {
			t.Errorf("account %d is %s, want %s", i, got, want)
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
	  "bitcoin":{"network":"regtest","maxForkDepth":100,"maxHeadersPerCall":200},"finality":{"mode":"bitcoin","k":2}}`
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
		"dev":     "0x474766478826b97d847c651a599b919d0bee13bf4f5f4ec58d01e94295008ce5",
		"regtest": "0xfd9539be1ad3661e09eba617aeee5a9662adb08e198a3c2076ee6c24472cc266",
		"testnet": "0xb25567ec0b9a5be91756e377747ccf9201d146303fdba6483a39b983b77d758c",
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
