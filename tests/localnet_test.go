package tests

// `make localnet` (bench/localnet.sh) end to end: the whole regtest network
// comes up, each federator reads the Bridge round after round, a
// transaction sent to a follower is mined and seen on every node, and
// Ctrl-C (SIGINT to the script) stops every process.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/mmgeth/mmgeth/tests/btcd"
)

// localnetBase finds 14 consecutive free TCP ports for the script's
// BASE_PORT layout (BASE..BASE+13).
func localnetBase(t *testing.T) int {
	t.Helper()
	for base := 30000 + int(time.Now().UnixNano()%2000)*10; base < 60000; base += 20 {
		free := true
		for p := base; p < base+14 && free; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no 14 free consecutive ports")
	return 0
}

func TestLocalnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd, three mmgeth nodes, mmminer and four mmfed")
	}
	btcdPath, _ := btcd.Install(t)
	for _, pkg := range []string{"./cmd/mmgeth", "./cmd/mmminer", "./cmd/mmfed"} {
		binary(t, pkg)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "bench", "localnet.sh"))
	cmd.Env = append(os.Environ(), "BASE_PORT="+strconv.Itoa(localnetBase(t)), "LOCALNET_DIR="+dir,
		"BIN_DIR="+binDir, "BTCD="+btcdPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "localnet.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once the script has exited
	var waitErr error
	var pids []int
	// However the test ends, nothing it started outlives it.
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	// Read the endpoints it prints, until the federation line ends them.
	var out strings.Builder
	// Buffered: the script prints a few lines, and this goroutine must
	// reach Wait whether or not the test still reads them.
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		waitErr = cmd.Wait()
		close(exited)
	}()
	rpcs := map[string]string{}
	lineRE := regexp.MustCompile(`^\s+(\S+)\s+pid=(\d+)\s+(?:(?:rpc|bitcoin-rpc|metrics)=)?(\S*)`)
	deadline := time.After(3 * time.Minute)
read:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				data, _ := os.ReadFile(filepath.Join(dir, "localnet.stderr"))
				t.Fatalf("localnet.sh exited before it was up:\n%s\n%s", out.String(), data)
			}
			out.WriteString(line + "\n")
			if m := lineRE.FindStringSubmatch(line); m != nil {
				pid, _ := strconv.Atoi(m[2])
				pids = append(pids, pid)
				rpcs[m[1]] = m[3]
			}
			if strings.HasPrefix(line, "Federation:") {
				break read
			}
		case <-deadline:
			t.Fatalf("localnet not up in 3 minutes:\n%s", out.String())
		}
	}
	t.Logf("localnet.sh printed:\n%s", out.String())
	if len(pids) != 9 {
		t.Fatalf("want 9 processes (btcd, miner, 2 followers, mmminer, relay, 3 federators), got pids %v", pids)
	}
	// Each federator is up: its metrics answer, and it has made rounds,
	// the first of which read the federation from the Bridge and checked
	// the member's key against it (a wrong key fails every round).
	fedRounds := func(i int) float64 {
		url := rpcs[fmt.Sprintf("federator%d", i)]
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("federator %d's metrics endpoint %q", i, url)
		}
		m := scrapeMetrics(t, url)
		if errs := value(t, m, "mmfed_federator_errors"); errs != 0 {
			t.Errorf("federator %d: %v failed rounds", i, errs)
		}
		return value(t, m, "mmfed_federator_rounds")
	}
	var rounds [3]float64
	for i := range rounds {
		if rounds[i] = fedRounds(i); rounds[i] < 1 {
			t.Errorf("federator %d: no round read the Bridge", i)
		}
	}
	nodes := map[string]*ethclient.Client{}
	for _, name := range []string{"miner", "follower1", "follower2"} {
		if !strings.HasPrefix(rpcs[name], "http://127.0.0.1:") {
			t.Fatalf("%s's endpoint %q", name, rpcs[name])
		}
		c, err := ethclient.Dial(rpcs[name])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		nodes[name] = c
	}

	// Hardhat's account #1 (the script's relay pays with #0) sends to a
	// fresh address through follower 1, which must pass it to the miner.
	ctx := context.Background()
	key, _ := crypto.HexToECDSA("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
	from := crypto.PubkeyToAddress(key.PublicKey)
	to := common.HexToAddress("0x000000000000000000000000000000000010ca1e")
	f1 := nodes["follower1"]
	waitFor(t, 60*time.Second, "follower 1 peered and past block 1", func() bool {
		n, err := f1.BlockNumber(ctx)
		return err == nil && n >= 1
	})
	chainID, err := f1.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := f1.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tip := big.NewInt(1e9)
	head, err := f1.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(4)), tip)
	value := big.NewInt(123456789)
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: 21000, To: &to, Value: value}), types.LatestSignerForChainID(chainID), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := f1.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for name, c := range nodes {
		waitFor(t, 90*time.Second, "the transaction mined, seen on "+name, func() bool {
			r, err := c.TransactionReceipt(ctx, tx.Hash())
			if err != nil || r.Status != types.ReceiptStatusSuccessful {
				return false
			}
			bal, err := c.BalanceAt(ctx, to, r.BlockNumber)
			return err == nil && bal.Cmp(value) == 0
		})
	}

	// The federators kept reading the Bridge meanwhile.
	for i := range rounds {
		if now := fedRounds(i); now <= rounds[i] {
			t.Errorf("federator %d: %v rounds, %v before the transaction: not running", i, now, rounds[i])
		}
	}

	// Ctrl-C: SIGINT to the script; every process must be gone after.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		var exit *exec.ExitError
		if !errors.As(waitErr, &exit) || exit.ExitCode() != 130 {
			t.Errorf("localnet.sh after SIGINT: %v, want exit status 130", waitErr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("localnet.sh still running 60 s after SIGINT")
	}
	for i, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d (pid %d) still there after the script stopped: %v", i, pid, err)
		}
	}
}
