// Command load is the bounded transaction driver and block watcher of
// bench/network.sh and bench/memory.sh. It is a benchmark tool, not part of
// the node.
//
// It signs transactions locally with the dev mnemonic's accounts (the same
// keys as anvil's and Hardhat's), a mix of value transfers and ERC20-like
// token transfers to fresh recipients, and sends them to one node with
// eth_sendRawTransaction in JSON-RPC batches, at a given rate or as fast as
// each account's bound of unconfirmed transactions allows. It stops after
// -n transactions or -duration, whichever comes first.
//
// With -watch it also subscribes to newHeads on every named node over
// WebSocket and, at the end, prints for the window after -warmup: the gas
// per second the first node (the miner) sealed, how far each other node
// fell behind it in blocks, the deepest reorganisation any node saw, and the
// block propagation delay per hop (each node against the node it follows,
// -upstream), p50 and p99.
package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/genesis"
	"github.com/mmgeth/mmgeth/tests/btcd"
)

// tokenInitCode deploys bench/sync.sh's token: transfer(to, amount) moves
// amount from the caller's slot to the recipient's (slot = address) without
// a balance check and emits Transfer (2 SLOAD, 2 SSTORE, LOG3: ~52k gas to a
// fresh recipient).
const tokenInitCode = "0x60" + "24" + "8060095f395ff3" +
	"602435600435805482019055803354033355" + "5f5260043533" +
	"7f" + "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" + "60205fa300"

const devMnemonic = "test test test test test test test test test test test junk"

// stuckAfter is how long an account's confirmed nonce may stand still with
// transactions outstanding before they are sent again.
const stuckAfter = 5 * time.Second

type config struct {
	rpc        string
	accounts   int
	skip       int
	n          int
	duration   time.Duration
	rate       float64
	pending    int
	tokenShare float64
	batch      int
	watch      []watched
	warmup     time.Duration
}

type watched struct {
	name, ws, upstream string
}

