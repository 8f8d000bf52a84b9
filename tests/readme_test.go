package tests

// TestReadme runs the shell blocks of README.md, in order, on a fresh clone
// of this checkout's HEAD, as a reader would in one terminal session: every
// command must succeed as written, except for these substitutions, which
// keep the run off ports other programs may hold:
//
//   - ports 8545, 8546, 8555 and 18334 become free ones, and a node command
//     that relies on the default HTTP port gets --http.port (make run gets
//     PORT=, make localnet a BASE_PORT= of 14 free ports); the testnet
//     node, whose devp2p port does not fall back, gets --port 0;
//   - `make test` is skipped: this test is part of it.
//
// A line ending in a backslash (outside a comment) continues on the next,
// as in a shell. A node, btcd, mmminer, an mmfed daemon (relay, run,
// signer) or make localnet started in the foreground is what a reader
// leaves running in a terminal: the test starts it in the background, waits
// until it serves (a follower: until it has synced a block; mmminer: until
// the sidechain has merge-mined blocks; mmfed signer: until its socket is
// there; localnet: until it prints that it is up), and stops it, as Ctrl-C
// would, when the next server starts. Servers the README starts with & run to the end
// of their section, or on through the next sections whose prose before
// their first shell block says they work on the "network above". Tools come
// from tests/tooling (cast), btcd and btcctl from the README's own go install.
//
//	MMGETH_TOOLING_DIR=… go test ./tests/ -run TestReadme -v

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is one ```sh block of the README and the section it is in.
type readmeBlock struct {
	section string
	lines   []string
	// continues: the section's prose before this block says it works on
	// the "network above", whose & servers keep running.
	continues bool
}

func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var section, prose string
	var cur *readmeBlock
	continued := false // the last line of cur ended in a backslash
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			if continued {
				t.Fatalf("README: shell block in %s ends in a backslash", section)
			}
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			joined := line
			if continued {
				last := len(cur.lines) - 1
				joined = cur.lines[last] + " " + strings.TrimSpace(line)
				cur.lines = cur.lines[:last]
			}
			body, cont := strings.CutSuffix(strings.TrimRight(joined, " \t"), "\\")
			if c := stripComment(joined); strings.HasPrefix(c, "#") || !strings.HasSuffix(c, "\\") {
				body, cont = joined, false // a comment's backslash continues nothing
			}
			continued = cont
			if strings.TrimSpace(body) != "" || cont {
				cur.lines = append(cur.lines, strings.TrimRight(body, " \t"))
			}
		case strings.HasPrefix(line, "```sh"):
			cur = &readmeBlock{section: section, continues: strings.Contains(prose, "network above")}
			prose = ""
		case strings.HasPrefix(line, "#"):
			section, prose = line, ""
		default:
			prose += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("README: unterminated shell block in %s", section)
	}
	return blocks
}

// stripComment drops a shell comment: a # after a blank, outside quotes.
func stripComment(line string) string {
	var quote rune
	for i, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && i > 0 && (line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimSpace(line[:i])
		}
	}
	return strings.TrimSpace(line)
}

// readmeRun is the terminal session: one bash reading commands on fd 3 and
// reporting each command's status and $! on fd 4.
type readmeRun struct {
	t       *testing.T
	dir     string
	ports   map[string]int
	cmds    *os.File
	done    *bufio.Reader
	logPath string

	fg      *readmeServer   // the foreground server left running
	section []*readmeServer // servers started with & in this section

	localnetBase int // BASE_PORT for make localnet
}

type readmeServer struct {
	line string
	pid  int
}

func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end README test: skipped with -short")
	}
	tools := installTooling(t)
	root := repoRoot(t)
	work := t.TempDir()
	clone := filepath.Join(work, "mmgeth")
	if out, err := exec.Command("git", "clone", "--quiet", root, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	http := freePortPair(t)
	others := freePorts(t, 2)
	r := &readmeRun{t: t, dir: clone, logPath: filepath.Join(work, "session.log"),
		ports:        map[string]int{"8545": http, "8546": http + 1, "8555": others[0], "18334": others[1]},
		localnetBase: localnetBase(t)}
	r.start(tools)

	blocks := readmeBlocks(t, filepath.Join(clone, "README.md"))
	if len(blocks) < 4 {
		t.Fatalf("README has %d shell blocks", len(blocks))
	}
	start := time.Now()
	var section string
	for _, b := range blocks {
		if b.section != section {
			if !b.continues {
				r.endSection()
			}
			section = b.section
		}
		for _, line := range b.lines {
			r.line(line)
		}
	}
	r.endSection()
	r.stopFg()
	t.Logf("README: %d blocks run in %s", len(blocks), time.Since(start).Round(time.Second))
}

// freePortPair is a free port whose successor is free too (make run's
// HTTP and WebSocket ports).
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := freePorts(t, 1)[0]
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no pair of free ports")
	return 0
}

