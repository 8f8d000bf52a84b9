package node

// Every RPC method the node registers, called on a real dev node and a real
// mining node, each with the smallest valid parameters: a hook that only
// tests' fakes ever filled (eth_coinbase, eth_sign) shows up here as an
// error the product answers.

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rlp"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
)

var (
	contextType      = reflect.TypeFor[context.Context]()
	errorType        = reflect.TypeFor[error]()
	subscriptionType = reflect.TypeFor[*gethrpc.Subscription]()
)

// registeredMethods lists what geth's rpc server makes of n's services, by
// the rules of its suitableCallbacks (go-ethereum v1.17.10 rpc/service.go):
// every exported method returning at most one value and an error, named
// with its first letter lowered. A subscription (context first, returning
// (*rpc.Subscription, error)) is called through ns_subscribe and listed as
// "ns_subscribe:name".
func registeredMethods(n *Node) []string {
	seen := map[string]bool{}
	for _, api := range n.apis {
		typ := reflect.TypeOf(api.Service)
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			ft := m.Type
			outs := ft.NumOut()
			if !m.IsExported() || outs > 2 || (outs == 2 && (ft.Out(0) == errorType || ft.Out(1) != errorType)) {
				continue
			}
			name := []rune(m.Name)
			name[0] = unicode.ToLower(name[0])
			if ft.NumIn() > 1 && ft.In(1) == contextType && outs == 2 && ft.Out(0) == subscriptionType {
				seen[api.Namespace+"_subscribe:"+string(name)] = true
			} else {
				seen[api.Namespace+"_"+string(name)] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// hookErrors are answers that mean a method is registered but not served:
// geth's for an unknown method or namespace, and the ones a nil hook gives.
var hookErrors = []string{"not available", "does not exist", "not supported", "does not build blocks"}

// logEmitter deploys code that emits one LOG0 on every call.
var logEmitter = common.FromHex("0x6560006000a0006000526006601af3")

// typedMail is EIP-712's own example.
const typedMail = `{"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
	"Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
	"Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]},
	"primaryType": "Mail", "domain": {"name": "Ether Mail", "chainId": 1},
	"message": {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
		"to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}, "contents": "Hello, Bob!"}}`

// methodsNode is a started node with a contract that has logged once, in a
// block of its own, and the clients that call it.
type methodsNode struct {
	t         *testing.T
	n         *Node
	http      *gethrpc.Client
	ws        *gethrpc.Client
	eth       *ethclient.Client
	dev       bool
	etherbase common.Address
	key       *ecdsa.PrivateKey // funded on both networks; a dev account on dev only
	from      common.Address
	contract  common.Address
	logTx     common.Hash
	block     *types.Block // the block of logTx
}

func startMethodsNode(t *testing.T, cfg Config) *methodsNode {
	t.Helper()
	cfg.WS, cfg.WSAddr = true, "127.0.0.1"
	n, rc := startNode(t, cfg)
	ws, err := gethrpc.Dial(n.WSEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Close)
	devSpec, err := genesis.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := devSpec.DevKeys()
	if err != nil {
		t.Fatal(err)
	}
	m := &methodsNode{t: t, n: n, http: rc, ws: ws, eth: ethclient.NewClient(rc), dev: cfg.Dev,
		etherbase: n.cfg.Etherbase, key: keys[1], from: crypto.PubkeyToAddress(keys[1].PublicKey)}
	deploy := m.sendRaw(nil, logEmitter)
	m.contract = crypto.CreateAddress(m.from, deploy.Nonce())
	m.logTx = m.sendRaw(&m.contract, nil).Hash()
	m.mineAll()
	rc2, err := m.eth.TransactionReceipt(context.Background(), m.logTx)
	if err != nil || len(rc2.Logs) != 1 {
		t.Fatalf("fixture call receipt %v (%v): want one log", rc2, err)
	}
	if m.block, err = m.eth.BlockByHash(context.Background(), rc2.BlockHash); err != nil {
		t.Fatal(err)
	}
	return m
}

// sendRaw sends a transaction from m.key with the next pool nonce.
func (m *methodsNode) sendRaw(to *common.Address, data []byte) *types.Transaction {
	m.t.Helper()
	ctx := context.Background()
	nonce, err := m.eth.PendingNonceAt(ctx, m.from)
	if err != nil {
		m.t.Fatal(err)
	}
	fee := new(big.Int).Mul(m.n.Chain().CurrentBlock().BaseFee, big.NewInt(2))
	tx := types.MustSignNewTx(m.key, types.LatestSignerForChainID(m.n.Chain().Config().ChainID), &types.DynamicFeeTx{
		ChainID: m.n.Chain().Config().ChainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: fee.Add(fee, big.NewInt(1)),
		Gas: 100_000, To: to, Data: data,
	})
	if err := m.eth.SendTransaction(ctx, tx); err != nil {
		m.t.Fatal(err)
	}
	return tx
}

// mineAll returns once the pool is empty: a dev node automines; a mining
// node gets blocks solved the way a pool solves them.
func (m *methodsNode) mineAll() {
	m.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pending, queued := m.n.pool.Stats()
		if pending+queued == 0 {
			return
		}
		if m.dev {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		header, coinbase := poolShare(m.t, m.work(), uint64(time.Now().UnixNano()))
		txid := chainhash.DoubleHashH(common.FromHex(coinbase))
		if err := m.http.Call(nil, "mnr_submitBitcoinBlockPartialMerkle", "x", header, coinbase, hex.EncodeToString(txid[:]), "1"); err != nil {
			m.t.Fatal(err)
		}
		// The work server folds new transactions into its template after
		// a debounce: give it one.
		time.Sleep(150 * time.Millisecond)
	}
	m.t.Fatal("transactions still pooled after 30 s")
}

func (m *methodsNode) work() *mnrWork {
	m.t.Helper()
	var w mnrWork
	if err := m.http.Call(&w, "mnr_getWork"); err != nil {
		m.t.Fatal(err)
	}
	return &w
}

func (m *methodsNode) call(result any, method string, params ...any) {
	m.t.Helper()
	if err := m.http.Call(result, method, params...); err != nil {
		m.t.Fatalf("%s: %v", method, err)
	}
}

func (m *methodsNode) num() string { return hexutil.EncodeBig(m.block.Number()) }

// methodCall is how the test calls one method.
type methodCall struct {
	params func(m *methodsNode) []any
	// keyless is the error a node without dev accounts answers, as geth
	// does without a keystore; empty when the call succeeds on every node.
	keyless string
	// wantErr is the error expected on every node: no call can succeed on
	// a chain that has nothing for the method to find.
	wantErr string
	// check looks at the result beyond "no error".
	check func(m *methodsNode, res json.RawMessage) error
}

func noParams(*methodsNode) []any { return nil }

// sameGasLimit and sameBaseFee are the values the next block would have
// anyway: the calls are checked without changing what later calls see.
func sameGasLimit(m *methodsNode) []any {
	return []any{hexutil.Uint64(m.n.Chain().CurrentBlock().GasLimit)}
}

func sameBaseFee(m *methodsNode) []any {
	return []any{(*hexutil.Big)(eip1559.CalcBaseFee(m.n.Chain().Config(), m.n.Chain().CurrentBlock()))}
}

// init adds the test-node methods, served under anvil_ and hardhat_ with
// results that differ where Hardhat's do. Each call leaves the chain as the
// later calls expect it: reset is asked for a fork, which dev nodes refuse;
// the real reset is TestTestNodeMethods's.
func init() {
	null := equals(func(*methodsNode) any { return nil })
	yes := equals(func(*methodsNode) any { return true })
	addr := common.HexToAddress("0x00000000000000000000000000000000000c0ffe")
	for _, prefix := range []string{"anvil_", "hardhat_"} {
		done := null
		if prefix == "hardhat_" {
			done = yes
		}
		calls := map[string]methodCall{
			"setBalance":               {params: func(*methodsNode) []any { return []any{addr, "0x1"} }, check: done},
			"setCode":                  {params: func(*methodsNode) []any { return []any{addr, "0x00"} }, check: done},
			"setNonce":                 {params: func(*methodsNode) []any { return []any{addr, "0x2"} }, check: done},
			"setStorageAt":             {params: func(*methodsNode) []any { return []any{addr, "0x0", common.Hash{31: 1}} }, check: yes},
			"impersonateAccount":       {params: func(*methodsNode) []any { return []any{addr} }, check: done},
			"stopImpersonatingAccount": {params: func(*methodsNode) []any { return []any{addr} }, check: done},
			"autoImpersonateAccount":   {params: func(*methodsNode) []any { return []any{false} }, check: null},
			"mine":                     {params: func(*methodsNode) []any { return []any{"0x2", "0x1"} }, check: done},
			"setAutomine":              {params: func(*methodsNode) []any { return []any{true} }, check: null},
			"getAutomine":              {params: noParams, check: yes},
			"setIntervalMining":        {params: func(*methodsNode) []any { return []any{0} }, check: null},
			"dropTransaction":          {params: func(*methodsNode) []any { return []any{common.Hash{1}} }, check: equals(func(*methodsNode) any { return map[string]any{"anvil_": nil, "hardhat_": false}[prefix] })},
			"dropAllTransactions":      {params: noParams, check: null},
			"reset": {params: func(*methodsNode) []any {
				return []any{map[string]any{"forking": map[string]any{"jsonRpcUrl": "http://127.0.0.1:1"}}}
			}, wantErr: "cannot fork another chain"},
			"dumpState": {params: noParams, check: nonEmpty},
			"loadState": {params: func(*methodsNode) []any {
				return []any{hexutil.Bytes(`{"accounts":{"` + addr.Hex() + `":{"nonce":3,"balance":"0x5","code":"0x","storage":{}}}}`)}
			}, check: yes},
			"setCoinbase":               {params: func(m *methodsNode) []any { return []any{m.etherbase} }, check: done},
			"setNextBlockBaseFeePerGas": {params: sameBaseFee, check: done},
			"setBlockGasLimit":          {params: sameGasLimit, check: yes},
			"nodeInfo":                  {params: noParams, check: nonEmpty},
			"metadata":                  {params: noParams, check: nonEmpty},
		}
		for name, c := range calls {
			methodCalls[prefix+name] = c
		}
	}
}

// equals checks the result is want, as JSON.
func equals(want func(m *methodsNode) any) func(*methodsNode, json.RawMessage) error {
	return func(m *methodsNode, res json.RawMessage) error {
		w, _ := json.Marshal(want(m))
		if string(w) != string(res) {
			return fmt.Errorf("got %s, want %s", res, w)
		}
		return nil
	}
}

// nonEmpty checks the result is not null, "0x", [] or {}.
func nonEmpty(_ *methodsNode, res json.RawMessage) error {
	switch string(res) {
	case "null", `"0x"`, "[]", "{}":
		return fmt.Errorf("empty result %s", res)
	}
	return nil
}

// methodCalls has one entry per registered method; a method without one
// fails the test, so that a new method gets called here.
var methodCalls = map[string]methodCall{
	"debug_getBadBlocks":      {params: noParams, check: equals(func(*methodsNode) any { return []any{} })},
	"debug_getRawBlock":       {params: func(m *methodsNode) []any { return []any{m.num()} }, check: nonEmpty},
	"debug_getRawHeader":      {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, check: nonEmpty},
	"debug_getRawReceipts":    {params: func(m *methodsNode) []any { return []any{m.num()} }, check: nonEmpty},
	"debug_getRawTransaction": {params: func(m *methodsNode) []any { return []any{m.logTx} }, check: nonEmpty},
	"debug_intermediateRoots": {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, check: nonEmpty},
	// A bad block is one a node refused: this one refused none.
	"debug_standardTraceBadBlockToFile": {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, wantErr: "not found"},
	"debug_traceBadBlock":               {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, wantErr: "not found"},
	"debug_standardTraceBlockToFile": {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, check: func(m *methodsNode, res json.RawMessage) error {
		var files []string
		if err := json.Unmarshal(res, &files); err != nil || len(files) == 0 {
			return fmt.Errorf("files %s: %v", res, err)
		}
		for _, f := range files {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
		return nil
	}},
	"debug_subscribe:traceChain": {params: func(m *methodsNode) []any {
		return []any{hexutil.EncodeBig(new(big.Int).Sub(m.block.Number(), big.NewInt(1))), m.num()}
	}},
	"debug_traceBlock": {params: func(m *methodsNode) []any {
		raw, err := rlp.EncodeToBytes(m.block)
		if err != nil {
			m.t.Fatal(err)
		}
		return []any{hexutil.Bytes(raw)}
	}, check: nonEmpty},
	"debug_traceBlockByHash":   {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, check: nonEmpty},
	"debug_traceBlockByNumber": {params: func(m *methodsNode) []any { return []any{m.num()} }, check: nonEmpty},
	"debug_traceBlockFromFile": {params: func(m *methodsNode) []any {
		raw, err := rlp.EncodeToBytes(m.block)
		if err != nil {
			m.t.Fatal(err)
		}
		path := filepath.Join(m.t.TempDir(), "block.rlp")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			m.t.Fatal(err)
		}
		return []any{path}
	}, check: nonEmpty},
	"debug_traceCall": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"from": m.from, "to": m.contract}, "latest"}
	}, check: nonEmpty},
	"debug_traceTransaction": {params: func(m *methodsNode) []any { return []any{m.logTx} }, check: nonEmpty},

	"eth_accounts": {params: noParams, check: func(m *methodsNode, res json.RawMessage) error {
		var accts []common.Address
		if err := json.Unmarshal(res, &accts); err != nil {
			return err
		}
		if m.dev != slices.Contains(accts, m.from) || (!m.dev && len(accts) != 0) {
			return fmt.Errorf("accounts %v on a node with dev=%v", accts, m.dev)
		}
		return nil
	}},
	"eth_baseFee":     {params: noParams, check: nonEmpty},
	"eth_blobBaseFee": {params: noParams, check: nonEmpty},
	"eth_blockNumber": {params: noParams, check: nonEmpty},
	"eth_call": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"to": m.contract}, "latest"}
	}},
	"eth_capabilities": {params: noParams, check: nonEmpty},
	"eth_chainId":      {params: noParams, check: equals(func(m *methodsNode) any { return (*hexutil.Big)(m.n.Chain().Config().ChainID) })},
	"eth_coinbase": {params: noParams, check: equals(func(m *methodsNode) any {
		if m.etherbase == (common.Address{}) {
			m.t.Fatal("the node has no etherbase to compare with")
		}
		return m.etherbase
	})},
	"eth_config": {params: noParams, check: nonEmpty},
	"eth_createAccessList": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"from": m.from, "to": m.contract}, "latest"}
	}, check: nonEmpty},
	"eth_estimateGas": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"from": m.from, "to": m.contract}}
	}, check: nonEmpty},
	"eth_feeHistory": {params: func(*methodsNode) []any { return []any{"0x1", "latest", []int{50}} }, check: nonEmpty},
	"eth_fillTransaction": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"from": m.from, "to": m.from, "value": "0x1"}}
	}, check: nonEmpty},
	"eth_gasPrice":         {params: noParams, check: nonEmpty},
	"eth_getBalance":       {params: func(m *methodsNode) []any { return []any{m.from, "latest"} }, check: nonEmpty},
	"eth_getBlockByHash":   {params: func(m *methodsNode) []any { return []any{m.block.Hash(), true} }, check: nonEmpty},
	"eth_getBlockByNumber": {params: func(m *methodsNode) []any { return []any{m.num(), true} }, check: nonEmpty},
	"eth_getBlockReceipts": {params: func(m *methodsNode) []any { return []any{m.num()} }, check: nonEmpty},
	"eth_getBlockTransactionCountByHash": {params: func(m *methodsNode) []any { return []any{m.block.Hash()} },
		check: equals(func(m *methodsNode) any { return hexutil.Uint(m.block.Transactions().Len()) })},
	"eth_getBlockTransactionCountByNumber": {params: func(m *methodsNode) []any { return []any{m.num()} },
		check: equals(func(m *methodsNode) any { return hexutil.Uint(m.block.Transactions().Len()) })},
	"eth_getCode": {params: func(m *methodsNode) []any { return []any{m.contract, "latest"} },
		check: equals(func(*methodsNode) any { return hexutil.Bytes(common.FromHex("0x60006000a000")) })},
	"eth_getFilterChanges": {params: func(m *methodsNode) []any {
		var id string
		m.call(&id, "eth_newBlockFilter")
		return []any{id}
	}},
	"eth_getFilterLogs": {params: func(m *methodsNode) []any {
		var id string
		m.call(&id, "eth_newFilter", map[string]any{"fromBlock": "0x0", "address": m.contract})
		return []any{id}
	}, check: nonEmpty},
	"eth_getLogs": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"fromBlock": "0x0", "address": m.contract}}
	}, check: nonEmpty},
	"eth_getProof":     {params: func(m *methodsNode) []any { return []any{m.contract, []string{"0x0"}, "latest"} }, check: nonEmpty},
	"eth_getStorageAt": {params: func(m *methodsNode) []any { return []any{m.contract, "0x0", "latest"} }, check: nonEmpty},
	"eth_getStorageValues": {params: func(m *methodsNode) []any {
		return []any{map[string]any{m.contract.Hex(): []common.Hash{{}}}, "latest"}
	}, check: nonEmpty},
	"eth_getTransactionByBlockHashAndIndex":   {params: func(m *methodsNode) []any { return []any{m.block.Hash(), "0x0"} }, check: nonEmpty},
	"eth_getTransactionByBlockNumberAndIndex": {params: func(m *methodsNode) []any { return []any{m.num(), "0x0"} }, check: nonEmpty},
	"eth_getTransactionByHash":                {params: func(m *methodsNode) []any { return []any{m.logTx} }, check: nonEmpty},
	"eth_getTransactionCount":                 {params: func(m *methodsNode) []any { return []any{m.from, "latest"} }, check: nonEmpty},
	"eth_getTransactionReceipt":               {params: func(m *methodsNode) []any { return []any{m.logTx} }, check: nonEmpty},
	// No uncles on this chain: null and zero are the answers.
	"eth_getUncleByBlockHashAndIndex":   {params: func(m *methodsNode) []any { return []any{m.block.Hash(), "0x0"} }},
	"eth_getUncleByBlockNumberAndIndex": {params: func(m *methodsNode) []any { return []any{m.num(), "0x0"} }},
	"eth_getUncleCountByBlockHash":      {params: func(m *methodsNode) []any { return []any{m.block.Hash()} }, check: equals(func(*methodsNode) any { return "0x0" })},
	"eth_getUncleCountByBlockNumber":    {params: func(m *methodsNode) []any { return []any{m.num()} }, check: equals(func(*methodsNode) any { return "0x0" })},
	"eth_maxPriorityFeePerGas":          {params: noParams, check: nonEmpty},
	"eth_newBlockFilter":                {params: noParams, check: nonEmpty},
	"eth_newFilter":                     {params: func(*methodsNode) []any { return []any{map[string]any{}} }, check: nonEmpty},
	"eth_newPendingTransactionFilter":   {params: noParams, check: nonEmpty},
	// A call of the contract: it feeds the logs, receipts, heads and
	// pending transactions subscriptions once mined.
	"eth_sendRawTransaction": {params: func(m *methodsNode) []any {
		nonce, err := m.eth.PendingNonceAt(context.Background(), m.from)
		if err != nil {
			m.t.Fatal(err)
		}
		fee := new(big.Int).Mul(m.n.Chain().CurrentBlock().BaseFee, big.NewInt(3))
		tx := types.MustSignNewTx(m.key, types.LatestSignerForChainID(m.n.Chain().Config().ChainID), &types.DynamicFeeTx{
			ChainID: m.n.Chain().Config().ChainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: fee, Gas: 100_000, To: &m.contract,
		})
		raw, err := tx.MarshalBinary()
		if err != nil {
			m.t.Fatal(err)
		}
		return []any{hexutil.Bytes(raw)}
	}, check: nonEmpty},
	"eth_sendTransaction": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"from": m.from, "to": m.from}}
	}, keyless: "unknown account", check: nonEmpty},
	"eth_sign": {params: func(m *methodsNode) []any { return []any{m.from, "0xdeadbeef"} }, keyless: "unknown account",
		check: func(m *methodsNode, res json.RawMessage) error {
			return signedBy(m, res, accounts.TextHash(common.FromHex("0xdeadbeef")))
		}},
	"eth_signTransaction": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"from": m.from, "to": m.from, "gas": "0x5208", "gasPrice": "0x3b9aca00", "nonce": "0x100"}}
	}, keyless: "unknown account", check: nonEmpty},
	"eth_signTypedData_v3": {params: func(m *methodsNode) []any { return []any{m.from, typedMail} }, check: nonEmpty},
	"eth_signTypedData_v4": {params: func(m *methodsNode) []any { return []any{m.from, typedMail} }, check: nonEmpty},
	"eth_simulateV1": {params: func(m *methodsNode) []any {
		return []any{map[string]any{"blockStateCalls": []any{map[string]any{"calls": []any{map[string]any{"from": m.from, "to": m.contract}}}}}, "latest"}
	}, check: nonEmpty},
	"eth_subscribe:logs":                   {params: func(*methodsNode) []any { return []any{map[string]any{}} }},
	"eth_subscribe:newHeads":               {params: noParams},
	"eth_subscribe:newPendingTransactions": {params: noParams},
	"eth_subscribe:transactionReceipts":    {params: noParams},
	"eth_syncing":                          {params: noParams, check: equals(func(*methodsNode) any { return false })},
	"eth_uninstallFilter": {params: func(m *methodsNode) []any {
		var id string
		m.call(&id, "eth_newBlockFilter")
		return []any{id}
	}, check: equals(func(*methodsNode) any { return true })},

	"evm_increaseTime": {params: func(*methodsNode) []any { return []any{1} }, check: nonEmpty},
	"evm_mine":         {params: noParams, check: nonEmpty},
	"evm_revert": {params: func(m *methodsNode) []any {
		var id string
		m.call(&id, "evm_snapshot")
		return []any{id}
	}, check: equals(func(*methodsNode) any { return true })},
	"evm_setNextBlockTimestamp": {params: func(m *methodsNode) []any {
		return []any{hexutil.Uint64(m.n.Chain().CurrentBlock().Time + 10)}
	}},
	"evm_snapshot":          {params: noParams, check: nonEmpty},
	"evm_setAutomine":       {params: func(*methodsNode) []any { return []any{true} }, check: equals(func(*methodsNode) any { return nil })},
	"evm_setIntervalMining": {params: func(*methodsNode) []any { return []any{0} }, check: equals(func(*methodsNode) any { return nil })},
	"evm_setBlockGasLimit":  {params: sameGasLimit, check: equals(func(*methodsNode) any { return true })},

	// Neither node has relayed Bitcoin headers, so no block is anchored.
	"mm_getAnchorProof":    {params: func(*methodsNode) []any { return []any{"latest"} }, wantErr: "no anchor at or above the block"},
	"mm_getBtcLightClient": {params: noParams, check: nonEmpty},
	"mm_getFinality":       {params: noParams, check: nonEmpty},
	// The peg methods; TestPegRPC checks their answers.
	"mm_getPegPolicy":         {params: noParams, check: nonEmpty},
	"mm_getDepositAddress":    {params: func(*methodsNode) []any { return []any{"0x00000000000000000000000000000000000000a1"} }, check: nonEmpty},
	"mm_verifyDepositAddress": {params: func(*methodsNode) []any { return []any{"bcrt1qxyz", "0x00000000000000000000000000000000000000a1"} }, check: nonEmpty},
	"mm_getPegInStatus":       {params: func(*methodsNode) []any { return []any{strings.Repeat("ab", 32), 0} }, check: nonEmpty},
	"mm_getPegInProof": {params: func(*methodsNode) []any {
		return []any{strings.Repeat("ab", 32), 0, "0x00000000000000000000000000000000000000a1"}
	}, wantErr: "--btc.rpc"},
	"mm_getPegAudit": {params: noParams, check: nonEmpty},
	// No node here has a peg-out request or batch: the answers say so.
	"mm_getPegOutStatus": {params: func(*methodsNode) []any { return []any{"0x1"} }, wantErr: "no peg-out request 1"},
	"mm_getPegOutTx":     {params: func(*methodsNode) []any { return []any{"0x1"} }, wantErr: "UnknownBatch(id=1)"},
	"mm_watchedDeposits": {params: noParams, wantErr: "--peg.watch"},
	"mnr_getWork":        {params: noParams, check: nonEmpty},
	"mnr_submitBitcoinBlock": {params: func(m *methodsNode) []any {
		block, _ := poolBlock(m.t, m.work())
		return []any{block}
	}, check: nonEmpty},
	"mnr_submitBitcoinBlockPartialMerkle": {params: func(m *methodsNode) []any {
		header, coinbase := poolShare(m.t, m.work(), 11)
		txid := chainhash.DoubleHashH(common.FromHex(coinbase))
		return []any{"x", header, coinbase, hex.EncodeToString(txid[:]), "1"}
	}, check: nonEmpty},
	"mnr_submitBitcoinBlockTransactions": {params: func(m *methodsNode) []any {
		header, coinbase := poolShare(m.t, m.work(), 12)
		return []any{"x", header, coinbase, chainhash.DoubleHashH(common.FromHex(coinbase)).String()}
	}, check: nonEmpty},

	"net_listening": {params: noParams, check: equals(func(*methodsNode) any { return true })},
	"net_peerCount": {params: noParams, check: equals(func(*methodsNode) any { return "0x0" })},
	"net_version":   {params: noParams, check: equals(func(m *methodsNode) any { return fmt.Sprint(m.n.cfg.Spec.NetworkID) })},
	"personal_sign": {params: func(m *methodsNode) []any { return []any{"0xdeadbeef", m.from} }, check: func(m *methodsNode, res json.RawMessage) error {
		return signedBy(m, res, accounts.TextHash(common.FromHex("0xdeadbeef")))
	}},
	"txpool_content":     {params: noParams, check: nonEmpty},
	"txpool_contentFrom": {params: func(m *methodsNode) []any { return []any{m.from} }, check: nonEmpty},
	"txpool_inspect":     {params: noParams, check: nonEmpty},
	"txpool_status":      {params: noParams, check: nonEmpty},
	"web3_clientVersion": {params: noParams, check: nonEmpty},
	"web3_sha3": {params: func(*methodsNode) []any { return []any{"0x"} },
		check: equals(func(*methodsNode) any { return crypto.Keccak256Hash() })},
}

