#!/usr/bin/env bash
# Memory of mmgeth --dev against anvil, side by side in one run: both nodes
# run at once on 127.0.0.1 and get the same load from bench/load.
#  1. idle RSS, 5 s after each answers RPC;
#  2. RSS after N (default 100,000) dev transactions, half value transfers,
#     half token transfers, signed by 10 dev accounts (anvil funds 10), at
#     LOAD_RATE (default 400) per second: 30M-gas blocks are then about half
#     full, EIP-1559's target, so the base fee stays put (offered faster,
#     full blocks raise it 12.5% a block until fees pass the RPC fee cap
#     and every send is refused). Both nodes seal a block every
#     second (--dev.period 1, --block-time 1): with a block per transaction
#     anvil slows down as its chain grows (18,000 transactions in 25 minutes
#     on 2 shared cores), and the phase is bounded by LOAD_BOUND (default
#     15m) whatever happens;
#  3. a soak of SOAK seconds (default 600) at RATE transactions per second
#     (default 100) into each node, RSS sampled every 15 s; the trend is the
#     least-squares slope over the soak's second half, when start-up and the
#     first caches have settled.
# mmgeth runs twice: as `--dev` (an in-memory database, like anvil: it keeps
# every block in memory by design, so it grows with the chain) and as
# `--dev --datadir` (blocks and state on disk: what is left in memory is
# caches and the node itself, so its trend shows a leak if there is one).
#   bench/memory.sh            N=20000 SOAK=120 bench/memory.sh
# A node whose RSS passes MAX_RSS MiB (default 8192) is killed and its
# figures are those at the kill: anvil passed 13 GB within 100,000
# transactions, which on a shared machine starves everyone else.
# ANVIL defaults to the peer tools' anvil ($PEERS/bin/anvil, see
# ../shared/tools/peers.sh install) or .cache/tooling/bin/anvil.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
SOAK=${SOAK:-600}
RATE=${RATE:-100}
PEERS=${PEERS:-${TMPDIR:-/tmp}/mmgeth-peers}
ANVIL=${ANVIL:-}
for a in "$PEERS/bin/anvil" .cache/tooling/bin/anvil; do
  [[ -z $ANVIL && -x $a ]] && ANVIL=$a
done
[[ -x $ANVIL ]] || { echo "no anvil: set ANVIL or run ../shared/tools/peers.sh install" >&2; exit 2; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmgeth-memory-bench.XXXXXX")
PIDS=()
cleanup() { # TERM, then KILL whatever has not exited 20 s later
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/mmgeth" ./cmd/mmgeth
go build -o "$WORK/load" ./bench/load
. bench/lib.sh

MAX_RSS=${MAX_RSS:-8192}
rss() { # rss NAME: MiB now, or at the kill
  if [[ -s $WORK/$1.killed ]]; then cat "$WORK/$1.killed"; return; fi
  awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/${PID[$1]}/status" 2>/dev/null || echo 0
}
watchdog() {
  while sleep 2; do
    for name in "${NAMES[@]}"; do
      [[ -s $WORK/$name.killed ]] && continue
      r=$(rss "$name")
      if awk -v r="$r" -v m="$MAX_RSS" 'BEGIN { exit !(r > m) }'; then
        echo "$r" >"$WORK/$name.killed"
        kill -9 "${PID[$name]}" 2>/dev/null || true
        echo "   $name killed at $r MiB (MAX_RSS)" >&2
      fi
    done
  done
}

NAMES=(mmgeth-mem mmgeth-disk anvil)
declare -A URL PID
for name in "${NAMES[@]}"; do
  port=$(free_port)
  URL[$name]=http://127.0.0.1:$port
  case $name in
    mmgeth-mem) "$WORK/mmgeth" --dev --dev.period 1 --port 0 --verbosity 2 --http.port "$port" --ipcdisable >"$WORK/$name.log" 2>&1 & ;;
    mmgeth-disk) "$WORK/mmgeth" --dev --dev.period 1 --port 0 --datadir "$WORK/disk" --verbosity 2 --http.port "$port" --ipcdisable >"$WORK/$name.log" 2>&1 & ;;
    anvil) "$ANVIL" --host 127.0.0.1 --port "$port" --block-time 1 --silent >"$WORK/$name.log" 2>&1 & ;;
  esac
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
done
for name in "${NAMES[@]}"; do wait_rpc "${URL[$name]}" "${PID[$name]}"; done
watchdog &
PIDS+=($!)
sleep 5
declare -A IDLE AFTER
for name in "${NAMES[@]}"; do IDLE[$name]=$(rss "$name"); done
echo "== idle RSS (MiB): $(for n in "${NAMES[@]}"; do printf '%s %s  ' "$n" "${IDLE[$n]}"; done)"

