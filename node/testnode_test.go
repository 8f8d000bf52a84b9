package node

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/mmgeth/mmgeth/consensus"
)

// TestTestNodeMethodsFollowed runs a script of test-node methods and
// impersonated sends on a dev node, with a second node of the dev network
// (not --dev) following it over devp2p, and checks each method's effect as
// anvil has it, then that the follower verified every block (each carries
// a proof its engine checked) and ends on the same head and state root.
func TestTestNodeMethodsFollowed(t *testing.T) {
	leader := startPeerNode(t, true)
	follower := startPeerNode(t, false)
	follower.stack.Server().AddPeer(leader.stack.Server().Self())
	rc := leader.stack.Attach()
	t.Cleanup(rc.Close)
	call := func(result any, method string, params ...any) {
		t.Helper()
		if err := rc.Call(result, method, params...); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	var (
		whale  = common.HexToAddress("0x00000000000000000000000000000000000a11ce")
		target = common.HexToAddress("0x000000000000000000000000000000000000b0b0")
		// PUSH1 42 PUSH1 0 SSTORE STOP: an impersonated call stores 42.
		code = hexutil.Bytes{0x60, 0x2a, 0x60, 0x00, 0x55, 0x00}
	)
	// startPeerNode mines every hour: automine from now on.
	call(nil, "evm_setAutomine", true)
	call(nil, "anvil_setBalance", whale, "0x3635c9adc5dea00000") // 1000 BTC
	call(nil, "hardhat_setNonce", whale, "0x7")
	call(nil, "anvil_setCode", target, code)
	var ok bool
	call(&ok, "anvil_setStorageAt", target, "0x1", common.Hash{31: 9})
	call(nil, "anvil_setNextBlockBaseFeePerGas", "0x4c4b40") // 5M wei, below the default fee cap
	call(nil, "evm_setBlockGasLimit", "0x3938700")           // 60M

	// Not impersonated yet: no key, refused.
	var hash common.Hash
	send := map[string]any{"from": whale, "to": target, "gas": "0x186a0"}
	if err := rc.Call(&hash, "eth_sendTransaction", send); err == nil {
		t.Fatal("eth_sendTransaction from an account neither held nor impersonated succeeded")
	}
	call(nil, "anvil_impersonateAccount", whale)
	call(&hash, "eth_sendTransaction", send)
	var receipt map[string]any
	waitFor(t, "the impersonated transaction's receipt", func() bool {
		call(&receipt, "eth_getTransactionReceipt", hash)
		return receipt != nil
	})
	if receipt == nil || receipt["status"] != "0x1" || common.HexToAddress(receipt["from"].(string)) != whale {
		t.Fatalf("impersonated transaction receipt %v", receipt)
	}
	block := leader.chain.GetBlockByHash(common.HexToHash(receipt["blockHash"].(string)))
	if block.BaseFee().Uint64() != 5_000_000 || block.GasLimit() != 60_000_000 {
		t.Errorf("block after the settings: base fee %v, gas limit %d; want 5M wei, 60M", block.BaseFee(), block.GasLimit())
	}
	call(nil, "anvil_stopImpersonatingAccount", whale)
	if err := rc.Call(&hash, "eth_sendTransaction", send); err == nil {
		t.Fatal("eth_sendTransaction after stopImpersonatingAccount succeeded")
	}

	// Automine off: a pending transaction is dropped, the next is mined by
	// anvil_mine with an interval.
	call(nil, "evm_setAutomine", false)
	keys := leader.DevKeys()
	from := crypto.PubkeyToAddress(keys[1].PublicKey)
	var dropped, kept common.Hash
	call(&dropped, "eth_sendTransaction", map[string]any{"from": from, "to": target, "value": "0x1"})
	call(&hash, "anvil_dropTransaction", dropped)
	if hash != dropped {
		t.Errorf("anvil_dropTransaction answered %x, want %x", hash, dropped)
	}
	call(&kept, "eth_sendTransaction", map[string]any{"from": from, "to": target, "value": "0x2"})
	before := leader.chain.CurrentBlock()
	call(nil, "anvil_mine", "0x3", "0x64")
	head := leader.chain.CurrentBlock()
	if head.Number.Uint64() != before.Number.Uint64()+3 || head.Time != leader.chain.GetHeaderByNumber(head.Number.Uint64()-1).Time+100 {
		t.Errorf("anvil_mine 3 blocks 100 s apart: head %d (was %d), time %d", head.Number, before.Number, head.Time)
	}
	var tx map[string]any
	call(&tx, "eth_getTransactionByHash", dropped)
	if tx != nil {
		t.Errorf("dropped transaction was mined: %v", tx)
	}
	call(&tx, "eth_getTransactionByHash", kept)
	if tx == nil || tx["blockNumber"] == nil {
		t.Errorf("kept transaction not mined: %v", tx)
	}
	call(nil, "evm_setAutomine", true)

	// dumpState, change, loadState: the dump's values come back.
	var dump hexutil.Bytes
	call(&dump, "anvil_dumpState")
	call(nil, "anvil_setBalance", whale, "0x1")
	call(&ok, "anvil_loadState", dump)
	var balance hexutil.Big
	call(&balance, "eth_getBalance", whale, "latest")
	if balance.ToInt().Cmp(big.NewInt(1)) <= 0 {
		t.Errorf("balance after loadState %v, want the dumped one", balance.ToInt())
	}

	st, err := leader.chain.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNonce(whale) != 8 || st.GetState(target, common.Hash{}) != (common.Hash{31: 42}) || st.GetState(target, common.Hash{31: 1}) != (common.Hash{31: 9}) {
		t.Errorf("leader state: nonce %d, slot 0 %x, slot 1 %x", st.GetNonce(whale), st.GetState(target, common.Hash{}), st.GetState(target, common.Hash{31: 1}))
	}

	head = leader.chain.CurrentBlock()
	waitHead(t, follower, head.Hash())
	if got := follower.chain.CurrentBlock(); got.Root != head.Root {
		t.Fatalf("follower root %x, leader %x", got.Root, head.Root)
	}
	for n := uint64(1); n <= head.Number.Uint64(); n++ {
		h := follower.chain.GetHeaderByNumber(n)
		seal, err := consensus.DecodeSeal(h.Extra)
		if err != nil || seal.Proof == nil {
			t.Fatalf("block %d has no proof: %v", n, err)
		}
	}
	// The follower serves the impersonated sender too.
	frc := follower.stack.Attach()
	defer frc.Close()
	var ftx map[string]any
	if err := frc.Call(&ftx, "eth_getTransactionByHash", common.HexToHash(receipt["transactionHash"].(string))); err != nil || ftx == nil || common.HexToAddress(ftx["from"].(string)) != whale {
		t.Errorf("follower's view of the impersonated transaction: %v, %v", ftx, err)
	}

	// anvil_reset: back to genesis with an empty pool.
	call(nil, "anvil_reset")
	if n := leader.chain.CurrentBlock().Number.Uint64(); n != 0 {
		t.Errorf("head %d after anvil_reset", n)
	}
}
