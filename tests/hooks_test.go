package tests

// What the command line connects behind RPC methods whose answer depends on
// how the node was started: eth_coinbase (--mine, --dev) and the
// pre-EIP-155 gate (--rpc.allow-unprotected-txs).

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/mmgeth/mmgeth/node"
)

func TestCoinbaseFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	etherbase := common.HexToAddress("0x00000000000000000000000000000000000fee01")
	for _, c := range []struct {
		name string
		dev  bool
		args []string
		want common.Address // zero: the node builds no blocks
	}{
		// The dev coinbase is an address no dev account uses, so senders pay
		// fees as on anvil, unless one is given.
		{"dev", true, nil, node.DevCoinbase},
		{"dev with --miner.etherbase", true, []string{"--miner.etherbase", etherbase.Hex()}, etherbase},
		{"mine", false, []string{"--mine", "--miner.etherbase", etherbase.Hex()}, etherbase},
		{"follower", false, nil, common.Address{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := startNetNode(t, strings.ReplaceAll(c.name, " ", "-"), c.dev, c.args...)
			var got common.Address
			err := rpcCall(context.Background(), n.http, &got, "eth_coinbase")
			switch {
			case c.want == (common.Address{}):
				var rerr *rpcError
				if !errors.As(err, &rerr) || !strings.Contains(rerr.Message, "does not build blocks") {
					t.Fatalf("eth_coinbase on a node that does not mine: %s, %v; want the error saying so", got, err)
				}
			case err != nil || got != c.want:
				t.Fatalf("eth_coinbase = %s, %v; want %s", got, err, c.want)
			}
		})
	}
}

func TestUnprotectedTransactionsFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(devKey, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	// Signed without a chain id, as a keyless deployment is.
	tx := types.MustSignNewTx(key, types.HomesteadSigner{}, &types.LegacyTx{
		Nonce: 0, To: &common.Address{0xe2}, Value: big.NewInt(1), Gas: 21_000, GasPrice: big.NewInt(params.GWei),
	})
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		dev    bool
		args   []string
		accept bool
	}{
		{"dev", true, nil, true},
		{"dev refusing", true, []string{"--rpc.allow-unprotected-txs=false"}, false},
		// A node of the dev network without --dev: geth's default.
		{"follower", false, nil, false},
		{"follower allowing", false, []string{"--rpc.allow-unprotected-txs"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := startNetNode(t, strings.ReplaceAll(c.name, " ", "-"), c.dev, c.args...)
			var hash common.Hash
			err := rpcCall(context.Background(), n.http, &hash, "eth_sendRawTransaction", hexutil.Bytes(raw))
			if c.accept {
				if err != nil || hash != tx.Hash() {
					t.Fatalf("eth_sendRawTransaction of an unprotected transaction: %s, %v; want %s", hash, err, tx.Hash())
				}
				return
			}
			var rerr *rpcError
			if !errors.As(err, &rerr) || !strings.Contains(rerr.Message, "only replay-protected (EIP-155) transactions allowed over RPC") {
				t.Fatalf("eth_sendRawTransaction of an unprotected transaction: %s, %v; want geth's refusal", hash, err)
			}
		})
	}
}
