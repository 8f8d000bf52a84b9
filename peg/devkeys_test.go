package peg

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/internal/devkey"
)

// The public dev federation, pinned. Script order is ascending pubkey, so
// member 0 is derivation index 2, member 1 index 0, member 2 index 1.
var devFederationVectors = []struct {
	path   string
	index  uint32
	pubkey string
	signer string
}{
	{"m/84'/1'/7'/0/2", 2, "020960c3b3fa7a53d760def1912f62db1f339e8fe33b8b8cdf86be6e5b20fc3bc9", "0x052349207f01dfd1bc015416c2572abd152d816c"},
	{"m/84'/1'/7'/0/0", 0, "02889b9cfa74fe7f30365f5d8d4d49608ca44fe30575c8b41bd05dc781905ee090", "0x3dbb3dea8ef1168eadc44fdea6c89f5f6c6b8f04"},
	{"m/84'/1'/7'/0/1", 1, "03074bee7e2d6b425da3b04b4f139585e1dfd562ef4f9224a274e7efe1ee81dba5", "0xa481a9a2f6c0fb8472c45d9f5de8f28ab623849e"},
}

const devEmergencyKey = "034f23735c89167a0c6ddb1afa8ad9b0bdce5d1ff9d1da422ed59b2e5485e65dae" // m/84'/1'/7'/1/0

func TestDevFederation(t *testing.T) {
	f, ks, err := DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	if f.Threshold != 2 || f.EmergencyThreshold != 1 || f.CSVDelay != 144 || len(f.Members) != 3 || len(f.Emergency) != 1 {
		t.Fatalf("federation %+v, want §4.5's 2-of-3 / 1-of-1, 144", f)
	}
	derived, err := devkey.Keys(DevMnemonic, DevMemberPath, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range devFederationVectors {
		if got := f.Members[i].String(); got != v.pubkey {
			t.Errorf("member %d is %s, want %s (%s)", i, got, v.pubkey, v.path)
		}
		if !bytes.Equal(ks.Members[i].PubKey().SerializeCompressed(), f.Members[i]) {
			t.Errorf("member %d: private key does not match", i)
		}
		if !ks.Members[i].Key.Equals(&derived[v.index].Key) {
			t.Errorf("member %d is not %s", i, v.path)
		}
		if got := crypto.PubkeyToAddress(*ks.Members[i].PubKey().ToECDSA()); got != common.HexToAddress(v.signer) {
			t.Errorf("member %d signs as %s, want %s", i, got, v.signer)
		}
	}
	if got := f.Emergency[0].String(); got != devEmergencyKey {
		t.Errorf("emergency key %s", got)
	}
	if !bytes.Equal(ks.Emergency[0].PubKey().SerializeCompressed(), f.Emergency[0]) {
		t.Error("emergency private key does not match")
	}
	script, err := FederationScript(f)
	if err != nil {
		t.Fatal(err)
	}
	want := "63 52 21" + devFederationVectors[0].pubkey + "21" + devFederationVectors[1].pubkey + "21" +
		devFederationVectors[2].pubkey + "53 ae 67 029000 b2 75 51 21" + devEmergencyKey + "51 ae 68"
	if !bytes.Equal(script, unhex(t, want)) {
		t.Fatalf("dev federation script %x", script)
	}
}
