#!/usr/bin/env bash
# Sync throughput against the import ceiling, on this machine:
#  1. a dev node builds a chain of BLOCKS blocks (default 2000): block 1
#     deploys an ERC20-like token, every later block holds TXS (default 25)
#     transfers, each to a fresh recipient (2 SLOAD + 2 SSTORE + LOG3,
#     ~52k gas);
#  2. `mmgeth export` writes it to an RLP file;
#  3. `mmgeth import` of that file into a fresh datadir (its own timer:
#     decoding, verification, execution, commit);
#  4. a fresh node syncs the same chain over devp2p from one peer holding it
#     (timed from admin_addPeer until its head is the peer's, polled every
#     50 ms).
# Prints blocks/s and Mgas/s of both and the ratio sync/import.
#   bench/sync.sh            BLOCKS=500 TXS=50 bench/sync.sh
# CHAIN=FILE keeps the exported chain in FILE (and its head hash in
# FILE.head) and reuses it when it exists, for repeated measurements.
# BASE_BIN=PATH also syncs with another mmgeth binary in each round (the
# code before a change), so that before and after share a run.
# ROUNDS=N (default 1) runs import and sync N times each, alternating, and
# prints the best of each: on a shared machine the best round is the one
# least disturbed by other load.
# Needs curl, jq and python3 (for admin_* over IPC). Everything binds 127.0.0.1 and lives in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
BLOCKS=${BLOCKS:-2000}
TXS=${TXS:-25}
(( BLOCKS >= 2 && TXS >= 1 && TXS < 1000 )) || { echo "need BLOCKS >= 2 and 1 <= TXS < 1000" >&2; exit 2; }
for tool in curl jq python3; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmgeth-sync-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
MMGETH=$WORK/mmgeth
go build -o "$MMGETH" ./cmd/mmgeth
. bench/lib.sh
start_node() { # start_node NAME ARGS... ; "@PORT" in ARGS becomes a free port; sets PID and URL
  local name=$1 attempt port; shift
  for attempt in 1 2 3; do
    port=$(free_port)
    URL=http://127.0.0.1:$port
    "$MMGETH" "${@//@PORT/$port}" >>"$WORK/$name.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    wait_rpc "$URL" "$PID" && return 0
    # Another process may have taken the port free_port found.
    grep -q "address already in use" "$WORK/$name.log" || return 1
  done
  return 1
}
stop_node() { kill "$1"; wait "$1" 2>/dev/null || true; }
hex() { printf '0x%x' "$1"; }
dec() { printf '%d' "$(tr -d '"' <<<"$1")"; }

# The token: transfer(to, amount) moves amount from the caller's slot to the
# recipient's (slot = address) and emits Transfer; no balance check, so any
# account can send.
TRANSFER_TOPIC=ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef
RUNTIME=602435600435805482019055803354033355
RUNTIME+=5f5260043533
RUNTIME+=7f${TRANSFER_TOPIC}60205fa300
INITCODE=0x60$(printf '%02x' $((${#RUNTIME} / 2)))8060095f395ff3$RUNTIME

if [[ -n ${CHAIN:-} && -s ${CHAIN:-} && -s $CHAIN.head ]]; then
  cp "$CHAIN" "$WORK/chain.rlp"
  HEAD_HASH=$(cat "$CHAIN.head")
  echo "== reusing $CHAIN (head $HEAD_HASH)"
else
echo "== building a $BLOCKS-block chain of $TXS token transfers per block"
# A period of a day: blocks are sealed only by evm_mine, one per batch.
start_node gen --dev --dev.period 86400 --datadir "$WORK/gen" --ipcdisable --verbosity 2 --http.port @PORT
GEN=$URL GEN_PID=$PID
mapfile -t ACCOUNTS < <(rpc "$GEN" eth_accounts '[]' | jq -r '.[]')
deploy=$(rpc "$GEN" eth_sendTransaction "[{\"from\":\"${ACCOUNTS[0]}\",\"data\":\"$INITCODE\",\"gas\":\"0x30000\"}]")
rpc "$GEN" evm_mine '[]' >/dev/null
TOKEN=$(rpc "$GEN" eth_getTransactionReceipt "[$deploy]" | jq -r '.contractAddress')
[[ $TOKEN != null ]] || { echo "token deployment failed" >&2; exit 1; }
# Nonces are given explicitly: with more transactions per batch than
# accounts, an account sends twice in one batch, and a nonce left to the
# node is read from a pool that may not have caught up with the block just
# mined ("replacement transaction underpriced" at random blocks).
NONCES=()
for ((a = 0; a < ${#ACCOUNTS[@]}; a++)); do NONCES[a]=0; done
NONCES[0]=1 # the deployment
start=$SECONDS
for ((b = 2; b <= BLOCKS; b++)); do
  batch="["
  for ((i = 0; i < TXS; i++)); do
    n=$(( (b - 2) * TXS + i + 1 ))
    a=$(( i % ${#ACCOUNTS[@]} ))
    data=$(printf '0xa9059cbb%064x%064x' $((0x100000000 + n)) $((1000 + i)))
    batch+="{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"eth_sendTransaction\",\"params\":[{\"from\":\"${ACCOUNTS[a]}\",\"to\":\"$TOKEN\",\"gas\":\"0x186a0\",\"nonce\":\"$(hex "${NONCES[a]}")\",\"data\":\"$data\"}]},"
    NONCES[a]=$(( NONCES[a] + 1 ))
  done
  batch+="{\"jsonrpc\":\"2.0\",\"id\":\"mine\",\"method\":\"evm_mine\",\"params\":[]}]"
  reply=$(curl -sf -H 'content-type: application/json' -d "$batch" "$GEN")
  if jq -e 'map(select(.error)) | length > 0' <<<"$reply" >/dev/null; then
    echo "block $b: $(jq -c 'map(select(.error)) | .[0]' <<<"$reply")" >&2; exit 1
  fi
  if (( b % 250 == 0 )); then echo "   $b blocks ($((SECONDS - start)) s)"; fi
done
head=$(rpc "$GEN" eth_getBlockByNumber '["latest",false]')
[[ $(dec "$(jq '.number' <<<"$head")") == "$BLOCKS" ]] || { echo "chain ended at $(jq -r .number <<<"$head"), want $BLOCKS" >&2; exit 1; }
HEAD_HASH=$(jq -r .hash <<<"$head")
last=$(rpc "$GEN" eth_getBlockByNumber '["latest",true]')
ntx=$(jq '.transactions | length' <<<"$last")
receipt=$(rpc "$GEN" eth_getTransactionReceipt "[$(jq '.transactions[0].hash' <<<"$last")]")
[[ $ntx == "$TXS" && $(jq -r .status <<<"$receipt") == 0x1 && $(jq '.logs[0].topics | length' <<<"$receipt") == 3 ]] ||
  { echo "the last block does not hold $TXS successful transfers with Transfer logs" >&2; exit 1; }
echo "   head $BLOCKS $HEAD_HASH, $(dec "$(jq '.gasUsed' <<<"$last")") gas in the last block"
stop_node "$GEN_PID"
"$MMGETH" export --dev --datadir "$WORK/gen" --verbosity 2 "$WORK/chain.rlp" >/dev/null
echo "   exported $(du -h "$WORK/chain.rlp" | cut -f1)"
if [[ -n ${CHAIN:-} ]]; then cp "$WORK/chain.rlp" "$CHAIN" && echo "$HEAD_HASH" >"$CHAIN.head"; fi
fi

# The seed holds the chain (imported: the timed imports are the rounds').
"$MMGETH" init --dev --datadir "$WORK/seed" >/dev/null
"$MMGETH" import --datadir "$WORK/seed" --verbosity 2 "$WORK/chain.rlp" >/dev/null
start_node seed --datadir "$WORK/seed" --port 0 --nodiscover --verbosity 2 --http --http.port @PORT
ENODE=$(ipc "$WORK/seed/mmgeth.ipc" admin_nodeInfo '[]' | jq -r .enode)

import_round() { # sets IMP_OUT to "blocks/s Mgas/s Mgas"
  rm -rf "$WORK/imp"
  "$MMGETH" init --dev --datadir "$WORK/imp" >/dev/null
  local out
  out=$("$MMGETH" import --datadir "$WORK/imp" "$WORK/chain.rlp" 2>"$WORK/import.log")
  echo "   import: $out"
  [[ $out == *"$HEAD_HASH"* ]] || { echo "import ended elsewhere than $HEAD_HASH" >&2; exit 1; }
  IMP_OUT=$(sed -E 's/.* ([0-9.]+) Mgas in .*: ([0-9.]+) blocks\/s, ([0-9.]+) Mgas\/s.*/\2 \3 \1/' <<<"$out")
}
sync_round() { # sync_round BINARY; sets SYNC_OUT to the seconds from admin_addPeer to the peer's head
  rm -rf "$WORK/sync"
  "$1" init --dev --datadir "$WORK/sync" >/dev/null
  local url t0 t1
  MMGETH=$1 start_node sync --datadir "$WORK/sync" --port 0 --nodiscover --verbosity 3 --http --http.port @PORT
  url=$URL
  t0=$(date +%s.%N)
  ipc "$WORK/sync/mmgeth.ipc" admin_addPeer "[\"$ENODE\"]" >/dev/null
  until [[ $(rpc "$url" eth_getBlockByNumber '["latest",false]' | jq -r .hash) == "$HEAD_HASH" ]]; do
    sleep 0.05
    (( $(date +%s) - ${t0%.*} < 600 )) || { echo "sync did not finish in 10 minutes; see $WORK/sync.log" >&2; exit 1; }
  done
  t1=$(date +%s.%N)
  stop_node "$PID"
  SYNC_OUT=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", t1 - t0 }')
  echo "   sync ($1): ${SYNC_OUT} s"
}
better() { awk -v a="$1" -v b="$2" -v dir="$3" 'BEGIN { exit !(b == 0 || (dir == "max" ? a > b : a < b)) }'; }

IMP_BPS=0 IMP_MGPS=0 SYNC_S=0 BASE_S=0
for ((round = 1; round <= ${ROUNDS:-1}; round++)); do
  echo "== round $round"
  import_round
  read -r bps mgps GAS_MGAS <<<"$IMP_OUT"
  if better "$bps" "$IMP_BPS" max; then IMP_BPS=$bps IMP_MGPS=$mgps; fi
  # With BASE_BIN the two syncs take turns going first, so that load
  # rising or falling during a round favours neither.
  order=("$MMGETH" ${BASE_BIN:+"$BASE_BIN"})
  if (( round % 2 == 0 && ${#order[@]} == 2 )); then order=("$BASE_BIN" "$MMGETH"); fi
  for bin in "${order[@]}"; do
    sync_round "$bin"
    if [[ $bin == "$MMGETH" ]]; then
      if better "$SYNC_OUT" "$SYNC_S" min; then SYNC_S=$SYNC_OUT; fi
    elif better "$SYNC_OUT" "$BASE_S" min; then BASE_S=$SYNC_OUT; fi
  done
done

awk -v blocks="$((BLOCKS - 0))" -v mgas="$GAS_MGAS" -v s="$SYNC_S" -v bs="$BASE_S" -v ibps="$IMP_BPS" -v imgps="$IMP_MGPS" -v rounds="${ROUNDS:-1}" 'BEGIN {
  printf "\n%-26s %12s %12s %8s   (best of %d)\n", "", "blocks/s", "Mgas/s", "ratio", rounds
  printf "%-26s %12.1f %12.1f %8s\n", "import (ceiling)", ibps, imgps, "1.00"
  printf "%-26s %12.1f %12.1f %8.2f\n", "sync from one peer", blocks / s, mgas / s, (blocks / s) / ibps
  if (bs > 0) printf "%-26s %12.1f %12.1f %8.2f\n", "sync, BASE_BIN", blocks / bs, mgas / bs, (blocks / bs) / ibps
}'
