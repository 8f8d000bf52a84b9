package tests

import (
	"context"
	"errors"
	"math/big"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestDevBlockProofsVerify checks that the merged-mining fields served in
// eth_getBlockByNumber are exactly what `mmgeth proof verify` takes: each
// block's proof verifies with its hashForMergedMining and difficulty, and a
// proof with one flipped byte does not.
func TestDevBlockProofsVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	node := startDevNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var accounts []string
	if err := rpcCall(ctx, node.HTTPURL, &accounts, "eth_accounts"); err != nil || len(accounts) < 2 {
		t.Fatalf("eth_accounts: %v %v", accounts, err)
	}
	for i := 0; i < 3; i++ {
		var hash string
		if err := rpcCall(ctx, node.HTTPURL, &hash, "eth_sendTransaction", map[string]any{
			"from": accounts[0], "to": accounts[1], "value": "0x1",
		}); err != nil {
			t.Fatal(err)
		}
		waitReceipt(t, ctx, node.HTTPURL, hash)
	}
	var head hexutil.Uint64
	if err := rpcCall(ctx, node.HTTPURL, &head, "eth_blockNumber"); err != nil || head < 3 {
		t.Fatalf("head %d, %v", head, err)
	}
	checkBlockProofs(t, node.HTTPURL, 1, uint64(head))
}

// checkBlockProofs runs `mmgeth proof verify` on the merged-mining fields
// that eth_getBlockByNumber serves for blocks from..to of the node at url:
// each must verify, and fail with a byte of its header, coinbase or hash
// flipped.
func checkBlockProofs(t *testing.T, url string, from, to uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := binary(t, "./cmd/mmgeth")
	for n := from; n <= to; n++ {
		var block map[string]any
		if err := rpcCall(ctx, url, &block, "eth_getBlockByNumber", hexutil.Uint64(n), false); err != nil {
			t.Fatal(err)
		}
		difficulty, ok := new(big.Int).SetString(strings.TrimPrefix(block["mergedMiningDifficulty"].(string), "0x"), 16)
		if !ok {
			t.Fatalf("block %d: mergedMiningDifficulty %v", n, block["mergedMiningDifficulty"])
		}
		args := map[string]string{
			"--header":       block["bitcoinMergedMiningHeader"].(string),
			"--coinbase":     block["bitcoinMergedMiningCoinbaseTransaction"].(string),
			"--merkle-proof": block["bitcoinMergedMiningMerkleProof"].(string),
			"--hash":         block["hashForMergedMining"].(string),
			"--difficulty":   difficulty.String(),
		}
		if out, code := proofVerify(t, bin, "verify", args); code != 0 || strings.TrimSpace(out) != "valid" {
			t.Fatalf("block %d: proof verify exit %d: %s", n, code, out)
		}
		for _, field := range []string{"--header", "--coinbase", "--hash"} {
			flipped := map[string]string{}
			for k, v := range args {
				flipped[k] = v
			}
			raw := hexutil.MustDecode(args[field])
			raw[len(raw)/2] ^= 0x01
			flipped[field] = hexutil.Encode(raw)
			if out, code := proofVerify(t, bin, "verify", flipped); code != 1 || !strings.Contains(out, "invalid:") {
				t.Errorf("block %d with a byte of %s flipped: exit %d: %s", n, field, code, out)
			}
		}
	}
}

// proofVerify runs `mmgeth proof <sub>` (verify, verify-anchor) and
// returns its output and exit status.
func proofVerify(t *testing.T, bin, sub string, args map[string]string) (string, int) {
	argv := []string{"proof", sub}
	for k, v := range args {
		argv = append(argv, k, v)
	}
	out, err := exec.Command(bin, argv...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("run %s: %v", bin, err)
	return "", -1
}

// waitReceipt polls for a receipt and fails the test if it is not status 1.
func waitReceipt(t *testing.T, ctx context.Context, url, hash string) map[string]any {
	t.Helper()
	for {
		var receipt map[string]any
		if err := rpcCall(ctx, url, &receipt, "eth_getTransactionReceipt", hash); err == nil && receipt != nil {
			if receipt["status"] != "0x1" {
				t.Fatalf("tx %s failed: %v", hash, receipt)
			}
			return receipt
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s", hash)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
