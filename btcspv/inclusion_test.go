package btcspv

import (
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"os"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// fixedIndex is a best chain known only by one block and the tip height,
// for blocks beyond the committed headers.
type fixedIndex struct {
	height, best uint32
	hash         chainhash.Hash
}

func (f fixedIndex) BestHeight() uint32 { return f.best }
func (f fixedIndex) BlockHashAt(h uint32) (chainhash.Hash, bool) {
	return f.hash, h == f.height
}

// proveAll builds and verifies a proof for every transaction of a block but
// the coinbase, requiring exactly the block's confirmations.
func proveAll(t *testing.T, idx BestChainIndex, block *wire.MsgBlock, height uint32) {
	t.Helper()
	confs := idx.BestHeight() - height + 1
	for i, tx := range block.Transactions {
		txid := tx.TxHash()
		p, err := BuildInclusion(block, height, txid)
		if i == 0 {
			wantRule(t, err, ErrBadTxIndex)
			continue
		}
		if err != nil || p.TxIndex != uint32(i) {
			t.Fatalf("tx %d: index %d, %v", i, p.TxIndex, err)
		}
		if got, err := VerifyInclusion(idx, txid, p, confs); err != nil || got != confs {
			t.Fatalf("block %d tx %d: %d confirmations, %v", height, i, got, err)
		}
		_, err = VerifyInclusion(idx, txid, p, confs+1)
		wantRule(t, err, ErrInsufficientConfirmations)
		if err := CheckProof(txid, p); err != nil {
			t.Fatal(err)
		}
	}
	_, err := BuildInclusion(block, height, chainhash.Hash{1})
	wantRule(t, err, ErrTxNotInBlock)
}

// TestInclusionMainnet proves every transaction of the multi-transaction
// blocks of 0–14,131 against the real header chain.
func TestInclusionMainnet(t *testing.T) {
	c := syncMainnet(t, loadMainnetHeaders(t), mainnetTip)
	for height, block := range loadMainnetBlocks(t) {
		if at, _ := c.BlockHashAt(height); at != block.BlockHash() {
			t.Fatalf("block %d is not the chain's", height)
		}
		proveAll(t, c, block, height)
	}
}

func load277647(t testing.TB) *wire.MsgBlock {
	t.Helper()
	f, err := os.Open(btcdFile(t, "blockchain/testdata/277647.dat.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := readBtcdBlocks(t, bzip2.NewReader(f))
	if len(blocks) != 1 {
		t.Fatalf("%d blocks", len(blocks))
	}
	return decodeBlock(t, blocks[0])
}

// TestInclusion277647 proves the 212 non-coinbase transactions of mainnet
// block 277647 (a tree of depth 8).
func TestInclusion277647(t *testing.T) {
	block := load277647(t)
	if len(block.Transactions) != 213 {
		t.Fatalf("%d transactions", len(block.Transactions))
	}
	proveAll(t, fixedIndex{height: 277647, best: 277652, hash: block.BlockHash()}, block, 277647)
	p, _ := BuildInclusion(block, 277647, block.Transactions[100].TxHash())
	if len(p.TxBranch) != 8*32 {
		t.Fatalf("depth %d", len(p.TxBranch)/32)
	}
}

// TestMalformedProofs: PEG.md §12's malformed-proof rows and the other
// ways a proof breaks each check of §3.
func TestMalformedProofs(t *testing.T) {
	block := loadMainnetBlocks(t)[2812]
	idx := fixedIndex{height: 2812, best: 2900, hash: block.BlockHash()}
	txid := block.Transactions[3].TxHash()
	good, err := BuildInclusion(block, 2812, txid)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	rows := []struct {
		name   string
		mutate func(p *Inclusion)
		txid   chainhash.Hash
		rule   error
	}{
		{"79-byte header", func(p *Inclusion) { p.Header = p.Header[:79] }, txid, ErrBadHeaderLength},
		{"81-byte header", func(p *Inclusion) { p.Header = append(bytes.Clone(p.Header), 0) }, txid, ErrBadHeaderLength},
		{"other header", func(p *Inclusion) { p.Header = flip(p.Header, 40) }, txid, ErrBlockNotInBestChain},
		{"wrong height", func(p *Inclusion) { p.Height++ }, txid, ErrBlockNotInBestChain},
		{"33-byte branch", func(p *Inclusion) { p.TxBranch = append(bytes.Clone(p.TxBranch[:32]), 0) }, txid, ErrMalformedProof},
		{"21 levels", func(p *Inclusion) { p.TxBranch = make([]byte, 21*32); p.CoinbaseBranch = p.TxBranch }, txid, ErrMalformedProof},
		{"shorter coinbase branch", func(p *Inclusion) { p.CoinbaseBranch = p.CoinbaseBranch[32:] }, txid, ErrDepthMismatch},
		{"txIndex 0", func(p *Inclusion) { p.TxIndex = 0 }, txid, ErrBadTxIndex},
		{"txIndex beyond the depth", func(p *Inclusion) { p.TxIndex = 1 << 3 }, txid, ErrBadTxIndex},
		{"flipped branch bit", func(p *Inclusion) { p.TxBranch = flip(p.TxBranch, 33) }, txid, ErrMerkleMismatch},
		{"flipped index bit", func(p *Inclusion) { p.TxIndex ^= 2 }, txid, ErrMerkleMismatch},
		{"other txid", func(*Inclusion) {}, block.Transactions[2].TxHash(), ErrMerkleMismatch},
		{"wrong coinbase preimage", func(p *Inclusion) { p.CoinbasePreimage[0] ^= 1 }, txid, ErrCoinbaseProofMismatch},
		{"coinbase txid as preimage", func(p *Inclusion) { p.CoinbasePreimage = block.Transactions[0].TxHash() }, txid, ErrCoinbaseProofMismatch},
		{"flipped coinbase branch bit", func(p *Inclusion) { p.CoinbaseBranch = flip(p.CoinbaseBranch, 64) }, txid, ErrCoinbaseProofMismatch},
	}
	for _, row := range rows {
		p := good
		p.TxBranch = bytes.Clone(good.TxBranch)
		p.CoinbaseBranch = bytes.Clone(good.CoinbaseBranch)
		row.mutate(&p)
		_, err := VerifyInclusion(idx, row.txid, p, 1)
		wantRule(t, err, row.rule)
		if row.rule != ErrBlockNotInBestChain {
			wantRule(t, CheckProof(row.txid, p), row.rule)
		}
	}
	if _, err := VerifyInclusion(idx, txid, good, 89); err != nil {
		t.Fatal(err)
	}
}

// tx64 is a well-formed transaction of exactly 64 bytes: one input with a
// 2-byte script, one output with a 2-byte script.
func tx64() *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{7}, 3), []byte{0x51, 0x51}, nil))
	tx.AddTxOut(wire.NewTxOut(5000, []byte{0x51, 0x87}))
	return tx
}

