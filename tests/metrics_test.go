package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestMetricsPrometheus scrapes a dev node started with --metrics: the page
// must be valid Prometheus text exposition format, the head gauge must match
// eth_blockNumber, and the merged-mining gauges must hold sane values.
func TestMetricsPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	bin := binary(t, "./cmd/mmgeth")
	dir := t.TempDir()
	ports := freePorts(t, 2)
	url := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	scrape := fmt.Sprintf("http://127.0.0.1:%d/debug/metrics/prometheus", ports[1])
	p := startProcess(t, "mmgeth", []string{bin, "--dev", "--ipcdisable", "--http.port", strconv.Itoa(ports[0]),
		"--metrics", "--metrics.port", strconv.Itoa(ports[1])}, dir, filepath.Join(dir, "node.log"))
	p.waitRPC(t, url, 2*time.Minute)
	for i := 0; i < 3; i++ {
		var ok string
		if err := rpcCall(context.Background(), url, &ok, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	var number hexutil.Uint64
	if err := rpcCall(context.Background(), url, &number, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}

	var m map[string][]promSample
	deadline := time.Now().Add(30 * time.Second)
	for {
		m = scrapeMetrics(t, scrape)
		// The merged-mining gauges follow the head on a timer.
		if value(t, m, "mmgeth_chain_head") == float64(number) && !math.IsNaN(value(t, m, "mmgeth_mergemining_proofage")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mmgeth_chain_head %v, proof age %v; eth_blockNumber %d",
				value(t, m, "mmgeth_chain_head"), value(t, m, "mmgeth_mergemining_proofage"), number)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if v := value(t, m, "mmgeth_chain_imported"); v < 3 {
		t.Errorf("mmgeth_chain_imported %v after 3 blocks", v)
	}
	if v := value(t, m, "mmgeth_mergemining_proofage"); v < 0 || v > 600 {
		t.Errorf("proof age %v s for a block sealed just now", v)
	}
	difficulty := value(t, m, "mmgeth_mergemining_difficulty")
	if difficulty < 3 { // the dev network's minimum
		t.Errorf("difficulty %v", difficulty)
	}
	if v := value(t, m, "mmgeth_mergemining_hashrate"); v != difficulty { // dev target spacing: 1 s
		t.Errorf("hash rate %v, want difficulty/1s = %v", v, difficulty)
	}
	if v := value(t, m, "mmgeth_mergemining_bitcoinshare"); !(v >= 0 && v <= 1) {
		t.Errorf("share of Bitcoin blocks %v", v)
	}
	for _, name := range []string{"mmgeth_p2p_peers", "mmgeth_txpool_pending", "mmgeth_txpool_queued"} {
		if v := value(t, m, name); v != 0 {
			t.Errorf("%s = %v on an idle dev node", name, v)
		}
	}
}

// TestParsePrometheusRejectsBadInput keeps the validator honest: each page
// breaks one rule of the format.
func TestParsePrometheusRejectsBadInput(t *testing.T) {
	good := "# HELP a_b help text\n# TYPE a_b gauge\na_b 1.5\n\n# TYPE s summary\ns {quantile=\"0.5\"} 2\ns_count 3\nc{x=\"a\\\"b\",y=\"\"} NaN 1700000000\n"
	m, err := parsePrometheus(strings.NewReader(good))
	if err != nil {
		t.Fatalf("valid page refused: %v", err)
	}
	if m["a_b"][0].value != 1.5 || m["c"][0].labels["x"] != `a"b` || !math.IsNaN(m["c"][0].value) || m["s_count"][0].value != 3 {
		t.Fatalf("valid page misread: %v", m)
	}
	for name, page := range map[string]string{
		"empty":               "",
		"bad metric name":     "1abc 1\n",
		"dash in name":        "a-b 1\n",
		"bad value":           "a 1,5\n",
		"hex value":           "a 0x10\n",
		"no value":            "a\n",
		"bad timestamp":       "a 1 1.5\n",
		"extra field":         "a 1 2 3\n",
		"bad type":            "# TYPE a gouge\na 1\n",
		"second type":         "# TYPE a gauge\n# TYPE a counter\na 1\n",
		"type after samples":  "a 1\n# TYPE a gauge\n",
		"second help":         "# HELP a x\n# HELP a y\na 1\n",
		"unterminated label":  "a{x=\"1} 1\n",
		"unquoted label":      "a{x=1} 1\n",
		"bad label name":      "a{1x=\"1\"} 1\n",
		"duplicate label":     "a{x=\"1\",x=\"2\"} 1\n",
		"bad escape":          "a{x=\"\\t\"} 1\n",
		"summary no quantile": "# TYPE s summary\ns 1\n",
	} {
		if _, err := parsePrometheus(strings.NewReader(page)); err == nil {
			t.Errorf("%s: %q accepted", name, page)
		}
	}
}

func value(t *testing.T, m map[string][]promSample, name string) float64 {
	t.Helper()
	s := m[name]
	if len(s) != 1 || len(s[0].labels) != 0 {
		t.Fatalf("metric %s: %d samples %v, want one unlabelled", name, len(s), s)
	}
	return s[0].value
}

func scrapeMetrics(t *testing.T, url string) map[string][]promSample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %s, Content-Type %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	m, err := parsePrometheus(resp.Body)
	if err != nil {
		t.Fatalf("%s is not Prometheus text format: %v", url, err)
	}
	return m
}

type promSample struct {
	labels map[string]string
	value  float64
}

var (
	promName      = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
	promValue     = regexp.MustCompile(`^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?Inf|NaN)$`)
	promTypes     = map[string]bool{"counter": true, "gauge": true, "histogram": true, "summary": true, "untyped": true}
)

// parsePrometheus checks a page against the Prometheus text exposition
// format (version 0.0.4) and returns its samples by metric name: HELP and
// TYPE lines at most once per family and TYPE before the family's samples,
// valid metric and label names, quoted and escaped label values, float
// values and optional integer timestamps.
func parsePrometheus(r io.Reader) (map[string][]promSample, error) {
	var (
		samples = map[string][]promSample{}
		types   = map[string]string{}
		helps   = map[string]bool{}
		seen    = map[string]bool{} // families with samples already
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if err := parsePromLine(text, samples, types, helps, seen); err != nil {
			return nil, fmt.Errorf("line %d %q: %w", line, text, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("no samples")
	}
	return samples, nil
}

func parsePromLine(text string, samples map[string][]promSample, types map[string]string, helps, seen map[string]bool) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if rest, ok := strings.CutPrefix(text, "#"); ok {
		fields := strings.Fields(rest)
		if len(fields) < 2 || (fields[0] != "HELP" && fields[0] != "TYPE") {
			return nil // a plain comment
		}
		name := fields[1]
		if promName.FindString(name) != name {
			return fmt.Errorf("invalid metric name %q", name)
		}
		if fields[0] == "HELP" {
			if helps[name] {
				return fmt.Errorf("second HELP for %s", name)
			}
			helps[name] = true
			return nil
		}
		if len(fields) != 3 || !promTypes[fields[2]] {
			return fmt.Errorf("invalid TYPE line")
		}
		if types[name] != "" {
			return fmt.Errorf("second TYPE for %s", name)
		}
		if seen[name] {
			return fmt.Errorf("TYPE for %s after its samples", name)
		}
		types[name] = fields[2]
		return nil
	}

	name := promName.FindString(text)
	if name == "" {
		return fmt.Errorf("no metric name")
	}
	rest := text[len(name):]
	labels := map[string]string{}
	if trimmed := strings.TrimLeft(rest, " \t"); strings.HasPrefix(trimmed, "{") {
		var err error
		if labels, rest, err = parsePromLabels(trimmed[1:]); err != nil {
			return err
		}
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 || (rest[0] != ' ' && rest[0] != '\t') {
		return fmt.Errorf("want a blank, a value and an optional timestamp after the name and labels")
	}
	if !promValue.MatchString(fields[0]) {
		return fmt.Errorf("invalid value %q", fields[0])
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
	}
	family := name
	for _, suffix := range []string{"_sum", "_count", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && (types[base] == "summary" || types[base] == "histogram") {
			family = base
		}
	}
	switch {
	case types[family] == "summary" && family == name && labels["quantile"] == "":
		return fmt.Errorf("summary sample without a quantile")
	case types[family] == "histogram" && name == family+"_bucket" && labels["le"] == "":
		return fmt.Errorf("histogram bucket without le")
	}
	seen[family] = true
	samples[name] = append(samples[name], promSample{labels: labels, value: v})
	return nil
}

// parsePromLabels parses `name="value",...}` and returns the rest after '}'.
func parsePromLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t")
		if rest, ok := strings.CutPrefix(s, "}"); ok {
			return labels, rest, nil
		}
		name := promLabelName.FindString(s)
		if name == "" {
			return nil, "", fmt.Errorf("invalid label name at %q", s)
		}
		if _, dup := labels[name]; dup {
			return nil, "", fmt.Errorf("label %s twice", name)
		}
		s = strings.TrimLeft(s[len(name):], " \t")
		if !strings.HasPrefix(s, `="`) {
			return nil, "", fmt.Errorf("label %s: want =\"", name)
		}
		s = s[2:]
		var value strings.Builder
		for {
			if s == "" {
				return nil, "", fmt.Errorf("label %s: unterminated value", name)
			}
			c := s[0]
			s = s[1:]
			if c == '"' {
				break
			}
			if c == '\\' {
				if s == "" {
					return nil, "", fmt.Errorf("label %s: dangling escape", name)
				}
				switch s[0] {
				case '\\', '"':
					value.WriteByte(s[0])
				case 'n':
					value.WriteByte('\n')
				default:
					return nil, "", fmt.Errorf("label %s: invalid escape \\%c", name, s[0])
				}
				s = s[1:]
				continue
			}
			if c == '\n' {
				return nil, "", fmt.Errorf("label %s: raw newline", name)
			}
			value.WriteByte(c)
		}
		labels[name] = value.String()
		s = strings.TrimLeft(s, " \t")
		if rest, ok := strings.CutPrefix(s, ","); ok {
			s = rest
		} else if !strings.HasPrefix(s, "}") {
			return nil, "", fmt.Errorf("label %s: want , or }", name)
		}
	}
}
