package node

import (
	"encoding/json"

	"github.com/mmgeth/mmgeth/miner"
)

// miningOffAPI answers the mnr_* calls on a node that does not mine. geth
// would answer "the method mnr_getWork does not exist/is not available",
// which leaves a pool operator guessing; this says what to do instead, with
// the method-not-found code, so clients treat it as that. Its methods take
// the parameters of miner.API's, so the hint comes whatever a pool sends.
type miningOffAPI struct{}

// errMiningOff is the answer of every miningOffAPI method.
var errMiningOff = &miningOffError{}

type miningOffError struct{}

func (*miningOffError) Error() string {
	return "this node does not serve merge-mining work: start mmgeth with --mine --miner.etherbase <address the blocks pay> to serve mnr_*"
}

// ErrorCode is JSON-RPC's method not found.
func (*miningOffError) ErrorCode() int { return -32601 }

func (miningOffAPI) GetWork() (*miner.MinerWork, error) { return nil, errMiningOff }

func (miningOffAPI) SubmitBitcoinBlock(string) (*miner.SubmittedBlockInfo, error) {
	return nil, errMiningOff
}

func (miningOffAPI) SubmitBitcoinBlockTransactions(*json.RawMessage, string, string, string) (*miner.SubmittedBlockInfo, error) {
	return nil, errMiningOff
}

func (miningOffAPI) SubmitBitcoinBlockPartialMerkle(*json.RawMessage, string, string, string, string) (*miner.SubmittedBlockInfo, error) {
	return nil, errMiningOff
}
