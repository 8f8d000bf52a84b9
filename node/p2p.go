package node

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/mmgeth/mmgeth/chain"
	mmgp2p "github.com/mmgeth/mmgeth/p2p"
)

// setupP2P puts the node on the network: the mmg protocol handler over the
// chain, the configured peers and discovery. It must run after the chain's
// lifecycle is registered, so that the handler stops first.
func (n *Node) setupP2P() error {
	srv := n.stack.Server() // not started yet: its config may still change
	for _, url := range n.cfg.Bootnodes {
		boot, err := enode.Parse(enode.ValidSchemes, url)
		if err != nil {
			return fmt.Errorf("bootnode %q: %w", url, err)
		}
		// Bootnodes seed discovery, which --nodiscover turns off; dialing
		// them as static peers as well keeps a private network connected
		// either way.
		srv.BootstrapNodes = append(srv.BootstrapNodes, boot)
		srv.StaticNodes = append(srv.StaticNodes, boot)
	}
	// Discovery needs a UDP port, which a node that does not listen lacks.
	srv.Config.DiscoveryV4 = !n.cfg.NoDiscover && srv.ListenAddr != ""
	srv.NoDiscovery = !srv.Config.DiscoveryV4

	h, err := mmgp2p.New(mmgp2p.Config{
		NetworkID: n.cfg.Spec.NetworkID,
		Chain:     &syncChain{BlockChain: n.chain, c: n.mmchain},
		TxPool:    n.pool,
	})
	if err != nil {
		return err
	}
	n.handler = h
	n.stack.RegisterProtocols(h.Protocols())
	n.stack.RegisterLifecycle(h)
	return nil
}

// syncProgress is eth_syncing's object while a sync runs.
type syncProgress struct {
	StartingBlock hexutil.Uint64 `json:"startingBlock"`
	CurrentBlock  hexutil.Uint64 `json:"currentBlock"`
	HighestBlock  hexutil.Uint64 `json:"highestBlock"`
}

// syncing answers eth_syncing: false, or the progress of the running sync.
func (n *Node) syncing() any {
	active, p := n.handler.Syncing()
	if !active && !n.cfg.Spec.Local && n.stack.Server().PeerCount() == 0 {
		head := hexutil.Uint64(n.chain.CurrentBlock().Number.Uint64())
		return &noPeersProgress{syncProgress: syncProgress{head, head, head}, Status: noPeersStatus}
	}
	if !active {
		return false
	}
	return &syncProgress{
		StartingBlock: hexutil.Uint64(p.StartingBlock),
		CurrentBlock:  hexutil.Uint64(p.CurrentBlock),
		HighestBlock:  hexutil.Uint64(p.HighestBlock),
	}
}

// syncActive reports whether a chain sync is importing a peer's blocks.
func (n *Node) syncActive() bool {
	active, _ := n.handler.Syncing()
	return active
}

// announce propagates a block this node mined and made its head.
func (n *Node) announce(b *types.Block) { n.handler.BroadcastBlock(b) }

// InsertBlocks imports blocks from outside (a chain file) the way blocks
// from peers are imported: checked by the engine, then through fork choice,
// so the heaviest chain stays the head. On failure it returns the index of
// the first block not imported.
func (n *Node) InsertBlocks(blocks []*types.Block) (int, error) { return n.mmchain.Insert(blocks) }

// syncChain is the chain as the mmg protocol sees it: the blockchain's reads,
// with work, verification and imports going through the chain's one door.
type syncChain struct {
	*core.BlockChain
	c *chain.Chain
}

func (c *syncChain) Work(hash common.Hash) *big.Int { return c.c.WorkOf(hash) }

func (c *syncChain) VerifyHeaders(parent *types.Header, headers []*types.Header) error {
	_, err := c.c.VerifyHeadersOn(parent, headers)
	return err
}

func (c *syncChain) VerifyBlock(parent *types.Header, block *types.Block) (*big.Int, error) {
	return c.c.VerifyBlockOn(parent, block)
}

func (c *syncChain) InsertBlocks(blocks []*types.Block) (int, error) { return c.c.Insert(blocks) }
