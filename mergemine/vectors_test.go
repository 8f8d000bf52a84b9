package mergemine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/crypto/keccak"
	"github.com/ethereum/go-ethereum/rlp"
)

// rskBlocks is testdata/rsk_mainnet_blocks.json.
type rskBlocks struct {
	Vectors []struct {
		Name        string          `json:"name"`
		HeaderRLP   string          `json:"header_rlp"`
		FieldCount  int             `json:"header_field_count"`
		Activations map[string]bool `json:"activations_at_height"`
		Header      string          `json:"bitcoinMergedMiningHeader"`
		MerkleProof string          `json:"bitcoinMergedMiningMerkleProof"`
		Coinbase    string          `json:"bitcoinMergedMiningCoinbaseTransaction"`
		Derived     struct {
			HashForMergedMining string `json:"hashForMergedMining"`
			Base                string `json:"hashForMergedMiningBase"`
			Difficulty          string `json:"difficulty"`
			Target              string `json:"target"`
			BtcBlockHash        string `json:"btcBlockHash"`
			CoinbaseTxid        string `json:"coinbaseTxid"`
			MerkleRoot          string `json:"merkleRootHeader"`
			TagPosInTail        int    `json:"tagPosInTail"`
			BytesAfterHash      int    `json:"bytesAfterHash"`
		} `json:"derived"`
		Mutations []struct {
			Description     string `json:"description"`
			Field           string `json:"field"`
			ByteOffset      int    `json:"byte_offset"`
			XorMask         string `json:"xor_mask"`
			ExpectedFailure string `json:"expected_failure"`
		} `json:"mutations"`
	} `json:"vectors"`
}

const rskip110 = "RSKIP110 fork-detection data (wasabi100, 1591000)"

// rskFailures maps the expected_failure texts of rsk_mainnet_blocks.json to
// the rules that must report them.
var rskFailures = map[string]error{
	"merkle root mismatch": ErrMerkleRootMismatch,
	"PoW: SHA256d(btc header) > 2^256/difficulty (merkle proof itself still verifies)":           ErrPoW,
	"coinbase txid changes -> merkle root mismatch":                                              ErrMerkleRootMismatch,
	"RSKBLOCK:+hashForMergedMining not found (and, post-RSKIP110, fork detection data mismatch)": ErrCommitmentMismatch,
	"merkle root mismatch. NOTE: for post-RSKIP110 blocks the last 12 bytes of hashForMergedMining are READ FROM the coinbase, so the tag still self-matches in ProofOfWorkRule; rskj's ForkDetectionDataRule (needs 449 ancestors) would also reject it.": ErrMerkleRootMismatch,
}

// rskHashForMergedMining is how Rootstock derives hashForMergedMining once
// RSKIP-110 is active: the base hash's first 20 bytes, then the 12 bytes that
// follow the last "RSKBLOCK:" ‖ base[:20] in the compressed coinbase
// (BlockHeader.getMiningForkDetectionData).
func rskHashForMergedMining(t testing.TB, base [32]byte, compressed []byte) [32]byte {
	t.Helper()
	prefix := append(bytes.Clone(rskTag), base[:20]...)
	p := bytes.LastIndex(compressed, prefix)
	if p < 0 || len(compressed) < p+len(prefix)+12 {
		t.Fatal("no fork detection data in the coinbase")
	}
	h := base
	copy(h[20:], compressed[p+len(prefix):])
	return h
}

func keccak256(b []byte) [32]byte {
	k := keccak.NewLegacyKeccak256()
	k.Write(b)
	return [32]byte(k.Sum(nil))
}

