package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/mergemine"
)

// logTally counts the records the node logs, by level and by what they are
// about, as the operator's terminal would show them.
type logTally struct {
	mu          sync.Mutex
	byLevel     map[slog.Level]int
	badBlocks   int
	servedWork  int      // geth's "Served mnr_getWork"
	servedShare int      // geth's "Served mnr_submit…"
	loud        []string // WARN and above
}

func (l *logTally) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byLevel, l.badBlocks, l.servedWork, l.servedShare, l.loud = map[slog.Level]int{}, 0, 0, 0, nil
}

func (l *logTally) Enabled(context.Context, slog.Level) bool { return true }
func (l *logTally) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logTally) WithGroup(string) slog.Handler            { return l }

func (l *logTally) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byLevel[r.Level]++
	switch {
	case strings.Contains(r.Message, "BAD BLOCK"):
		l.badBlocks++
	case strings.HasPrefix(r.Message, "Served mnr_getWork"):
		l.servedWork++
	case strings.HasPrefix(r.Message, "Served mnr_submit"):
		l.servedShare++
	}
	if r.Level >= slog.LevelWarn && len(l.loud) < 5 {
		l.loud = append(l.loud, r.Level.String()+" "+r.Message)
	}
	return nil
}

// chaindataState is what a flood must not change: the bytes of the files
// under chaindata (pebble's tables, WAL, manifest) and a digest of every
// key and value, read after a WAL sync.
func chaindataState(t *testing.T, n *Node) (size int64, files int, digest common.Hash) {
	t.Helper()
	if err := n.db.SyncKeyValue(); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(n.stack.ResolvePath("chaindata"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := crypto.NewKeccakState()
	it := n.db.NewIterator(nil, nil)
	defer it.Release()
	var lens [8]byte
	for it.Next() {
		binary.BigEndian.PutUint32(lens[:4], uint32(len(it.Key())))
		binary.BigEndian.PutUint32(lens[4:], uint32(len(it.Value())))
		h.Write(lens[:])
		h.Write(it.Key())
		h.Write(it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	h.Read(digest[:])
	return size, files, digest
}

// grindShare is a pool share for w whose Bitcoin header is dated btcTime
// and meets the target.
func grindShare(w *mnrWork, btcTime time.Time) (header, coinbase []byte) {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: []byte{8, 1, 2, 3, 4, 5, 6, 7, 8}, Sequence: wire.MaxTxInSequenceNum})
	tx.AddTxOut(&wire.TxOut{Value: 5000000000, PkScript: []byte{0x51}})
	mergemine.AddCommitment(tx, w.Tag, w.SealHash)
	var cb bytes.Buffer
	tx.SerializeNoWitness(&cb)
	hdr := wire.BlockHeader{Version: 0x20000000, MerkleRoot: chainhash.DoubleHashH(cb.Bytes()), Timestamp: btcTime, Bits: 0x207fffff}
	var hb bytes.Buffer
	hdr.Serialize(&hb)
	raw := hb.Bytes()
	for nonce := uint32(0); !mergemine.MeetsTarget(raw, w.target()); nonce++ {
		binary.LittleEndian.PutUint32(raw[76:], nonce)
	}
	return raw, cb.Bytes()
}

// TestBogusSubmissionFlood is the flood a pool, or anyone who reaches the
// mnr endpoint, can send: 10,000 mnr_submitBitcoinBlockPartialMerkle calls
// for the live template of a --mine node on pebble, each bogus in one of
// seven ways, while a pool polls mnr_getWork. The database is unchanged
// (every key and value, and the bytes of chaindata after a WAL sync), no
// line is logged at WARN or above nor any "BAD BLOCK", each refused call
// logs at most one DEBUG line, and a valid share is imported after it. It
// logs the getWork latency during the flood and the chaindata sizes:
//
//	go test ./node/ -run TestBogusSubmissionFlood -v
func TestBogusSubmissionFlood(t *testing.T) {
	tally := &logTally{}
	tally.reset()
	prev := log.Root()
	log.SetDefault(log.NewLogger(QuietShareRejections(tally)))
	t.Cleanup(func() { log.SetDefault(prev) })

	spec, _ := genesis.Load("regtest")
	n, c := startNode(t, Config{Spec: spec, DataDir: t.TempDir(), Mine: true, Etherbase: common.HexToAddress("0xfee")})
	getWork := func(c *gethrpc.Client) *mnrWork {
		var w mnrWork
		if err := c.Call(&w, "mnr_getWork"); err != nil {
			t.Error(err)
			return nil
		}
		return &w
	}
	submit := func(c *gethrpc.Client, header, coinbase []byte, hashes string) error {
		var res map[string]any
		return c.Call(&res, "mnr_submitBitcoinBlockPartialMerkle", "x", hex.EncodeToString(header), hex.EncodeToString(coinbase), hashes, "1")
	}
	txidOf := func(coinbase []byte) string {
		id := chainhash.DoubleHashH(coinbase)
		return hex.EncodeToString(id[:])
	}
	// A chain with some blocks, as a node has when the flood comes.
	for i := range 3 {
		header, coinbase := poolShare(t, getWork(c), uint64(i))
		if err := submit(c, common.FromHex(header), common.FromHex(coinbase), txidOf(common.FromHex(coinbase))); err != nil {
			t.Fatal(err)
		}
	}

	w := getWork(c)
	header, coinbase := grindShare(w, time.Now())
	lowWork := bytes.Clone(header)
	for nonce := binary.LittleEndian.Uint32(lowWork[76:]) + 1; mergemine.MeetsTarget(lowWork, w.target()); nonce++ {
		binary.LittleEndian.PutUint32(lowWork[76:], nonce)
	}
	driftHeader, driftCoinbase := grindShare(w, time.Now().Add(time.Hour))
	foreignHeader, foreignCoinbase := grindShare(&mnrWork{SealHash: common.Hash{0xee}, Target: w.Target, Tag: w.Tag}, time.Now())
	noTag := bytes.ReplaceAll(coinbase, w.Tag, bytes.Repeat([]byte{'X'}, len(w.Tag)))
	type bogus struct {
		header, coinbase []byte
		hashes           string
		code             int
		msg              string
	}
	kinds := []bogus{
		{lowWork, coinbase, txidOf(coinbase), -33000, mergemine.ErrPoW.Error()},
		{header, coinbase, txidOf(coinbase) + " " + strings.Repeat("11", 32), -33000, mergemine.ErrMerkleRootMismatch.Error()},
		{driftHeader, driftCoinbase, txidOf(driftCoinbase), -33000, "block time too far from the Bitcoin header time"},
		{foreignHeader, foreignCoinbase, txidOf(foreignCoinbase), -33000, "could not find hash"},
		{header, noTag, txidOf(noTag), -33000, mergemine.ErrTagMissing.Error()},
		{header[:79], coinbase, txidOf(coinbase), -32602, "invalid bitcoin header: 79 bytes"},
		{header, coinbase, strings.Repeat("22", 32), -32602, "first hash must be the coinbase txid"},
	}
	for _, k := range kinds { // each kind is refused as it should be
		err := submit(c, k.header, k.coinbase, k.hashes)
		if e, ok := err.(gethrpc.Error); !ok || e.ErrorCode() != k.code || !strings.Contains(err.Error(), k.msg) {
			t.Fatalf("bogus share: %v, want %d %q", err, k.code, k.msg)
		}
	}

	// The node writes in the background after blocks (geth's log index,
	// pebble's flushes); the flood starts once the database has settled:
	// same content, same files, and the only growth the WAL record that the
	// measurement's own sync appends (pebble's SyncKeyValue logs an empty
	// entry to force the sync), which is then the noise allowed.
	sizeBefore, filesBefore, digestBefore := chaindataState(t, n)
	var syncRecord int64
	for settled := time.Now().Add(30 * time.Second); ; {
		time.Sleep(300 * time.Millisecond)
		size, files, digest := chaindataState(t, n)
		grown, same := size-sizeBefore, files == filesBefore && digest == digestBefore
		sizeBefore, filesBefore, digestBefore = size, files, digest
		if same && grown > 0 && grown == syncRecord {
			break
		}
		if same && grown > 0 && grown < 256 {
			syncRecord = grown
		}
		if time.Now().After(settled) {
			t.Fatalf("the database keeps changing without submissions: last %d bytes", grown)
		}
	}
	head := n.Chain().CurrentBlock().Hash()
	tally.reset()

	const calls, workers = 10_000, 4
	var (
		stop  atomic.Bool
		polls []time.Duration
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		pc, _ := gethrpc.Dial(n.HTTPEndpoint())
		defer pc.Close()
		for !stop.Load() {
			start := time.Now()
			if getWork(pc) == nil {
				return
			}
			polls = append(polls, time.Since(start))
			time.Sleep(5 * time.Millisecond) // a pool polls; it does not spin
		}
	}()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc, _ := gethrpc.Dial(n.HTTPEndpoint())
			defer wc.Close()
			for i := next.Add(1); i <= calls; i = next.Add(1) {
				k := kinds[i%int64(len(kinds))]
				if err := submit(wc, k.header, k.coinbase, k.hashes); err == nil {
					t.Error("a bogus share was accepted")
					return
				}
			}
		}()
	}
	wg.Wait()
	flood := time.Since(start)
	stop.Store(true)
	<-pollDone

	sizeAfter, filesAfter, digestAfter := chaindataState(t, n)
	t.Logf("%d bogus calls in %v (%.0f/s); chaindata %d bytes in %d files before, %d bytes in %d files after (the measurement's WAL sync record: %d bytes)",
		calls, flood.Round(time.Millisecond), calls/flood.Seconds(), sizeBefore, filesBefore, sizeAfter, filesAfter, syncRecord)
	if digestAfter != digestBefore {
		t.Error("the database's keys or values changed")
	}
	if sizeAfter-sizeBefore != syncRecord || filesAfter != filesBefore {
		t.Errorf("chaindata went from %d bytes in %d files to %d bytes in %d files; a WAL sync record is %d bytes", sizeBefore, filesBefore, sizeAfter, filesAfter, syncRecord)
	}
	if n.Chain().CurrentBlock().Hash() != head {
		t.Error("the head moved")
	}
	tally.mu.Lock()
	if tally.badBlocks != 0 || len(tally.loud) != 0 {
		t.Errorf("%d BAD BLOCK records; records at WARN or above: %q", tally.badBlocks, tally.loud)
	}
	others := 0
	for _, c := range tally.byLevel {
		others += c
	}
	others -= tally.servedWork + tally.servedShare
	if tally.servedShare > calls || others > 0 {
		t.Errorf("%d records of refused calls for %d calls, %d other records (%v by level)", tally.servedShare, calls, others, tally.byLevel)
	}
	t.Logf("log during the flood: %d DEBUG records of refused calls, %d of getWork, %d others", tally.servedShare, tally.servedWork, others)
	tally.mu.Unlock()

	if len(polls) < 10 {
		t.Fatalf("only %d getWork calls during the flood", len(polls))
	}
	slices.Sort(polls)
	t.Logf("mnr_getWork during the flood: %d calls, p50 %v, p99 %v, max %v", len(polls),
		polls[len(polls)/2].Round(time.Microsecond), polls[len(polls)*99/100].Round(time.Microsecond), polls[len(polls)-1].Round(time.Microsecond))

	// The node still mines: a valid share for the live work is imported.
	w = getWork(c)
	header, coinbase = grindShare(w, time.Now())
	if err := submit(c, header, coinbase, txidOf(coinbase)); err != nil {
		t.Fatalf("valid share after the flood: %v", err)
	}
	if n.Chain().CurrentBlock().Hash() == head {
		t.Error("the valid share did not move the head")
	}
}
