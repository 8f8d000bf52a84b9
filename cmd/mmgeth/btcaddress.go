package main

import (
	"fmt"
	"os"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/urfave/cli/v2"
)

// btcAddressCommand gives a merge-mining set-up the Bitcoin address its
// Bitcoin node pays coinbases to: btcd needs --miningaddr and has no wallet
// to make one.
var btcAddressCommand = &cli.Command{
	Name:  "btcaddress",
	Usage: "make a key and print its Bitcoin address for the network's Bitcoin chain (e.g. btcd --miningaddr)",
	Description: "Makes a random key and prints its P2PKH address on the Bitcoin network that --regtest, " +
		"--testnet or --dev follow, on stdout (so that ADDR=$(mmgeth btcaddress --regtest) works), and the key, " +
		"as WIF to import into a wallet, on stderr. Nothing is stored: keep the key to spend what the address receives.",
	Flags: networkFlags,
	Action: func(ctx *cli.Context) error {
		if ctx.Args().Len() > 0 {
			return fmt.Errorf("btcaddress takes no arguments")
		}
		spec, err := loadSpec(ctx)
		if err != nil {
			return err
		}
		params, err := spec.Bitcoin.Params()
		if err != nil {
			return err
		}
		key, err := btcec.NewPrivateKey()
		if err != nil {
			return err
		}
		addr, err := address.NewAddressPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), params)
		if err != nil {
			return err
		}
		wif, err := btcutil.NewWIF(key, params, true)
		if err != nil {
			return err
		}
		fmt.Println(addr.EncodeAddress())
		fmt.Fprintf(os.Stderr, "Bitcoin %s address %s; its private key (WIF): %s\n", spec.Bitcoin.Network, addr.EncodeAddress(), wif.String())
		return nil
	},
}