func TestRSKMainnetBlocks(t *testing.T) {
	var f rskBlocks
	loadJSON(t, "rsk_mainnet_blocks.json", &f)
	if len(f.Vectors) != 9 {
		t.Fatalf("want 9 vectors, got %d", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			p := &Proof{
				BitcoinHeader: unhex(t, v.Header),
				MerkleProof:   unhex(t, v.MerkleProof),
				Coinbase:      unhex(t, v.Coinbase),
			}
			// The three parts are the last fields of the real header, and
			// the rest hashes to the base hash for merged mining.
			var fields [][]byte
			if err := rlp.DecodeBytes(unhex(t, v.HeaderRLP), &fields); err != nil {
				t.Fatal(err)
			}
			if len(fields) != v.FieldCount {
				t.Fatalf("header has %d fields, want %d", len(fields), v.FieldCount)
			}
			n := len(fields) - 3
			if !bytes.Equal(fields[n], p.BitcoinHeader) || !bytes.Equal(fields[n+1], p.MerkleProof) || !bytes.Equal(fields[n+2], p.Coinbase) {
				t.Fatal("merged-mining fields differ from the header's")
			}
			if n == 17 && len(fields[16]) != 0 {
				t.Fatal("vector has a UMM root; base hash derivation would need it")
			}
			enc, err := rlp.EncodeToBytes(fields[:n])
			if err != nil {
				t.Fatal(err)
			}
			base := keccak256(enc)
			if base != hash32(t, v.Derived.Base) {
				t.Fatalf("base hash %x, want %s", base, v.Derived.Base)
			}
			committed := base
			if v.Activations[rskip110] {
				committed = rskHashForMergedMining(t, base, p.Coinbase)
			}
			if committed != hash32(t, v.Derived.HashForMergedMining) {
				t.Fatalf("hashForMergedMining %x, want %s", committed, v.Derived.HashForMergedMining)
			}

			difficulty := decimal(t, v.Derived.Difficulty)
			if err := Verify(p, committed, difficulty, rskTag); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got := Target(difficulty); got.Cmp(new(big.Int).SetBytes(unhex(t, v.Derived.Target))) != 0 {
				t.Fatalf("target %x, want %s", got, v.Derived.Target)
			}
			if got := HeaderHash(p.BitcoinHeader); got != displayHash(t, v.Derived.BtcBlockHash) {
				t.Fatalf("header hash %v, want %s", got, v.Derived.BtcBlockHash)
			}
			txid, err := CoinbaseTxID(p.Coinbase)
			if err != nil || txid != displayHash(t, v.Derived.CoinbaseTxid) {
				t.Fatalf("txid %v (%v), want %s", txid, err, v.Derived.CoinbaseTxid)
			}
			if root := refFold(txid, p.MerkleProof); root != displayHash(t, v.Derived.MerkleRoot) {
				t.Fatalf("root %v, want %s", root, v.Derived.MerkleRoot)
			}
			tail := p.Coinbase[midstateSize:]
			if pos := bytes.LastIndex(tail, rskTag); pos != v.Derived.TagPosInTail || len(tail)-pos-9-32 != v.Derived.BytesAfterHash {
				t.Fatalf("tag at %d in the tail, want %d", pos, v.Derived.TagPosInTail)
			}
			// The proof goes through its RLP form unchanged.
			if q, err := DecodeProof(p.Bytes()); err != nil || Verify(q, committed, difficulty, rskTag) != nil {
				t.Fatalf("RLP round trip: %v", err)
			}

			if len(v.Mutations) != 5 {
				t.Fatalf("want 5 mutations, got %d", len(v.Mutations))
			}
			for _, m := range v.Mutations {
				want, ok := rskFailures[m.ExpectedFailure]
				if !ok {
					t.Fatalf("unmapped expected_failure %q", m.ExpectedFailure)
				}
				mask := unhex(t, m.XorMask)[0]
				q := *p
				switch m.Field {
				case "bitcoinMergedMiningHeader":
					q.BitcoinHeader = flip(p.BitcoinHeader, m.ByteOffset, mask)
				case "bitcoinMergedMiningMerkleProof":
					q.MerkleProof = flip(p.MerkleProof, m.ByteOffset, mask)
				case "bitcoinMergedMiningCoinbaseTransaction":
					q.Coinbase = flip(p.Coinbase, m.ByteOffset, mask)
				default:
					t.Fatalf("unknown field %q", m.Field)
				}
				// Rootstock reads the fork detection bytes of the hash
				// from the coinbase it checks.
				rskCommitted := committed
				if v.Activations[rskip110] {
					rskCommitted = rskHashForMergedMining(t, base, q.Coinbase)
				}
				if err := Verify(&q, rskCommitted, difficulty, rskTag); !errors.Is(err, want) {
					t.Errorf("%s: got %v, want %v", m.Description, err, want)
				}
				// mmgeth's engine passes the seal hash itself, so a changed
				// hash in the coinbase fails the commitment rule.
				err := Verify(&q, committed, difficulty, rskTag)
				if rskCommitted != committed {
					want = ErrCommitmentMismatch
				}
				if !errors.Is(err, want) {
					t.Errorf("%s with the fixed hash: got %v, want %v", m.Description, err, want)
				}
			}
		})
	}
}

