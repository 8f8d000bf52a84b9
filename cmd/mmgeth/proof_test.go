package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/mmgeth/mmgeth/mergemine"
	"github.com/urfave/cli/v2"
)

// rsk2392715 is Rootstock mainnet block 2392715's proof, from
// mergemine/testdata/rsk_mainnet_blocks.json.
var rsk2392715 = verifyFlags{
	header:     "0000c02035305b7f84c04ba6b47b98d3e8fbae6d5e5cdb9e7b1502000000000000000000903c607c9b06086cb220600c04526fbce4c3a9730aeca7851ed7afc2c1903a15cbe4ce5ef697121735524e51",
	merkle:     "a61277ddd3dfb8e1ee1bff75043ef3af39b706ab7d2e0646aa459c8c0fe9080c5abc009eb16fd64b2bc43badd0e71b81b6ac5dad368ccd176d2a05219d09dad84893c92fd86402fc27a95fd813070492b37d90e6724180c6902617d701ef644a9e71eeaf7a0af78909f2055165d23335f67bac72259a3b706f2590d03aa5b6546ea0cdaa36c40a415227767f7f7eb1ae1d7b780d165f5abe368560adec0f18e0fda2137deec39ceda98e31b97ca88db366fcd17e39fbf30d09222d742fbd56f56d3b89abf5b0dc7b496da0532a8b3c84718ea5dcd0d90f2c00c8de7c4bd561b8137fc744dfb5c31067e4e69657f0153552666b2fc7f03513df396e29907c818fd25931c58a340515aea94930968cfbf52fafbc9fff47271427ae31946af60fca7fae7cdf08bfb487baaf2ec27508e5a79d525b63bcda832e78a153d2931c837745d5c6e6448377f9d049b47beaaa64a5cd26745f4e4cbf6925d10fd1acd31191ca69ec5f9d6cca54bada5a57ef8556893778f5daeb112c2fc75094ef8745ed0d",
	coinbase:   "00000000000000c0384403f9084ff43eb8f135d1435cc6213fec8876a8c45c0a1377d67b37b04822aa21a9edd55f6ff89c39ba1accaa2052fcd4e0241bf15bc4d906d9dd7b5aa9c2446c8c1a08000000000000000000000000000000002c6a4c2952534b424c4f434b3a147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b0000000000000000266a24b9e11b6d1bf133d73966470db216806152e1b7f89f1d349d65efcec4279513e9616e79844ac9e83f",
	hash:       "0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b",
	difficulty: "869392115714623559000",
	tag:        "RSKBLOCK:",
}

// verifyFlags are the flags of one proof verify run.
type verifyFlags struct {
	header, coinbase, merkle, hash, difficulty, tag string
}

// args renders the flags in --name=value form, which takes any value, and
// leaves out the tag when it is empty.
func (f verifyFlags) args() []string {
	args := []string{"proof", "verify",
		"--header=" + f.header, "--coinbase=" + f.coinbase, "--merkle-proof=" + f.merkle,
		"--hash=" + f.hash, "--difficulty=" + f.difficulty}
	if f.tag != "" {
		args = append(args, "--tag="+f.tag)
	}
	return args
}

// runApp runs the command in process and returns its exit status, its
// standard output and the message main would print on failure.
func runApp(args ...string) (code int, stdout, message string) {
	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	app.ErrWriter = &out
	// Keep cli from exiting the test process; main's exitCode decides.
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.Run(append([]string{"mmgeth"}, args...))
	if err == nil {
		return 0, out.String(), ""
	}
	return exitCode(err), out.String(), err.Error()
}

// devProof mines a proof under the default tag at a low difficulty with the
// miner-side helpers of mergemine.
func devProof(t *testing.T) verifyFlags {
	t.Helper()
	seal := chainhash.HashH([]byte("dev block"))
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), []byte("\x01\x02dev miner"), nil))
	tx.AddTxOut(wire.NewTxOut(50e8, []byte{0x51}))
	mergemine.AddCommitment(tx, []byte(defaultProofTag), seal)
	var cb bytes.Buffer
	if err := tx.Serialize(&cb); err != nil {
		t.Fatal(err)
	}
	txids := []chainhash.Hash{tx.TxHash(), chainhash.HashH([]byte("tx 1")), chainhash.HashH([]byte("tx 2"))}
	merkle := mergemine.MerkleProofFromTxids(txids)
	branch, err := mergemine.MerkleBranch(merkle)
	if err != nil {
		t.Fatal(err)
	}
	root := txids[0]
	for i := range branch {
		root = chainhash.DoubleHashH(append(root[:], branch[i][:]...))
	}
	difficulty := big.NewInt(1000)
	target := mergemine.Target(difficulty)
	h := wire.BlockHeader{Version: 0x20000000, MerkleRoot: root, Timestamp: time.Unix(1_700_000_000, 0), Bits: 0x207fffff}
	for ; ; h.Nonce++ {
		hash := h.BlockHash()
		if new(big.Int).SetBytes(reverse(hash[:])).Cmp(target) <= 0 {
			break
		}
	}
	var header bytes.Buffer
	if err := h.Serialize(&header); err != nil {
		t.Fatal(err)
	}
	p, err := mergemine.BuildProof(header.Bytes(), cb.Bytes(), merkle, []byte(defaultProofTag))
	if err != nil {
		t.Fatal(err)
	}
	return verifyFlags{
		header:     hex.EncodeToString(p.BitcoinHeader),
		coinbase:   hex.EncodeToString(p.Coinbase),
		merkle:     hex.EncodeToString(p.MerkleProof),
		hash:       hex.EncodeToString(seal[:]),
		difficulty: difficulty.String(),
	}
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

