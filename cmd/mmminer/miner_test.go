package main

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	var b backoff
	now := time.Unix(1000, 0)
	if !b.due(now) || b.down() {
		t.Fatal("a fresh backoff must be due and up")
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i, w := range want {
		d := b.fail(now, time.Second)
		if d != w*time.Second {
			t.Fatalf("failure %d: delay %v, want %v", i+1, d, w*time.Second)
		}
		if !b.down() || b.due(now.Add(d-time.Millisecond)) || !b.due(now.Add(d)) {
			t.Fatalf("failure %d: due before %v or not after", i+1, d)
		}
	}
	if !b.succeed() {
		t.Error("succeed after failures must report the recovery")
	}
	if b.succeed() || !b.due(now) || b.down() || b.fail(now, time.Second) != time.Second {
		t.Error("succeed must reset the backoff")
	}
}

func TestSameSideWork(t *testing.T) {
	a, b := testWork(1000), testWork(1000)
	if !sameSideWork(a, b) || !sameSideWork(nil, nil) || sameSideWork(a, nil) || sameSideWork(nil, b) {
		t.Error("equality of equal or absent work")
	}
	for name, mutate := range map[string]func(w *sideWork){
		"seal":   func(w *sideWork) { w.seal[0]++ },
		"target": func(w *sideWork) { w.target[5]++ },
		"tag":    func(w *sideWork) { w.tag = []byte("OTHER:") },
	} {
		c := testWork(1000)
		mutate(c)
		if sameSideWork(a, c) {
			t.Errorf("%s change not seen", name)
		}
	}
}
