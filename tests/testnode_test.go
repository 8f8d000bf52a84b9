package tests

// The test-node methods as JavaScript tests use them: viem's testClient
// (mode "anvil") and Hardhat's network helpers run by
// tests/tooling/hardhat/scripts/testnode.js, which asserts each call's
// observable result (balances, code, storage, nonces, block numbers and
// timestamps, snapshot restore, a dropped transaction gone). On mmgeth a
// second node, initialised on the dev network and following it over devp2p,
// must end on the same head and state root, and every block's merged-mining
// proof must pass `mmgeth proof verify`.
//
//	go test ./tests/ -run TestTestNodeHelpers -timeout 30m
//	MMGETH_E2E_NODE=anvil go test ./tests/ -run TestTestNodeHelpers -timeout 30m # the script against anvil
//
// Where mmgeth and anvil differ (the script asserts both):
//   - each state cheat (set balance, code, storage, nonce) mines a block on
//     mmgeth, so that it reaches peers in a real merged-mined block: the block
//     number moves by one where anvil's stays;
//   - evm_revert rewinds mmgeth's chain; a follower drops the abandoned blocks
//     once the dev chain is heavier again (the test mines past them);
//   - anvil answers hardhat_dropTransaction with the hash, not Hardhat's
//     boolean, so the helper's dropTransaction throws on anvil (it still
//     drops); mmgeth answers true/false as Hardhat does.

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

func TestTestNodeHelpers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tooling test: skipped with -short")
	}
	tools := installTooling(t)
	var url string
	var leader, follower *netNode
	kind := e2eNodeKind()
	switch kind {
	case "mmgeth":
		leader = startNetNode(t, "dev", true)
		follower = startNetNode(t, "follower", false, "--bootnodes", leader.enode(t))
		url = leader.http
	default:
		url = startDevNode(t).HTTPURL
	}

	dir := tools.hardhatProject(t)
	out := tools.run(t, dir, []string{"RPC_URL=" + url, "NODE_KIND=" + kind}, "hardhat", "run", "scripts/testnode.js", "--network", "mmgeth")
	t.Logf("scripts/testnode.js progress:\n%s", out)
	line, ok := lastLineWithPrefix(out, "RESULT ")
	if !ok {
		t.Fatalf("scripts/testnode.js printed no RESULT line:\n%s", out)
	}
	var res struct {
		Checks         int            `json:"checks"`
		Head           uint64         `json:"head"`
		MaxHead        uint64         `json:"maxHead"`
		Hash           common.Hash    `json:"hash"`
		StateRoot      common.Hash    `json:"stateRoot"`
		ImpersonatedTx common.Hash    `json:"impersonatedTx"`
		Whale          common.Address `json:"whale"`
		WhaleBalance   string         `json:"whaleBalance"`
	}
	decodeJSON(t, line, &res)
	// The script's assertions ran (it counts them); a run that skipped them
	// must not pass.
	if res.Checks < 60 {
		t.Fatalf("scripts/testnode.js made %d checks, want at least 60", res.Checks)
	}

	// The script's claims, read from outside with plain JSON-RPC.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	call := func(result any, method string, params ...any) {
		t.Helper()
		if err := rpcCall(ctx, url, result, method, params...); err != nil {
			t.Fatal(err)
		}
	}
	var head struct {
		Number    hexutil.Uint64 `json:"number"`
		Hash      common.Hash    `json:"hash"`
		StateRoot common.Hash    `json:"stateRoot"`
	}
	call(&head, "eth_getBlockByNumber", "latest", false)
	if uint64(head.Number) != res.Head || head.Hash != res.Hash || head.StateRoot != res.StateRoot {
		t.Fatalf("node head %d %s root %s; the script ended on %d %s root %s",
			head.Number, head.Hash, head.StateRoot, res.Head, res.Hash, res.StateRoot)
	}
	var tx struct {
		From common.Address `json:"from"`
	}
	call(&tx, "eth_getTransactionByHash", res.ImpersonatedTx)
	if tx.From != res.Whale {
		t.Fatalf("impersonated transaction %s is from %s, want %s", res.ImpersonatedTx, tx.From, res.Whale)
	}
	var balance hexutil.Big
	call(&balance, "eth_getBalance", res.Whale, "latest")
	if balance.ToInt().String() != res.WhaleBalance {
		t.Fatalf("balance of %s: %s, the script saw %s", res.Whale, balance.ToInt(), res.WhaleBalance)
	}
	if leader == nil {
		t.Logf("%s: %d checks passed; the follower and proofs are checked on mmgeth only", kind, res.Checks)
		return
	}

	// evm_revert rewound the dev chain; the follower keeps the abandoned
	// blocks until the dev chain is heavier. The script ends above them
	// (MaxHead: the highest block before its last transactions), and if it
	// did not, mining past them settles it.
	if res.MaxHead >= res.Head {
		var mined json.RawMessage
		call(&mined, "anvil_mine", hexutil.Uint64(res.MaxHead-res.Head+1))
		call(&head, "eth_getBlockByNumber", "latest", false)
	}
	waitFor(t, time.Minute, "the follower to hold the dev head "+head.Hash.Hex(), func() bool {
		return follower.head(t).Hash == head.Hash
	})
	var fhead struct {
		Hash      common.Hash `json:"hash"`
		StateRoot common.Hash `json:"stateRoot"`
	}
	follower.call(t, &fhead, "eth_getBlockByNumber", "latest", false)
	if fhead.Hash != head.Hash || fhead.StateRoot != head.StateRoot {
		t.Fatalf("follower head %s root %s, dev %s root %s", fhead.Hash, fhead.StateRoot, head.Hash, head.StateRoot)
	}
	var ftx struct {
		From common.Address `json:"from"`
	}
	follower.call(t, &ftx, "eth_getTransactionByHash", res.ImpersonatedTx)
	if ftx.From != res.Whale {
		t.Fatalf("the follower has impersonated transaction %s from %s, want %s", res.ImpersonatedTx, ftx.From, res.Whale)
	}
	checkBlockProofs(t, url, 1, uint64(head.Number))
	t.Logf("mmgeth: %d checks passed; follower on head %d %s root %s; %d proofs verified",
		res.Checks, head.Number, head.Hash, head.StateRoot, head.Number)
}
