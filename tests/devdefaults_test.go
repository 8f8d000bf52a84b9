package tests

// What a developer used to anvil expects of a dev node's defaults: old
// state is kept (forks and reads at old blocks, tracing old transactions),
// and the sender pays for gas. Both run against anvil too
// (MMGETH_E2E_NODE=anvil), which checks the tests themselves.

import (
	"context"
	"encoding/json"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// forkAccount receives one transfer in each of blocks 1-3 and one after the
// 500 blocks, so that its balance tells which block's state a reader saw.
const forkAccount = "0x00000000000000000000000000000000000f04c1"

// TestForkAtOldBlock: after 500 blocks, `cast balance --block 3`,
// `forge test --fork-url … --fork-block-number 3`, `cast run` of the
// transaction of block 1 and debug_traceTransaction all see the old state.
func TestForkAtOldBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	node := startDevNode(t)
	dir := filepath.Join(tools.project(t), "foundry")
	key := []string{"--rpc-url", node.HTTPURL, "--private-key", devKey}

	var first string
	for i, value := range []string{"1wei", "2wei", "4wei"} {
		var sent txReceipt
		decodeJSON(t, tools.run(t, dir, nil, "cast", append([]string{"send", forkAccount, "--value", value, "--json"}, key...)...), &sent)
		checkReceipt(t, "cast send "+value, sent)
		if i == 0 {
			first = sent.TransactionHash
		}
	}
	var head string
	if err := rpcCall(context.Background(), node.HTTPURL, &head, "eth_blockNumber"); err != nil || head != "0x3" {
		t.Fatalf("head after three transfers: %s, %v; want 0x3 (one block per transaction)", head, err)
	}
	start := time.Now()
	for range 500 {
		var mined json.RawMessage
		if err := rpcCall(context.Background(), node.HTTPURL, &mined, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("500 evm_mine calls took %s", time.Since(start).Round(time.Millisecond))
	tools.run(t, dir, nil, "cast", append([]string{"send", forkAccount, "--value", "8wei"}, key...)...)

	// geth indexes state histories in the background; on a node started on
	// a chain whose head was old (a fresh dev chain: the genesis is dated
	// 1970) it serves them once its indexer counts itself in sync, about a
	// minute after start-up, and says so until then. anvil has them at once.
	waitStart := time.Now()
	for {
		var balance string
		err := rpcCall(context.Background(), node.HTTPURL, &balance, "eth_getBalance", forkAccount, "0x3")
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "indexed") || time.Since(waitStart) > 2*time.Minute {
			t.Fatalf("eth_getBalance at block 3: %v", err)
		}
		time.Sleep(time.Second)
	}
	t.Logf("history readable %s after the 500 blocks", time.Since(waitStart).Round(time.Second))

	if got := tools.run(t, dir, nil, "cast", "balance", forkAccount, "--block", "3", "--rpc-url", node.HTTPURL); got != "7" {
		t.Fatalf("cast balance --block 3 = %s, want 7", got)
	}
	if got := tools.run(t, dir, nil, "cast", "balance", forkAccount, "--rpc-url", node.HTTPURL); got != "15" {
		t.Fatalf("cast balance at the head = %s, want 15", got)
	}
	env := []string{"FORK_BLOCK=3", "FORK_ACCOUNT=" + forkAccount, "FORK_BALANCE=7"}
	out := tools.run(t, dir, env, "forge", "test", "--fork-url", node.HTTPURL, "--fork-block-number", "3", "-vv")
	if !strings.Contains(out, "[PASS] testStateAtForkBlock()") {
		t.Fatalf("forge test --fork-block-number 3 did not pass testStateAtForkBlock:\n%s", out)
	}
	// The fork really is at block 3: at block 2 the same test fails.
	env[0], env[2] = "FORK_BLOCK=2", "FORK_BALANCE=3"
	out = tools.run(t, dir, env, "forge", "test", "--fork-url", node.HTTPURL, "--fork-block-number", "2")
	if !strings.Contains(out, "[PASS] testStateAtForkBlock()") {
		t.Fatalf("forge test --fork-block-number 2:\n%s", out)
	}

	// Tracing the transaction of block 1: by the node, and by cast, which
	// re-executes it locally from the state before it, read over RPC.
	var trace struct {
		From  common.Address `json:"from"`
		To    common.Address `json:"to"`
		Value string         `json:"value"`
	}
	if err := rpcCall(context.Background(), node.HTTPURL, &trace, "debug_traceTransaction", first, map[string]any{"tracer": "callTracer"}); err != nil {
		t.Fatalf("debug_traceTransaction of block 1: %v", err)
	}
	if trace.From != devAddress || trace.To != common.HexToAddress(forkAccount) || trace.Value != "0x1" {
		t.Fatalf("trace of block 1's transfer: %+v", trace)
	}
	if out := tools.run(t, dir, nil, "cast", "run", first, "--rpc-url", node.HTTPURL); !strings.Contains(out, "Transaction successfully executed") {
		t.Fatalf("cast run of block 1's transaction:\n%s", out)
	}
}

// TestSenderPaysGas: the default sender pays value plus gas used times the
// effective gas price, exactly, as on anvil; on mmgeth the whole fee (base
// fee included: nothing is burnt) goes to the block's coinbase, which is no
// dev account.
func TestSenderPaysGas(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	node := startDevNode(t)
	dir := filepath.Join(tools.project(t), "foundry")
	url := []string{"--rpc-url", node.HTTPURL}
	const to, value = "0x00000000000000000000000000000000000fee01", 1_000_000_007
	balance := func(addr, block string) *big.Int {
		return hexOrDec(t, tools.run(t, dir, nil, "cast", append([]string{"balance", addr, "--block", block}, url...)...))
	}

	var sent struct {
		txReceipt
		GasUsed           string `json:"gasUsed"`
		EffectiveGasPrice string `json:"effectiveGasPrice"`
		BlockNumber       string `json:"blockNumber"`
	}
	decodeJSON(t, tools.run(t, dir, nil, "cast", append([]string{"send", to, "--value", "1000000007wei", "--json", "--private-key", devKey}, url...)...), &sent)
	checkReceipt(t, "cast send", sent.txReceipt)
	block := hexToBig(t, sent.BlockNumber)
	parent := new(big.Int).Sub(block, big.NewInt(1)).String()
	fee := new(big.Int).Mul(hexToBig(t, sent.GasUsed), hexToBig(t, sent.EffectiveGasPrice))
	if fee.Sign() == 0 {
		t.Fatalf("receipt charges no gas: gasUsed %s, effectiveGasPrice %s", sent.GasUsed, sent.EffectiveGasPrice)
	}
	paid := new(big.Int).Sub(balance(devAddress.Hex(), parent), balance(devAddress.Hex(), block.String()))
	if want := new(big.Int).Add(fee, big.NewInt(value)); paid.Cmp(want) != 0 {
		t.Fatalf("the sender paid %v, want value + gasUsed*effectiveGasPrice = %v", paid, want)
	}

	var header struct {
		Miner common.Address `json:"miner"`
	}
	if err := rpcCall(context.Background(), node.HTTPURL, &header, "eth_getBlockByNumber", sent.BlockNumber, false); err != nil {
		t.Fatal(err)
	}
	if header.Miner == devAddress {
		t.Fatalf("the block's coinbase is the sender %s", devAddress)
	}
	if node.Kind == "mmgeth" {
		earned := new(big.Int).Sub(balance(header.Miner.Hex(), block.String()), balance(header.Miner.Hex(), parent))
		if earned.Cmp(fee) != 0 {
			t.Fatalf("coinbase %s earned %v, want the whole fee %v (supply is conserved)", header.Miner, earned, fee)
		}
	}
}
