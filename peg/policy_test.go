package peg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/ethereum/go-ethereum/common"
)

func regtestPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := DerivePolicy(7772, regtestParams(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDerivePolicyPassesItsChecks(t *testing.T) {
	p := regtestPolicy(t)
	if failed := p.Checks.Failed(); failed != nil {
		t.Fatalf("failed checks %v", failed)
	}
	if p.BitcoinNetwork != "regtest" || p.Federation.Threshold != 2 || len(p.Federation.Members) != 3 ||
		p.Federation.Emergency.CSVDelayBlocks != 144 || p.PegOut.SigningGate.Mode != "bitcoin-finality" {
		t.Fatalf("policy %+v", p)
	}
	if p.Contracts.FedScript != common.HexToAddress("0x0000000000000000000000000000000001000600") ||
		p.Contracts.Bridge != common.HexToAddress("0x0000000000000000000000000000000001000006") ||
		p.Contracts.BtcRelay != common.HexToAddress("0x0000000000000000000000000000000001000007") {
		t.Fatalf("contracts %+v", p.Contracts)
	}
	if FedScriptAddress(3) != common.HexToAddress("0x0000000000000000000000000000000001000603") {
		t.Fatal("FedScript(3)")
	}
}

func TestDerivePolicyRejects(t *testing.T) {
	params := regtestParams(t)
	params.Network = "signet"
	if _, err := DerivePolicy(7772, params); ruleOf(err) != ErrUnsupportedNetwork {
		t.Fatalf("signet: %v", err)
	}
	params = regtestParams(t)
	params.Federation.Threshold = 1
	if _, err := DerivePolicy(7772, params); ruleOf(err) != ErrThreshold {
		t.Fatalf("1-of-3: %v", err)
	}
}

// The JSON has §7's shape: these keys, no others, and it reads back to the
// same policy.
func TestPolicyJSON(t *testing.T) {
	p := regtestPolicy(t)
	enc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Policy
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, p) {
		t.Fatalf("round trip differs:\n%s", enc)
	}
	var m map[string]map[string]any
	var top map[string]any
	json.Unmarshal(enc, &top)
	json.Unmarshal(enc, &m)
	for obj, want := range map[string][]string{
		"": {"version", "policyHash", "chainId", "bitcoinNetwork", "contracts", "federation", "pegIn",
			"pegOut", "lightClient", "finality", "checks"},
		"federation": {"epoch", "threshold", "members", "emergency", "witnessScript", "witnessScriptAsm",
			"depositScriptTemplate", "fedScriptCodeHash", "changeProgram", "changeAddress"},
		"pegIn": {"confirmations", "fastTier", "minSat", "capSat", "relayerFeeSat", "satToWei"},
		"pegOut": {"minSat", "batchIntervalBlocks", "maxInputs", "maxOutputs", "feeRateSatPerVByte",
			"confirmations", "rbfAfterBtcBlocks", "signingGate", "dailyOutflowCapSat", "halted"},
		"checks": {"scriptBuiltFromKeys", "fedScriptCodeMatches", "changeProgramMatches", "signersMatchPubkeys",
			"pubkeysSortedUnique", "thresholdsSane", "refreshBeforeCsv", "scriptStandard"},
	} {
		var have []string
		fields := map[string]any(m[obj])
		if obj == "" {
			fields = top
		}
		for k := range fields {
			have = append(have, k)
		}
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("%q keys %v, want %v", obj, have, want)
		}
	}
}

