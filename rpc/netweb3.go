// Follows go-ethereum v1.17.10 internal/ethapi/api.go (NetAPI) and node/api.go (web3), which geth keeps internal; ported
// because it cannot be imported. Differs: the network id and peer count come from the node.

package rpc

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// netAPI is the net namespace.
type netAPI struct{ s *Service }

// Version is the network id, in decimal as the spec has it.
func (api *netAPI) Version() string {
	return fmt.Sprintf("%d", api.s.cfg.NetworkID)
}

// Listening is always true: the RPC server answering is the node running.
func (api *netAPI) Listening() bool { return true }

func (api *netAPI) PeerCount() hexutil.Uint {
	if api.s.cfg.PeerCount == nil {
		return 0
	}
	return hexutil.Uint(api.s.cfg.PeerCount())
}

// web3API is the web3 namespace.
type web3API struct{ s *Service }

func (api *web3API) ClientVersion() string { return api.s.cfg.ClientVersion }

// Sha3 is keccak256 of the given bytes.
func (api *web3API) Sha3(input hexutil.Bytes) hexutil.Bytes {
	return crypto.Keccak256(input)
}
