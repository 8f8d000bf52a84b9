package btcspv

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

var update = flag.Bool("update", false, "rewrite testdata from btcd's module files")

const (
	headersFile = "testdata/mainnet_0_14131.hdr.gz"
	blocksFile  = "testdata/mainnet_blocks.hex"
	// mainnetTip is the last block of btcd's blk_0_to_14131.dat.
	mainnetTip = 14131
)

// multiTxBlocks are the blocks of 0..14131 with four or more transactions.
var multiTxBlocks = []uint32{546, 2812, 2813, 2817, 3309, 9006}

// allRules lists every sentinel, to check that an error names exactly one.
var allRules = []error{
	ErrBadHeadersLength, ErrTooManyHeaders, ErrUnknownParent, ErrBadBits, ErrInsufficientPoW,
	ErrUnexpectedBits, ErrTimeTooOld, ErrTimeTooNew, ErrTimeWarp, ErrBadVersion, ErrForkTooDeep,
	ErrChainworkOverflow, ErrBadHeaderLength, ErrBlockNotInBestChain, ErrInsufficientConfirmations,
	ErrMalformedProof, ErrDepthMismatch, ErrBadTxIndex, ErrMerkleMismatch, ErrCoinbaseProofMismatch,
	ErrMalformedTx, ErrTx64Bytes, ErrBadCheckpoint, ErrTxNotInBlock,
}

// ruleOf returns the one sentinel err matches, or nil if it matches none or
// several.
func ruleOf(err error) error {
	var found error
	for _, r := range allRules {
		if errors.Is(err, r) {
			if found != nil {
				return nil
			}
			found = r
		}
	}
	return found
}

func wantRule(t testing.TB, err, rule error) {
	t.Helper()
	if got := ruleOf(err); got != rule {
		t.Fatalf("got error %v, want rule %v", err, rule)
	}
}

// btcdFile returns the path of a file in btcd's module directory, which the
// module cache always holds since btcspv builds against it.
func btcdFile(t testing.TB, name string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locating btcd's module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), name)
}

