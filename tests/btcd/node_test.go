package btcd

import (
	"net"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript/v2"
)

// TestStart checks a started node is at height 101, pays the mining
// address, and hands out templates with a full coinbase.
func TestStart(t *testing.T) {
	n := Start(t)
	if got := n.Ctl(t, "getblockcount"); got != "101" {
		t.Fatalf("height %s, want 101", got)
	}
	hash, err := n.Client.GetBlockHash(101)
	if err != nil {
		t.Fatal(err)
	}
	block, err := n.Client.GetBlock(hash)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := MiningAddress()
	if err != nil {
		t.Fatal(err)
	}
	want, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := block.Transactions[0].TxOut[0].PkScript; string(got) != string(want) {
		t.Errorf("coinbase pays %x, want %x (%s)", got, want, n.MiningAddr)
	}
	tmpl, err := n.Client.GetBlockTemplate(&btcjson.TemplateRequest{Capabilities: []string{"coinbasetxn"}})
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Height != 102 || tmpl.PreviousHash != hash.String() || tmpl.CoinbaseTxn == nil {
		t.Fatalf("template height %d prev %s coinbasetxn %v, want 102 on %s with a coinbase", tmpl.Height, tmpl.PreviousHash, tmpl.CoinbaseTxn != nil, hash)
	}
}

// TestProxy takes a node away and brings it back through a proxy.
func TestProxy(t *testing.T) {
	n := Start(t)
	p := StartProxy(t, n.RPCAddr)
	c, err := rpcclient.New(&rpcclient.ConnConfig{Host: p.Addr, User: n.User, Pass: n.Pass, HTTPPostMode: true, DisableTLS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	if h, err := c.GetBlockCount(); err != nil || h != 101 {
		t.Fatalf("through the proxy: height %d, %v", h, err)
	}
	p.Down()
	// rpcclient retries for a while; a bare dial shows the port is closed.
	if conn, err := net.Dial("tcp", p.Addr); err == nil {
		conn.Close()
		t.Fatal("the proxy is down but accepts connections")
	}
	p.Up(t)
	if h, err := c.GetBlockCount(); err != nil || h != 101 {
		t.Fatalf("proxy back up: height %d, %v", h, err)
	}
}
