// Command floor is the yardstick of bench/blocknumber-floor.sh: a JSON-RPC
// server over HTTP/1.1 that does the least a Go server can for
// eth_blockNumber. It reads each keep-alive connection on its own
// goroutine, as net/http and the node's front do, and answers every
// eth_blockNumber with a constant block number and the request's id: no
// chain, no deadlines, no checks beyond finding the body. It forwards other
// requests (loadgen's setup: chain id, balance, nonce, fees) to -node. It is
// a benchmark tool, not part of the node.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8547", "listening address")
	node := flag.String("node", "http://127.0.0.1:8545", "node the other methods go to")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c, *node)
	}
}

func serve(c net.Conn, node string) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	var out []byte
	for {
		length := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
			}
		}
		if length < 0 {
			return
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		answer, err := respond(body, node)
		if err != nil {
			log.Print(err)
			return
		}
		out = append(out[:0], "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "...)
		out = strconv.AppendInt(out, int64(len(answer)), 10)
		out = append(out, "\r\n\r\n"...)
		if _, err := c.Write(append(out, answer...)); err != nil {
			return
		}
	}
}

func respond(body []byte, node string) ([]byte, error) {
	if !bytes.Contains(body, []byte(`"eth_blockNumber"`)) {
		resp, err := http.Post(node, "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	id := []byte("null")
	if _, rest, ok := bytes.Cut(body, []byte(`"id":`)); ok {
		if end := bytes.IndexAny(rest, ",}"); end > 0 {
			id = bytes.TrimSpace(rest[:end])
		}
	}
	answer := append([]byte(`{"jsonrpc":"2.0","id":`), id...)
	return append(answer, `,"result":"0x1"}`...), nil
}