func main() {
	var cfg config
	var watch, upstream string
	flag.StringVar(&cfg.rpc, "rpc", "", "HTTP JSON-RPC endpoint to send transactions to (none: only watch)")
	flag.IntVar(&cfg.accounts, "accounts", 20, "dev accounts to send from")
	flag.IntVar(&cfg.skip, "skip", 0, "index of the first dev account used")
	flag.IntVar(&cfg.n, "n", 0, "stop after this many transactions are confirmed (0: run for -duration)")
	flag.DurationVar(&cfg.duration, "duration", time.Minute, "upper bound of the run")
	flag.Float64Var(&cfg.rate, "rate", 0, "transactions per second offered (0: as fast as -pending allows)")
	flag.IntVar(&cfg.pending, "pending", 16, "unconfirmed transactions allowed per account")
	flag.Float64Var(&cfg.tokenShare, "token", 0.5, "share of token transfers among the transactions")
	flag.IntVar(&cfg.batch, "batch", 100, "transactions per JSON-RPC batch")
	flag.StringVar(&watch, "watch", "", "nodes to watch, name=ws://host:port,...; the first is the miner")
	flag.StringVar(&upstream, "upstream", "", "name=upstream,... the node each watched node gets its blocks from (default: the miner)")
	flag.DurationVar(&cfg.warmup, "warmup", 0, "time at the start left out of the figures")
	printAddr := flag.Bool("print-mining-address", false, "print the regtest address btcd mines to in the tests (tests/btcd) and exit")
	flag.Parse()
	if *printAddr {
		addr, err := btcd.MiningAddress()
		if err != nil {
			fatal(err)
		}
		fmt.Println(addr.EncodeAddress())
		return
	}
	if cfg.duration <= 0 || cfg.accounts <= 0 || cfg.pending <= 0 || cfg.batch <= 0 {
		fatal(errors.New("-duration, -accounts, -pending and -batch must be positive"))
	}
	ups := map[string]string{}
	for _, kv := range splitList(upstream) {
		k, v, _ := strings.Cut(kv, "=")
		ups[k] = v
	}
	for i, kv := range splitList(watch) {
		name, url, ok := strings.Cut(kv, "=")
		if !ok {
			fatal(fmt.Errorf("-watch %q: want name=url", kv))
		}
		w := watched{name: name, ws: url, upstream: ups[name]}
		if i > 0 && w.upstream == "" {
			w.upstream = strings.Split(watch, "=")[0] // the miner
		}
		cfg.watch = append(cfg.watch, w)
	}
	if err := run(cfg); err != nil {
		fatal(err)
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}

func run(cfg config) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	var w *watcher
	if len(cfg.watch) > 0 {
		var err error
		if w, err = startWatcher(ctx, cfg.watch); err != nil {
			return err
		}
	}
	start := time.Now()
	var sent *sender
	if cfg.rpc != "" {
		var err error
		if sent, err = newSender(ctx, cfg); err != nil {
			return err
		}
		if err := sent.run(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		sent.report(time.Since(start))
	}
	if w != nil {
		<-ctx.Done()
		return w.report(start.Add(cfg.warmup))
	}
	return nil
}

// sender signs and sends transactions, keeping at most cfg.pending
// unconfirmed per account.
type sender struct {
	cfg     config
	client  *gethrpc.Client
	signer  types.Signer
	chainID *big.Int
	keys    []*ecdsa.PrivateKey
	addrs   []common.Address
	next    []uint64    // next nonce to use, per account
	done    []uint64    // confirmed nonce (latest), per account
	moved   []time.Time // when done last moved, per account
	token   common.Address
	feeCap  *big.Int
	tip     *big.Int

	sent, confirmed, failed int
	readErrs                int // failed nonce reads, retried
	firstErr                error
	recipient               uint64
	startDone               uint64
}

func newSender(ctx context.Context, cfg config) (*sender, error) {
	client, err := gethrpc.DialContext(ctx, cfg.rpc)
	if err != nil {
		return nil, err
	}
	spec := genesis.Spec{DevMnemonic: devMnemonic, DevAccounts: cfg.skip + cfg.accounts}
	keys, err := spec.DevKeys()
	if err != nil {
		return nil, err
	}
	s := &sender{cfg: cfg, client: client, keys: keys[cfg.skip:]}
	var id hexutil.Big
	if err := client.CallContext(ctx, &id, "eth_chainId"); err != nil {
		return nil, err
	}
	s.chainID = id.ToInt()
	s.signer = types.LatestSignerForChainID(s.chainID)
	for _, k := range s.keys {
		s.addrs = append(s.addrs, crypto.PubkeyToAddress(k.PublicKey))
	}
	s.next = make([]uint64, len(s.keys))
	s.done = make([]uint64, len(s.keys))
	s.moved = make([]time.Time, len(s.keys))
	if err := s.refresh(ctx, "pending"); err != nil {
		return nil, err
	}
	copy(s.next, s.done)
	for _, d := range s.done {
		s.startDone += d
	}
	if cfg.tokenShare > 0 {
		if err := s.deployToken(ctx); err != nil {
			return nil, fmt.Errorf("token deployment: %w", err)
		}
	}
	return s, nil
}

// refresh reads every account's nonce at block tag and the base fee, and
// sets the fee cap to twice the base fee plus the tip, as wallets do, so
// that transactions stay executable while full blocks raise the base fee.
func (s *sender) refresh(ctx context.Context, tag string) error {
	nonces := make([]hexutil.Uint64, len(s.addrs))
	var head struct {
		BaseFee *hexutil.Big `json:"baseFeePerGas"`
	}
	reqs := []gethrpc.BatchElem{{Method: "eth_getBlockByNumber", Args: []any{"latest", false}, Result: &head}}
	for i, a := range s.addrs {
		reqs = append(reqs, gethrpc.BatchElem{Method: "eth_getTransactionCount", Args: []any{a, tag}, Result: &nonces[i]})
	}
	if err := s.client.BatchCallContext(ctx, reqs); err != nil {
		return err
	}
	for _, r := range reqs {
		if r.Error != nil {
			return r.Error
		}
	}
	now := time.Now()
	for i, n := range nonces {
		if uint64(n) != s.done[i] || s.moved[i].IsZero() {
			s.done[i], s.moved[i] = uint64(n), now
		}
		// A transaction the node dropped (its pool full, or its fee cap
		// overtaken by a base fee that full blocks keep raising) leaves a
		// gap that holds up the account: send again from the confirmed
		// nonce, at the current fee, which replaces what is still there.
		if s.next[i] > s.done[i] && now.Sub(s.moved[i]) > stuckAfter {
			s.next[i], s.moved[i] = s.done[i], now
		}
	}
	base := big.NewInt(params.GWei)
	if head.BaseFee != nil {
		base = head.BaseFee.ToInt()
	}
	// The tip is the whole fee cap, so that a resend at a base fee 10%
	// higher is a valid replacement (both fields must rise by 10%).
	s.feeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), big.NewInt(params.GWei))
	s.tip = s.feeCap
	return nil
}

