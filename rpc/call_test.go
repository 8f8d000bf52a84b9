package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	mmchain "github.com/mmgeth/mmgeth/chain"
)

// Runtime code snippets for state overrides.
var (
	revertEmptyCode = common.FromHex("0x60006000fd")             // REVERT(0, 0)
	returnNumber    = common.FromHex("0x4360005260206000f3")     // return NUMBER
	returnTime      = common.FromHex("0x4260005260206000f3")     // return TIMESTAMP
	returnGas       = common.FromHex("0x5a60005260206000f3")     // return GAS
	returnSlot0     = common.FromHex("0x60005460005260206000f3") // return SLOAD(0)
	invalidOpcode   = common.FromHex("0xfe")
	infiniteLoop    = common.FromHex("0x5b600056") // JUMPDEST; JUMP(0)
)

// returnBalanceOf is code returning BALANCE(addr).
func returnBalanceOf(addr common.Address) []byte {
	return append(append([]byte{0x73}, addr[:]...), common.FromHex("0x3160005260206000f3")...)
}

func decodeUint(t *testing.T, raw json.RawMessage) *big.Int {
	t.Helper()
	var b hexutil.Bytes
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return new(big.Int).SetBytes(b)
}

func TestCallRevert(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	call := map[string]any{"from": addr1, "to": reverterAddr}
	for _, method := range []string{"eth_call", "eth_estimateGas"} {
		rerr := tc.wantError(codeReverted, "execution reverted: nope", method, call)
		var data string
		if err := json.Unmarshal(rerr.Data, &data); err != nil || data != hexutil.Encode(errorNope) {
			t.Errorf("%s: revert data %s, want %x", method, rerr.Data, errorNope)
		}
	}
	// A revert without a reason: bare message, empty data.
	other := common.HexToAddress("0x000000000000000000000000000000000000bad0")
	override := map[string]any{other.Hex(): map[string]any{"code": hexutil.Bytes(revertEmptyCode)}}
	for _, method := range []string{"eth_call", "eth_estimateGas"} {
		rerr := tc.wantError(codeReverted, "execution reverted", method, map[string]any{"to": other}, "latest", override)
		if rerr.Message != "execution reverted" || string(rerr.Data) != `"0x"` {
			t.Errorf("%s: got %q data %s, want bare revert", method, rerr.Message, rerr.Data)
		}
	}
	// Other EVM failures are not reverts.
	override = map[string]any{other.Hex(): map[string]any{"code": hexutil.Bytes(invalidOpcode)}}
	tc.wantError(codeServerError, "invalid opcode", "eth_call", map[string]any{"to": other}, "latest", override)
	tc.wantError(codeServerError, "invalid opcode", "eth_estimateGas", map[string]any{"to": other}, "latest", override)
}

