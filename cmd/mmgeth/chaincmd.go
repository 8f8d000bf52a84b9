package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/urfave/cli/v2"

	"github.com/mmgeth/mmgeth/node"
)

// importBatch is how many decoded blocks are inserted at once: enough for
// geth's parallel sender recovery and header checks, little enough memory.
const importBatch = 2500

var importCommand = &cli.Command{
	Name:      "import",
	Usage:     "import blocks from an RLP chain file",
	ArgsUsage: "FILE",
	Description: "Imports a stream of RLP-encoded blocks, as `mmgeth export` and geth write them " +
		"(gzip-compressed when FILE ends in .gz), into --datadir. Every block is verified and goes " +
		"through fork choice like a block from a peer; blocks already stored are skipped.",
	Flags:  slices.Concat(networkFlags, []cli.Flag{verbosity}),
	Action: importChain,
}

var exportCommand = &cli.Command{
	Name:      "export",
	Usage:     "export the canonical chain to an RLP chain file",
	ArgsUsage: "FILE [first last]",
	Description: "Writes the canonical blocks of --datadir, all of them or first..last, to FILE " +
		"as a stream of RLP-encoded blocks (gzip-compressed when FILE ends in .gz).",
	Flags:  slices.Concat(networkFlags, []cli.Flag{verbosity}),
	Action: exportChain,
}

// openChainNode opens the datadir's chain for a chain command: no P2P
// server, no RPC (an offline node). Closing it stops the chain cleanly,
// which writes the state an import produced to disk.
func openChainNode(ctx *cli.Context) (*node.Node, error) {
	dataDir := ctx.String(dataDirFlag.Name)
	if dataDir == "" {
		return nil, fmt.Errorf("%s needs --datadir", ctx.Command.Name)
	}
	spec, err := loadSpec(ctx)
	if err != nil {
		return nil, err
	}
	if err := setupLogging(ctx, spec); err != nil {
		return nil, err
	}
	n, err := node.New(node.Config{Spec: spec, DataDir: dataDir, Offline: true, ListenPort: -1, NoDiscover: true, IPCDisable: true})
	if err != nil {
		return nil, err
	}
	if err := n.Start(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func importChain(ctx *cli.Context) error {
	args, err := positional(ctx)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("usage: mmgeth import [flags] FILE")
	}
	file := args[0]
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	var r io.Reader = bufio.NewReaderSize(in, 1<<20)
	if strings.HasSuffix(file, ".gz") {
		if r, err = gzip.NewReader(r); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	n, err := openChainNode(ctx)
	if err != nil {
		return err
	}
	// A signal abandons the batch under way; the batches before it stay
	// imported, and the node closes cleanly.
	stop, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			log.Warn("Interrupted, stopping the import", "signal", sig)
			cancel()
			n.Chain().InterruptInsert(true)
		case <-stop.Done():
		}
	}()
	stats, ierr := importBlocks(stop, n, rlp.NewStream(r, 0))
	cancel()
	if cerr := n.Close(); ierr == nil {
		ierr = cerr
	}
	if ierr != nil {
		return ierr
	}
	secs := max(stats.elapsed.Seconds(), 1e-9)
	mgas := float64(stats.gas) / 1e6
	fmt.Printf("Imported %d blocks (%d skipped), %d txs, %.1f Mgas in %s: %.1f blocks/s, %.1f Mgas/s; head %d %s\n",
		stats.blocks, stats.skipped, stats.txs, mgas, common.PrettyDuration(stats.elapsed),
		float64(stats.blocks)/secs, mgas/secs, stats.head, stats.headHash.Hex())
	return nil
}

type importStats struct {
	blocks, skipped, txs int
	gas                  uint64
	elapsed              time.Duration
	head                 uint64
	headHash             common.Hash
}

// importBlocks decodes the stream in batches and inserts each one, skipping
// the genesis (checked against ours) and the blocks already stored.
func importBlocks(ctx context.Context, n *node.Node, stream *rlp.Stream) (*importStats, error) {
	chain := n.Chain()
	stats := new(importStats)
	start, reported := time.Now(), time.Now()
	batch := make([]*types.Block, 0, importBatch)
	insert := func() error {
		defer func() { batch = batch[:0] }()
		// A file may overlap what is stored; geth's import skips the
		// known prefix the same way.
		known := 0
		for known < len(batch) && chain.HasBlock(batch[known].Hash(), batch[known].NumberU64()) {
			known++
		}
		stats.skipped += known
		todo := batch[known:]
		if len(todo) == 0 {
			return nil
		}
		if i, err := n.InsertBlocks(todo); err != nil {
			return fmt.Errorf("block %d %x: %w", todo[i].NumberU64(), todo[i].Hash(), err)
		}
		for _, b := range todo {
			stats.txs += len(b.Transactions())
			stats.gas += b.GasUsed()
		}
		stats.blocks += len(todo)
		if time.Since(reported) > 8*time.Second {
			last := todo[len(todo)-1]
			log.Info("Imported chain segment", "blocks", stats.blocks, "number", last.NumberU64(), "hash", last.Hash(),
				"txs", stats.txs, "elapsed", common.PrettyDuration(time.Since(start)))
			reported = time.Now()
		}
		return nil
	}
	for decoded := 0; ; decoded++ {
		if ctx.Err() != nil {
			return nil, errors.New("import interrupted")
		}
		b := new(types.Block)
		if err := stream.Decode(b); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding block %d of the file: %w", decoded, err)
		}
		if b.NumberU64() == 0 {
			if g := chain.Genesis().Hash(); b.Hash() != g {
				return nil, fmt.Errorf("the file's genesis %s is not this network's %s", b.Hash().Hex(), g.Hex())
			}
			continue
		}
		if batch = append(batch, b); len(batch) == importBatch {
			if err := insert(); err != nil {
				return nil, err
			}
		}
	}
	if err := insert(); err != nil {
		return nil, err
	}
	stats.elapsed = time.Since(start)
	head := chain.CurrentBlock()
	stats.head, stats.headHash = head.Number.Uint64(), head.Hash()
	return stats, nil
}

func exportChain(ctx *cli.Context) error {
	args, err := positional(ctx)
	if err != nil {
		return err
	}
	if len(args) != 1 && len(args) != 3 {
		return fmt.Errorf("usage: mmgeth export [flags] FILE [first last]")
	}
	file := args[0]
	var first, last uint64
	if len(args) == 3 {
		if first, err = strconv.ParseUint(args[1], 10, 64); err != nil {
			return fmt.Errorf("first block %q: %w", args[1], err)
		}
		if last, err = strconv.ParseUint(args[2], 10, 64); err != nil {
			return fmt.Errorf("last block %q: %w", args[2], err)
		}
		if first > last {
			return fmt.Errorf("first block %d is after last block %d", first, last)
		}
	}
	n, err := openChainNode(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	head := n.Chain().CurrentBlock().Number.Uint64()
	if len(args) == 1 {
		last = head
	} else if last > head {
		return fmt.Errorf("last block %d is above the head %d", last, head)
	}
	out, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	buf := bufio.NewWriterSize(out, 1<<20)
	var w io.Writer = buf
	var gz *gzip.Writer
	if strings.HasSuffix(file, ".gz") {
		gz = gzip.NewWriter(buf)
		w = gz
	}
	if err := n.Chain().ExportN(w, first, last); err != nil {
		return err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return err
		}
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Printf("Exported blocks %d..%d to %s\n", first, last, file)
	return nil
}