// signedBy checks res is a signature of digest by m.from with V 27/28.
func signedBy(m *methodsNode, res json.RawMessage, digest []byte) error {
	var sig hexutil.Bytes
	if err := json.Unmarshal(res, &sig); err != nil || len(sig) != 65 || sig[64] < 27 {
		return fmt.Errorf("signature %s (%v)", res, err)
	}
	sig[64] -= 27
	pub, err := crypto.SigToPub(digest, sig)
	if err != nil || crypto.PubkeyToAddress(*pub) != m.from {
		return fmt.Errorf("signature %s does not recover to %s (%v)", res, m.from, err)
	}
	return nil
}

func TestEveryMethodOnRealNodes(t *testing.T) {
	called := map[string]bool{}
	t.Run("dev", func(t *testing.T) {
		spec, err := genesis.Load("dev")
		if err != nil {
			t.Fatal(err)
		}
		// The modules of `mmgeth --dev`: nothing asked for.
		m := startMethodsNode(t, Config{Spec: spec, Dev: true})
		callEveryMethod(t, m, called)
	})
	t.Run("mine", func(t *testing.T) {
		spec, err := genesis.Load("regtest")
		if err != nil {
			t.Fatal(err)
		}
		dev, err := genesis.Load("dev")
		if err != nil {
			t.Fatal(err)
		}
		// Funded accounts, not dev mode: the node holds no keys.
		spec.DevMnemonic, spec.DevAccounts, spec.DevBalanceBTC = dev.DevMnemonic, 2, 1
		spec.MergeMining.MaxFutureDrift = 0 // blocks here come faster than one a second
		// What an operator who wants every namespace asks for.
		m := startMethodsNode(t, Config{Spec: spec, Mine: true, Etherbase: common.HexToAddress("0xfee"),
			HTTPModules: []string{"eth", "net", "web3", "txpool", "debug", "mm"}})
		callEveryMethod(t, m, called)
	})
	for method := range methodCalls {
		if !called[method] {
			t.Errorf("%s is in methodCalls but neither node registers it", method)
		}
	}
}