func serializeTx(t testing.TB, tx *wire.MsgTx) []byte {
	var b bytes.Buffer
	if err := tx.SerializeNoWitness(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDepthPin64ByteTx: the BIP-53/54 forgery. A block holds a real 64-byte
// transaction T; its bytes read as two child hashes L‖R, so a forger can
// "prove" R as a transaction one level below T. The tx fold reaches the root;
// the coinbase depth pin refuses it. The opposite direction, an inner node
// passed off as a txid one level up, passes VerifyInclusion and is stopped
// only by refusing 64-byte transaction bytes (ParseTx).
func TestDepthPin64ByteTx(t *testing.T) {
	c, g := regtestChain(t)
	coinbase := wire.NewMsgTx(1)
	coinbase.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, 0xffffffff), []byte{0x51, 0x01, 0x02, 0x03}, nil))
	coinbase.AddTxOut(wire.NewTxOut(50e8, []byte{0x51}))
	other := wire.NewMsgTx(2)
	other.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{9}, 0), []byte{0x51}, nil))
	other.AddTxOut(wire.NewTxOut(1, bytes.Repeat([]byte{0x6a}, 40)))
	third := other.Copy()
	third.LockTime = 9
	block := &wire.MsgBlock{Transactions: []*wire.MsgTx{coinbase, tx64(), other, third}}
	tree := blockchain.BuildMerkleTreeStore(txsOf(block), false)
	b := &builder{t: t, c: c, version: regtestVersion}
	header := mine(t, hdr{version: regtestVersion, prev: chainhash.DoubleHashH(g), time: headerTime(g) + 600, bits: RegTest.PowLimitBits, root: *tree[len(tree)-1]}, RegTest.PowLimitBits)
	if _, err := c.ReceiveHeaders(header, headerTime(header)); err != nil {
		t.Fatal(err)
	}
	b.extend(header, 5, 600)
	if err := block.Header.Deserialize(bytes.NewReader(header)); err != nil {
		t.Fatal(err)
	}

	raw := serializeTx(t, tx64())
	if len(raw) != 64 {
		t.Fatalf("T is %d bytes", len(raw))
	}
	_, err := ParseTx(raw)
	wantRule(t, err, ErrTx64Bytes)
	honest, err := BuildInclusion(block, 1, tx64().TxHash())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyInclusion(c, tx64().TxHash(), honest, 1); err != nil {
		t.Fatalf("T itself is in the block: %v", err)
	}

	// Deeper: R = T[32:64] as a leaf under T, its sibling L = T[0:32].
	fakeTxid := chainhash.Hash(raw[32:])
	forged := honest
	forged.TxIndex = honest.TxIndex<<1 | 1
	forged.TxBranch = append(bytes.Clone(raw[:32]), honest.TxBranch...)
	if root, err := FoldBranch(fakeTxid, forged.TxBranch, forged.TxIndex); err != nil || root != block.Header.MerkleRoot {
		t.Fatalf("the forged branch does not reach the root: %v", err)
	}
	_, err = VerifyInclusion(c, fakeTxid, forged, 1)
	wantRule(t, err, ErrDepthMismatch)
	// Padding the coinbase branch to the forged depth cannot help: the real
	// coinbase txid would have to be an inner node sha256d(sha256(P)‖S).
	for _, s := range [][]byte{tree[0][:], tree[1][:], raw[:32], make([]byte, 32)} {
		forged.CoinbaseBranch = append(bytes.Clone(s), honest.CoinbaseBranch...)
		_, err = VerifyInclusion(c, fakeTxid, forged, 1)
		wantRule(t, err, ErrCoinbaseProofMismatch)
	}

	// Shallower: the inner node over (other, third) claimed as a txid at
	// depth 1. Its coinbase pin is satisfiable with P = sha256(cb ‖ T).
	var leftPair, rightPair [64]byte
	copy(leftPair[:], tree[0][:])
	copy(leftPair[32:], tree[1][:])
	copy(rightPair[:], tree[2][:])
	copy(rightPair[32:], tree[3][:])
	shallow := Inclusion{
		Header:           header,
		Height:           1,
		TxIndex:          1,
		TxBranch:         tree[4][:],
		CoinbasePreimage: sha256.Sum256(leftPair[:]),
		CoinbaseBranch:   tree[5][:],
	}
	if _, err := VerifyInclusion(c, *tree[5], shallow, 1); err != nil {
		t.Fatalf("expected the inner node to pass as a txid: %v", err)
	}
	_, err = ParseTx(rightPair[:])
	wantRule(t, err, ErrTx64Bytes)
}

func txsOf(block *wire.MsgBlock) []*btcutil.Tx {
	out := make([]*btcutil.Tx, len(block.Transactions))
	for i, tx := range block.Transactions {
		out[i] = btcutil.NewTx(tx)
	}
	return out
}
