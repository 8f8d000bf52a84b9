# Shell functions the benchmarks share; sourced, with $WORK set to the
# benchmark's temp dir (wait_rpc names its logs).

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
rpc() { # rpc URL METHOD PARAMS-JSON -> result
  local reply
  reply=$(curl -sf -H 'content-type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1")
  if jq -e '.error' <<<"$reply" >/dev/null; then echo "$2: $reply" >&2; return 1; fi
  jq -c '.result' <<<"$reply"
}
ipc() { # ipc SOCKET METHOD PARAMS-JSON -> result; admin_* is served over IPC only
  python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2], "params": json.loads(sys.argv[3])}).encode())
buf = b""
while True:
    chunk = s.recv(1 << 16)
    if not chunk:
        sys.exit(sys.argv[2] + ": connection closed")
    buf += chunk
    try:
        reply = json.loads(buf)
        break
    except ValueError:
        pass
if "error" in reply:
    sys.exit(sys.argv[2] + ": " + json.dumps(reply["error"]))
print(json.dumps(reply["result"]))' "$@"
}
wait_rpc() { # wait_rpc URL PID
  for _ in $(seq 1 600); do
    curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
      "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { echo "node $2 exited; see $WORK/*.log" >&2; return 1; }
    sleep 0.1
  done
  echo "no RPC on $1" >&2; return 1
}
