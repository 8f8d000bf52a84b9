#!/usr/bin/env bash
# loadgen's eth_blockNumber phase against mmgeth --dev, anvil and
# bench/floor (the least a Go server can do for the call: a constant
# answer, no node), all alive side by side, ROUNDS times in rotating order.
# Prints each server's median rate, its median ratio to anvil in the same
# round, and its CPU (user+system, from /proc) per request: where mmgeth
# stands between the floor of its language and its peer.
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
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -f "$OUT"' EXIT
build/bin/mmgeth --dev --verbosity 1 --http.port "$PORT" --port 0 >/dev/null 2>&1 &
pids+=($!)
"$ANVIL" --host 127.0.0.1 --port $((PORT + 1)) --silent &
pids+=($!)
build/bin/floor -addr 127.0.0.1:$((PORT + 2)) -node "http://127.0.0.1:$PORT" &
pids+=($!)
names=(mmgeth anvil floor)
sleep 3
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2; do
    s=$(((i + round) % 3))
    c0=$(cpu "${pids[$s]}")
    count=$("$LOADGEN" --rpc "http://127.0.0.1:$((PORT + s))" --phases e "$@" 2>&1 |
      sed -n 's/^done e\.blockNumber *count=\([0-9]*\).*/\1/p')
    c1=$(cpu "${pids[$s]}")
    echo "$round ${names[$s]} $count $(((c1 - c0) * 1000000 / $(getconf CLK_TCK)))" >>"$OUT"
  done
done
python3 - "$OUT" <<'EOF'
import statistics, sys
rate, cpu = {}, {}
for line in open(sys.argv[1]):
    r, name, count, us = line.split()
    rate.setdefault(r, {})[name] = int(count)
    cpu.setdefault(name, []).append(int(us) / int(count))
print("eth_blockNumber over %d rounds: median count, median ratio to anvil, CPU us/request" % len(rate))
for name in ("mmgeth", "anvil", "floor"):
    print("  %-7s %8d  %.3fx  %.1f" % (name, statistics.median(r[name] for r in rate.values()),
          statistics.median(r[name] / r["anvil"] for r in rate.values()), statistics.median(cpu[name])))
EOF
