package node

func (n *Node) setupMetrics() error { return nil }
