package fed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/gethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/mmgeth/mmgeth/anchorproof"
	"github.com/mmgeth/mmgeth/evm/bridge"
	"github.com/mmgeth/mmgeth/internal/btcrpc"
)

// The refusals of strict mode (PEG.md §5.5 rule 6): the node's word on a
// batch is not taken unless Bitcoin backs it.
var (
	ErrAnchorProof = errors.New("no valid anchor proof of the finalized block")
	ErrAnchorDepth = errors.New("the anchor's Bitcoin block is not K deep in the signer's own Bitcoin node")
	ErrStateProof  = errors.New("the anchored Bridge state does not hold the batch the node describes")
)

// Strict makes a LocalSigner prove what its node says of a batch before
// signing it: an anchor proof (mm_getAnchorProof) of the node's finalized
// block F whose Bitcoin block is K deep in the signer's own Bitcoin node,
// then storage proofs (eth_getProof) against F's state root, which that
// proof commits, of the batch's first word and of the version's sighashes.
// A compromised node can then get nothing signed that the Bitcoin-anchored
// chain does not hold.
type Strict struct {
	Bitcoin *btcrpc.Client // the signer's own Bitcoin node
	Tag     []byte         // the network's merged-mining tag
	K       uint64         // the network's finality depth, in Bitcoin blocks
}

// proveBatch checks b against the Bridge's state at block final, proven
// from Bitcoin, and returns final: the sighashes and head the node gave
// must be the ones stored then. The batch's version must be in F's state,
// so a fee bump waits for its own block's finality, not only its batch's;
// and F rather than b.CreatedBlock is proven because a bump's sighashes are
// stored after that block, and F's state is the one a full node keeps.
func (st *Strict) proveBatch(ctx context.Context, side *ethclient.Client, epoch uint16, b *BatchToSign, final uint64) error {
	if b.CreatedBlock > final {
		return fmt.Errorf("%w: batch %d built in block %d, finalized %d", ErrNotFinalized, b.ID, b.CreatedBlock, final)
	}
	var raw json.RawMessage
	if err := timed(ctx, func(c context.Context) error {
		return side.Client().CallContext(c, &raw, "mm_getAnchorProof", hexutil.Uint64(final))
	}); err != nil {
		return answered(err, ErrAnchorProof, "mm_getAnchorProof(%d)", final)
	}
	var p anchorproof.Proof
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%w: %v", ErrAnchorProof, err)
	}
	var res *anchorproof.Result
	if err := timed(ctx, func(c context.Context) (err error) {
		res, _, err = anchorproof.VerifyOnBitcoin(c, &p, st.Tag, st.K, st.Bitcoin)
		return err
	}); errors.Is(err, anchorproof.ErrNotDeep) {
		return fmt.Errorf("%w: %v", ErrAnchorDepth, err)
	} else if errors.Is(err, anchorproof.ErrInvalid) {
		return fmt.Errorf("%w: %v", ErrAnchorProof, err)
	} else if err != nil {
		return err // the Bitcoin node failed: no verdict
	}
	if res.Target.Number.Uint64() != final {
		return fmt.Errorf("%w: a proof of block %d, asked for %d", ErrAnchorProof, res.Target.Number, final)
	}

	slots := []common.Hash{bridge.BatchSlot(b.ID)}
	for i := range b.Sighashes {
		slots = append(slots, bridge.SighashSlot(b.ID, b.Version, i))
	}
	keys := make([]string, len(slots))
	for i, s := range slots {
		keys[i] = s.Hex()
	}
	var proof *gethclient.AccountResult
	if err := timed(ctx, func(c context.Context) (err error) {
		proof, err = gethclient.New(side.Client()).GetProof(c, bridge.BridgeAddress, keys, new(big.Int).SetUint64(final))
		return err
	}); err != nil {
		return answered(err, ErrStateProof, "eth_getProof at block %d", final)
	}
	values, err := verifyStorage(res.Target.Root, proof, slots)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStateProof, err)
	}
	head := bridge.DecodeBatchHead(values[0])
	if head.Versions <= b.Version && head.State != bridge.BatchNone {
		return fmt.Errorf("%w: batch %d has %d versions in block %d, not yet version %d", ErrNotFinalized, b.ID, head.Versions, final, b.Version)
	}
	if head.State != bridge.BatchSigning || head.Epoch != epoch || int(head.NInputs) != len(b.Sighashes) || head.CreatedBlock != b.CreatedBlock {
		return fmt.Errorf("%w: batch %d in block %d is %v in epoch %d with %d inputs, built in block %d; the node says signing in %d, %d inputs, block %d",
			ErrStateProof, b.ID, final, head.State, head.Epoch, head.NInputs, head.CreatedBlock, epoch, len(b.Sighashes), b.CreatedBlock)
	}
	for i, h := range b.Sighashes {
		if values[i+1] != common.Hash(h) {
			return fmt.Errorf("%w: sighash %d of batch %d version %d is %x in block %d, the node says %x", ErrStateProof, i, b.ID, b.Version, values[i+1], final, h)
		}
	}
	return nil
}

// answered makes an error the node answered with a refusal under rule; a
// transport failure stays plain, a refusal of nothing.
func answered(err, rule error, format string, args ...any) error {
	var answer gethrpc.Error
	if errors.As(err, &answer) {
		return fmt.Errorf("%w: %s: %v", rule, fmt.Sprintf(format, args...), err)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// verifyStorage checks an eth_getProof answer for the Bridge against root
// and returns the values of slots, in order, as the proofs show them (the
// answer's own values are not read).
func verifyStorage(root common.Hash, p *gethclient.AccountResult, slots []common.Hash) ([]common.Hash, error) {
	if p.Address != bridge.BridgeAddress || len(p.StorageProof) != len(slots) {
		return nil, fmt.Errorf("a proof of %v with %d slots, asked for the Bridge's %d", p.Address, len(p.StorageProof), len(slots))
	}
	nodes := func(list []string) ([]hexutil.Bytes, error) {
		out := make([]hexutil.Bytes, len(list))
		for i, s := range list {
			var err error
			if out[i], err = hexutil.Decode(s); err != nil {
				return nil, fmt.Errorf("proof node %d: %v", i, err)
			}
		}
		return out, nil
	}
	accountNodes, err := nodes(p.AccountProof)
	if err != nil {
		return nil, err
	}
	account, err := anchorproof.VerifyAccount(root, bridge.BridgeAddress, accountNodes)
	if err != nil {
		return nil, err
	}
	values := make([]common.Hash, len(slots))
	for i, s := range p.StorageProof {
		if common.HexToHash(s.Key) != slots[i] {
			return nil, fmt.Errorf("storage proof %d is of slot %s, asked for %v", i, s.Key, slots[i])
		}
		slotNodes, err := nodes(s.Proof)
		if err != nil {
			return nil, err
		}
		if values[i], err = anchorproof.VerifySlot(account.Root, slots[i], slotNodes); err != nil {
			return nil, err
		}
	}
	return values, nil
}

// strictCheck runs proveBatch, logging how long it took: each signing
// costs two RPC round trips to the node and one to the Bitcoin node.
func (s *LocalSigner) strictCheck(ctx context.Context, b *BatchToSign, final uint64) error {
	start := time.Now()
	err := s.cfg.Strict.proveBatch(ctx, s.cfg.Sidechain, s.fed.epoch, b, final)
	if err == nil {
		s.cfg.Log.Info("Batch proven from Bitcoin", "batch", b.ID, "version", b.Version, "block", final,
			"sighashes", len(b.Sighashes), "took", time.Since(start))
	}
	return err
}