func (r *readmeRun) start(tools *tooling) {
	t := r.t
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	doneR, doneW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Each line is eval'd in the one shell, so variables (ADDR=, export
	// PATH=) carry over as in a terminal; stdin is /dev/null. Its status
	// is kept in __status: by the next line, $? is the loop's read's.
	sh := exec.Command("bash", "-c", `while IFS= read -r -u 3 __line; do eval "$__line"; __status=$?; done`)
	sh.Dir = r.dir
	// A fresh HOME keeps the session out of the user's, but Go's module
	// and build caches stay where they are: the clone builds offline.
	sh.Env = append(os.Environ(),
		"PATH="+filepath.Join(tools.dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+filepath.Join(filepath.Dir(r.dir), "home"),
		"FOUNDRY_DISABLE_NIGHTLY_WARNING=1", "NO_COLOR=1")
	for _, v := range []string{"GOPATH", "GOMODCACHE", "GOCACHE"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		sh.Env = append(sh.Env, v+"="+strings.TrimSpace(string(out)))
	}
	os.MkdirAll(filepath.Join(filepath.Dir(r.dir), "home"), 0o755)
	sh.Stdout, sh.Stderr = logFile, logFile
	sh.ExtraFiles = []*os.File{cmdR, doneW}
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	doneW.Close()
	r.cmds, r.done = cmdW, bufio.NewReader(doneR)
	t.Cleanup(func() {
		r.endSection()
		r.stopFg()
		cmdW.Close()
		syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		sh.Wait()
		logFile.Close()
		if t.Failed() {
			t.Logf("README session log (%s):\n%s", r.logPath, tailFile(r.logPath, 120))
		}
	})
}

// exec runs one line in the session and returns its status and $!.
func (r *readmeRun) exec(line string, timeout time.Duration) (status, bgPid int) {
	r.t.Helper()
	fmt.Fprintf(r.cmds, "echo '$ %s'\n%s\necho \"$__status $!\" >&4\n", strings.ReplaceAll(line, "'", `'\''`), line)
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() { s, err := r.done.ReadString('\n'); ch <- result{s, err} }()
	select {
	case res := <-ch:
		if res.err != nil {
			r.t.Fatalf("%s: the shell ended: %v", line, res.err)
		}
		fields := strings.Fields(res.s)
		status, _ = strconv.Atoi(fields[0])
		if len(fields) > 1 {
			bgPid, _ = strconv.Atoi(fields[1])
		}
		return status, bgPid
	case <-time.After(timeout):
		r.t.Fatalf("%s: still running after %s", line, timeout)
	}
	return 0, 0
}

// substitute applies the port substitutions of the package comment.
func (r *readmeRun) substitute(line string) string {
	line = stripComment(line)
	for from, to := range r.ports {
		line = strings.ReplaceAll(line, from, strconv.Itoa(to))
	}
	bg := strings.HasSuffix(line, "&")
	line = strings.TrimSpace(strings.TrimSuffix(line, "&"))
	fields := commandFields(line)
	switch {
	case isMake(fields, "run") && !strings.Contains(line, "PORT="):
		line += " PORT=" + strconv.Itoa(r.ports["8545"])
	case isMake(fields, "localnet") && !strings.Contains(line, "BASE_PORT="):
		line = "BASE_PORT=" + strconv.Itoa(r.localnetBase) + " " + line
	case isNodeCommand(fields) && !strings.Contains(line, "--http.port"):
		line += " --http.port " + strconv.Itoa(r.ports["8545"])
	}
	if isNodeCommand(fields) && strings.Contains(line, "--testnet") && !strings.Contains(line, "--port") {
		line += " --port 0"
	}
	if bg {
		line += " &"
	}
	return line
}

// commandFields is a command line's words after its leading environment
// assignments (MMGETH_VERBOSITY=2 mmgeth ...).
func commandFields(line string) []string {
	fields := strings.Fields(line)
	for len(fields) > 0 && strings.Contains(fields[0], "=") && !strings.HasPrefix(fields[0], "-") {
		fields = fields[1:]
	}
	return fields
}

// isNodeCommand: mmgeth without a subcommand runs a node.
func isNodeCommand(fields []string) bool {
	return len(fields) >= 2 && fields[0] == "mmgeth" && strings.HasPrefix(fields[1], "--")
}

func isMake(fields []string, target string) bool {
	return len(fields) >= 2 && fields[0] == "make" && fields[1] == target
}

func isServer(line string) bool {
	fields := commandFields(line)
	if len(fields) == 0 {
		return false
	}
	return isNodeCommand(fields) || fields[0] == "btcd" || fields[0] == "mmminer" ||
		(fields[0] == "mmfed" && len(fields) > 1 && slices.Contains([]string{"relay", "run", "signer"}, fields[1])) ||
		isMake(fields, "run") || isMake(fields, "localnet")
}

func (r *readmeRun) line(raw string) {
	t := r.t
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(raw), "make test") {
		t.Logf("README: skipped %q (this test is part of it)", raw)
		return
	}
	line := r.substitute(raw)
	if !isServer(line) {
		start := time.Now()
		if status, _ := r.exec(line, 10*time.Minute); status != 0 {
			t.Fatalf("README command failed (status %d): %s", status, line)
		}
		t.Logf("$ %s (%s)", line, time.Since(start).Round(time.Millisecond))
		return
	}
	// Starting a server stops the one the reader left in the foreground.
	r.stopFg()
	bg := strings.HasSuffix(line, "&")
	cmd := line
	if !bg {
		cmd += " &"
	}
	_, pid := r.exec(cmd, time.Minute)
	s := &readmeServer{line: line, pid: pid}
	if bg {
		r.section = append(r.section, s)
	} else {
		r.fg = s
	}
	r.waitServing(s)
}

