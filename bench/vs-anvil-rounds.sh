#!/usr/bin/env bash
# bench/vs-anvil.sh for a loaded machine: mmgeth --dev, anvil and (with
# BASE) a baseline mmgeth run side by side on three ports, and loadgen
# runs each phase against each node in turn (the node order rotating), on
# fresh nodes ROUNDS times, so that a swing in the machine's load hits every
# node alike instead of whichever ran during it. Prints the median rate per phase and
# node, and each mmgeth's median ratio to anvil.
#   ROUNDS=3 BASE=path/to/old/mmgeth bench/vs-anvil-rounds.sh [-n 200 -c 8 -t 3s]
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-${TMPDIR:-/tmp}/mmgeth-peers}
LOADGEN=$PEERS/bin/loadgen
ANVIL=$PEERS/bin/anvil
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-8545} # the nodes take PORT, PORT+1 and PORT+2
[[ -x $LOADGEN && -x $ANVIL ]] || { echo "run ../shared/tools/peers.sh install first" >&2; exit 2; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 2; }
go build -o build/bin/mmgeth ./cmd/mmgeth

JSON=$(mktemp)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -f "$JSON"' EXIT
declare -A url
start() { # start NAME PORT CMD...
  local name=$1 port=$2; shift 2
  "$@" >/tmp/bench-$name.log 2>&1 &
  pids+=($!)
  url[$name]=http://127.0.0.1:$port
  for _ in $(seq 1 100); do
    curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
      "${url[$name]}" | grep -q result && return 0
    sleep 0.1
  done
  echo "$name did not start" >&2
  return 1
}
names=(mmgeth anvil)
[[ -n ${BASE:-} ]] && names+=(mmgeth-base)
# Fresh nodes every round: anvil slows down as its chain grows (its
# sequential send+receipt halves within a thousand blocks), so nodes that
# have served earlier rounds would not compare as bench/vs-anvil.sh does.
# Phase f reads the logs of the token phase c deploys, so the two run
# together (c then counts twice per round).
for round in $(seq 1 "$ROUNDS"); do
  pids=()
  start mmgeth "$PORT" build/bin/mmgeth --dev --verbosity 1 --http.port "$PORT" --port 0
  start anvil $((PORT + 1)) "$ANVIL" --host 127.0.0.1 --port $((PORT + 1)) --silent
  if [[ -n ${BASE:-} ]]; then
    start mmgeth-base $((PORT + 2)) "$BASE" --dev --verbosity 1 --http.port $((PORT + 2)) --port 0
  fi
  sleep 2
  for phases in a b c d e cf; do
    for i in "${!names[@]}"; do
      name=${names[$(((i + round) % ${#names[@]}))]}
      "$LOADGEN" --name "$name" --rpc "${url[$name]}" --phases "$phases" --json-out "$JSON" "$@" >/dev/null
    done
  done
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
done
jq -rs '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  [.[] | .peer as $p | .phases[] | select(.rate > 0)
    | {peer: $p, phase, rate}] as $rows
  | ($rows | map(.phase) | unique) as $phases
  | ($rows | map(.peer) | unique) as $peers
  | "median rate/s over rounds, and ratio to anvil:",
    ($phases[] as $ph | ($rows | map(select(.peer == "anvil" and .phase == $ph) | .rate) | median) as $a
      | $peers[] as $p | ($rows | map(select(.peer == $p and .phase == $ph) | .rate) | median) as $r
      | "  \($ph)\t\($p)\t\($r | round)\t\(if $p == "anvil" then "" else ($r / $a * 100 | round / 100 | tostring) + "x" end)")' "$JSON"
