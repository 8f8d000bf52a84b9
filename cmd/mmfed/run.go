package main

import (
	"cmp"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
	"github.com/mmgeth/mmgeth/peg/fed"
)

var (
	memberFlag = &cli.UintFlag{
		Name:     "member",
		Usage:    "this federator's member index in the active federation (its key's position in the sorted key list)",
		Required: true,
	}
	memberKeyFlag = &cli.StringFlag{
		Name:  "key",
		Usage: "file holding the member's Bitcoin signing key: a hex private key, or a geth keystore JSON file with --password",
	}
	signerFlag = &cli.StringFlag{
		Name:  "signer",
		Usage: "unix socket of an mmfed signer holding the member key (instead of --key)",
	}
	gasKeyFlag = &cli.StringFlag{
		Name:  "gas.key",
		Usage: "file holding a hex key that pays for the sidechain transactions (default: the member key; required with --signer)",
	}
	dataDirFlag = &cli.StringFlag{
		Name:  "datadir",
		Usage: "directory of the append-only signed-input log (signed.log); never delete it while the federation runs",
		Value: "mmfed-data",
	}
	maxFeeRateFlag = &cli.Int64Flag{
		Name:  "fee.max",
		Usage: "refuse to sign batches (and fee votes) above this fee rate, in sat/vB",
		Value: 1000,
	}
	voteFeeRateFlag = &cli.UintFlag{
		Name:  "fee.vote",
		Usage: "vote this fee rate (sat/vB) whenever this member's last vote differs; 0: do not vote",
	}
	strictFlag = &cli.BoolFlag{
		Name: "strict",
		Usage: "before signing a batch, prove it from Bitcoin (PEG.md §5.5 rule 6): an anchor proof of the finalized block " +
			"K deep in --btc.rpc's best chain, and storage proofs of the batch's sighashes against that block's state; " +
			"needs --network",
	}
	networkFlag = &cli.StringFlag{
		Name:  "network",
		Usage: "with --strict: the network whose merged-mining tag and finality K the proofs are checked under (" + strings.Join(genesis.Names(), ", ") + ")",
	}
	capFlag = &cli.Float64Flag{
		Name: "cap.daily",
		Usage: "refuse to sign batches that would take what this member signed to payees in the last 24 hours above " +
			"this many BTC (counted from signed.log, so restarts do not reset it); 0: no cap",
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
		"deep. With --signer, an mmfed signer holds the member key, the signed log and the rules instead of this process, " +
		"and --gas.key pays. It sends no headers: run mmfed relay (or rely on other relayers) to keep BtcRelay current.",
	Flags: []cli.Flag{rpcFlag, btcRPCFlag, btcUserFlag, btcPassFlag, memberFlag, memberKeyFlag, passwordFlag, signerFlag,
		gasKeyFlag, dataDirFlag, maxFeeRateFlag, capFlag, strictFlag, networkFlag, voteFeeRateFlag, intervalFlag, verboseFlag, metricsFlag,
		metricsAddrFlag, metricsPortFlag},
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
	var gas, key *ecdsa.PrivateKey
	if gk := c.String(gasKeyFlag.Name); gk != "" {
		var err error
		if gas, err = loadKey(gk, ""); err != nil {
			return fmt.Errorf("--gas.key: %w", err)
		}
	}
	sock := c.String(signerFlag.Name)
	switch {
	case sock != "" && c.IsSet(memberKeyFlag.Name):
		return errors.New("give the member key to the signer (--signer) or to this process (--key), not both")
	case sock != "":
		for _, f := range []string{capFlag.Name, maxFeeRateFlag.Name, passwordFlag.Name, strictFlag.Name, networkFlag.Name} {
			if c.IsSet(f) {
				return fmt.Errorf("--%s belongs to mmfed signer when run uses --signer", f)
			}
		}
		if gas == nil {
			return errors.New("--signer needs --gas.key: the member key stays in the signer")
		}
	case !c.IsSet(memberKeyFlag.Name):
		return errors.New("give the member key with --key, or an mmfed signer's socket with --signer")
	default:
		var err error
		if key, err = loadKey(c.String(memberKeyFlag.Name), c.String(passwordFlag.Name)); err != nil {
			return err
		}
		if gas == nil {
			gas = key
		}
	}
	d, err := setup(c, gas)
	if err != nil {
		return err
	}
	defer d.close()
	var signer fed.Signer
	if sock != "" {
		rs, err := fed.DialSigner(d.ctx, sock)
		if err != nil {
			return err
		}
		defer rs.Close()
		signer = rs
	} else {
		ls, err := localSigner(c, key, d.cfg.Sidechain, d.log)
		if err != nil {
			return err
		}
		defer ls.Close()
		signer = ls
	}
	f, err := fed.NewFederator(fed.FederatorConfig{Relay: d.cfg, Member: uint8(member), Signer: signer, FeeRate: uint32(vote)})
	if err != nil {
		return err
	}
	d.log.Info("Starting mmfed run", "rpc", d.sideURL, "btc", d.cfg.Bitcoin.URL(), "member", member,
		"signer", cmp.Or(sock, "in process"), "gas", f.Address())
	f.Run(d.ctx)
	d.log.Info("Stopped")
	return nil
}

// localSigner is a signer holding key in this process, with its signed log
// in --datadir and the rules of --fee.max and --cap.daily.
func localSigner(c *cli.Context, key *ecdsa.PrivateKey, side *ethclient.Client, log *slog.Logger) (*fed.LocalSigner, error) {
	capSat, err := capSat(c)
	if err != nil {
		return nil, err
	}
	dir := c.String(dataDirFlag.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--datadir: %w", err)
	}
	priv, _ := btcec.PrivKeyFromBytes(crypto.FromECDSA(key))
	strict, err := strictMode(c)
	if err != nil {
		return nil, err
	}
	s, err := fed.NewLocalSigner(fed.SignerConfig{Sidechain: side, Key: priv, SignedLog: filepath.Join(dir, signedLogName),
		MaxFeeRate: c.Int64(maxFeeRateFlag.Name), DailyCapSat: capSat, Strict: strict, Log: log})
	if err != nil {
		return nil, err
	}
	log.Info("Member key in this process", "address", crypto.PubkeyToAddress(key.PublicKey),
		"pubkey", fmt.Sprintf("%x", priv.PubKey().SerializeCompressed()), "datadir", dir, "feeMax", c.Int64(maxFeeRateFlag.Name),
		"capDailySat", capSat, "strict", strict != nil)
	return s, nil
}

// strictMode is --strict's configuration: the Bitcoin node of --btc.rpc,
// and the tag and K of --network, never the sidechain node's word.
func strictMode(c *cli.Context) (*fed.Strict, error) {
	if !c.Bool(strictFlag.Name) {
		return nil, nil
	}
	if c.String(networkFlag.Name) == "" || !c.IsSet(btcRPCFlag.Name) {
		return nil, errors.New("--strict needs --network and --btc.rpc: the proofs are checked under the network's rules against your own Bitcoin node")
	}
	spec, err := genesis.Load(c.String(networkFlag.Name))
	if err != nil {
		return nil, fmt.Errorf("--network: %w", err)
	}
	if spec.Finality.Mode != genesis.FinalityBitcoin || spec.Finality.K == 0 {
		return nil, fmt.Errorf("--strict: network %s has no Bitcoin-anchored finality to prove batches with", spec.Name)
	}
	btc, err := btcrpc.New(c.String(btcRPCFlag.Name), c.String(btcUserFlag.Name), c.String(btcPassFlag.Name))
	if err != nil {
		return nil, err
	}
	return &fed.Strict{Bitcoin: btc, Tag: []byte(spec.MergeMining.Tag), K: spec.Finality.K}, nil
}

// signedLogName is the signed log's file in --datadir.
const signedLogName = "signed.log"

// capSat is --cap.daily in satoshi.
func capSat(c *cli.Context) (int64, error) {
	v := c.Float64(capFlag.Name)
	amount, err := btcutil.NewAmount(v)
	if err != nil || amount < 0 || amount > btcutil.MaxSatoshi || math.IsNaN(v) {
		return 0, fmt.Errorf("--cap.daily %v: want BTC, 0 for no cap", v)
	}
	return int64(amount), nil
}