// waitServing waits until the server s started serves what it is for.
func (r *readmeRun) waitServing(s *readmeServer) {
	t := r.t
	t.Helper()
	fields := commandFields(strings.TrimSuffix(s.line, "&"))
	start := time.Now()
	ready := func() bool { return true }
	timeout := time.Minute
	flag := func(name string) string {
		for i, f := range fields {
			if f == name && i+1 < len(fields) {
				return fields[i+1]
			}
			if v, ok := strings.CutPrefix(f, name+"="); ok {
				return v
			}
		}
		return ""
	}
	blockNumber := func(url string) int64 {
		var n string
		if err := rpcCall(context.Background(), url, &n, "eth_blockNumber"); err != nil {
			return -1
		}
		v, _ := strconv.ParseInt(strings.TrimPrefix(n, "0x"), 16, 64)
		return v
	}
	switch {
	case isMake(fields, "localnet"):
		timeout = 10 * time.Minute // it builds first, and may install btcd
		ready = func() bool {
			data, _ := os.ReadFile(r.logPath)
			return strings.Contains(string(data), "localnet is up")
		}
	case fields[0] == "make" || fields[0] == "mmgeth":
		port := flag("--http.port")
		if fields[0] == "make" {
			port = flag("PORT")
			timeout = 10 * time.Minute // it builds first
		}
		url := "http://127.0.0.1:" + port
		ready = func() bool { return blockNumber(url) >= 0 }
		if strings.Contains(s.line, "--bootnodes") {
			// A follower serves once it has synced the sealer's blocks.
			ready = func() bool { return blockNumber(url) >= 1 }
		}
	case fields[0] == "btcd":
		ready = func() bool {
			c, err := net.Dial("tcp", flag("--rpclisten"))
			if err == nil {
				c.Close()
			}
			return err == nil
		}
	case fields[0] == "mmminer":
		url := flag("--rpc")
		timeout = 3 * time.Minute
		ready = func() bool { return blockNumber(url) >= 2 }
	case fields[0] == "mmfed":
		if fields[1] == "signer" {
			sock := cmp.Or(flag("--socket"), filepath.Join(flag("--datadir"), "signer.sock"))
			ready = func() bool { _, err := os.Stat(filepath.Join(r.dir, sock)); return err == nil }
		}
	}
	for !ready() {
		if syscall.Kill(s.pid, 0) != nil {
			t.Fatalf("README server exited: %s", s.line)
		}
		if time.Since(start) > timeout {
			t.Fatalf("README server not serving after %s: %s", timeout, s.line)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("$ %s (serving after %s)", s.line, time.Since(start).Round(time.Millisecond))
}

func (r *readmeRun) stopFg() {
	if r.fg != nil {
		stopTree(r.fg.pid)
		r.fg = nil
	}
}

func (r *readmeRun) endSection() {
	for i := len(r.section) - 1; i >= 0; i-- {
		stopTree(r.section[i].pid)
	}
	r.section = nil
}

// stopTree interrupts pid and its descendants, as Ctrl-C does to a
// terminal's foreground job (make run's mmgeth is make's child), and waits
// for them to exit; SIGKILL after 20 s.
func stopTree(pid int) {
	pids := append(descendants(pid), pid)
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGINT)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range pids {
		for syscall.Kill(p, 0) == nil && !zombie(p) {
			if time.Now().After(deadline) {
				syscall.Kill(p, syscall.SIGKILL)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// descendants lists pid's children, grandchildren first, from /proc.
func descendants(pid int) []int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(data)) {
		child, err := strconv.Atoi(f)
		if err == nil {
			out = append(append(out, descendants(child)...), child)
		}
	}
	return out
}

// zombie: an exited child of the session's shell not reaped yet.
func zombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return strings.HasPrefix(rest, "Z")
}
