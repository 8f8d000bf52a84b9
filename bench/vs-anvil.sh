#!/usr/bin/env bash
# Runs the shared load driver (loadgen) against mmgeth --dev and anvil, one
# after the other on 127.0.0.1:8545, in the same run, and prints both tables
# plus each node's idle RSS. Needs the peer tools: `../shared/tools/peers.sh
# install` (PEERS defaults to $TMPDIR/mmgeth-peers).
#   bench/vs-anvil.sh [loadgen flags, e.g. -n 200 -c 8 -t 5s]
# PORT (default 8545) moves all nodes off a port another run holds; BASE, a
# path to another mmgeth binary (say, one built from the commit before a
# change), adds a run of it first, so before and after share the machine's
# load.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-${TMPDIR:-/tmp}/mmgeth-peers}
LOADGEN=$PEERS/bin/loadgen
ANVIL=$PEERS/bin/anvil
[[ -x $LOADGEN && -x $ANVIL ]] || { echo "run ../shared/tools/peers.sh install first" >&2; exit 2; }
PORT=${PORT:-8545}
RPC=http://127.0.0.1:$PORT
go build -o build/bin/mmgeth ./cmd/mmgeth

rss() { awk '/VmRSS/ {print $2/1024 " MiB"}' "/proc/$1/status"; }
wait_rpc() {
  for _ in $(seq 1 100); do
    curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
      "$RPC" | grep -q result && return 0
    sleep 0.1
  done
  return 1
}
run() { # run NAME CMD...
  local name=$1; shift
  "$@" >/tmp/bench-$name.log 2>&1 &
  local pid=$!
  wait_rpc
  sleep 2
  echo "$name idle RSS: $(rss $pid)"
  "$LOADGEN" --name "$name" --rpc "$RPC" --json-out "$JSON" "${LOADGEN_ARGS[@]}"
  echo "$name RSS after load: $(rss $pid)"
  kill $pid; wait $pid 2>/dev/null || true
}
LOADGEN_ARGS=("$@")
JSON=$(mktemp)
trap 'rm -f "$JSON"' EXIT
if [[ -n ${BASE:-} ]]; then
  run mmgeth-base "$BASE" --dev --verbosity 1 --http.port "$PORT"
fi
run mmgeth build/bin/mmgeth --dev --verbosity 1 --http.port "$PORT"
run anvil "$ANVIL" --host 127.0.0.1 --port "$PORT" --silent

# Each mmgeth's rate over anvil's, phase by phase: the figures issue 13's
# goals are stated in (sequential >= 1.3, pipelined and token >= 1.5, reads
# >= 1.0).
if command -v jq >/dev/null; then
  echo "ratio to anvil (rate/rate):"
  jq -rs '(.[] | select(.peer == "anvil") | [.phases[] | {key: .phase, value: .rate}] | from_entries) as $a
    | .[] | select(.peer != "anvil") | .peer as $p | .phases[] | select($a[.phase] > 0)
    | "  \($p)\t\(.phase)\t\(.rate / $a[.phase] * 100 | round / 100)"' "$JSON"
fi
