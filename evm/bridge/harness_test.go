package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/mmgeth/mmgeth/evm"
)

// txGasCap is EIP-7825's per-transaction gas cap (Osaka): a batch of 200
// headers must fit in one transaction under it.
const txGasCap = 1 << 24

// harness runs the real bridge bytecode, deployed as genesis deploys it, on
// an in-memory state, with transactions applied as a block would apply them
// (gas price 0, so that balances move only by value).
type harness struct {
	t    testing.TB
	st   *state.StateDB
	cfg  *params.ChainConfig
	now  uint64 // block.timestamp of the next transaction
	txs  int
	view *View
	// tracer, when set, sees every transaction's execution (gas profiles).
	tracer *tracing.Hooks
}

// harnessChainID is the regtest chain id, which pegHarness's Bridge commits
// to in its deposit scripts.
const harnessChainID = 7772

func newHarness(t testing.TB, p RelayParams, cp Checkpoint) *harness {
	t.Helper()
	acct, err := DeployBtcRelay(p, cp)
	if err != nil {
		t.Fatalf("DeployBtcRelay: %v", err)
	}
	h := newHarnessAlloc(t, types.GenesisAlloc{BtcRelayAddress: acct})
	if len(cp.Header) == 80 {
		h.now = uint64(binary.LittleEndian.Uint32(cp.Header[68:72])) + 7200
	}
	return h
}

// newHarnessAlloc commits alloc as genesis would: code, storage and
// balances, so that the first transaction pays the SSTORE prices of a
// chain, not of a fresh account.
func newHarnessAlloc(t testing.TB, alloc types.GenesisAlloc) *harness {
	t.Helper()
	db := state.NewDatabaseForTesting()
	st, err := state.New(types.EmptyRootHash, db)
	if err != nil {
		t.Fatal(err)
	}
	for addr, acct := range alloc {
		if len(acct.Code) > 0 {
			st.SetNonce(addr, 1, tracing.NonceChangeGenesis)
			st.SetCode(addr, acct.Code, tracing.CodeChangeGenesis)
		}
		for k, v := range acct.Storage {
			st.SetState(addr, k, v)
		}
		if acct.Balance != nil {
			st.SetBalance(addr, uint256.MustFromBig(acct.Balance), tracing.BalanceIncreaseGenesisBalance)
		}
	}
	cfg := evm.ChainConfig(big.NewInt(harnessChainID))
	rules := cfg.Rules(big.NewInt(0), true, 0)
	root, err := st.Commit(rules, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = state.New(root, db); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, st: st, cfg: cfg, view: NewView(st, cfg)}
}

// result of one transaction.
type result struct {
	gas  uint64 // total gas charged, intrinsic gas included
	ret  []byte
	err  error // *RevertError for a revert
	logs []*types.Log
}

// relayCaller sends the harness's BtcRelay transactions.
var relayCaller = common.HexToAddress("0xfeed")

func (h *harness) tx(data []byte) result {
	h.t.Helper()
	return h.send(relayCaller, BtcRelayAddress, nil, data)
}

// send applies one transaction from an externally owned account; value may
// be nil.
func (h *harness) send(from, to common.Address, value *uint256.Int, data []byte) result {
	h.t.Helper()
	h.txs++
	blockCtx := vm.BlockContext{
		CanTransfer: core.CanTransfer,
		Transfer:    core.Transfer,
		GetHash:     func(uint64) common.Hash { return common.Hash{} },
		GasLimit:    60_000_000,
		BlockNumber: big.NewInt(int64(h.txs)),
		Time:        h.now,
		Difficulty:  new(big.Int),
		BaseFee:     new(big.Int),
		BlobBaseFee: new(big.Int),
		Random:      &common.Hash{},
	}
	e := vm.NewEVM(blockCtx, h.st, h.cfg, vm.Config{Tracer: h.tracer})
	if value == nil {
		value = new(uint256.Int)
	}
	msg := &core.Message{
		From: from, To: &to, Value: value, GasLimit: txGasCap,
		GasPrice: new(uint256.Int), GasFeeCap: new(uint256.Int), GasTipCap: new(uint256.Int), Data: data,
	}
	msg.SkipNonceCheck()
	txHash := common.BigToHash(big.NewInt(int64(h.txs)))
	h.st.SetTxContext(txHash, 0, 1)
	res, err := core.ApplyMessage(e, msg, core.NewGasPool(txGasCap))
	if err != nil {
		h.t.Fatalf("ApplyMessage: %v", err)
	}
	h.st.Finalise(e.ChainConfig().Rules(blockCtx.BlockNumber, true, h.now))
	r := result{gas: res.UsedGas, ret: res.ReturnData}
	switch {
	case errors.Is(res.Err, vm.ErrExecutionReverted):
		r.err = DecodeRevert(res.Revert())
	case res.Err != nil:
		r.err = res.Err
	default:
		r.logs = h.st.GetLogs(txHash, blockCtx.BlockNumber.Uint64(), common.Hash{}, h.now)
	}
	return r
}

// submit sends receiveHeaders and fails the test on any error.
func (h *harness) submit(headers ...[]byte) result {
	h.t.Helper()
	r := h.tx(ReceiveHeadersInput(bytes.Join(headers, nil)))
	if r.err != nil {
		h.t.Fatalf("receiveHeaders(%d headers): %v", len(headers), r.err)
	}
	return r
}

