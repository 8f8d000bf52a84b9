package main

import (
	"context"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/internal/btcwallet"
	"github.com/mmgeth/mmgeth/peg"
)

// btcCommand pays from a key on a Bitcoin node without a wallet: btcd has
// none, so on regtest a user mines to the key's address (btcd
// --miningaddr) and pays a deposit address from its coinbases with this.
var btcCommand = &cli.Command{
	Name:  "btc",
	Usage: "pay from a key's coins through a Bitcoin node without a wallet (btcd; regtest)",
	Subcommands: []*cli.Command{
		{
			Name:   "address",
			Usage:  "print the P2PKH address of --key (for btcd --miningaddr)",
			Flags:  []cli.Flag{btcKeyFlag, btcNetFlag},
			Action: runBtcAddress,
		},
		{
			Name:  "pay",
			Usage: "pay --amount BTC to --to from the coins of --key, change back to it; prints the txid",
			Description: "Reads the Bitcoin node's best-chain blocks from height 1 up for unspent outputs paying --key's " +
				"P2PKH address (mature coinbases included), signs with btcd's txscript and sends the transaction " +
				"(sendrawtransaction). bitcoind users pay with their wallet instead (bitcoin-cli sendtoaddress).",
			Flags:  []cli.Flag{btcRPCFlag, btcUserFlag, btcPassFlag, btcKeyFlag, btcNetFlag, toFlag, amountFlag, feeFlag},
			Action: runBtcPay,
		},
		{
			Name:  "script",
			Usage: "print the output script of address --to as 0x-hex: what requestPegOut takes",
			Description: "Bitcoin addresses name output scripts; the Bridge's requestPegOut(bytes btcScript) takes the " +
				"script itself, which must be P2PKH, P2SH, P2WPKH, P2WSH or P2TR (PEG.md §5.1).",
			Flags:  []cli.Flag{toFlag, btcNetFlag},
			Action: runBtcScript,
		},
	},
}

var (
	btcKeyFlag = &cli.StringFlag{
		Name:     "key",
		Usage:    "file holding the Bitcoin private key as hex (32 bytes)",
		Required: true,
	}
	btcNetFlag = &cli.StringFlag{
		Name:  "btc.net",
		Usage: "Bitcoin network: regtest, testnet4 or mainnet",
		Value: "regtest",
	}
	toFlag     = &cli.StringFlag{Name: "to", Usage: "address to pay (a deposit address from mm_getDepositAddress)", Required: true}
	amountFlag = &cli.Float64Flag{Name: "amount", Usage: "BTC to pay", Required: true}
	feeFlag    = &cli.Int64Flag{Name: "fee", Usage: "fee in satoshi", Value: 2000}
)

// wallet is the wallet of --key (the relayer's --key hex format, read the
// same way, as a secp256k1 key for Bitcoin) on --btc.net; btc may be nil
// for a wallet that only names its address.
func wallet(c *cli.Context, btc *btcrpc.Client) (*btcwallet.Wallet, *chaincfg.Params, error) {
	k, err := loadKey(c.String(btcKeyFlag.Name), "")
	if err != nil {
		return nil, nil, err
	}
	priv, _ := btcec.PrivKeyFromBytes(crypto.FromECDSA(k))
	net, err := peg.Network(c.String(btcNetFlag.Name))
	if err != nil {
		return nil, nil, err
	}
	w, err := btcwallet.New(btc, priv, net)
	return w, net, err
}

func runBtcAddress(c *cli.Context) error {
	w, _, err := wallet(c, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, w.Address())
	return nil
}

func runBtcPay(c *cli.Context) error {
	btc, err := btcrpc.New(c.String(btcRPCFlag.Name), c.String(btcUserFlag.Name), c.String(btcPassFlag.Name))
	if err != nil {
		return err
	}
	w, net, err := wallet(c, btc)
	if err != nil {
		return err
	}
	script, err := toScript(c, net)
	if err != nil {
		return err
	}
	amount, err := btcutil.NewAmount(c.Float64(amountFlag.Name))
	if err != nil || amount <= 0 || amount > btcutil.MaxSatoshi || math.IsNaN(c.Float64(amountFlag.Name)) {
		return fmt.Errorf("--amount %v: want a positive amount of BTC", c.Float64(amountFlag.Name))
	}
	ctx := context.Background()
	tx, err := w.Pay(ctx, script, int64(amount), c.Int64(feeFlag.Name))
	if err != nil {
		return err
	}
	txid, err := btc.SendRawTransaction(ctx, tx)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, txid)
	return nil
}

func runBtcScript(c *cli.Context) error {
	net, err := peg.Network(c.String(btcNetFlag.Name))
	if err != nil {
		return err
	}
	script, err := toScript(c, net)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "0x%x\n", script)
	return nil
}

// toScript is the output script of --to, an address of net.
func toScript(c *cli.Context, net *chaincfg.Params) ([]byte, error) {
	to, err := address.DecodeAddress(c.String(toFlag.Name), net)
	if err != nil || !to.IsForNet(net) {
		return nil, fmt.Errorf("--to %q: not an address of %s", c.String(toFlag.Name), net.Name)
	}
	return txscript.PayToAddrScript(to)
}