// callEveryMethod calls each method m's node registers, subscriptions
// first so that the calls after them feed them.
func callEveryMethod(t *testing.T, m *methodsNode, called map[string]bool) {
	methods := registeredMethods(m.n)
	if len(methods) < 50 {
		t.Fatalf("only %d methods found: %v", len(methods), methods)
	}
	// The namespaces served over HTTP are those registered: none is left
	// out by the module list.
	var modules map[string]string
	m.call(&modules, "rpc_modules")
	namespaces := map[string]bool{}
	for _, method := range methods {
		ns, _, _ := strings.Cut(method, "_")
		namespaces[ns] = true
		if _, ok := modules[ns]; !ok {
			t.Errorf("namespace %s is registered but not served over HTTP (rpc_modules: %v)", ns, modules)
		}
	}
	for ns := range modules {
		if ns != "rpc" && !namespaces[ns] {
			t.Errorf("rpc_modules lists %s, which no registered method has", ns)
		}
	}

	type sub struct {
		name string
		ch   chan json.RawMessage
		sub  *gethrpc.ClientSubscription
	}
	var subs []sub
	for _, method := range methods {
		called[method] = true
		c, ok := methodCalls[method]
		if !ok {
			t.Errorf("%s: no entry in methodCalls; add one with minimal valid parameters", method)
			continue
		}
		nsSub, name, isSub := strings.Cut(method, ":")
		if !isSub {
			continue
		}
		ch := make(chan json.RawMessage, 64)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := m.ws.Subscribe(ctx, strings.TrimSuffix(nsSub, "_subscribe"), ch, append([]any{name}, c.params(m)...)...)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", method, err)
			continue
		}
		t.Cleanup(s.Unsubscribe)
		subs = append(subs, sub{method, ch, s})
	}

	for _, method := range methods {
		c, ok := methodCalls[method]
		if !ok || strings.Contains(method, ":") {
			continue
		}
		want := c.wantErr
		if !m.dev && c.keyless != "" {
			want = c.keyless
		}
		var res json.RawMessage
		err := m.http.Call(&res, method, c.params(m)...)
		switch {
		case err != nil && slices.ContainsFunc(hookErrors, func(s string) bool { return strings.Contains(err.Error(), s) }):
			t.Errorf("%s: registered but answers %q", method, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %s, %v; want an error saying %q", method, res, err, want)
		case want == "" && err != nil:
			t.Errorf("%s: %v", method, err)
		case want == "" && c.check != nil:
			if cerr := c.check(m, res); cerr != nil {
				t.Errorf("%s: %v", method, cerr)
			}
		}
	}

	// The calls above sent a contract call and mined blocks: every
	// subscription has had something to say.
	m.mineAll()
	for _, s := range subs {
		select {
		case <-s.ch:
		case err := <-s.sub.Err():
			t.Errorf("%s: %v", s.name, err)
		case <-time.After(10 * time.Second):
			t.Errorf("%s: no notification", s.name)
		}
	}
}