// reject sends receiveHeaders and requires the named custom error.
func (h *harness) reject(want string, headers ...[]byte) *RevertError {
	h.t.Helper()
	r := h.tx(ReceiveHeadersInput(bytes.Join(headers, nil)))
	var re *RevertError
	if !errors.As(r.err, &re) || re.Name != want {
		h.t.Fatalf("receiveHeaders: got %v, want %s", r.err, want)
	}
	return re
}

func (h *harness) best() BestChain {
	h.t.Helper()
	b, err := h.view.BestChain()
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) hashAt(height uint32) common.Hash {
	h.t.Helper()
	hash, err := h.view.BlockHashAt(height)
	if err != nil {
		h.t.Fatal(err)
	}
	return hash
}

// arg returns a decoded error argument by name.
func arg(t *testing.T, e *RevertError, name string) any {
	t.Helper()
	for _, a := range e.Args {
		if a.Name == name {
			return a.Value
		}
	}
	t.Fatalf("%s has no argument %q", e.Name, name)
	return nil
}

// ---------------------------------------------------------------- headers

func headerBytes(h *wire.BlockHeader) []byte {
	var buf bytes.Buffer
	if err := h.Serialize(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func hashOf(h *wire.BlockHeader) common.Hash {
	return common.Hash(h.BlockHash())
}

// regtestChain builds regtest headers: bits 0x207fffff, so the nonce
// grinding needs about two tries.
type regtestChain struct{ seq uint32 }

// next mines a valid child of parent, spaced 600 s after it; mutate runs
// before grinding, so a mutated header still has valid PoW.
func (c *regtestChain) next(parent *wire.BlockHeader, mutate func(*wire.BlockHeader)) *wire.BlockHeader {
	c.seq++
	h := &wire.BlockHeader{
		Version:   4,
		PrevBlock: parent.BlockHash(),
		Timestamp: parent.Timestamp.Add(600e9),
		Bits:      chaincfg.RegressionNetParams.PowLimitBits,
	}
	// Distinct roots keep sibling branches distinct.
	binary.LittleEndian.PutUint32(h.MerkleRoot[:], c.seq)
	if mutate != nil {
		mutate(h)
	}
	grind(h)
	return h
}

// grind finds a nonce meeting the header's own bits; bits that encode no
// positive target are left for the relay to refuse as BadBits.
func grind(h *wire.BlockHeader) {
	target := blockchain.CompactToBig(h.Bits)
	if target.Sign() <= 0 {
		return
	}
	for h.Nonce = 0; ; h.Nonce++ {
		hash := h.BlockHash()
		if blockchain.HashToBig(&hash).Cmp(target) <= 0 {
			return
		}
	}
}

// failPoW changes the nonce until the hash misses the target.
func failPoW(h *wire.BlockHeader) {
	target := blockchain.CompactToBig(h.Bits)
	for {
		h.Nonce++
		hash := h.BlockHash()
		if blockchain.HashToBig(&hash).Cmp(target) > 0 {
			return
		}
	}
}

func sha256d(b []byte) [32]byte {
	return chainhash.DoubleHashH(b)
}

func readSource(t *testing.T, name string) []byte {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// ---------------------------------------------------------------- mainnet

// mainnetBlocks reads btcd's blockchain/testdata/blk_0_to_14131.dat from
// the module cache: mainnet blocks 0..14131 as (magic u32, length u32,
// block) records. go.mod requires the module, so it is always there.
func mainnetBlocks(t testing.TB) []*wire.MsgBlock {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locating the btcd module: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "blockchain", "testdata", "blk_0_to_14131.dat"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*wire.MsgBlock
	for len(data) >= 8 {
		if binary.LittleEndian.Uint32(data) != uint32(wire.MainNet) {
			break
		}
		n := binary.LittleEndian.Uint32(data[4:])
		var b wire.MsgBlock
		if err := b.Deserialize(bytes.NewReader(data[8 : 8+n])); err != nil {
			t.Fatalf("block %d: %v", len(blocks), err)
		}
		blocks = append(blocks, &b)
		data = data[8+n:]
	}
	if len(blocks) != 14132 {
		t.Fatalf("read %d blocks, want 14132", len(blocks))
	}
	return blocks
}

// inclusion builds the PEG.md §3 proof of block.Transactions[idx] with
// btcd's merkle tree.
func inclusion(block *wire.MsgBlock, height uint32, idx int) (common.Hash, BtcInclusion) {
	txs := make([]*btcutil.Tx, len(block.Transactions))
	for i, tx := range block.Transactions {
		txs[i] = btcutil.NewTx(tx)
	}
	store := blockchain.BuildMerkleTreeStore(txs, false)
	var cbRaw bytes.Buffer
	if err := block.Transactions[0].SerializeNoWitness(&cbRaw); err != nil {
		panic(err)
	}
	p := BtcInclusion{
		Header:           headerBytes(&block.Header),
		Height:           height,
		TxIndex:          uint32(idx),
		TxBranch:         branch(store, len(txs), idx),
		CoinbasePreimage: chainhash.HashH(cbRaw.Bytes()),
		CoinbaseBranch:   branch(store, len(txs), 0),
	}
	return common.Hash(*store[idx]), p
}

// branch reads the siblings of leaf idx out of a BuildMerkleTreeStore
// array: each level holds half the nodes of the one below (rounded up to a
// power of two at the leaves); a missing right sibling is the node itself.
func branch(store []*chainhash.Hash, n, idx int) []byte {
	width := 1
	for width < n {
		width <<= 1
	}
	var out []byte
	for base := 0; width > 1; width >>= 1 {
		sib := store[base+(idx^1)]
		if sib == nil {
			sib = store[base+idx]
		}
		out = append(out, sib[:]...)
		base += width
		idx >>= 1
	}
	return out
}
