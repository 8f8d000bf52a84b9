#!/usr/bin/env bash
# Network throughput on the testnet's gas limit and target spacing, on one
# machine, all on 127.0.0.1:
#   btcd (regtest) <- mmminer -> miner --- a
#                                     \--- b --- c      (c is two hops away)
# One mmgeth --mine node fed by mmminer, which merge-mines on btcd's regtest
# templates (regtest difficulty: nearly every hash is a Bitcoin block) at
# the sidechain target; three followers, c only peered with b. The network
# is the testnet spec (genesis/specs/testnet.json) with what a machine-local
# run must change: Bitcoin regtest, dev accounts to send from, a genesis at
# the current time, and a sidechain difficulty fitted to mmminer on regtest
# (HASHRATE hashes/s reach the sidechain: half of all hashes are Bitcoin
# blocks, and each one sends mmminer to btcd for a new template, so only a
# few hashes per round trip count; ASERT with a HALFLIFE-second half-life
# corrects a wrong guess during the warm-up). Gas limit and target spacing
# are the testnet's.
# bench/load keeps the miner's pool full of value transfers and token
# transfers (half each, to fresh recipients) from ACCOUNTS dev accounts and
# watches every node's newHeads over WebSocket. After WARMUP seconds it
# measures for DURATION seconds (default 300) and prints the Mgas/s the
# miner sealed, how far each follower fell behind the miner (must be at
# most one block), the deepest reorg (at most one block) and the block
# propagation delay per hop, p50 and p99.
#   bench/network.sh           DURATION=120 bench/network.sh
# KEEP=DIR keeps the nodes' logs there (goroutine dumps of any process that
# would not stop are in them).
# Needs curl, jq, python3 (admin_* over IPC) and the Go module proxy or
# cache for btcd (installed into .cache/bin as tests/btcd does).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-300}
WARMUP=${WARMUP:-90}
HASHRATE=${HASHRATE:-20}
HALFLIFE=${HALFLIFE:-30}
ACCOUNTS=${ACCOUNTS:-150}
BTCD_VERSION=v0.26.2 # tests/btcd.Version
for tool in curl jq python3; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmgeth-network-bench.XXXXXX")
PIDS=()
cleanup() { # TERM; 30 s later, a goroutine dump (SIGQUIT) of what still runs, then KILL
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 150); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-80)) did not stop in 30 s; killed" >&2
      kill -QUIT "$pid" 2>/dev/null; sleep 1; kill -9 "$pid" 2>/dev/null || true
    fi
  done
  [[ -n ${KEEP:-} ]] && { rm -rf "$KEEP"; cp -r "$WORK" "$KEEP"; echo "logs kept in $KEEP" >&2; }
  rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/mmgeth" ./cmd/mmgeth
go build -o "$WORK/mmminer" ./cmd/mmminer
go build -o "$WORK/load" ./bench/load
. bench/lib.sh
BIN=$ROOT/.cache/bin
if ! "$BIN/btcd" --version 2>/dev/null | grep -q "${BTCD_VERSION#v}"; then
  mkdir -p "$BIN"
  (cd "$WORK" && GOBIN=$BIN GO111MODULE=on go install "github.com/btcsuite/btcd@$BTCD_VERSION" "github.com/btcsuite/btcd/cmd/btcctl@$BTCD_VERSION")
fi

wait_until() { # wait_until SECONDS WHAT CMD...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { echo "timed out waiting for $what; logs in $WORK" >&2; tail -5 "$WORK"/*.log >&2; exit 1; }
    sleep 0.2
  done
}

echo "== btcd regtest"
BTC_PORT=$(free_port)
MINING_ADDR=$("$WORK/load" -print-mining-address)
"$BIN/btcd" --regtest --notls --nolisten --datadir="$WORK/btcd/data" --logdir="$WORK/btcd/logs" \
  --rpcuser=user --rpcpass=pass --rpclisten="127.0.0.1:$BTC_PORT" --miningaddr="$MINING_ADDR" >"$WORK/btcd.log" 2>&1 &
PIDS+=($!)
btcctl() { "$BIN/btcctl" --regtest --notls --rpcuser=user --rpcpass=pass --rpcserver="127.0.0.1:$BTC_PORT" "$@"; }
wait_until 60 "btcd RPC" btcctl getblockcount
btcctl generate 101 >/dev/null # getblocktemplate needs a recent tip

