#!/usr/bin/env bash
# loadgen's eth_blockNumber phase against mmgeth --dev, anvil and
# bench/floor (the least a Go server can do for the call: a constant
# answer, no node), all alive side by side, ROUNDS times in rotating order.
# Prints each server's median rate, its median ratio to anvil in the same
# round, its CPU (user+system, from /proc) per request and loadgen's: where
# mmgeth stands between the floor of its language and its peer, and how
# much of the machine the client itself takes.
#   PEERS=... ROUNDS=10 PORT=8545 bench/blocknumber-floor.sh [-c 8 -t 3s]
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-${TMPDIR:-/tmp}/mmgeth-peers}
LOADGEN=$PEERS/bin/loadgen
ANVIL=$PEERS/bin/anvil
ROUNDS=${ROUNDS:-10}
PORT=${PORT:-8545} # the servers take PORT, PORT+1 and PORT+2
[[ -x $LOADGEN && -x $ANVIL ]] || { echo "run ../shared/tools/peers.sh install first" >&2; exit 2; }
go build -o build/bin/mmgeth ./cmd/mmgeth
go build -o build/bin/floor ./bench/floor

OUT=$(mktemp)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -f "$OUT" "$OUT.run" "$OUT.times"' EXIT
build/bin/mmgeth --dev --verbosity 1 --http.port "$PORT" --port 0 >/dev/null 2>&1 &
pids+=($!)
"$ANVIL" --host 127.0.0.1 --port $((PORT + 1)) --silent &
pids+=($!)
build/bin/floor -addr 127.0.0.1:$((PORT + 2)) -node "http://127.0.0.1:$PORT" &
pids+=($!)
names=(mmgeth anvil floor)
sleep 3
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CHILDREN: the user+system seconds of this shell's finished children, from
# `times` (run here, not in a subshell, which has children of its own).
children_cpu() {
  times >"$OUT.times"
  CHILDREN=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s }' "$OUT.times")
}
for round in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2; do
    s=$(((i + round) % 3))
    children_cpu
    c0=$(cpu "${pids[$s]}") l0=$CHILDREN
    "$LOADGEN" --rpc "http://127.0.0.1:$((PORT + s))" --phases e "$@" >"$OUT.run" 2>&1
    children_cpu
    c1=$(cpu "${pids[$s]}") l1=$CHILDREN
    count=$(sed -n 's/^done e\.blockNumber *count=\([0-9]*\).*/\1/p' "$OUT.run")
    echo "$round ${names[$s]} $count $(((c1 - c0) * 1000000 / $(getconf CLK_TCK))) $(awk -v a="$l0" -v b="$l1" 'BEGIN { print int((b - a) * 1e6) }')" >>"$OUT"
  done
done
python3 - "$OUT" <<'EOF'
import statistics, sys
rate, cpu, client = {}, {}, {}
for line in open(sys.argv[1]):
    r, name, count, us, client_us = line.split()
    rate.setdefault(r, {})[name] = int(count)
    cpu.setdefault(name, []).append(int(us) / int(count))
    client.setdefault(name, []).append(int(client_us) / int(count))
print("eth_blockNumber over %d rounds, medians: count, ratio to anvil, server and loadgen CPU us/request" % len(rate))
for name in ("mmgeth", "anvil", "floor"):
    print("  %-7s %8d  %.3fx  %5.1f  %5.1f" % (name, statistics.median(r[name] for r in rate.values()),
          statistics.median(r[name] / r["anvil"] for r in rate.values()), statistics.median(cpu[name]),
          statistics.median(client[name])))
EOF