func TestCall(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	x := common.HexToAddress("0x000000000000000000000000000000000000c0de")
	withCode := func(code []byte) map[string]any {
		return map[string]any{x.Hex(): map[string]any{"code": hexutil.Bytes(code)}}
	}
	at := func(block any, code []byte, blockOverride any) *big.Int {
		t.Helper()
		params := []any{map[string]any{"to": x}, block, withCode(code)}
		if blockOverride != nil {
			params = append(params, blockOverride)
		}
		return decodeUint(t, tc.mustCall("eth_call", params...))
	}
	tests := []struct {
		name string
		got  *big.Int
		want int64
	}{
		{"NUMBER at latest", at("latest", returnNumber, nil), 5},
		{"NUMBER at pending", at("pending", returnNumber, nil), 5},
		{"NUMBER at safe", at("safe", returnNumber, nil), 3},
		{"NUMBER at block 2 by hash", at(map[string]any{"blockHash": tc.blocks[1].Hash()}, returnNumber, nil), 2},
		{"NUMBER at block 1 by number object", at(map[string]any{"blockNumber": "0x1"}, returnNumber, nil), 1},
		{"number override", at("latest", returnNumber, map[string]any{"number": "0x99"}), 0x99},
		{"time override", at("latest", returnTime, map[string]any{"time": "0x1234"}), 0x1234},
	}
	for _, tt := range tests {
		if tt.got.Int64() != tt.want {
			t.Errorf("%s: %v, want %d", tt.name, tt.got, tt.want)
		}
	}
	// The gas cap bounds an explicit gas.
	gas := decodeUint(t, tc.mustCall("eth_call", map[string]any{"to": x, "gas": "0x5f5e100"}, "latest", withCode(returnGas)))
	if gas.Uint64() >= DefaultGasCap || gas.Uint64() < DefaultGasCap-100_000 {
		t.Errorf("GAS with 100M asked: %v, want just under the %d cap", gas, DefaultGasCap)
	}
	// Balance, storage and precompile overrides.
	bal := decodeUint(t, tc.mustCall("eth_call", map[string]any{"to": x}, "latest", map[string]any{
		x.Hex():     map[string]any{"code": hexutil.Bytes(returnBalanceOf(addr4))},
		addr4.Hex(): map[string]any{"balance": "0x1234"},
	}))
	if bal.Int64() != 0x1234 {
		t.Errorf("overridden balance: %v", bal)
	}
	slot := decodeUint(t, tc.mustCall("eth_call", map[string]any{"to": x}, "latest", map[string]any{
		x.Hex(): map[string]any{"code": hexutil.Bytes(returnSlot0), "stateDiff": map[string]any{"0x" + strings.Repeat("00", 32): "0x" + strings.Repeat("00", 31) + "42"}},
	}))
	if slot.Int64() != 0x42 {
		t.Errorf("overridden slot: %v", slot)
	}
	moved := common.HexToAddress("0x0000000000000000000000000000000000001234")
	var digest hexutil.Bytes
	tc.mustDecode(&digest, "eth_call", map[string]any{"to": moved, "input": "0x616263"}, "latest",
		map[string]any{"0x0000000000000000000000000000000000000002": map[string]any{"movePrecompileToAddress": moved}})
	if want := common.FromHex("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); string(digest) != string(want) {
		t.Errorf("sha256 precompile moved: got %x", digest)
	}
	tc.wantError(codeInvalidParams, "both 'state' and 'stateDiff'", "eth_call", map[string]any{"to": x}, "latest",
		map[string]any{x.Hex(): map[string]any{"state": map[string]any{}, "stateDiff": map[string]any{}}})
	tc.wantError(codeMovePrecompileTwice, "two precompiles moved", "eth_call", map[string]any{"to": x}, "latest", map[string]any{
		"0x0000000000000000000000000000000000000002": map[string]any{"movePrecompileToAddress": moved},
		"0x0000000000000000000000000000000000000003": map[string]any{"movePrecompileToAddress": moved},
	})
	tc.wantError(codeMovePrecompileSelf, "moved to itself", "eth_call", map[string]any{"to": x}, "latest",
		map[string]any{"0x0000000000000000000000000000000000000002": map[string]any{"movePrecompileToAddress": "0x0000000000000000000000000000000000000002"}})
	tc.wantError(codeInvalidParams, "not a precompile", "eth_call", map[string]any{"to": x}, "latest",
		map[string]any{x.Hex(): map[string]any{"movePrecompileToAddress": moved}})
	tc.wantError(codeInvalidParams, "not supported for this RPC method", "eth_call", map[string]any{"to": x}, "latest", withCode(returnNumber),
		map[string]any{"beaconRoot": common.Hash{1}})
	// Paying for gas needs funds; a fee-less call does not.
	poor := common.HexToAddress("0x000000000000000000000000000000000000dead")
	tc.mustCall("eth_call", map[string]any{"from": poor, "to": loggerAddr})
	tc.wantError(codeServerError, "insufficient funds", "eth_call", map[string]any{"from": poor, "to": loggerAddr, "gasPrice": "0x3b9aca00"})
	tc.wantError(codeInvalidParams, "chainId does not match", "eth_call", map[string]any{"to": loggerAddr, "chainId": "0x1"})
}