func TestProofVerify(t *testing.T) {
	dev := devProof(t)
	with := func(f verifyFlags, edit func(*verifyFlags)) verifyFlags {
		edit(&f)
		return f
	}
	rule := func(err error) string { return "invalid: " + err.Error() }
	tests := []struct {
		name    string
		args    []string
		code    int
		message string // prefix of the failure message
	}{
		{"rootstock mainnet proof", rsk2392715.args(), 0, ""},
		{"hex with 0X prefixes", with(rsk2392715, func(f *verifyFlags) {
			f.header, f.coinbase, f.merkle = "0X"+f.header, "0x"+f.coinbase, "0x"+f.merkle
		}).args(), 0, ""},
		{"dev proof under the default tag", dev.args(), 0, ""},
		{"dev proof with space-separated flags", []string{"proof", "verify", "--header", dev.header, "--coinbase", dev.coinbase,
			"--merkle-proof", dev.merkle, "--hash", dev.hash, "--difficulty", dev.difficulty}, 0, ""},
		{"difficulty 0 counts as 3", with(dev, func(f *verifyFlags) { f.difficulty = "0" }).args(), 0, ""},

		{"rootstock proof under the default tag", with(rsk2392715, func(f *verifyFlags) { f.tag = "" }).args(), 1, rule(mergemine.ErrTagMissing)},
		{"dev proof under RSKBLOCK:", with(dev, func(f *verifyFlags) { f.tag = "RSKBLOCK:" }).args(), 1, rule(mergemine.ErrTagMissing)},
		{"other hash", with(rsk2392715, func(f *verifyFlags) { f.hash = strings.Repeat("ab", 32) }).args(), 1, rule(mergemine.ErrCommitmentMismatch)},
		{"difficulty too high", with(rsk2392715, func(f *verifyFlags) { f.difficulty = "1" + f.difficulty }).args(), 1, rule(mergemine.ErrPoW)},
		{"header of 79 bytes", with(rsk2392715, func(f *verifyFlags) { f.header = f.header[2:] }).args(), 1, rule(mergemine.ErrHeaderSize)},
		{"merkle proof of 31 bytes", with(dev, func(f *verifyFlags) { f.merkle = f.merkle[:62] }).args(), 1, rule(mergemine.ErrMerkleProofLength)},
		{"empty merkle proof", with(dev, func(f *verifyFlags) { f.merkle = "" }).args(), 1, rule(mergemine.ErrMerkleRootMismatch)},
		{"empty coinbase", with(dev, func(f *verifyFlags) { f.coinbase = "" }).args(), 1, rule(mergemine.ErrCoinbaseMalformed)},

		{"bad hex", with(dev, func(f *verifyFlags) { f.header = "zz" + f.header[2:] }).args(), 2, "mmgeth proof verify: --header: invalid hex"},
		{"odd hex", with(dev, func(f *verifyFlags) { f.coinbase += "0" }).args(), 2, "mmgeth proof verify: --coinbase: invalid hex"},
		{"hash of 31 bytes", with(dev, func(f *verifyFlags) { f.hash = f.hash[2:] }).args(), 2, "mmgeth proof verify: --hash: want 32 bytes, got 31"},
		{"hash of 33 bytes", with(dev, func(f *verifyFlags) { f.hash += "00" }).args(), 2, "mmgeth proof verify: --hash: want 32 bytes, got 33"},
		{"negative difficulty", with(dev, func(f *verifyFlags) { f.difficulty = "-1000" }).args(), 2, "mmgeth proof verify: --difficulty"},
		{"hex difficulty", with(dev, func(f *verifyFlags) { f.difficulty = "0x3e8" }).args(), 2, "mmgeth proof verify: --difficulty"},
		{"fractional difficulty", with(dev, func(f *verifyFlags) { f.difficulty = "1.5" }).args(), 2, "mmgeth proof verify: --difficulty"},
		{"empty difficulty", with(dev, func(f *verifyFlags) { f.difficulty = "" }).args(), 2, "mmgeth proof verify: --difficulty"},
		{"empty tag", append(dev.args(), "--tag="), 2, "mmgeth proof verify: --tag: the tag is empty"},
		{"missing header", dev.args()[:2], 2, "mmgeth proof verify: missing --header"},
		{"missing merkle proof", append(dev.args()[:4], dev.args()[5:]...), 2, "mmgeth proof verify: missing --merkle-proof"},
		{"missing difficulty", dev.args()[:6], 2, "mmgeth proof verify: missing --difficulty"},
		{"unknown flag", append(dev.args(), "--nonce=1"), 2, "mmgeth proof verify: flag provided but not defined: -nonce"},
		{"flag without value", append(dev.args(), "--tag"), 2, "mmgeth proof verify: flag needs an argument"},
		{"extra argument", append(dev.args(), "extra"), 2, "mmgeth proof verify: unexpected arguments: extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, message := runApp(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d (%q, %q), want %d", code, stdout, message, tt.code)
			}
			if code == 0 {
				if stdout != "valid\n" {
					t.Fatalf("stdout %q, want \"valid\\n\"", stdout)
				}
				return
			}
			if !strings.HasPrefix(message, tt.message) {
				t.Fatalf("message %q, want prefix %q", message, tt.message)
			}
		})
	}
}