// A user with only the policy JSON and btcd re-derives deposit addresses:
// nothing of this package runs on the verifying side, and the federation
// script is rebuilt from the listed keys with btcd's builder.
func TestPolicyJSONAloneDerivesAddresses(t *testing.T) {
	enc, err := json.Marshal(regtestPolicy(t))
	if err != nil {
		t.Fatal(err)
	}
	p := regtestPolicy(t)
	var j struct {
		ChainID        uint32 `json:"chainId"`
		BitcoinNetwork string `json:"bitcoinNetwork"`
		Federation     struct {
			Threshold int `json:"threshold"`
			Members   []struct {
				Pubkey string `json:"pubkey"`
			} `json:"members"`
			Emergency struct {
				Threshold int      `json:"threshold"`
				Pubkeys   []string `json:"pubkeys"`
				CSV       int64    `json:"csvDelayBlocks"`
			} `json:"emergency"`
			WitnessScript string `json:"witnessScript"`
			ChangeAddress string `json:"changeAddress"`
		} `json:"federation"`
	}
	if err := json.Unmarshal(enc, &j); err != nil {
		t.Fatal(err)
	}
	var net *chaincfg.Params
	for _, n := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet4Params, &chaincfg.RegressionNetParams} {
		if n.Name == j.BitcoinNetwork {
			net = n
		}
	}
	b := txscript.NewScriptBuilder().AddOp(txscript.OP_IF).AddInt64(int64(j.Federation.Threshold))
	for _, m := range j.Federation.Members {
		b.AddData(unhex(t, m.Pubkey))
	}
	b.AddInt64(int64(len(j.Federation.Members))).AddOp(txscript.OP_CHECKMULTISIG).AddOp(txscript.OP_ELSE)
	b.AddInt64(j.Federation.Emergency.CSV).AddOp(txscript.OP_CHECKSEQUENCEVERIFY).AddOp(txscript.OP_DROP)
	b.AddInt64(int64(j.Federation.Emergency.Threshold))
	for _, k := range j.Federation.Emergency.Pubkeys {
		b.AddData(unhex(t, k))
	}
	b.AddInt64(int64(len(j.Federation.Emergency.Pubkeys))).AddOp(txscript.OP_CHECKMULTISIG).AddOp(txscript.OP_ENDIF)
	fed, err := b.Script()
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(fed) != j.Federation.WitnessScript {
		t.Fatalf("keys build %x, policy lists %s", fed, j.Federation.WitnessScript)
	}
	derive := func(recipient [20]byte) string {
		chain := binary.BigEndian.AppendUint32([]byte{0x01}, j.ChainID)
		prefix, err := txscript.NewScriptBuilder().AddData(append(chain, recipient[:]...)).AddOp(txscript.OP_DROP).Script()
		if err != nil {
			t.Fatal(err)
		}
		program := sha256.Sum256(append(prefix, fed...))
		a, err := address.NewAddressWitnessScriptHash(program[:], net)
		if err != nil {
			t.Fatal(err)
		}
		return a.EncodeAddress()
	}
	if got := derive([20]byte{}); got != j.Federation.ChangeAddress {
		t.Fatalf("change address %s, policy lists %s", got, j.Federation.ChangeAddress)
	}
	for _, r := range []string{hardhat0, "0x0000000000000000000000000000000000000001", "0xffffffffffffffffffffffffffffffffffffffff"} {
		rec := mustRecipient(t, r)
		d, err := p.Deposit(rec)
		if err != nil {
			t.Fatal(err)
		}
		if want := derive(rec); d.Address != want {
			t.Errorf("%s: node says %s, JSON gives %s", r, d.Address, want)
		}
		if err := p.VerifyDepositAddress(d.Address, r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func TestVerifyDepositAddress(t *testing.T) {
	p := regtestPolicy(t)
	d, err := p.Deposit(mustRecipient(t, hardhat0))
	if err != nil {
		t.Fatal(err)
	}
	mainnet := *p
	mainnet.BitcoinNetwork = "mainnet"
	onMainnet, err := mainnet.Deposit(mustRecipient(t, hardhat0))
	if err != nil {
		t.Fatal(err)
	}
	otherChain := *p
	otherChain.ChainID = 7771
	for _, tc := range []struct {
		name       string
		p          *Policy
		addr, recp string
		want       error
	}{
		{"valid", p, d.Address, hardhat0, nil},
		{"other recipient", p, d.Address, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", ErrAddressMismatch},
		{"other chain", &otherChain, d.Address, hardhat0, ErrAddressMismatch},
		{"change address", p, p.Federation.ChangeAddress, "0x0000000000000000000000000000000000000000", ErrInvalidRecipient},
		{"bridge", p, d.Address, "0x0000000000000000000000000000000001000006", ErrInvalidRecipient},
		{"mainnet address", p, onMainnet.Address, hardhat0, ErrWrongNetwork},
		{"garbage", p, "bcrt1qqqqq", hardhat0, ErrAddressEncoding},
		{"short recipient", p, d.Address, hardhat0[:41], ErrRecipientHex},
		{"19-byte recipient", p, d.Address, hardhat0[:40], ErrRecipientLength},
		{"unknown network", &Policy{BitcoinNetwork: "signet"}, d.Address, hardhat0, ErrUnsupportedNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.VerifyDepositAddress(tc.addr, tc.recp)
			if tc.want == nil && err != nil || tc.want != nil && ruleOf(err) != tc.want {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// Each check fails when its own input is tampered with. The table lists
// every check that must fail, so a check that starts depending on another
// field shows up here.
func TestCheckPolicyTampering(t *testing.T) {
	otherAddr, err := regtestPolicy(t).Deposit(mustRecipient(t, hardhat0))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tamper func(p *Policy)
		fail   []string
	}{
		{"asm", func(p *Policy) { p.Federation.WitnessScriptAsm += " OP_NOP" }, []string{"scriptBuiltFromKeys"}},
		{"threshold 3-of-3", func(p *Policy) { p.Federation.Threshold = 3 }, []string{"scriptBuiltFromKeys"}},
		{"threshold 1-of-3", func(p *Policy) { p.Federation.Threshold = 1 },
			[]string{"scriptBuiltFromKeys", "thresholdsSane"}},
		{"emergency 2-of-1", func(p *Policy) { p.Federation.Emergency.Threshold = 2 },
			[]string{"scriptBuiltFromKeys", "thresholdsSane"}},
		{"script byte", func(p *Policy) { p.Federation.WitnessScript[5] ^= 1 },
			[]string{"scriptBuiltFromKeys", "fedScriptCodeMatches", "changeProgramMatches"}},
		{"code hash", func(p *Policy) { p.Federation.FedScriptCodeHash[0] ^= 1 }, []string{"fedScriptCodeMatches"}},
		{"change program", func(p *Policy) { p.Federation.ChangeProgram[31] ^= 1 }, []string{"changeProgramMatches"}},
		{"change address", func(p *Policy) { p.Federation.ChangeAddress = otherAddr.Address }, []string{"changeProgramMatches"}},
		{"chain id", func(p *Policy) { p.ChainID++ }, []string{"changeProgramMatches"}},
		{"signer", func(p *Policy) { p.Federation.Members[1].Signer[0] ^= 1 }, []string{"signersMatchPubkeys"}},
		{"member index", func(p *Policy) { p.Federation.Members[2].Index = 7 }, []string{"signersMatchPubkeys"}},
		// G sorts between the first and second dev keys (0209… < 0279… < 0288…).
		{"member pubkey", func(p *Policy) { p.Federation.Members[0].Pubkey = unhex(t, g1) },
			[]string{"scriptBuiltFromKeys", "signersMatchPubkeys"}},
		{"members swapped", func(p *Policy) {
			m := p.Federation.Members
			m[0].Pubkey, m[0].Signer, m[1].Pubkey, m[1].Signer = m[1].Pubkey, m[1].Signer, m[0].Pubkey, m[0].Signer
		}, []string{"scriptBuiltFromKeys", "pubkeysSortedUnique"}},
		{"emergency key is a member", func(p *Policy) { p.Federation.Emergency.Pubkeys[0] = p.Federation.Members[0].Pubkey },
			[]string{"scriptBuiltFromKeys", "pubkeysSortedUnique"}},
		{"uncompressed emergency key", func(p *Policy) {
			p.Federation.Emergency.Pubkeys[0] = uncompressed(t, p.Federation.Emergency.Pubkeys[0].String())
		}, []string{"scriptBuiltFromKeys", "pubkeysSortedUnique"}},
		{"refresh past csv margin", func(p *Policy) { p.Federation.Emergency.RefreshAgeBlocks = 127 }, []string{"refreshBeforeCsv"}},
		{"refresh 0", func(p *Policy) { p.Federation.Emergency.RefreshAgeBlocks = 0 }, []string{"refreshBeforeCsv"}},
		{"csv shortened", func(p *Policy) { p.Federation.Emergency.CSVDelayBlocks = 80 },
			[]string{"scriptBuiltFromKeys", "refreshBeforeCsv"}},
		{"network", func(p *Policy) { p.BitcoinNetwork = "mainnet" }, []string{"changeProgramMatches", "scriptStandard"}},
		{"unknown network", func(p *Policy) { p.BitcoinNetwork = "testnet3" }, []string{"changeProgramMatches", "scriptStandard"}},
		{"template", func(p *Policy) {
			p.Federation.DepositScriptTemplate = "1902{chainId:u32be}{recipient:20}75{witnessScript}"
		},
			[]string{"scriptStandard"}},
		{"script past 3600 bytes", func(p *Policy) {
			p.Federation.WitnessScript = append(p.Federation.WitnessScript, make([]byte, MaxWitnessScriptSize)...)
		}, []string{"scriptBuiltFromKeys", "fedScriptCodeMatches", "changeProgramMatches", "scriptStandard"}},
		{"no members", func(p *Policy) { p.Federation.Members = nil },
			[]string{"scriptBuiltFromKeys", "signersMatchPubkeys", "thresholdsSane"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := regtestPolicy(t)
			tc.tamper(p)
			if got := CheckPolicy(p).Failed(); !slices.Equal(got, tc.fail) {
				t.Fatalf("failed %v, want %v", got, tc.fail)
			}
		})
	}
}

// The boundary of refreshBeforeCsv on §4.5's networks: the refresh age
// they chose passes, and one past csv − max(6, csv/8) fails.
func TestRefreshBeforeCSV(t *testing.T) {
	for _, tc := range []struct{ csv, refresh, limit uint32 }{
		{144, 72, 126}, {4320, 3312, 3780}, {26280, 22000, 22995}, {7, 1, 1}, {1, 0, 0}, {6, 0, 0},
	} {
		if tc.refresh > 0 && !refreshBeforeCSV(tc.refresh, tc.csv) {
			t.Errorf("csv %d: refresh %d refused", tc.csv, tc.refresh)
		}
		if tc.limit > 0 && !refreshBeforeCSV(tc.limit, tc.csv) {
			t.Errorf("csv %d: limit %d refused", tc.csv, tc.limit)
		}
		if refreshBeforeCSV(tc.limit+1, tc.csv) {
			t.Errorf("csv %d: %d accepted", tc.csv, tc.limit+1)
		}
	}
}

func TestPolicyDepositAnswer(t *testing.T) {
	p, err := DerivePolicy(7772, &Params{
		Network: "regtest", Federation: *genFederation(t), RefreshAgeBlocks: 72, Finality: Finality{Mode: "depth", K: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.PegOut.SigningGate.Mode != "depth" {
		t.Fatalf("gate %+v", p.PegOut.SigningGate)
	}
	d, err := p.Deposit(mustRecipient(t, hardhat0))
	if err != nil {
		t.Fatal(err)
	}
	if d.Address != hardhat0Addresses[2].addr || !bytes.Equal(d.WitnessScript, unhex(t, hardhat0Deposit)) ||
		!bytes.Equal(d.ScriptPubKey, unhex(t, "0020"+hardhat0Program)) || d.Epoch != 0 {
		t.Fatalf("%+v", d)
	}
	if _, err := p.Deposit([20]byte{}); ruleOf(err) != ErrInvalidRecipient {
		t.Fatalf("recipient 0: %v", err)
	}
}