// rskPowParts is testdata/rsk_mainnet_pow_parts.json.
type rskPowParts struct {
	Vectors []struct {
		Block          int    `json:"rsk_block"`
		Kind           string `json:"kind"`
		Coinbase       string `json:"bitcoinMergedMiningCoinbaseTransaction"`
		Header         string `json:"bitcoinMergedMiningHeader"`
		MerkleProof    string `json:"bitcoinMergedMiningMerkleProof"`
		HashInTag      string `json:"hashForMergedMining_in_tag"`
		TxidDisplay    string `json:"coinbase_txid_display"`
		ExpectedTxid   string `json:"expected_coinbase_txid_display"`
		RootDisplay    string `json:"merkle_root_display"`
		HeaderHashDisp string `json:"btc_header_hash_display"`
		Mutation       string `json:"mutation"`
	} `json:"vectors"`
}

func TestRSKMainnetPowParts(t *testing.T) {
	var f rskPowParts
	loadJSON(t, "rsk_mainnet_pow_parts.json", &f)
	var proofs, txids int
	for _, v := range f.Vectors {
		coinbase := unhex(t, v.Coinbase)
		switch {
		case strings.HasPrefix(v.Kind, "coinbase+header"):
			proofs++
			p := &Proof{BitcoinHeader: unhex(t, v.Header), MerkleProof: unhex(t, v.MerkleProof), Coinbase: coinbase}
			txid, err := CoinbaseTxID(coinbase)
			if err != nil || txid != displayHash(t, v.TxidDisplay) {
				t.Fatalf("%d: txid %v (%v)", v.Block, txid, err)
			}
			root := displayHash(t, v.RootDisplay)
			if got, err := foldMerkleProof(txid, p.MerkleProof); err != nil || got != root || !bytes.Equal(root[:], p.BitcoinHeader[36:68]) {
				t.Fatalf("%d: root %v (%v)", v.Block, got, err)
			}
			if HeaderHash(p.BitcoinHeader) != displayHash(t, v.HeaderHashDisp) {
				t.Fatalf("%d: header hash", v.Block)
			}
			// No RSK header here, so take the highest difficulty the share
			// meets: it passes, one more fails the PoW rule.
			committed := hash32(t, v.HashInTag)
			d := DifficultyFromTarget(hashValue(p.BitcoinHeader))
			if err := Verify(p, committed, d, rskTag); err != nil {
				t.Fatalf("%d: Verify at difficulty %v: %v", v.Block, d, err)
			}
			if err := Verify(p, committed, new(big.Int).Add(d, big.NewInt(1)), rskTag); !errors.Is(err, ErrPoW) {
				t.Fatalf("%d: got %v, want %v", v.Block, err, ErrPoW)
			}
			if v.Mutation != "flip lowest bit of last proof byte -> root mismatch" {
				t.Fatalf("%d: unknown mutation %q", v.Block, v.Mutation)
			}
			q := *p
			q.MerkleProof = flip(p.MerkleProof, len(p.MerkleProof)-1, 1)
			if err := Verify(&q, committed, d, rskTag); !errors.Is(err, ErrMerkleRootMismatch) {
				t.Fatalf("%d: got %v, want %v", v.Block, err, ErrMerkleRootMismatch)
			}
		case strings.HasPrefix(v.Kind, "compressed coinbase -> txid"):
			txids++
			txid, err := CoinbaseTxID(coinbase)
			if err != nil || txid != displayHash(t, v.ExpectedTxid) {
				t.Fatalf("%d: txid %v (%v), want %s", v.Block, txid, err, v.ExpectedTxid)
			}
			if !strings.HasPrefix(v.Mutation, "set midstate byteCount (first 8 bytes) to byteCount+64") {
				t.Fatalf("%d: unknown mutation %q", v.Block, v.Mutation)
			}
			m := bytes.Clone(coinbase)
			binary.BigEndian.PutUint64(m, binary.BigEndian.Uint64(m)+64)
			if got, err := CoinbaseTxID(m); err != nil || got == txid {
				t.Fatalf("%d: byteCount+64 gives %v (%v)", v.Block, got, err)
			}
		default:
			t.Fatalf("unknown kind %q", v.Kind)
		}
	}
	if proofs != 3 || txids != 3 {
		t.Fatalf("ran %d proofs and %d txids, want 3 and 3", proofs, txids)
	}
}