func TestEstimateGas(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	call := map[string]any{"from": addr1, "to": loggerAddr, "input": hexutil.Bytes(word(42))}
	var est hexutil.Uint64
	tc.mustDecode(&est, "eth_estimateGas", call)
	// Enough: the call succeeds with exactly the estimate...
	withGas := map[string]any{"from": addr1, "to": loggerAddr, "input": hexutil.Bytes(word(42)), "gas": est}
	tc.mustCall("eth_call", withGas)
	// ...and not wasteful: 5% less runs out of gas.
	withGas["gas"] = hexutil.Uint64(uint64(est) * 95 / 100)
	tc.wantError(codeServerError, "out of gas", "eth_call", withGas)

	var transfer hexutil.Uint64
	tc.mustDecode(&transfer, "eth_estimateGas", map[string]any{"from": addr1, "to": common.Address{0xf2}, "value": "0x1"})
	if transfer != 21000 {
		t.Errorf("plain transfer estimate %d, want 21000", transfer)
	}
	loop := common.Address{0x10, 0x0b}
	tc.wantError(codeServerError, "gas required exceeds allowance", "eth_estimateGas", map[string]any{"to": loop}, "latest",
		map[string]any{loop.Hex(): map[string]any{"code": hexutil.Bytes(infiniteLoop)}})
	tc.wantError(codeServerError, "insufficient funds", "eth_estimateGas", map[string]any{"from": addr1, "to": common.Address{0xf2}, "value": hexutil.EncodeBig(new(big.Int).Mul(oneBTC, big.NewInt(1_000_000)))})
}

func TestCreateAccessList(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	var res struct {
		AccessList []struct {
			Address     common.Address `json:"address"`
			StorageKeys []common.Hash  `json:"storageKeys"`
		} `json:"accessList"`
		GasUsed hexutil.Uint64 `json:"gasUsed"`
		Error   string         `json:"error"`
	}
	tc.mustDecode(&res, "eth_createAccessList", map[string]any{"from": addr1, "to": loggerAddr, "input": hexutil.Bytes(word(1))})
	if len(res.AccessList) != 1 || res.AccessList[0].Address != loggerAddr || len(res.AccessList[0].StorageKeys) != 1 || res.AccessList[0].StorageKeys[0] != (common.Hash{}) || res.Error != "" || res.GasUsed == 0 {
		t.Errorf("access list of a logger call: %+v", res)
	}
	tc.mustDecode(&res, "eth_createAccessList", map[string]any{"from": addr1, "to": reverterAddr})
	if !strings.Contains(res.Error, "execution reverted") {
		t.Errorf("access list of a reverting call: error %q", res.Error)
	}
}

