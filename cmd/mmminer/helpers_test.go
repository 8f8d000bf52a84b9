package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
)

// loadGBT reads a captured getblocktemplate answer from testdata.
func loadGBT(t testing.TB, name string) *btcjson.GetBlockTemplateResult {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var r btcjson.GetBlockTemplateResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func parseGBT(t *testing.T, name string) *btcTemplate {
	t.Helper()
	tmpl, err := parseTemplate(loadGBT(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