// bitcoinMainnet is testdata/bitcoin_mainnet.json.
type bitcoinMainnet struct {
	Headers []struct {
		Height     int    `json:"height"`
		Header     string `json:"header"`
		Hash       string `json:"hash"`
		Version    int32  `json:"version"`
		Prev       string `json:"prev_block_hash"`
		MerkleRoot string `json:"merkle_root"`
		Time       int64  `json:"time"`
		Bits       string `json:"bits"`
		Nonce      uint32 `json:"nonce"`
	} `json:"headers"`
	Block100000 struct {
		Header         string   `json:"block_header"`
		TxCount        int      `json:"tx_count"`
		Coinbase       string   `json:"coinbase_tx"`
		Txids          []string `json:"txids_display"`
		Branch         []string `json:"coinbase_branch_internal_order"`
		StratumBranch  []string `json:"coinbase_branch_as_stratum_hex"`
		Proof          string   `json:"rskip92_merkle_proof"`
		Root           string   `json:"merkle_root_display"`
		Compressed     string   `json:"coinbase_compressed_at_64_bytes"`
		ResumedTxid    string   `json:"resumed_txid_display"`
		MutationsCount []struct {
			Description string `json:"description"`
		} `json:"mutations"`
	} `json:"block100000_merkle"`
}

func TestBitcoinMainnetHeaders(t *testing.T) {
	var f bitcoinMainnet
	loadJSON(t, "bitcoin_mainnet.json", &f)
	for _, v := range f.Headers {
		raw := unhex(t, v.Header)
		h, err := ParseHeader(raw)
		if err != nil {
			t.Fatalf("%d: %v", v.Height, err)
		}
		bits := binary.BigEndian.Uint32(unhex(t, v.Bits))
		if h.Version != v.Version || h.PrevBlock != displayHash(t, v.Prev) || h.MerkleRoot != displayHash(t, v.MerkleRoot) ||
			h.Timestamp.Unix() != v.Time || h.Bits != bits || h.Nonce != v.Nonce {
			t.Fatalf("%d: parsed %+v", v.Height, h)
		}
		if HeaderHash(raw) != displayHash(t, v.Hash) || h.BlockHash() != HeaderHash(raw) {
			t.Fatalf("%d: hash %v, want %s", v.Height, HeaderHash(raw), v.Hash)
		}
		// A real block meets the merged-mining rule at its own target's
		// difficulty.
		d := DifficultyFromTarget(blockchain.CompactToBig(bits))
		if !meetsTargetBig(raw, d) {
			t.Fatalf("%d: does not meet difficulty %v", v.Height, d)
		}
		if _, err := ParseHeader(raw[:79]); !errors.Is(err, ErrHeaderSize) {
			t.Fatalf("79 bytes: got %v, want %v", err, ErrHeaderSize)
		}
	}
}

func meetsTargetBig(header []byte, difficulty *big.Int) bool {
	return hashValue(header).Cmp(Target(difficulty)) <= 0
}

