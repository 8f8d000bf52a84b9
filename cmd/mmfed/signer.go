package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/peg/fed"
)

var socketFlag = &cli.StringFlag{
	Name:  "socket",
	Usage: "unix socket to serve on (mode 0600; default: signer.sock in --datadir)",
}

var signerCommand = &cli.Command{
	Name:  "signer",
	Usage: "hold a member key and sign for mmfed run --signer over a unix socket, after checking every rule itself",
	Description: "mmfed signer keeps the member key out of the federator process. It answers three requests on its " +
		"socket (geth JSON-RPC: signer_pubKey, signer_signBatch(batchId, version), signer_signFeeVote(rate, nonce)) and " +
		"is never given a digest: for a batch it reads the batch, its requests and inputs from its own --rpc node, checks " +
		"that the batch awaits its federation's signatures and that its block is Bitcoin-finalized, rebuilds the " +
		"transaction (peg.BuildPegOut, btcd sighashes) and requires the Bridge's bytes, bounds the fee rate (--fee.max), " +
		"never signs an input for a second batch (--datadir/signed.log, fsync'd before it answers) and bounds what it " +
		"signs to payees in 24 hours (--cap.daily); a fee vote it signs only up to --fee.max, with the chain id and " +
		"member index it read itself. With --strict it takes nothing of its node's word on a batch that Bitcoin does not " +
		"back: the node's finalized block must come with an anchor proof whose Bitcoin block is K deep in --btc.rpc's best " +
		"chain, and the batch's state and sighashes with storage proofs against that block's state root (refusals " +
		"anchor_proof, anchor_depth, state_proof). Every refusal is logged and counted (--metrics: mmfed_sign_refused_<rule>).",
	Flags: []cli.Flag{rpcFlag, memberKeyFlag, passwordFlag, dataDirFlag, socketFlag, maxFeeRateFlag, capFlag, strictFlag,
		networkFlag, btcRPCFlag, btcUserFlag, btcPassFlag, verboseFlag, metricsFlag, metricsAddrFlag, metricsPortFlag},
	Action: runSigner,
}

func runSigner(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unexpected arguments %q", c.Args().Slice())
	}
	if !c.IsSet(memberKeyFlag.Name) {
		return fmt.Errorf("--key: the member key's file is required")
	}
	key, err := loadKey(c.String(memberKeyFlag.Name), c.String(passwordFlag.Name))
	if err != nil {
		return err
	}
	side, sideURL, err := dialSidechain(c)
	if err != nil {
		return err
	}
	defer side.Close()
	log := logger(c)
	s, err := localSigner(c, key, side, log)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := startMetrics(ctx, c, log); err != nil {
		return err
	}
	sock := c.String(socketFlag.Name)
	if sock == "" {
		sock = filepath.Join(c.String(dataDirFlag.Name), "signer.sock")
	}
	stopServing, err := fed.ServeSigner(sock, s, log)
	if err != nil {
		return fmt.Errorf("--socket: %w", err)
	}
	defer stopServing()
	log.Info("Starting mmfed signer", "rpc", sideURL, "socket", sock)
	<-ctx.Done()
	log.Info("Stopped")
	return nil
}