// TestProofVerifyProcess runs main in a child process, as a user would, to
// check the real exit statuses and streams.
func TestProofVerifyProcess(t *testing.T) {
	if args := os.Getenv("MMGETH_PROOF_TEST_ARGS"); args != "" {
		os.Args = nil
		if err := json.Unmarshal([]byte(args), &os.Args); err != nil {
			panic(err)
		}
		main()
		os.Exit(0)
	}
	for _, tt := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{rsk2392715.args(), 0, "valid\n", ""},
		{replaceFlag(rsk2392715, "--difficulty=1"+rsk2392715.difficulty), 1, "", "invalid: " + mergemine.ErrPoW.Error() + ": hash "},
		{replaceFlag(rsk2392715, "--hash=00"), 2, "", "mmgeth proof verify: --hash: want 32 bytes, got 1"},
		{[]string{"proof", "verify", "--bogus"}, 2, "", "mmgeth proof verify: flag provided but not defined: -bogus"},
	} {
		args, err := json.Marshal(append([]string{"mmgeth"}, tt.args...))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestProofVerifyProcess$")
		cmd.Env = append(os.Environ(), "MMGETH_PROOF_TEST_ARGS="+string(args))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		// cli prints the message of an exit error as the last line.
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if code != tt.code || stdout.String() != tt.stdout || !strings.HasPrefix(lines[len(lines)-1], tt.stderr) ||
			(tt.stderr == "") != (stderr.Len() == 0) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.args[len(tt.args)-1], code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
}

// replaceFlag returns f's arguments with one flag's value replaced.
func replaceFlag(f verifyFlags, flag string) []string {
	args := f.args()
	name := flag[:strings.Index(flag, "=")+1]
	for i := len(args) - 1; i >= 0; i-- {
		if strings.HasPrefix(args[i], name) {
			args[i] = flag
			break
		}
	}
	return args
}

// FuzzProofVerifyCommand runs the command on arbitrary flag values: it never
// panics, exits 0, 1 or 2 with the matching output, and agrees with
// mergemine.Verify.
func FuzzProofVerifyCommand(f *testing.F) {
	r := rsk2392715
	f.Add(r.header, r.coinbase, r.merkle, r.hash, r.difficulty, r.tag)
	f.Add("0x"+r.header, r.coinbase, "", r.hash[2:], "0", "")
	f.Add("", "", "", "", "", "")
	f.Add("zz", "0", "-", "--", "-1", "RSKBLOCK:")
	f.Fuzz(func(t *testing.T, header, coinbase, merkle, hash, difficulty, tag string) {
		flags := verifyFlags{header, coinbase, merkle, hash, difficulty, tag}
		code, stdout, message := runApp(flags.args()...)
		if tag == "" {
			tag = defaultProofTag
		}
		in, parseErr := parseVerifyInput(header, coinbase, merkle, hash, difficulty, tag)
		switch code {
		case 0:
			if stdout != "valid\n" || parseErr != nil || mergemine.Verify(&in.proof, in.hash, in.difficulty, in.tag) != nil {
				t.Fatalf("exit 0 with stdout %q, parse error %v", stdout, parseErr)
			}
		case 1:
			if !strings.HasPrefix(message, "invalid: ") || parseErr != nil {
				t.Fatalf("exit 1 with message %q, parse error %v", message, parseErr)
			}
		case 2:
			if !strings.HasPrefix(message, "mmgeth proof verify: ") || parseErr == nil {
				t.Fatalf("exit 2 with message %q and no parse error", message)
			}
		default:
			t.Fatalf("exit %d: %q", code, message)
		}
	})
}
