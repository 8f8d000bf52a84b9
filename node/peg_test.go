package node

import (
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/peg"
	"github.com/mmgeth/mmgeth/rpc"
)

// TestPegRPC serves each network's genesis: mm_getPegPolicy passes every
// check there (recomputed here from the JSON too) and carries the contracts'
// policyHash; deposit addresses verify and wrong ones say why; with
// --peg.watch a recipient asked for is listed once; the audit's invariant
// holds; the methods that read Bitcoin say they need --btc.rpc; a Bridge
// revert through eth_call names its custom error and keeps the raw data.
func TestPegRPC(t *testing.T) {
	alice := common.HexToAddress("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266")
	for _, name := range []string{"dev", "regtest", "testnet"} {
		t.Run(name, func(t *testing.T) {
			spec, err := genesis.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			_, client := startNode(t, Config{Spec: spec, PegWatch: true})

			var pol peg.Policy
			if err := client.Call(&pol, "mm_getPegPolicy"); err != nil {
				t.Fatal(err)
			}
			if failed := pol.Checks.Failed(); len(failed) > 0 {
				t.Errorf("mm_getPegPolicy checks fail: %v", failed)
			}
			if failed := peg.CheckPolicy(&pol).Failed(); len(failed) > 0 {
				t.Errorf("the policy JSON fails its checks recomputed by a client: %v", failed)
			}
			if pol.PolicyHash == (common.Hash{}) || pol.ChainID != uint32(spec.ChainID) || pol.PegIn.Confirmations != spec.Peg.PegInConfirmations {
				t.Errorf("policy hash %v, chain %d, confirmations %d", pol.PolicyHash, pol.ChainID, pol.PegIn.Confirmations)
			}

			var dep rpc.DepositAddress
			if err := client.Call(&dep, "mm_getDepositAddress", alice); err != nil {
				t.Fatal(err)
			}
			want, err := pol.Deposit(alice)
			if err != nil || dep.Address != want.Address || !dep.Watched || dep.PolicyHash != pol.PolicyHash {
				t.Fatalf("deposit address %+v, want %s (%v)", dep, want.Address, err)
			}
			// Asked again: listed once.
			if err := client.Call(&dep, "mm_getDepositAddress", alice); err != nil {
				t.Fatal(err)
			}
			var watched rpc.WatchedDeposits
			if err := client.Call(&watched, "mm_watchedDeposits", hexutil.Uint64(0)); err != nil {
				t.Fatal(err)
			}
			if len(watched.Deposits) != 1 || watched.Deposits[0].Recipient != alice || watched.Deposits[0].Address != dep.Address || watched.Next != 1 {
				t.Errorf("watched %+v", watched)
			}

			for _, c := range []struct {
				addr      string
				recipient common.Address
				reason    string
			}{
				{dep.Address, alice, ""},
				{dep.Address, common.HexToAddress("0x01"), peg.ErrAddressMismatch.Error()},
				{pol.Federation.ChangeAddress, common.Address{}, peg.ErrInvalidRecipient.Error()},
				{"bc1qnotanaddress", alice, "address"},
			} {
				var v rpc.DepositVerdict
				if err := client.Call(&v, "mm_verifyDepositAddress", c.addr, c.recipient); err != nil {
					t.Fatal(err)
				}
				if v.Valid != (c.reason == "") || !strings.Contains(v.Reason, c.reason) {
					t.Errorf("verify %s for %v: %+v, want reason %q", c.addr, c.recipient, v, c.reason)
				}
			}
			if err := client.Call(&dep, "mm_getDepositAddress", common.Address(peg.BridgeAddress)); !isPegError(err, peg.ErrInvalidRecipient.Error()) {
				t.Errorf("deposit address of the Bridge: %v", err)
			}

			var audit rpc.PegAudit
			if err := client.Call(&audit, "mm_getPegAudit"); err != nil {
				t.Fatal(err)
			}
			if !audit.Invariant || len(audit.Deposits) != 0 || audit.Next != nil {
				t.Errorf("genesis audit %+v", audit)
			}

			txid := strings.Repeat("ab", 32)
			var proof rpc.PegInProof
			if err := client.Call(&proof, "mm_getPegInProof", txid, 0, alice); !isPegError(err, "--btc.rpc") {
				t.Errorf("mm_getPegInProof without a Bitcoin node: %v", err)
			}
			var st rpc.PegInStatus
			if err := client.Call(&st, "mm_getPegInStatus", txid, 0); err != nil || st.Status != rpc.PegInUnknown || !strings.Contains(st.Reason, "--btc.rpc") {
				t.Errorf("status without a Bitcoin node: %+v, %v", st, err)
			}
			if err := client.Call(&st, "mm_getPegInStatus", "abcd"); !isPegError(err, "64 hex digits") {
				t.Errorf("status of a short txid: %v", err)
			}

			// registerPegIn for recipient 0 reverts with InvalidRecipient.
			input := bridge.RegisterPegInInput([]byte{1}, bridge.BtcInclusion{}, 0, common.Address{})
			var out hexutil.Bytes
			err = client.Call(&out, "eth_call", map[string]any{"to": bridge.BridgeAddress, "data": hexutil.Bytes(input)}, "latest")
			var de gethrpc.DataError
			if !errors.As(err, &de) || err.Error() != "execution reverted: InvalidRecipient()" ||
				de.ErrorData() != hexutil.Encode(bridge.BridgeABI.Errors["InvalidRecipient"].ID.Bytes()[:4]) {
				t.Errorf("eth_call reverting: %v", err)
			}
		})
	}
}

// isPegError: a -33100 error whose message contains want.
func isPegError(err error, want string) bool {
	var ec gethrpc.Error
	return errors.As(err, &ec) && ec.ErrorCode() == -33100 && strings.Contains(err.Error(), want)
}
