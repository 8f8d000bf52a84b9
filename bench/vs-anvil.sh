#!/usr/bin/env bash
# Runs the shared load driver (loadgen) against mmgeth --dev and anvil, one
# after the other on 127.0.0.1:8545, in the same run, and prints both tables
# plus each node's idle RSS. Needs the peer tools: `../shared/tools/peers.sh
# install` (PEERS defaults to $TMPDIR/mmgeth-peers).
#   bench/vs-anvil.sh [loadgen flags, e.g. -n 200 -c 8 -t 5s]
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-${TMPDIR:-/tmp}/mmgeth-peers}
LOADGEN=$PEERS/bin/loadgen
ANVIL=$PEERS/bin/anvil
[[ -x $LOADGEN && -x $ANVIL ]] || { echo "run ../shared/tools/peers.sh install first" >&2; exit 2; }
go build -o build/bin/mmgeth ./cmd/mmgeth

rss() { awk '/VmRSS/ {print $2/1024 " MiB"}' "/proc/$1/status"; }
wait_rpc() {
  for _ in $(seq 1 100); do
    curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
      http://127.0.0.1:8545 | grep -q result && return 0
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
  "$LOADGEN" --name "$name" --rpc http://127.0.0.1:8545 "${LOADGEN_ARGS[@]}"
  echo "$name RSS after load: $(rss $pid)"
  kill $pid; wait $pid 2>/dev/null || true
}
LOADGEN_ARGS=("$@")
run mmgeth build/bin/mmgeth --dev --verbosity 1
run anvil "$ANVIL" --host 127.0.0.1 --port 8545 --silent