SPACING=$(jq .mergeMining.targetSpacing genesis/specs/testnet.json)
GASLIMIT=$(jq .gasLimit genesis/specs/testnet.json)
jq --argjson now "$(date +%s)" --argjson diff "$((SPACING * HASHRATE))" --argjson half "$HALFLIFE" --argjson accounts "$ACCOUNTS" '
  .name = "testnet-bench" | .local = true | .networkId = 77719 | .timestamp = $now - 1
  | .genesisDifficulty = $diff | .mergeMining.minDifficulty = 1 | .mergeMining.halfLife = $half
  | .bitcoin.network = "regtest" | .bitcoin.maxForkDepth = 100
  | .devMnemonic = "test test test test test test test test test test test junk"
  | .devAccounts = $accounts | .devBalanceBTC = 1000' genesis/specs/testnet.json >"$WORK/spec.json"
echo "== network: gas limit $GASLIMIT, target spacing $SPACING s ($(awk -v g="$GASLIMIT" -v s="$SPACING" 'BEGIN { printf "%.1f", g / s / 1e6 }') Mgas/s if every block is full)"

declare -A HTTP WS ENODE
rpc_up() { # rpc_up URL PID: 0 when RPC answers, 1 while starting, 2 if the process is gone
  rpc "$1" eth_chainId '[]' >/dev/null 2>&1 && return 0
  kill -0 "$2" 2>/dev/null || return 2
  return 1
}
start_node() { # start_node NAME [ARGS...]; another process may take a port free_port chose: retried
  local name=$1 pid attempt state; shift
  "$WORK/mmgeth" init --datadir "$WORK/$name" "$WORK/spec.json" >/dev/null
  for attempt in 1 2 3; do
    HTTP[$name]=http://127.0.0.1:$(free_port)
    WS[$name]=ws://127.0.0.1:$(free_port)
    "$WORK/mmgeth" --datadir "$WORK/$name" --port 0 --nodiscover --verbosity 3 \
      --http --http.port "${HTTP[$name]##*:}" --ws --ws.port "${WS[$name]##*:}" "$@" >>"$WORK/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 600); do
      state=0; rpc_up "${HTTP[$name]}" "$pid" || state=$?
      (( state == 1 )) || break
      sleep 0.2
    done
    (( state == 0 )) && break
    grep -q "address already in use" "$WORK/$name.log" || { echo "$name did not start; see its log" >&2; tail -5 "$WORK/$name.log" >&2; exit 1; }
  done
  (( state == 0 )) || { echo "$name did not start" >&2; exit 1; }
  ENODE[$name]=$(ipc "$WORK/$name/mmgeth.ipc" admin_nodeInfo '[]' | jq -r .enode)
}
start_node miner --mine --miner.etherbase 0x00000000000000000000000000000000000000e5
start_node a --bootnodes "${ENODE[miner]}"
start_node b --bootnodes "${ENODE[miner]}"
start_node c --bootnodes "${ENODE[b]}"
peers() { [[ $(rpc "${HTTP[$1]}" net_peerCount '[]' | tr -d '"') != 0x0 ]]; }
for n in a b c; do wait_until 60 "$n to peer" peers $n; done

echo "== mmminer (1 thread) on btcd and the miner"
"$WORK/mmminer" --btc.rpc "http://127.0.0.1:$BTC_PORT" --btc.user user --btc.pass pass \
  --rpc "${HTTP[miner]}" --threads 1 --poll 250ms >"$WORK/mmminer.log" 2>&1 &
PIDS+=($!)
mined() { (( $(printf '%d' "$(rpc "${HTTP[c]}" eth_blockNumber '[]' | tr -d '"')") >= 2 )); }
wait_until 120 "the first blocks to reach c" mined

echo "== load and watch: ${WARMUP} s warm-up, then ${DURATION} s measured"
"$WORK/load" -rpc "${HTTP[miner]}" -accounts "$ACCOUNTS" -pending 24 -batch 200 -token 0.5 \
  -duration "$((WARMUP + DURATION))s" -warmup "${WARMUP}s" \
  -watch "miner=${WS[miner]},a=${WS[a]},b=${WS[b]},c=${WS[c]}" -upstream "c=b"
