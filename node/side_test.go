package node

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestSideBlocksFromPeerLeaveNetworkAlone builds a 1,010-block dev chain,
// loads it into a dev node that a follower tracks, and has a peer send
// valid side blocks whose parents are 150, 500 and 1,000 blocks below the
// head, then 2,000 valid siblings of one height. Throughout, both nodes keep
// their head and its state (read over RPC), the dev node keeps mining and the
// follower keeps following; the deep side blocks and the flood cost the peer
// its connection and are not all stored.
func TestSideBlocksFromPeerLeaveNetworkAlone(t *testing.T) {
	const length = 1010
	tc := testchain.New(t, testchain.Options{})
	sender := tc.Keys[0]
	to := common.Address{0xbe, 0xef}
	side := map[int]*types.Block{}
	var siblings []*types.Block
	parent := tc.BlockChain().Genesis()
	blocks := make([]*types.Block, 0, length)
	for n := 1; n <= length; n++ {
		if depth := length - int(parent.NumberU64()); depth == 150 || depth == 500 || depth == 1000 {
			side[depth] = tc.Build(parent, testchain.Block{Coinbase: common.Address{1}})
		}
		if n == length-10 {
			for i := range 2000 {
				siblings = append(siblings, tc.Build(parent, testchain.Block{Coinbase: common.BigToAddress(big.NewInt(int64(i + 2)))}))
			}
		}
		var txs []*types.Transaction
		if n%10 == 0 {
			txs = []*types.Transaction{types.MustSignNewTx(sender, types.LatestSigner(tc.BlockChain().Config()), &types.DynamicFeeTx{
				ChainID: tc.BlockChain().Config().ChainID, Nonce: uint64(n/10 - 1), To: &to, Value: big.NewInt(1),
				Gas: 21_000, GasFeeCap: big.NewInt(1e12), GasTipCap: big.NewInt(1),
			})}
		}
		b := tc.Build(parent, testchain.Block{Txs: txs})
		tc.MustInsert(b)
		blocks = append(blocks, b)
		parent = b
	}

	miner := startPeerNode(t, true)
	if _, err := miner.InsertBlocks(blocks); err != nil {
		t.Fatal(err)
	}
	follower := startPeerNode(t, false)
	follower.stack.Server().AddPeer(miner.stack.Server().Self())
	waitHead(t, follower, blocks[length-1].Hash())

	events := make(chan *gethp2p.PeerEvent, 64)
	sub := miner.stack.Server().SubscribeEvents(events)
	defer sub.Unsubscribe()
	head := blocks[length-1]
	checkUntouched := func(t *testing.T, what string) {
		t.Helper()
		for name, n := range map[string]*Node{"miner": miner, "follower": follower} {
			if got := n.chain.CurrentBlock(); got.Hash() != head.Hash() {
				t.Fatalf("%s: %s head moved to %d", what, name, got.Number)
			}
			var balance hexutil.Big
			client := n.stack.Attach()
			err := client.Call(&balance, "eth_getBalance", to, "latest")
			client.Close()
			if err != nil || balance.ToInt().Int64() != length/10 {
				t.Fatalf("%s: %s eth_getBalance = %v, %v; want %d", what, name, balance.ToInt(), err, length/10)
			}
		}
	}
	send := func(blocks ...*types.Block) *gethp2p.Server {
		work := miner.mmchain.WorkOf(miner.chain.Genesis().Hash())
		return startRawPeerSending(t, miner, func(rw gethp2p.MsgReadWriter) error {
			for _, b := range blocks {
				claimed, err := chain.CumulativeWork(miner.mmchain.WorkOf(b.ParentHash()), b.Header())
				if err != nil {
					return err
				}
				if err := gethp2p.Send(rw, wireNewBlockMsg, &wireNewBlock{Block: b, Work: claimed}); err != nil {
					return err
				}
			}
			return nil
		}, work)
	}

	for _, depth := range []int{150, 500, 1000} {
		b := side[depth]
		peer := send(b)
		if depth < chain.MaxSideDepth {
			waitFor(t, "the side block stored", func() bool { return miner.chain.HasBlock(b.Hash(), b.NumberU64()) })
			if miner.chain.HasBlockAndState(b.Hash(), b.NumberU64()) {
				t.Fatalf("depth %d: side block executed", depth)
			}
		} else {
			drop := waitDrop(t, events, peer.Self().ID().String(), 20*time.Second)
			if !strings.Contains(drop.Error, gethp2p.DiscUselessPeer.String()) {
				t.Fatalf("depth %d: peer dropped with %q", depth, drop.Error)
			}
			if rawdb.ReadHeader(miner.db, b.Hash(), b.NumberU64()) != nil {
				t.Fatalf("depth %d: side block beyond the bound stored", depth)
			}
		}
		checkUntouched(t, "side block")
		peer.Stop()
	}

	flood := send(siblings...)
	drop := waitDrop(t, events, flood.Self().ID().String(), 60*time.Second)
	if !strings.Contains(drop.Error, gethp2p.DiscUselessPeer.String()) {
		t.Fatalf("flooding peer dropped with %q", drop.Error)
	}
	if n := len(rawdb.ReadAllHashes(miner.db, siblings[0].NumberU64())); n > chain.MaxPerHeight || n < 2 {
		t.Fatalf("%d blocks stored at the flooded height, want 2 to %d (the canonical one and some siblings)", n, chain.MaxPerHeight)
	}
	checkUntouched(t, "sibling flood")

	next, err := miner.dev.Mine(context.Background(), 0)
	if err != nil {
		t.Fatalf("mining after the attacks: %v", err)
	}
	waitHead(t, follower, next.Hash())
}