func TestBitcoinBlock100000(t *testing.T) {
	var f bitcoinMainnet
	loadJSON(t, "bitcoin_mainnet.json", &f)
	b := f.Block100000
	header := unhex(t, b.Header)
	coinbase := unhex(t, b.Coinbase)
	root := displayHash(t, b.Root)
	if !bytes.Equal(header[36:68], root[:]) {
		t.Fatal("root is not the header's")
	}
	var txids []chainhash.Hash
	for _, s := range b.Txids {
		txids = append(txids, displayHash(t, s))
	}
	if len(txids) != b.TxCount || chainhash.DoubleHashH(coinbase) != txids[0] {
		t.Fatal("coinbase txid mismatch")
	}
	var branch []chainhash.Hash
	for _, s := range b.Branch {
		branch = append(branch, chainhash.Hash(unhex(t, s)))
	}
	proof := unhex(t, b.Proof)
	if got := MerkleProofFromTxids(txids); !bytes.Equal(got, proof) {
		t.Fatalf("MerkleProofFromTxids %x", got)
	}
	if got := MerkleProofFromBranch(branch); !bytes.Equal(got, proof) {
		t.Fatalf("MerkleProofFromBranch %x", got)
	}
	if got, err := MerkleBranch(proof); err != nil || len(got) != 2 || got[0] != branch[0] || got[1] != branch[1] {
		t.Fatalf("MerkleBranch %v (%v)", got, err)
	}
	if got, err := foldMerkleProof(txids[0], proof); err != nil || got != root || refRoot(txids) != root {
		t.Fatalf("fold %v (%v)", got, err)
	}

	compressed := compressAt(coinbase, 64)
	if !bytes.Equal(compressed, unhex(t, b.Compressed)) {
		t.Fatalf("compressed %x", compressed)
	}
	if txid, err := CoinbaseTxID(compressed); err != nil || txid != displayHash(t, b.ResumedTxid) {
		t.Fatalf("resumed txid %v (%v)", txid, err)
	}
	// No tag: the coinbase cannot be compressed nor serve in a proof.
	if _, err := CompressCoinbase(coinbase, rskTag); !errors.Is(err, ErrTagMissing) {
		t.Fatalf("CompressCoinbase: got %v, want %v", err, ErrTagMissing)
	}
	if _, err := BuildProof(header, coinbase, proof, rskTag); !errors.Is(err, ErrTagMissing) {
		t.Fatalf("BuildProof: got %v, want %v", err, ErrTagMissing)
	}

	mutations := map[string]func() bool{
		"swap order in the first fold step (treat coinbase as right child)": func() bool {
			up := hashPair(&branch[0], &txids[0])
			return hashPair(&up, &branch[1]) != root
		},
		"use display-order (reversed) branch hashes without re-reversing": func() bool {
			var wire []byte
			for _, h := range branch {
				wire = append(wire, h[:]...)
			}
			got, err := foldMerkleProof(txids[0], wire)
			return err == nil && got != root
		},
		"set byteCount in the compressed coinbase to 128 instead of 64": func() bool {
			m := bytes.Clone(compressed)
			binary.BigEndian.PutUint64(m, 128)
			got, err := CoinbaseTxID(m)
			return err == nil && got != txids[0]
		},
	}
	if len(b.MutationsCount) != len(mutations) {
		t.Fatalf("file has %d mutations, test knows %d", len(b.MutationsCount), len(mutations))
	}
	for _, m := range b.MutationsCount {
		fails, ok := mutations[m.Description]
		if !ok {
			t.Fatalf("unknown mutation %q", m.Description)
		}
		if !fails() {
			t.Errorf("%s: still matches", m.Description)
		}
	}
}

// synthetic is testdata/synthetic_lowdiff.json.
type synthetic struct {
	HashForMergedMining string   `json:"hashForMergedMining"`
	Difficulty          int64    `json:"difficulty"`
	Target              string   `json:"target"`
	Header              string   `json:"bitcoin_header"`
	HeaderHash          string   `json:"bitcoin_header_hash_display"`
	Root                string   `json:"bitcoin_merkle_root_display"`
	Coinbase            string   `json:"coinbase_tx_full"`
	CoinbaseTxid        string   `json:"coinbase_txid_display"`
	OtherTxids          []string `json:"other_txids_display"`
	TagOffset           int      `json:"rsk_tag_offset_in_full_coinbase"`
	Compressed          string   `json:"coinbase_compressed (bitcoinMergedMiningCoinbaseTransaction)"`
	MerkleProof         string   `json:"merkle_proof_rskip92 (bitcoinMergedMiningMerkleProof)"`
	PartialMerkle       []string `json:"mnr_submitBitcoinBlockPartialMerkle_params"`
	Transactions        []string `json:"mnr_submitBitcoinBlockTransactions_params"`
	Mutations           []struct {
		Description string `json:"description"`
	} `json:"mutations"`
}

func loadSynthetic(t testing.TB) (s synthetic, p *Proof, committed [32]byte, difficulty *big.Int) {
	loadJSON(t, "synthetic_lowdiff.json", &s)
	p = &Proof{BitcoinHeader: unhex(t, s.Header), MerkleProof: unhex(t, s.MerkleProof), Coinbase: unhex(t, s.Compressed)}
	return s, p, hash32(t, s.HashForMergedMining), big.NewInt(s.Difficulty)
}

