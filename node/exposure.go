package node

import (
	"net"

	"github.com/ethereum/go-ethereum/log"
)

// warnExposure warns, loudly, when a dev node's RPC listens beyond
// loopback. A dev node signs with its prefunded accounts for anyone who
// asks (eth_sendTransaction, personal_sign) and rewrites its chain on
// request (evm_revert); geth's --dev says nothing when bound to 0.0.0.0.
// mmgeth has no unlocked accounts outside dev mode.
func (n *Node) warnExposure() {
	if !n.cfg.Dev {
		return
	}
	var exposed []string
	if n.http != nil && !isLoopback(n.http.listener.Addr()) {
		exposed = append(exposed, n.HTTPEndpoint())
	}
	if n.ws != nil && !isLoopback(n.ws.listener.Addr()) {
		exposed = append(exposed, n.WSEndpoint())
	}
	if len(exposed) == 0 {
		return
	}
	log.Warn("**************************************************************************")
	log.Warn("DEV NODE REACHABLE BEYOND THIS MACHINE: its RPC signs with the unlocked dev")
	log.Warn("accounts and serves evm_*, personal_* and debug_* to anyone who connects.")
	log.Warn("Bind --http.addr/--ws.addr to 127.0.0.1 unless this network is yours alone.", "endpoints", exposed)
	log.Warn("**************************************************************************")
}

// isLoopback reports whether a listener's address is a loopback one; the
// unspecified address (0.0.0.0, ::) is every interface, so not.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
