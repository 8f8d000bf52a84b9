package node

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
)

// More of the mmg wire format (p2p/doc.go), for peers that misbehave.
const (
	wireTransactionsMsg  = 0x02
	wireGetHeadersMsg    = 0x03
	wireBlockHeadersMsg  = 0x04
	wireGetBodiesMsg     = 0x05
	wireBlockBodiesMsg   = 0x06
	junkAttackRounds     = 3
	bodyFloodRequests    = 100_000
	unsolicitedBodyBytes = 9 << 20
)

type wireGetBodies struct {
	RequestID uint64
	Hashes    []common.Hash
}

type wireBlockBodies struct {
	RequestID uint64
	Bodies    []*types.Body
}

type wireBlockHeaders struct {
	RequestID uint64
	Headers   []*types.Header
}

// TestP2PAttacksKeepRPCResponsive: devp2p peers written in the test send
// what no honest node sends (undecodable messages, a transaction without a
// recoverable sender, responses nobody asked for, one of them 9 MB, and a
// flood of body requests that never reads the answers), three rounds of
// each. Every one of them is dropped, and the node's eth_call stays live
// throughout (p2p/ tests measure the honest peers' side).
func TestP2PAttacksKeepRPCResponsive(t *testing.T) {
	n := startPeerNodeWith(t, func(c *Config) {
		c.Dev = true
		c.HTTP, c.HTTPAddr = true, "127.0.0.1"
	})
	rc := n.stack.Attach()
	t.Cleanup(rc.Close)
	for range 64 {
		if err := rc.Call(nil, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	var hashes []common.Hash
	for i := uint64(1); i <= 64; i++ {
		hashes = append(hashes, n.chain.GetHeaderByNumber(i).Hash())
	}
	head := n.chain.CurrentBlock()

	// A 9 MB BlockBodies of one transaction repeated.
	to := common.Address{1}
	tx := types.NewTx(&types.LegacyTx{GasPrice: big.NewInt(1e9), Gas: 21000, To: &to, Value: big.NewInt(1),
		Data: make([]byte, 1000), V: big.NewInt(27), R: big.NewInt(1), S: big.NewInt(1)})
	bodyTxs := make([]*types.Transaction, unsolicitedBodyBytes/int(tx.Size()))
	for i := range bodyTxs {
		bodyTxs[i] = tx
	}
	junkSig := types.NewTx(&types.LegacyTx{GasPrice: big.NewInt(1e9), Gas: 21000, To: &to, Value: big.NewInt(1),
		V: big.NewInt(0), R: big.NewInt(0), S: big.NewInt(0)})
	attacks := []struct {
		name string
		send func(gethp2p.MsgReadWriter) error
	}{
		{"undecodable header request", func(rw gethp2p.MsgReadWriter) error {
			return gethp2p.Send(rw, wireGetHeadersMsg, []byte{0xde, 0xad, 0xbe, 0xef})
		}},
		{"undecodable transactions", func(rw gethp2p.MsgReadWriter) error {
			return gethp2p.Send(rw, wireTransactionsMsg, "junk")
		}},
		{"transaction without a sender", func(rw gethp2p.MsgReadWriter) error {
			return gethp2p.Send(rw, wireTransactionsMsg, []*types.Transaction{junkSig})
		}},
		{"unsolicited headers", func(rw gethp2p.MsgReadWriter) error {
			return gethp2p.Send(rw, wireBlockHeadersMsg, &wireBlockHeaders{RequestID: 42, Headers: []*types.Header{head}})
		}},
		{"unsolicited 9 MB bodies", func(rw gethp2p.MsgReadWriter) error {
			return gethp2p.Send(rw, wireBlockBodiesMsg, &wireBlockBodies{RequestID: 42, Bodies: []*types.Body{{Transactions: bodyTxs}}})
		}},
		{"body request flood", func(rw gethp2p.MsgReadWriter) error {
			for id := range uint64(bodyFloodRequests) {
				if err := gethp2p.Send(rw, wireGetBodiesMsg, &wireGetBodies{RequestID: id, Hashes: hashes}); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	events := make(chan *gethp2p.PeerEvent, 256)
	sub := n.stack.Server().SubscribeEvents(events)
	defer sub.Unsubscribe()
	genesisWork := n.mmchain.WorkOf(n.chain.Genesis().Hash())
	dropped := 0
	callsDuring(t, n.HTTPEndpoint(), func() {
		for range junkAttackRounds {
			for _, a := range attacks {
				attacker := startRawPeerSending(t, n, a.send, genesisWork)
				drop := waitDrop(t, events, attacker.Self().ID().String(), 30*time.Second)
				t.Logf("%s: dropped (%s)", a.name, drop.Error)
				dropped++
				attacker.Stop()
			}
		}
	})
	if want := junkAttackRounds * len(attacks); dropped != want {
		t.Errorf("%d attackers dropped, want %d", dropped, want)
	}
	if got := n.chain.CurrentBlock().Hash(); got != head.Hash() {
		t.Errorf("head moved during the attacks")
	}
}