func TestSyntheticLowDiff(t *testing.T) {
	s, p, committed, difficulty := loadSynthetic(t)
	if err := Verify(p, committed, difficulty, rskTag); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if Target(difficulty).Cmp(new(big.Int).SetBytes(unhex(t, s.Target))) != 0 || HeaderHash(p.BitcoinHeader) != displayHash(t, s.HeaderHash) {
		t.Fatal("target or header hash differ")
	}

	// Miner side: everything the proof holds comes from the full coinbase
	// and the txids or the branch a pool sends.
	full := unhex(t, s.Coinbase)
	if got, err := CommittedHash(full, rskTag); err != nil || got != committed {
		t.Fatalf("CommittedHash %x (%v)", got, err)
	}
	if bytes.LastIndex(full, rskTag) != s.TagOffset {
		t.Fatal("tag offset differs")
	}
	if got, err := CompressCoinbase(full, rskTag); err != nil || !bytes.Equal(got, p.Coinbase) {
		t.Fatalf("CompressCoinbase %x (%v)", got, err)
	}
	txids := []chainhash.Hash{displayHash(t, s.CoinbaseTxid)}
	for _, h := range s.OtherTxids {
		txids = append(txids, displayHash(t, h))
	}
	if chainhash.DoubleHashH(full) != txids[0] || refRoot(txids) != displayHash(t, s.Root) {
		t.Fatal("txid or root differ")
	}
	if got := MerkleProofFromTxids(txids); !bytes.Equal(got, p.MerkleProof) {
		t.Fatalf("MerkleProofFromTxids %x", got)
	}
	// mnr_submitBitcoinBlockTransactions: display-order txids, coinbase first.
	var fromTxs []chainhash.Hash
	for _, h := range strings.Fields(s.Transactions[3]) {
		fromTxs = append(fromTxs, displayHash(t, h))
	}
	if got := MerkleProofFromTxids(fromTxs); !bytes.Equal(got, p.MerkleProof) {
		t.Fatalf("from submitted txids %x", got)
	}
	// mnr_submitBitcoinBlockPartialMerkle: wire-order hashes, the coinbase
	// txid first, then the branch.
	var hashes []chainhash.Hash
	for _, h := range strings.Fields(s.PartialMerkle[3]) {
		hashes = append(hashes, chainhash.Hash(unhex(t, h)))
	}
	if hashes[0] != txids[0] {
		t.Fatal("partial merkle params do not start with the coinbase txid")
	}
	if got := MerkleProofFromBranch(hashes[1:]); !bytes.Equal(got, p.MerkleProof) {
		t.Fatalf("MerkleProofFromBranch %x", got)
	}
	built, err := BuildProof(unhex(t, s.PartialMerkle[1]), unhex(t, s.PartialMerkle[2]), MerkleProofFromBranch(hashes[1:]), rskTag)
	if err != nil || !bytes.Equal(built.Bytes(), p.Bytes()) {
		t.Fatalf("BuildProof %+v (%v)", built, err)
	}

	mutations := map[string]struct {
		mutate func(p *Proof, committed *[32]byte)
		want   error
	}{
		"change one byte of hashForMergedMining expected by the node": {
			func(p *Proof, c *[32]byte) { c[7] ^= 1 }, ErrCommitmentMismatch,
		},
		"swap the two merkle-proof hashes": {
			func(p *Proof, c *[32]byte) {
				p.MerkleProof = append(bytes.Clone(p.MerkleProof[32:]), p.MerkleProof[:32]...)
			}, ErrMerkleRootMismatch,
		},
		"append a second RSKBLOCK: tag after the real one": {
			func(p *Proof, c *[32]byte) { p.Coinbase = append(bytes.Clone(p.Coinbase), rskTag...) }, ErrTagNotLast,
		},
		"increase nonce by 1": {
			func(p *Proof, c *[32]byte) {
				p.BitcoinHeader = bytes.Clone(p.BitcoinHeader)
				binary.LittleEndian.PutUint32(p.BitcoinHeader[76:], binary.LittleEndian.Uint32(p.BitcoinHeader[76:])+1)
			}, ErrPoW,
		},
	}
	if len(s.Mutations) != len(mutations) {
		t.Fatalf("file has %d mutations, test knows %d", len(s.Mutations), len(mutations))
	}
	for _, m := range s.Mutations {
		mu, ok := mutations[m.Description]
		if !ok {
			t.Fatalf("unknown mutation %q", m.Description)
		}
		q, c := *p, committed
		mu.mutate(&q, &c)
		if err := Verify(&q, c, difficulty, rskTag); !errors.Is(err, mu.want) {
			t.Errorf("%s: got %v, want %v", m.Description, err, mu.want)
		}
	}
}
