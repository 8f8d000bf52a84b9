package node

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	gethp2p "github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/mmgeth/mmgeth/chain"
	"github.com/mmgeth/mmgeth/internal/testchain"
)

// TestRuleBreakersFromPeersAndFiles sends a real dev node each block of
// testchain.RuleBreakers (one per consensus rule, with a valid proof where
// the rule is not about the proof) from a peer: the peer is dropped as
// useless and nothing is stored. Then the same blocks go through the door
// `mmgeth import` uses: each is refused with its rule's error, as the
// block's fault. Head and balances stay as they were throughout.
func TestRuleBreakersFromPeersAndFiles(t *testing.T) {
	tc := testchain.New(t, testchain.Options{})
	genesisBlock := tc.BlockChain().Genesis()
	breakers := tc.RuleBreakers(genesisBlock)

	victim := startPeerNode(t, false)
	if victim.chain.Genesis().Hash() != genesisBlock.Hash() {
		t.Fatal("test chain and node have different dev genesis blocks")
	}
	events := make(chan *gethp2p.PeerEvent, 64)
	sub := victim.stack.Server().SubscribeEvents(events)
	defer sub.Unsubscribe()
	genesisWork := victim.mmchain.WorkOf(genesisBlock.Hash())
	claimed := new(big.Int).Mul(genesisWork, big.NewInt(2))
	withdrawTo := testchain.OneBTCWithdrawal.Address
	balanceBefore := victim.chain.GetBlockByNumber(0).Header()

	assertUntouched := func(t *testing.T, b *types.Block) {
		t.Helper()
		if rawdb.ReadHeader(victim.db, b.Hash(), b.NumberU64()) != nil || victim.chain.HasBlock(b.Hash(), b.NumberU64()) || victim.mmchain.WorkOf(b.Hash()) != nil {
			t.Error("the block reached the database")
		}
		if head := victim.chain.CurrentBlock(); head.Hash() != balanceBefore.Hash() {
			t.Fatalf("head moved to %d", head.Number)
		}
		st, err := victim.chain.State()
		if err != nil {
			t.Fatal(err)
		}
		if st.GetBalance(withdrawTo).Sign() != 0 {
			t.Fatal("the withdrawal's recipient got a balance")
		}
	}

	for _, br := range breakers {
		if br.InProcess {
			continue // no encoded block can carry it (see testchain.Breaker)
		}
		// A header that RLP cannot decode back is malformed on the wire: a
		// breach of protocol rather than of consensus.
		reason := gethp2p.DiscUselessPeer
		if enc, err := rlp.EncodeToBytes(br.Block); err != nil || rlp.DecodeBytes(enc, new(types.Block)) != nil {
			reason = gethp2p.DiscProtocolError
		}
		t.Run("peer/"+br.Name, func(t *testing.T) {
			attacker := startRawPeerSending(t, victim, func(rw gethp2p.MsgReadWriter) error {
				return gethp2p.Send(rw, wireNewBlockMsg, &wireNewBlock{Block: br.Block, Work: claimed})
			}, genesisWork)
			drop := waitDrop(t, events, attacker.Self().ID().String(), 20*time.Second)
			if !strings.Contains(drop.Error, reason.String()) {
				t.Errorf("peer dropped with %q, want %q", drop.Error, reason)
			}
			assertUntouched(t, br.Block)
		})
	}
	for _, br := range breakers {
		t.Run("import/"+br.Name, func(t *testing.T) {
			n, err := victim.InsertBlocks([]*types.Block{br.Block})
			var fault *chain.RuleError
			if n != 0 || !errors.Is(err, br.Want) || !errors.As(err, &fault) {
				t.Errorf("import: %d, %v; want a RuleError matching %v", n, err, br.Want)
			}
			assertUntouched(t, br.Block)
		})
	}
	// The same parent with every rule kept is accepted: the refusals were
	// about the rules.
	good := tc.Build(genesisBlock, testchain.Block{})
	if _, err := victim.InsertBlocks([]*types.Block{good}); err != nil || victim.chain.CurrentBlock().Hash() != good.Hash() {
		t.Fatalf("the valid block: %v", err)
	}
}