func (s *sender) deployToken(ctx context.Context) error {
	tx, err := types.SignNewTx(s.keys[0], s.signer, &types.DynamicFeeTx{
		ChainID: s.chainID, Nonce: s.next[0], GasTipCap: s.tip, GasFeeCap: s.feeCap, Gas: 200_000,
		Data: hexutil.MustDecode(tokenInitCode),
	})
	if err != nil {
		return err
	}
	if err := s.client.CallContext(ctx, nil, "eth_sendRawTransaction", hexutil.Bytes(mustMarshal(tx))); err != nil {
		return err
	}
	s.next[0]++
	for {
		var receipt *struct {
			Status          hexutil.Uint64  `json:"status"`
			ContractAddress *common.Address `json:"contractAddress"`
		}
		if err := s.client.CallContext(ctx, &receipt, "eth_getTransactionReceipt", tx.Hash()); err != nil {
			return err
		}
		if receipt != nil {
			if receipt.Status != 1 || receipt.ContractAddress == nil {
				return errors.New("deployment reverted")
			}
			s.token = *receipt.ContractAddress
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func mustMarshal(tx *types.Transaction) []byte {
	b, err := tx.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// tx builds the next transaction of account i: a token transfer for the
// given share of them, else a value transfer, each to a fresh recipient.
func (s *sender) tx(i int) *types.Transaction {
	s.recipient++
	to := common.BigToAddress(new(big.Int).SetUint64(0x1_0000_0000 + s.recipient + uint64(s.cfg.skip)<<40))
	inner := &types.DynamicFeeTx{ChainID: s.chainID, Nonce: s.next[i], GasTipCap: s.tip, GasFeeCap: s.feeCap}
	if s.cfg.tokenShare > 0 && float64(s.recipient%100) < s.cfg.tokenShare*100 {
		inner.To, inner.Gas = &s.token, 80_000
		inner.Data = append(append(hexutil.MustDecode("0xa9059cbb"), common.LeftPadBytes(to.Bytes(), 32)...), common.LeftPadBytes([]byte{1}, 32)...)
	} else {
		inner.To, inner.Gas, inner.Value = &to, params.TxGas, big.NewInt(1)
	}
	tx, err := types.SignNewTx(s.keys[i], s.signer, inner)
	if err != nil {
		panic(err)
	}
	return tx
}

func (s *sender) run(ctx context.Context) error {
	start := time.Now()
	lastRefresh := time.Now()
	account := 0
	for {
		if time.Since(lastRefresh) > 250*time.Millisecond || s.cfg.n > 0 && s.sent >= s.cfg.n {
			if err := s.refresh(ctx, "latest"); err != nil {
				if ctx.Err() != nil {
					return err
				}
				// Transient (seen: "latest" resolved to a block whose
				// state a flush dropped just then); ask again shortly.
				s.readErrs++
				time.Sleep(50 * time.Millisecond)
				continue
			}
			lastRefresh = time.Now()
			s.confirmed = 0
			for _, d := range s.done {
				s.confirmed += int(d)
			}
			s.confirmed -= int(s.startDone)
			if s.cfg.tokenShare > 0 {
				s.confirmed-- // the deployment
			}
			if s.cfg.n > 0 && s.confirmed >= s.cfg.n {
				return nil
			}
		}
		due := s.cfg.batch
		if s.cfg.rate > 0 {
			due = min(due, int(s.cfg.rate*time.Since(start).Seconds())-s.sent)
		}
		if s.cfg.n > 0 {
			due = min(due, s.cfg.n-s.sent)
		}
		var txs []*types.Transaction
		var from []int
		for tried := 0; len(txs) < due && tried < len(s.keys); {
			i := account
			account = (account + 1) % len(s.keys)
			if s.next[i]-s.done[i] >= uint64(s.cfg.pending) {
				tried++
				continue
			}
			tried = 0
			txs = append(txs, s.tx(i))
			from = append(from, i)
			s.next[i]++
		}
		if len(txs) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		if err := s.send(ctx, txs, from); err != nil {
			return err
		}
	}
}

func (s *sender) send(ctx context.Context, txs []*types.Transaction, from []int) error {
	reqs := make([]gethrpc.BatchElem, len(txs))
	for i, tx := range txs {
		reqs[i] = gethrpc.BatchElem{Method: "eth_sendRawTransaction", Args: []any{hexutil.Bytes(mustMarshal(tx))}, Result: new(common.Hash)}
	}
	if err := s.client.BatchCallContext(ctx, reqs); err != nil {
		return err
	}
	resync := false
	for i, r := range reqs {
		// The pool holds the nonce already: this one, or one it would not
		// replace (a resend at a fee not 10% higher).
		if r.Error == nil || strings.Contains(r.Error.Error(), "already known") || strings.Contains(r.Error.Error(), "underpriced") {
			s.sent++
			continue
		}
		s.failed++
		if s.firstErr == nil {
			s.firstErr = r.Error
		}
		// A refused transaction leaves a nonce gap: send the account's
		// next one again from what the node holds.
		s.next[from[i]] = min(s.next[from[i]], txs[i].Nonce())
		resync = true
	}
	if resync {
		for i := range s.next {
			s.next[i] = max(s.next[i], s.done[i])
		}
	}
	return nil
}

func (s *sender) report(elapsed time.Duration) {
	fmt.Printf("sent %d transactions (%d refused, first: %v), %d confirmed in %.1f s: %.0f tx/s confirmed; %d nonce reads failed and retried\n",
		s.sent, s.failed, s.firstErr, s.confirmed, elapsed.Seconds(), float64(s.confirmed)/elapsed.Seconds(), s.readErrs)
}

// head is one newHeads notification and when it arrived.
type head struct {
	Number     hexutil.Uint64 `json:"number"`
	Hash       common.Hash    `json:"hash"`
	ParentHash common.Hash    `json:"parentHash"`
	GasUsed    hexutil.Uint64 `json:"gasUsed"`
	GasLimit   hexutil.Uint64 `json:"gasLimit"`
	at         time.Time
}

type watcher struct {
	nodes []watched
	mu    sync.Mutex
	heads map[string][]head // by node, in arrival order
	errs  []error
}

func startWatcher(ctx context.Context, nodes []watched) (*watcher, error) {
	w := &watcher{nodes: nodes, heads: make(map[string][]head)}
	for _, n := range nodes {
		client, err := gethrpc.DialContext(ctx, n.ws)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		ch := make(chan head, 1024)
		sub, err := client.EthSubscribe(ctx, ch, "newHeads")
		if err != nil {
			return nil, fmt.Errorf("%s: newHeads: %w", n.name, err)
		}
		go func() {
			defer client.Close()
			defer sub.Unsubscribe()
			for {
				select {
				case h := <-ch:
					h.at = time.Now()
					w.mu.Lock()
					w.heads[n.name] = append(w.heads[n.name], h)
					w.mu.Unlock()
				case err := <-sub.Err():
					if err != nil && ctx.Err() == nil {
						w.mu.Lock()
						w.errs = append(w.errs, fmt.Errorf("%s: %w", n.name, err))
						w.mu.Unlock()
					}
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return w, nil
}

// report prints the figures for the heads that arrived after from.
func (w *watcher) report(from time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, err := range w.errs {
		fmt.Println("watch error:", err)
	}
	miner := w.nodes[0].name
	mh := w.heads[miner]
	var win []head
	for _, h := range mh {
		if !h.at.Before(from) {
			win = append(win, h)
		}
	}
	if len(win) < 2 {
		return fmt.Errorf("the miner sealed %d blocks in the window (%d in all)", len(win), len(mh))
	}
	// Gas per second: the gas of the blocks after the first, over the time
	// from the first to the last as the miner saw them.
	var gas, limit uint64
	for _, h := range win[1:] {
		gas += uint64(h.GasUsed)
		limit += uint64(h.GasLimit)
	}
	span := win[len(win)-1].at.Sub(win[0].at).Seconds()
	blocks := int(win[len(win)-1].Number - win[0].Number)
	fmt.Printf("\nminer: %d blocks in %.1f s (%.2f s apart), %.1f%% full, %.2f Mgas/s sustained\n",
		blocks, span, span/float64(max(blocks, 1)), 100*float64(gas)/float64(max(limit, 1)), float64(gas)/1e6/span)

	arrival := map[string]map[common.Hash]time.Time{}
	for name, hs := range w.heads {
		arrival[name] = map[common.Hash]time.Time{}
		for _, h := range hs {
			if _, ok := arrival[name][h.Hash]; !ok {
				arrival[name][h.Hash] = h.at
			}
		}
	}
	worstLag, deepest := 0, 0
	fmt.Printf("\n%-10s %-10s %8s %10s %10s %10s %8s\n", "node", "upstream", "blocks", "p50 ms", "p99 ms", "max ms", "max lag")
	hops := map[string][]float64{}
	for _, n := range w.nodes[1:] {
		var delays []float64
		for _, h := range win {
			at, ok := arrival[n.name][h.Hash]
			up, upOK := arrival[n.upstream][h.Hash]
			if ok && upOK {
				delays = append(delays, float64(at.Sub(up).Microseconds())/1000)
			}
		}
		lag := maxLag(mh, w.heads[n.name], from)
		worstLag = max(worstLag, lag)
		hop := hopOf(w.nodes, n)
		hops[fmt.Sprintf("hop %d", hop)] = append(hops[fmt.Sprintf("hop %d", hop)], delays...)
		p50, p99, pmax := percentiles(delays)
		fmt.Printf("%-10s %-10s %8d %10.0f %10.0f %10.0f %8d\n", n.name, n.upstream, len(delays), p50, p99, pmax, lag)
	}
	names := make([]string, 0, len(hops))
	for k := range hops {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p50, p99, pmax := percentiles(hops[k])
		fmt.Printf("%-21s %8d %10.0f %10.0f %10.0f\n", k, len(hops[k]), p50, p99, pmax)
	}
	for _, n := range w.nodes {
		deepest = max(deepest, reorgDepth(w.heads[n.name], from))
	}
	fmt.Printf("\ndeepest reorg seen by any node: %d; furthest any follower fell behind the miner: %d blocks\n", deepest, worstLag)
	out, _ := json.Marshal(map[string]any{"blocks": blocks, "seconds": span, "mgasps": float64(gas) / 1e6 / span,
		"fullness": float64(gas) / float64(max(limit, 1)), "deepestReorg": deepest, "maxLag": worstLag})
	fmt.Println(string(out))
	if deepest > 1 || worstLag > 1 {
		return errors.New("a follower fell more than one block behind or a reorg was deeper than one block")
	}
	return nil
}

func hopOf(nodes []watched, n watched) int {
	hop := 0
	for n.upstream != "" && hop < len(nodes) {
		hop++
		for _, m := range nodes {
			if m.name == n.upstream {
				n = m
				break
			}
		}
	}
	return hop
}

// maxLag is how many blocks the follower's head was behind the miner's at
// worst after from, replaying both nodes' heads in arrival order.
func maxLag(miner, follower []head, from time.Time) int {
	type ev struct {
		at     time.Time
		number int
		miner  bool
	}
	var evs []ev
	for _, h := range miner {
		evs = append(evs, ev{h.at, int(h.Number), true})
	}
	for _, h := range follower {
		evs = append(evs, ev{h.at, int(h.Number), false})
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })
	mn, fn, worst := 0, 0, 0
	for _, e := range evs {
		if e.miner {
			mn = e.number
		} else {
			fn = e.number
		}
		if !e.at.Before(from) && fn > 0 {
			worst = max(worst, mn-fn)
		}
	}
	return worst
}

// reorgDepth is the most blocks a node dropped from its chain at once:
// a head whose parent is not the previous head replaced the blocks from the
// common ancestor up, which is found among the heads the node reported.
func reorgDepth(heads []head, from time.Time) int {
	byHash := map[common.Hash]head{}
	deepest := 0
	for i, h := range heads {
		byHash[h.Hash] = h
		if i == 0 || h.ParentHash == heads[i-1].Hash || h.at.Before(from) {
			continue
		}
		// Walk the old chain down to a block that is an ancestor of h.
		newChain := map[common.Hash]bool{}
		for c, ok := h, true; ok; c, ok = byHash[c.ParentHash] {
			newChain[c.Hash] = true
			newChain[c.ParentHash] = true
		}
		depth := 0
		for c, ok := heads[i-1], true; ok && !newChain[c.Hash]; c, ok = byHash[c.ParentHash] {
			depth++
		}
		deepest = max(deepest, depth)
	}
	return deepest
}

func percentiles(v []float64) (p50, p99, pmax float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.5), at(0.99), s[len(s)-1]
}