echo "== $N transactions into each node at once"
LOADPIDS=()
for name in "${NAMES[@]}"; do
  "$WORK/load" -rpc "${URL[$name]}" -n "$N" -rate "${LOAD_RATE:-400}" -duration "${LOAD_BOUND:-15m}" -accounts 10 -pending 128 -batch 200 -token 0.5 \
    >"$WORK/$name.load" 2>&1 &
  LOADPIDS+=($!)
done
for i in "${!NAMES[@]}"; do
  # A load that hit LOAD_BOUND reports how far it got; RSS is read all the same.
  wait "${LOADPIDS[$i]}" || echo "   ${NAMES[$i]}: stopped at LOAD_BOUND or failed" >&2
  echo "   ${NAMES[$i]}: $(cat "$WORK/${NAMES[$i]}.load")"
done
for name in "${NAMES[@]}"; do AFTER[$name]=$(rss "$name"); done

echo "== soak: $SOAK s at $RATE tx/s into each node, RSS every 15 s"
SOAKPIDS=()
for name in "${NAMES[@]}"; do
  "$WORK/load" -rpc "${URL[$name]}" -duration "${SOAK}s" -rate "$RATE" -accounts 10 -pending 64 -token 0.5 \
    >"$WORK/$name.soak" 2>&1 &
  SOAKPIDS+=($!)
  PIDS+=($!)
done
: >"$WORK/samples"
for ((t = 0; t <= SOAK; t += 15)); do
  line="$t" shown=""
  for name in "${NAMES[@]}"; do
    r=$(rss "$name")
    line+=" $r" shown+="  $name $r"
  done
  echo "$line" >>"$WORK/samples"
  echo "   t=${t}s RSS MiB:$shown"
  (( t + 15 <= SOAK )) && sleep 15
done

# What each node confirmed during the soak: a node that stopped sealing
# would show a flat RSS for the wrong reason.
for i in "${!NAMES[@]}"; do
  wait "${SOAKPIDS[$i]}" || true
  echo "   ${NAMES[$i]} soak: $(cat "$WORK/${NAMES[$i]}.soak")"
done

echo
printf '%-12s %10s %16s %16s %18s\n' "" "idle MiB" "after $N tx" "end of soak" "trend MiB/min"
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  col=$((i + 2))
  killed=0
  [[ -s $WORK/$name.killed ]] && killed=1
  awk -v col="$col" -v half="$((SOAK / 2))" -v name="$name" -v idle="${IDLE[$name]}" -v after="${AFTER[$name]}" -v killed="$killed" '
    { last = $col }
    $1 >= half { n++; sx += $1; sy += $col; sxx += $1 * $1; sxy += $1 * $col }
    END {
      slope = (n > 1) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60 : 0
      printf "%-12s %10.1f %16.1f %16.1f %18s\n", name, idle, after, last, killed ? "killed" : sprintf("%.2f", slope)
    }' "$WORK/samples"
done
for name in "${NAMES[@]}"; do
  if [[ -s $WORK/$name.killed ]]; then echo "$name was killed at $(cat "$WORK/$name.killed") MiB (MAX_RSS): its figures stop there"; fi
done