func TestSimulate(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	fresh := common.HexToAddress("0x00000000000000000000000000000000000f4e54")
	x := common.HexToAddress("0x000000000000000000000000000000000000c0de")
	type simCall struct {
		ReturnData hexutil.Bytes  `json:"returnData"`
		Status     hexutil.Uint64 `json:"status"`
		Logs       []struct {
			Address common.Address `json:"address"`
			Topics  []common.Hash  `json:"topics"`
			Index   hexutil.Uint   `json:"logIndex"`
		} `json:"logs"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	type simBlock struct {
		Number       hexutil.Uint64 `json:"number"`
		Hash         common.Hash    `json:"hash"`
		ParentHash   common.Hash    `json:"parentHash"`
		Transactions []struct {
			From common.Address `json:"from"`
		} `json:"transactions"`
		Calls []simCall `json:"calls"`
	}
	var blocks []simBlock
	tc.mustDecode(&blocks, "eth_simulateV1", map[string]any{
		"blockStateCalls": []any{
			map[string]any{"calls": []any{
				map[string]any{"from": addr1, "to": fresh, "value": hexutil.EncodeBig(oneBTC)},
				map[string]any{"from": addr2, "to": loggerAddr, "input": hexutil.Bytes(word(5))},
				map[string]any{"from": addr1, "to": reverterAddr},
			}},
			map[string]any{
				"blockOverrides": map[string]any{"number": "0x9"},
				"stateOverrides": map[string]any{x.Hex(): map[string]any{"code": hexutil.Bytes(returnBalanceOf(fresh))}},
				"calls":          []any{map[string]any{"from": addr3, "to": x}},
			},
		},
		"traceTransfers":         true,
		"returnFullTransactions": true,
	}, "latest")
	if len(blocks) != 4 {
		t.Fatalf("%d blocks, want 4 (6, empty 7 and 8, 9)", len(blocks))
	}
	for i, b := range blocks {
		if uint64(b.Number) != uint64(6+i) {
			t.Errorf("block %d numbered %d", i, b.Number)
		}
		if i > 0 && b.ParentHash != blocks[i-1].Hash {
			t.Errorf("block %d does not link to its parent", b.Number)
		}
	}
	first := blocks[0]
	if first.ParentHash != tc.blocks[4].Hash() {
		t.Error("first simulated block does not extend the base block")
	}
	if len(first.Transactions) != 3 || first.Transactions[0].From != addr1 || first.Transactions[1].From != addr2 {
		t.Errorf("full transactions: %+v", first.Transactions)
	}
	transfer := first.Calls[0]
	if transfer.Status != 1 || len(transfer.Logs) != 1 || transfer.Logs[0].Address != transferAddress || transfer.Logs[0].Topics[2] != common.BytesToHash(fresh[:]) {
		t.Errorf("value transfer with traceTransfers: %+v", transfer)
	}
	logged := first.Calls[1]
	if logged.Status != 1 || len(logged.Logs) != 1 || logged.Logs[0].Address != loggerAddr || logged.Logs[0].Index != 1 {
		t.Errorf("logger call: %+v (want one log, block-wide index 1)", logged)
	}
	reverted := first.Calls[2]
	if reverted.Status != 0 || reverted.Error == nil || reverted.Error.Code != codeReverted || reverted.Error.Data != hexutil.Encode(errorNope) {
		t.Errorf("reverting call: %+v", reverted)
	}
	// State carries from block to block: the transfer of block 6 is seen in 9.
	if got := new(big.Int).SetBytes(blocks[3].Calls[0].ReturnData); got.Cmp(oneBTC) != 0 {
		t.Errorf("balance in a later simulated block: %v, want 1 BTC", got)
	}
	// Nothing was written to the real chain.
	var bal hexutil.Big
	tc.mustDecode(&bal, "eth_getBalance", fresh, "latest")
	if bal.ToInt().Sign() != 0 {
		t.Errorf("simulation changed real state: balance %v", bal.ToInt())
	}

	// Simulated blocks run the engine's Finalize: the base fee of block 6's
	// transfer, which geth would burn, is credited to its fee recipient,
	// whose balance block 7 reads (the transfer tips nothing).
	recipient := common.HexToAddress("0x00000000000000000000000000000000000fee00")
	var credited []struct {
		BaseFee hexutil.Big    `json:"baseFeePerGas"`
		GasUsed hexutil.Uint64 `json:"gasUsed"`
		Calls   []simCall      `json:"calls"`
	}
	fees := map[string]any{"maxFeePerGas": "0x174876e800", "maxPriorityFeePerGas": "0x0"}
	with := func(call map[string]any) map[string]any {
		maps.Copy(call, fees)
		return call
	}
	tc.mustDecode(&credited, "eth_simulateV1", map[string]any{"validation": true, "blockStateCalls": []any{
		map[string]any{
			"blockOverrides": map[string]any{"feeRecipient": recipient},
			"calls":          []any{with(map[string]any{"from": addr1, "to": fresh, "value": "0x1"})},
		},
		map[string]any{
			"stateOverrides": map[string]any{x.Hex(): map[string]any{"code": hexutil.Bytes(returnBalanceOf(recipient))}},
			"calls":          []any{with(map[string]any{"from": addr2, "to": x})},
		},
	}}, "latest")
	if len(credited) != 2 {
		t.Fatalf("%d simulated blocks, want 2", len(credited))
	}
	baseFees := new(big.Int).Mul(credited[0].BaseFee.ToInt(), new(big.Int).SetUint64(uint64(credited[0].GasUsed)))
	if got := new(big.Int).SetBytes(credited[1].Calls[0].ReturnData); baseFees.Sign() == 0 || got.Cmp(baseFees) != 0 {
		t.Errorf("fee recipient's balance after a simulated block: %v, want its base fees %v", got, baseFees)
	}

	// Validation mode checks what a real block would.
	sim := func(validate bool, calls ...any) []any {
		return []any{map[string]any{"validation": validate, "blockStateCalls": []any{map[string]any{"calls": calls}}}}
	}
	tc.wantError(codeBaseFeeTooLow, "max fee per gas less than block base fee", "eth_simulateV1", sim(true, map[string]any{"from": addr1, "to": fresh})...)
	tc.wantError(codeNonceTooLow, "nonce too low", "eth_simulateV1", sim(true, map[string]any{"from": addr1, "to": fresh, "nonce": "0x0", "maxFeePerGas": "0x174876e800"})...)
	tc.wantError(codeInsufficientFunds, "insufficient funds", "eth_simulateV1", sim(false, map[string]any{"from": fresh, "to": addr1, "value": "0x1"})...)
	tc.wantError(codeBlockGasLimit, "block gas limit reached", "eth_simulateV1", sim(false, map[string]any{"from": addr1, "to": fresh, "gas": "0x3b9aca00"})...)
	tc.wantError(codeBlockNumberInvalid, "block numbers must be in order", "eth_simulateV1", map[string]any{"blockStateCalls": []any{
		map[string]any{"blockOverrides": map[string]any{"number": "0x8"}},
		map[string]any{"blockOverrides": map[string]any{"number": "0x7"}},
	}})
	tc.wantError(codeBlockTimeInvalid, "timestamps must be in order", "eth_simulateV1", map[string]any{"blockStateCalls": []any{
		map[string]any{"blockOverrides": map[string]any{"time": "0x1"}},
	}})
	tc.wantError(codeInvalidParams, "unknown field", "eth_simulateV1", map[string]any{"blockStateCalls": []any{
		map[string]any{"blockOverride": map[string]any{}},
	}})
	tc.wantError(codeClientLimitExceeded, "too many blocks", "eth_simulateV1", map[string]any{"blockStateCalls": []any{
		map[string]any{"blockOverrides": map[string]any{"number": "0x1000"}},
	}})
}

func TestTracing(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	var frame struct {
		Type string         `json:"type"`
		From common.Address `json:"from"`
		To   common.Address `json:"to"`
	}
	tc.mustDecode(&frame, "debug_traceTransaction", tc.txs["log2"].Hash(), map[string]any{"tracer": "callTracer"})
	if frame.Type != "CALL" || frame.From != addr1 || frame.To != loggerAddr {
		t.Errorf("callTracer frame: %+v", frame)
	}
	// The second transaction of a block is traced on the state its
	// predecessor left: the access-list transfer after log1 in block 2.
	tc.mustDecode(&frame, "debug_traceTransaction", tc.txs["accessList"].Hash(), map[string]any{"tracer": "callTracer"})
	if frame.From != addr2 || frame.To != addr3 {
		t.Errorf("second transaction of block 2: %+v", frame)
	}
	var block []json.RawMessage
	tc.mustDecode(&block, "debug_traceBlockByNumber", "0x3", map[string]any{"tracer": "callTracer"})
	if len(block) != 2 {
		t.Errorf("block 3 trace has %d entries, want 2", len(block))
	}
	var n int
	js := `{n: 0, step: function(log) { if (log.op.toString() == "LOG1") this.n++ }, fault: function() {}, result: function() { return this.n }}`
	tc.mustDecode(&n, "debug_traceTransaction", tc.txs["log1"].Hash(), map[string]any{"tracer": js})
	if n != 1 {
		t.Errorf("JS tracer counted %d LOG1, want 1", n)
	}
	tc.mustDecode(&frame, "debug_traceCall", map[string]any{"from": addr1, "to": loggerAddr, "input": hexutil.Bytes(word(1))}, "latest", map[string]any{"tracer": "callTracer"})
	if frame.Type != "CALL" || frame.To != loggerAddr {
		t.Errorf("traceCall frame: %+v", frame)
	}
	var pre map[common.Address]json.RawMessage
	tc.mustDecode(&pre, "debug_traceTransaction", tc.txs["log3"].Hash(), map[string]any{"tracer": "prestateTracer"})
	if _, ok := pre[loggerAddr]; !ok {
		t.Errorf("prestate lacks the logger: %v", pre)
	}
	tc.wantError(codeServerError, "transaction not found", "debug_traceTransaction", common.Hash{7})
}

func TestGetProof(t *testing.T) {
	tc := newTestChain(t, testOptions{})
	var res struct {
		Balance      hexutil.Big    `json:"balance"`
		Nonce        hexutil.Uint64 `json:"nonce"`
		CodeHash     common.Hash    `json:"codeHash"`
		StorageHash  common.Hash    `json:"storageHash"`
		AccountProof []string       `json:"accountProof"`
		StorageProof []struct {
			Key   string      `json:"key"`
			Value hexutil.Big `json:"value"`
			Proof []string    `json:"proof"`
		} `json:"storageProof"`
	}
	full := "0x" + strings.Repeat("00", 32)
	tc.mustDecode(&res, "eth_getProof", loggerAddr, []string{"0x0", full}, "latest")
	if res.CodeHash != crypto.Keccak256Hash(loggerCode) || res.Nonce != 1 || len(res.AccountProof) == 0 {
		t.Errorf("account part: %+v", res)
	}
	if len(res.StorageProof) != 2 || res.StorageProof[0].Key != "0x0" || res.StorageProof[1].Key != full ||
		res.StorageProof[0].Value.ToInt().Int64() != 3 || len(res.StorageProof[0].Proof) == 0 {
		t.Errorf("storage part: %+v", res.StorageProof)
	}
	// The proof of slot 0 at block 2 shows the value written then.
	tc.mustDecode(&res, "eth_getProof", loggerAddr, []string{"0x0"}, "0x2")
	if res.StorageProof[0].Value.ToInt().Int64() != 1 {
		t.Errorf("slot 0 at block 2: %v, want 1", res.StorageProof[0].Value.ToInt())
	}
}

// "latest" read just before the chain flushes its state (every
// chain.FlushBlocks blocks) is the new head once the old head's state has
// left memory: eth_getTransactionCount("latest") once failed there under
// load with "historical state of block 255 is not available".
func TestLatestStateAcrossStateFlush(t *testing.T) {
	c := newChain(t)
	bc := c.BlockChain()
	c.Extend(c.HeadBlock(), mmchain.FlushBlocks-1, 0)
	read := bc.CurrentBlock() // what a call took for "latest"
	c.Extend(c.HeadBlock(), 1, 0)
	if _, err := bc.StateAt(read.Root, read.Number, read.Time); err == nil {
		t.Fatalf("block %d's state still in memory after the flush: the test needs it gone", read.Number)
	}
	b := newBackend(Config{Chain: bc})
	st, h, err := b.latestState(read)
	if err != nil {
		t.Fatalf("latest state across the flush: %v", err)
	}
	if head := bc.CurrentBlock(); h.Hash() != head.Hash() {
		t.Fatalf("latest is block %d, want the head %d", h.Number, head.Number)
	}
	if st.GetBalance(addr1).IsZero() || st.Error() != nil {
		t.Fatalf("head state unreadable: balance %v, err %v", st.GetBalance(addr1), st.Error())
	}
}

// The kept head reader still reads after a state flush at the head, which
// flattens the layers below it into the disk layer: the chain flushes right
// after making a block the head, so a call can take the new head's reader
// just before.
func TestHeadReaderAcrossStateFlush(t *testing.T) {
	c := newChain(t)
	bc := c.BlockChain()
	c.Extend(c.HeadBlock(), 3, 0)
	b := newBackend(Config{Chain: bc})
	head := bc.CurrentBlock()
	balance := func(addr common.Address) {
		t.Helper()
		st, err := b.headState(head)
		if err != nil {
			t.Fatal(err)
		}
		if bal := st.GetBalance(addr); bal.IsZero() || st.Error() != nil {
			t.Fatalf("head state unreadable: balance %v, err %v", bal, st.Error())
		}
	}
	balance(addr1)                                               // keeps the reader
	if err := bc.TrieDB().Commit(head.Root, false); err != nil { // the chain's flush
		t.Fatal(err)
	}
	balance(addr2) // not in the reader's cache: read through the layers
}

// A read whose state the chain's state flush takes away midway runs once
// more: at the new head for "latest"; for a block below the head on a full
// node, whose state the flush dropped, it fails saying so.
func TestReadAcrossStateFlush(t *testing.T) {
	c := newChain(t)
	bc := c.BlockChain()
	c.Extend(c.HeadBlock(), mmchain.FlushBlocks-2, 0)
	b := newBackend(Config{Chain: bc})
	balance := func(sel gethrpc.BlockNumberOrHash) (tries []uint64, bal *big.Int, err error) {
		bal, err = readState(context.Background(), b, sel, func(st *state.StateDB, h *types.Header) (*big.Int, error) {
			tries = append(tries, h.Number.Uint64())
			if len(tries) == 1 {
				c.Extend(c.HeadBlock(), 3, 0) // crosses FlushBlocks: the chain flushes its state
			}
			return st.GetBalance(addr2).ToBig(), st.Error()
		})
		return tries, bal, err
	}

	read := bc.CurrentBlock().Number.Uint64()
	tries, bal, err := balance(gethrpc.BlockNumberOrHashWithNumber(gethrpc.LatestBlockNumber))
	if err != nil || bal.Sign() == 0 {
		t.Fatalf("latest across the flush: balance %v, err %v", bal, err)
	}
	if head := bc.CurrentBlock().Number.Uint64(); !slices.Equal(tries, []uint64{read, head}) {
		t.Fatalf("read at blocks %v, want %d then the new head %d", tries, read, head)
	}
	if _, err := bc.StateAt(bc.GetHeaderByNumber(read).Root, nil, 0); err == nil {
		t.Fatalf("block %d's state still in memory: no flush happened", read)
	}

	c.Extend(c.HeadBlock(), mmchain.FlushBlocks-2, 0)
	read = bc.CurrentBlock().Number.Uint64()
	tries, _, err = balance(gethrpc.BlockNumberOrHashWithNumber(gethrpc.BlockNumber(read)))
	var gone *stateUnavailableError
	if !errors.As(err, &gone) || !slices.Equal(tries, []uint64{read}) {
		t.Fatalf("block %d below the flushed head: tries %v, err %v; want one try and the state unavailable", read, tries, err)
	}
}
