#!/usr/bin/env bash
# Node CPU (user+system, from /proc) per request of one loadgen phase, for
# comparing two builds on a shared machine where rates swing with other
# load but CPU spent per request hardly does. Each run starts a fresh
# --dev node, deploys the token (phase c) so that d and f have a target,
# then runs the phase.
#   PEERS=... bench/cpu-per-request.sh BIN PORT PHASE   (PHASE: a b c d e f)
set -euo pipefail
PEERS=${PEERS:-${TMPDIR:-/tmp}/mmgeth-peers}
LOADGEN=$PEERS/bin/loadgen
[[ -x $LOADGEN ]] || { echo "run ../shared/tools/peers.sh install first" >&2; exit 2; }
BIN=$1 PORT=$2 PHASE=$3
"$BIN" --dev --verbosity 1 --http.port "$PORT" --port 0 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 3
"$LOADGEN" --rpc "http://127.0.0.1:$PORT" --phases c -n 200 >/dev/null 2>&1
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(cpu)
out=$("$LOADGEN" --rpc "http://127.0.0.1:$PORT" --phases "$PHASE" -t 4s -n 3000 2>&1 | grep '^done [a-f]\.' | grep -v deploy | tail -1)
c1=$(cpu)
count=$(sed 's/.*count=\([0-9]*\).*/\1/' <<<"$out")
rate=$(sed 's/.*rate=\([0-9.]*\).*/\1/' <<<"$out")
awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" -v n="$count" -v ph="$PHASE" -v bin="$BIN" -v r="$rate" \
  'BEGIN { printf "%s %s count=%d rate=%s/s node_cpu_us_per_request=%.1f\n", ph, bin, n, r, (b - a) * 1e6 / t / n }'