// readBtcdBlocks parses the format of btcd's blockchain tests (common_test.go
// loadBlocks): network magic u32, length u32, block, repeated.
func readBtcdBlocks(t testing.TB, r io.Reader) [][]byte {
	t.Helper()
	var blocks [][]byte
	for {
		var prefix [8]byte
		if _, err := io.ReadFull(r, prefix[:]); err != nil {
			break
		}
		if binary.LittleEndian.Uint32(prefix[:]) != uint32(wire.MainNet) {
			break // the file is zero-padded after the last block
		}
		b := make([]byte, binary.LittleEndian.Uint32(prefix[4:]))
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// loadMainnetHeaders returns the headers of mainnet blocks 0..14131,
// concatenated. The file stores them with the previous-block field zeroed,
// since it is the hash of the header before.
func loadMainnetHeaders(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open(headersFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(z)
	if err != nil || len(raw) != (mainnetTip+1)*HeaderSize {
		t.Fatalf("%s: %d bytes, %v", headersFile, len(raw), err)
	}
	for i := HeaderSize; i < len(raw); i += HeaderSize {
		prev := chainhash.DoubleHashH(raw[i-HeaderSize : i])
		copy(raw[i+4:i+36], prev[:])
	}
	return raw
}

// loadMainnetBlocks returns the multi-transaction blocks by height.
func loadMainnetBlocks(t testing.TB) map[uint32]*wire.MsgBlock {
	t.Helper()
	f, err := os.Open(blocksFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := map[uint32]*wire.MsgBlock{}
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		height, blockHex, _ := strings.Cut(s.Text(), " ")
		h, err := strconv.ParseUint(height, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		b, err := hex.DecodeString(blockHex)
		if err != nil {
			t.Fatal(err)
		}
		blocks[uint32(h)] = decodeBlock(t, b)
	}
	if len(blocks) != len(multiTxBlocks) {
		t.Fatalf("%s holds %d blocks", blocksFile, len(blocks))
	}
	return blocks
}

func decodeBlock(t testing.TB, b []byte) *wire.MsgBlock {
	t.Helper()
	var m wire.MsgBlock
	if err := m.Deserialize(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return &m
}

func headerTime(h []byte) uint32 { return binary.LittleEndian.Uint32(h[68:]) }

func syncMainnet(t testing.TB, headers []byte, upTo uint32) *Chain {
	t.Helper()
	c, err := NewChain(MainNet, GenesisCheckpoint(&chaincfg.MainNetParams))
	if err != nil {
		t.Fatal(err)
	}
	end := int(upTo+1) * HeaderSize
	for i := HeaderSize; i < end; i += 200 * HeaderSize {
		batch := headers[i:min(i+200*HeaderSize, end)]
		if _, err := c.ReceiveHeaders(batch, headerTime(batch[len(batch)-HeaderSize:])); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// hdr describes a header to mine in tests.
type hdr struct {
	version int32
	prev    chainhash.Hash
	time    uint32
	bits    uint32
	root    chainhash.Hash
}

// grind tries nonces until the header's hash satisfies ok.
func grind(t testing.TB, h hdr, ok func(*big.Int) bool) []byte {
	t.Helper()
	wh := wire.BlockHeader{
		Version: h.version, PrevBlock: h.prev, MerkleRoot: h.root,
		Timestamp: time.Unix(int64(h.time), 0), Bits: h.bits,
	}
	var b bytes.Buffer
	for nonce := range uint32(1 << 20) {
		wh.Nonce = nonce
		b.Reset()
		if err := wh.Serialize(&b); err != nil {
			t.Fatal(err)
		}
		hash := chainhash.DoubleHashH(b.Bytes())
		if ok(blockchain.HashToBig(&hash)) {
			return b.Bytes()
		}
	}
	t.Fatalf("no nonce found for %+v", h)
	return nil
}

// mine grinds a header that meets the target of want, which may differ from
// the bits it carries, to make a header fail another rule on purpose.
func mine(t testing.TB, h hdr, want uint32) []byte {
	target := blockchain.CompactToBig(want)
	return grind(t, h, func(v *big.Int) bool { return v.Cmp(target) <= 0 })
}

// failPoW grinds a header that misses the target of its own bits.
func failPoW(t testing.TB, h hdr) []byte {
	target := blockchain.CompactToBig(h.bits)
	return grind(t, h, func(v *big.Int) bool { return v.Cmp(target) > 0 })
}

// builder grows test chains header by header.
type builder struct {
	t       testing.TB
	c       *Chain
	version int32
}

const regtestVersion = 0x20000000

// child mines a header on parent with the given time and bits.
func (b *builder) child(parent []byte, time, bits uint32) []byte {
	return mine(b.t, hdr{version: b.version, prev: chainhash.DoubleHashH(parent), time: time, bits: bits}, bits)
}

// extend mines n headers on parent, spacing them step seconds apart, with
// the bits the chain expects (the chain must already know parent).
func (b *builder) extend(parent []byte, n int, step uint32) [][]byte {
	var out [][]byte
	for range n {
		p := b.c.nodes[chainhash.DoubleHashH(parent)]
		time := headerTime(parent) + step
		bits := b.c.expectedBits(p, p.height+1, time)
		h := b.child(parent, time, bits)
		// Store each header at once so the next one's expected bits can
		// be computed from it.
		if _, err := b.c.ReceiveHeaders(h, time); err != nil {
			b.t.Fatal(err)
		}
		out = append(out, h)
		parent = h
	}
	return out
}

func concat(hs ...[]byte) []byte { return bytes.Join(hs, nil) }

func regtestChain(t testing.TB) (*Chain, []byte) {
	t.Helper()
	cp := GenesisCheckpoint(&chaincfg.RegressionNetParams)
	c, err := NewChain(RegTest, cp)
	if err != nil {
		t.Fatal(err)
	}
	return c, cp.Header80[:]
}

// easyParams is a synthetic retargeting network whose proof of work a test
// can grind: regtest's limit, a 4-block period, the given testnet rules.
func easyParams(reduceMin, bip94 bool) Params {
	p := RegTest
	p.Name = "easy"
	p.NoRetargeting = false
	p.ReduceMinDifficulty = reduceMin
	p.EnforceBIP94 = bip94
	p.RetargetInterval = 4
	p.TargetTimespan = 4 * 600
	return p
}

// --- btcd's own header rules, through our HeaderCtx and ChainCtx ---

// ctxNode presents a stored header to btcd. Below the checkpoint it yields
// timestamp-only nodes from the checkpoint's PrevTimes.
type ctxNode struct {
	c    *Chain
	n    *node
	stub int // with n == nil: index into c.prevTimes
}

func (x ctxNode) Height() int32 {
	if x.n != nil {
		return int32(x.n.height)
	}
	return int32(x.c.base) - int32(len(x.c.prevTimes)-x.stub)
}

func (x ctxNode) Bits() uint32 {
	if x.n != nil {
		return x.n.bits
	}
	return 0
}

func (x ctxNode) Timestamp() int64 {
	if x.n != nil {
		return int64(x.n.time)
	}
	return int64(x.c.prevTimes[x.stub])
}

func (x ctxNode) Parent() blockchain.HeaderCtx {
	switch {
	case x.n != nil && x.n.parent != nil:
		return ctxNode{c: x.c, n: x.n.parent}
	case x.n != nil && len(x.c.prevTimes) > 0:
		return ctxNode{c: x.c, stub: len(x.c.prevTimes) - 1}
	case x.n == nil && x.stub > 0:
		return ctxNode{c: x.c, stub: x.stub - 1}
	}
	return nil
}

func (x ctxNode) RelativeAncestorCtx(distance int32) blockchain.HeaderCtx {
	var n blockchain.HeaderCtx = x
	for ; n != nil && distance > 0; distance-- {
		n = n.Parent()
	}
	return n
}

type chainCtx struct{ p *chaincfg.Params }

func (c chainCtx) ChainParams() *chaincfg.Params { return c.p }
func (c chainCtx) BlocksPerRetarget() int32 {
	return int32(c.p.TargetTimespan / c.p.TargetTimePerBlock)
}
func (c chainCtx) MinRetargetTimespan() int64 {
	return int64(c.p.TargetTimespan/time.Second) / c.p.RetargetAdjustmentFactor
}
func (c chainCtx) MaxRetargetTimespan() int64 {
	return int64(c.p.TargetTimespan/time.Second) * c.p.RetargetAdjustmentFactor
}
func (c chainCtx) VerifyCheckpoint(int32, *chainhash.Hash) bool { return true }
func (c chainCtx) FindPreviousCheckpoint() (blockchain.HeaderCtx, error) {
	return nil, nil
}

// btcdParams turns Params back into a chaincfg network, so that synthetic
// networks can be checked by btcd too.
func btcdParams(p Params) *chaincfg.Params {
	span := time.Duration(p.TargetTimespan) * time.Second
	return &chaincfg.Params{
		Name:               p.Name,
		PowLimit:           p.PowLimit,
		PowLimitBits:       p.PowLimitBits,
		PoWNoRetargeting:   p.NoRetargeting,
		EnforceBIP94:       p.EnforceBIP94,
		BIP0034Height:      int32(p.BIP34Height),
		BIP0065Height:      int32(p.BIP65Height),
		BIP0066Height:      int32(p.BIP66Height),
		TargetTimespan:     span,
		TargetTimePerBlock: span / time.Duration(p.RetargetInterval),
		// Taken from btcd's networks, not from our constants, so that
		// the comparison can catch a wrong constant.
		RetargetAdjustmentFactor: chaincfg.TestNet4Params.RetargetAdjustmentFactor,
		ReduceMinDifficulty:      p.ReduceMinDifficulty,
		MinDiffReductionTime:     chaincfg.TestNet4Params.MinDiffReductionTime,
	}
}

type fixedTime time.Time

func (f fixedTime) AdjustedTime() time.Time         { return time.Time(f) }
func (f fixedTime) AddTimeSample(string, time.Time) {}
func (f fixedTime) Offset() time.Duration           { return 0 }
func (f fixedTime) String() string                  { return time.Time(f).String() }

var _ blockchain.MedianTimeSource = fixedTime{}

// btcdVerdict runs btcd's CheckBlockHeaderSanity and CheckBlockHeaderContext
// on a header whose parent c knows, and names the rule btcd breaks in our
// terms (nil if it accepts).
func btcdVerdict(t testing.TB, c *Chain, h []byte, now uint32) error {
	t.Helper()
	var wh wire.BlockHeader
	if err := wh.Deserialize(bytes.NewReader(h)); err != nil {
		t.Fatal(err)
	}
	p := btcdParams(c.params)
	err := blockchain.CheckBlockHeaderSanity(&wh, p.PowLimit, fixedTime(time.Unix(int64(now), 0)), blockchain.BFNone)
	sanity := err != nil
	if err == nil {
		parent := c.nodes[wh.PrevBlock]
		err = blockchain.CheckBlockHeaderContext(&wh, ctxNode{c: c, n: parent}, blockchain.BFNone, chainCtx{p}, true)
	}
	if err == nil {
		return nil
	}
	var re blockchain.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("btcd: %v", err)
	}
	switch re.ErrorCode {
	case blockchain.ErrUnexpectedDifficulty:
		if sanity {
			return ErrBadBits
		}
		return ErrUnexpectedBits
	case blockchain.ErrHighHash:
		return ErrInsufficientPoW
	case blockchain.ErrTimeTooNew:
		return ErrTimeTooNew
	case blockchain.ErrTimeTooOld:
		return ErrTimeTooOld
	case blockchain.ErrTimewarpAttack:
		return ErrTimeWarp
	case blockchain.ErrBlockVersionTooOld:
		return ErrBadVersion
	}
	t.Fatalf("btcd rule %v has no counterpart", re.ErrorCode)
	return nil
}

// agreeWithBtcd checks our verdict on one header (whose parent c knows)
// against btcd's. btcd applies the same rules except ForkTooDeep and
// ChainworkOverflow, and checks the future-time rule first; only that
// ordering may make the two name different rules.
func agreeWithBtcd(t testing.TB, c *Chain, h []byte, now uint32, ours error) {
	t.Helper()
	theirs := btcdVerdict(t, c, h, now)
	rule := ruleOf(ours)
	switch rule {
	case nil, ErrForkTooDeep, ErrChainworkOverflow:
		if theirs != nil {
			t.Fatalf("we accept (or refuse for a rule btcd lacks: %v), btcd refuses: %v", ours, theirs)
		}
	default:
		if theirs != rule && theirs != ErrTimeTooNew && rule != ErrTimeTooNew {
			t.Fatalf("we refuse with %v, btcd with %v", ours, theirs)
		}
	}
}
