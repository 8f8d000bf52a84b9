package main

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

func TestParseSideWork(t *testing.T) {
	seal := "0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b"
	target := "0x000346dc5d63886594af4f0d844d013a92a305532617c1bda5119ce075f6fd21"
	w, err := parseSideWork(&mnrWorkJSON{BlockHashForMergedMining: seal, Target: target, Notify: true, ParentBlockHash: "0x01", Tag: testTag})
	if err != nil {
		t.Fatal(err)
	}
	if hexBytes(w.seal[:]) != seal || hexBytes(w.target[:]) != target || string(w.tag) != string(testTag) || !w.notify || w.parent != "0x01" {
		t.Errorf("work %+v", w)
	}
	// rskj sends no tag: Rootstock's is meant; a short target is a number.
	w, err = parseSideWork(&mnrWorkJSON{BlockHashForMergedMining: seal, Target: "0x0100"})
	if err != nil {
		t.Fatal(err)
	}
	if string(w.tag) != "RSKBLOCK:" || w.target != [32]byte{30: 1} {
		t.Errorf("tag %q target %x", w.tag, w.target)
	}
	bad := []struct {
		seal, target, want string
	}{
		{seal[:64], target, "invalid blockHashForMergedMining"},
		{seal + "00", target, "invalid blockHashForMergedMining"},
		{"0xzz", target, "invalid blockHashForMergedMining"},
		{seal, "0x" + strings.Repeat("ff", 33), "invalid target"},
		{seal, "", "target is zero"},
		{seal, "0x" + strings.Repeat("00", 32), "target is zero"},
	}
	for _, b := range bad {
		if _, err := parseSideWork(&mnrWorkJSON{BlockHashForMergedMining: b.seal, Target: b.target}); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("seal %q target %q: got %v, want %q", b.seal, b.target, err, b.want)
		}
	}
}

// mnrTestService records a submission the way a Rootstock node's mnr
// module receives it.
type mnrTestService struct {
	got []string
	err error
}

func (s *mnrTestService) GetWork() map[string]any {
	return map[string]any{
		"blockHashForMergedMining": "0x147befba26394e0e60ba29a65fd59a208ac3466b0bb5b2cf313eb61c0024828b",
		"target":                   "0x000346dc5d63886594af4f0d844d013a92a305532617c1bda5119ce075f6fd21",
		"feesPaidToMiner":          "0", "notify": false, "parentBlockHash": "0x00", "tag": "0x" + hex.EncodeToString(testTag),
	}
}

type mnrTestError struct{}

func (mnrTestError) Error() string {
	return "Cannot publish block, could not find hash 0x00 in the cache"
}
func (mnrTestError) ErrorCode() int { return -33000 }

func (s *mnrTestService) SubmitBitcoinBlockPartialMerkle(blockHash, header, coinbase, hashes, count string) (map[string]any, error) {
	s.got = []string{blockHash, header, coinbase, hashes, count}
	if s.err != nil {
		return nil, s.err
	}
	return map[string]any{"blockImportedResult": "0x494d504f525445445f42455354", "blockHash": "0xab", "blockIncludedHeight": "0x2a"}, nil
}

func TestSideRPC(t *testing.T) {
	svc := &mnrTestService{}
	srv := gethrpc.NewServer()
	if err := srv.RegisterName("mnr", svc); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Stop() })
	side, err := newSideRPC(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer side.close()

	w, err := side.getWork(context.Background())
	if err != nil || string(w.tag) != string(testTag) {
		t.Fatalf("work %+v, %v", w, err)
	}
	p := &partialMerkleParams{blockHash: "b", header: "h", coinbase: "c", hashes: "x y", txCount: "2"}
	res, err := side.submit(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != "IMPORTED_BEST" || res.height != 42 || res.hash != "0xab" {
		t.Errorf("result %+v", res)
	}
	if strings.Join(svc.got, ",") != "b,h,c,x y,2" {
		t.Errorf("node received %q", svc.got)
	}

	svc.err = mnrTestError{}
	if _, err := side.submit(context.Background(), p); !isNodeAnswer(err) || !strings.Contains(err.Error(), "could not find hash") {
		t.Errorf("rejection: got %v (node answer %v)", err, isNodeAnswer(err))
	}
	hs.Close()
	if _, err := side.getWork(context.Background()); err == nil || isNodeAnswer(err) {
		t.Errorf("node down: got %v, want a transport error", err)
	}
	for _, bad := range []string{"gopher://x", "ws://127.0.0.1:8546", "http://"} {
		if _, err := newSideRPC(bad); err == nil || !strings.Contains(err.Error(), "invalid --rpc") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
	if isNodeAnswer(errors.New("connection refused")) {
		t.Error("a plain error is not a node answer")
	}
}
