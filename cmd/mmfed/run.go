package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/peg/fed"
)

var (
	memberFlag = &cli.UintFlag{
		Name:     "member",
		Usage:    "this federator's member index in the active federation (its key's position in the sorted key list)",
		Required: true,
	}
	memberKeyFlag = &cli.StringFlag{
		Name:     "key",
		Usage:    "file holding the member's Bitcoin signing key: a hex private key, or a geth keystore JSON file with --password",
		Required: true,
	}
	gasKeyFlag = &cli.StringFlag{
		Name:  "gas.key",
		Usage: "file holding a hex key that pays for the sidechain transactions (default: the member key; PEG.md §5.5 wants a separate hot key)",
	}
	dataDirFlag = &cli.StringFlag{
		Name:  "datadir",
		Usage: "directory of the append-only signed-input log (signed.log); never delete it while the federation runs",
		Value: "mmfed-data",
	}
	maxFeeRateFlag = &cli.Int64Flag{
		Name:  "fee.max",
		Usage: "refuse to sign batches above this fee rate, in sat/vB",
		Value: 1000,
	}
	voteFeeRateFlag = &cli.UintFlag{
		Name:  "fee.vote",
		Usage: "vote this fee rate (sat/vB) whenever this member's last vote differs; 0: do not vote",
	}
)

var runCommand = &cli.Command{
	Name:  "run",
	Usage: "run one federation member: build, sign, broadcast and confirm peg-out batches",
	Description: "Each --interval, mmfed run reads the Bridge over --rpc: it calls buildPegOutBatch when requests wait, " +
		"signs each batch of its federation once the batch's sidechain block is Bitcoin-finalized and its own rebuild " +
		"(peg.BuildPegOut, btcd sighashes) gives the Bridge's bytes, never signing an input twice (--datadir/signed.log, " +
		"fsync'd before a signature leaves the process), broadcasts READY batches to --btc.rpc after checking every input " +
		"with btcd's script engine, and sends confirmPegOut with an SPV proof once BtcRelay buries them pegOutConfirmations " +
		"deep. It sends no headers: run mmfed relay (or rely on other relayers) to keep BtcRelay current.",
	Flags: []cli.Flag{rpcFlag, btcRPCFlag, btcUserFlag, btcPassFlag, memberFlag, memberKeyFlag, passwordFlag, gasKeyFlag,
		dataDirFlag, maxFeeRateFlag, voteFeeRateFlag, intervalFlag, verboseFlag, metricsFlag, metricsAddrFlag, metricsPortFlag},
	Action: runFederator,
}

func runFederator(c *cli.Context) error {
	member := c.Uint(memberFlag.Name)
	if member > 15 {
		return fmt.Errorf("--member %d: a federation has at most 15 members", member)
	}
	vote := c.Uint(voteFeeRateFlag.Name)
	if uint64(vote) > 1<<32-1 {
		return fmt.Errorf("--fee.vote %d does not fit 32 bits", vote)
	}
	d, err := setup(c)
	if err != nil {
		return err
	}
	defer d.close()
	signing, _ := btcec.PrivKeyFromBytes(crypto.FromECDSA(d.cfg.Key))
	if gk := c.String(gasKeyFlag.Name); gk != "" {
		if d.cfg.Key, err = loadKey(gk, ""); err != nil {
			return fmt.Errorf("--gas.key: %w", err)
		}
	}
	dir := c.String(dataDirFlag.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--datadir: %w", err)
	}
	f, err := fed.NewFederator(fed.FederatorConfig{Relay: d.cfg, Member: uint8(member), Key: signing,
		SignedLog: filepath.Join(dir, "signed.log"), MaxFeeRate: c.Int64(maxFeeRateFlag.Name), FeeRate: uint32(vote)})
	if err != nil {
		return err
	}
	defer f.Close()
	d.log.Info("Starting mmfed run", "rpc", d.sideURL, "btc", d.cfg.Bitcoin.URL(), "member", member,
		"signer", crypto.PubkeyToAddress(signing.ToECDSA().PublicKey), "gas", f.Address(), "datadir", dir)
	f.Run(d.ctx)
	d.log.Info("Stopped")
	return nil
}
