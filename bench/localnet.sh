#!/usr/bin/env bash
# A whole regtest network on 127.0.0.1, in one command (`make localnet`):
#   - btcd in regtest (the Bitcoin chain merge-mined on),
#   - a merge-mining mmgeth (--regtest --mine) with mmminer,
#   - two follower mmgeth nodes, peered with the miner,
#   - mmfed relay, keeping the sidechain's BtcRelay in step with btcd,
#   - the regtest 2-of-3 federation: three `mmfed run` members, each with
#     its own datadir and metrics port, signing with the public dev keys
#     (peg/devkeys.go: anyone can derive them; they protect nothing).
# It prints every endpoint and stops everything on Ctrl-C (or SIGTERM), or
# when any of them dies.
#
# Environment:
#   BASE_PORT    first of the ports used (default 28540): btcd RPC BASE,
#                HTTP-RPC BASE+1..3 (miner, follower 1, follower 2),
#                relay metrics BASE+4, federator metrics BASE+5..7,
#                devp2p BASE+11..13
#   LOCALNET_DIR where datadirs and logs go (default: a new temporary dir,
#                removed on exit unless KEEP=1)
#   BIN_DIR      directory with mmgeth, mmminer and mmfed already built
#                (default: build them into LOCALNET_DIR/bin)
#   BTCD         btcd binary (default: btcd on PATH, else .cache/bin/btcd,
#                installed with go install as the tests do)
#   RATE         mmminer --rate, hashes/s (default 3400: a block about every
#                3 s once the difficulty settles)
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${BASE_PORT:-28540}
BTC_RPC=127.0.0.1:$BASE
MINER_HTTP=$((BASE + 1)) F1_HTTP=$((BASE + 2)) F2_HTTP=$((BASE + 3)) RELAY_METRICS=$((BASE + 4))
FED_METRICS=$((BASE + 5)) # member i on FED_METRICS+i
MINER_P2P=$((BASE + 11)) F1_P2P=$((BASE + 12)) F2_P2P=$((BASE + 13))
BTC_USER=localnet BTC_PASS=localnet
RATE=${RATE:-3400}
# Hardhat's account #0, prefunded on regtest, pays the relay's gas and
# accounts #17-#19 the federators'; the other dev accounts are free for the
# user.
RELAY_KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
FED_GAS_KEYS=(689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd
	de9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0
	df57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e)
# The regtest federation's member keys in member (script) order, derived
# from the public dev mnemonic (peg.DevFederation); each member checks its
# key against the Bridge's list at its first round.
FED_KEYS=(3decf390711f8dfa0c3b192920a5df8112d4d2a2eb630b6fe87c0e233734226b
	5a4791ca6c384eac8c725330d9601ce0fada46bc75960082d2da67827405fa5d
	ee739074b0e87500be218c80a4e3125afe31ebe1e57435337654c93d0c3bdb86)
ETHERBASE=0x00000000000000000000000000000000000000e5

if [[ -z ${LOCALNET_DIR:-} ]]; then
	LOCALNET_DIR=$(mktemp -d -t mmgeth-localnet.XXXXXX)
	[[ ${KEEP:-0} == 1 ]] || REMOVE_DIR=1
fi
mkdir -p "$LOCALNET_DIR"

pids=()
names=()
stopping=0
stop_all() {
	[[ $stopping == 1 ]] && return
	stopping=1
	trap '' INT TERM
	echo "localnet: stopping ${names[*]}" >&2
	# SIGTERM, which every one of them takes as a clean shutdown (a
	# background job of a script ignores SIGINT); SIGKILL after 20 s.
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq 200); do
		alive=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[[ $alive == 0 ]] && break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ -n ${REMOVE_DIR:-} ]]; then rm -rf "$LOCALNET_DIR"; fi
	echo "localnet: stopped" >&2
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

# start NAME ARGS... runs a process in the background, its output in
# LOCALNET_DIR/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$LOCALNET_DIR/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
}

# wait_for WHAT CMD... retries CMD for 60 s.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 600); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "localnet: timed out waiting for $what (logs in $LOCALNET_DIR)" >&2
	exit 1
}

rpc_up() { curl -sf -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "http://127.0.0.1:$1" | grep -q result; }
# fed_up PORT: the federator on metrics PORT has made a round, which reads
# the Bridge and checks the member's key against it.
fed_up() { curl -sf "http://127.0.0.1:$1/debug/metrics/prometheus" | grep -q '^mmfed_federator_rounds [1-9]'; }
btc_up() { curl -sf -u "$BTC_USER:$BTC_PASS" -H 'Content-Type: application/json' -d '{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}' "http://$BTC_RPC" | grep -q result; }

if [[ -z ${BIN_DIR:-} ]]; then
	BIN_DIR=$LOCALNET_DIR/bin
	echo "localnet: building mmgeth, mmminer and mmfed" >&2
	for cmd in mmgeth mmminer mmfed; do go build -o "$BIN_DIR/$cmd" "./cmd/$cmd"; done
fi
if [[ -z ${BTCD:-} ]]; then
	if command -v btcd >/dev/null; then
		BTCD=$(command -v btcd)
	else
		BTCD=$PWD/.cache/bin/btcd
		if [[ ! -x $BTCD ]]; then
			echo "localnet: installing btcd into .cache/bin" >&2
			GOBIN=$PWD/.cache/bin go install github.com/btcsuite/btcd@v0.26.2
		fi
	fi
fi

start btcd "$BTCD" --regtest --notls --nolisten --rpclisten="$BTC_RPC" --rpcuser=$BTC_USER --rpcpass=$BTC_PASS \
	--datadir="$LOCALNET_DIR/btcd" --logdir="$LOCALNET_DIR/btcd"
wait_for "btcd's RPC" btc_up

node_args=(--regtest --http --http.addr 127.0.0.1 --nodiscover --ipcdisable --p2p.addr 127.0.0.1)
start miner "$BIN_DIR/mmgeth" "${node_args[@]}" --datadir "$LOCALNET_DIR/miner" --http.port $MINER_HTTP --port $MINER_P2P \
	--mine --miner.etherbase $ETHERBASE
wait_for "the mining node's RPC" rpc_up $MINER_HTTP
enode=$(grep -o 'enode://[0-9a-f]*@[0-9.]*:[0-9]*' "$LOCALNET_DIR/miner.log" | head -1)
for i in 1 2; do
	http=F${i}_HTTP p2p=F${i}_P2P
	start follower$i "$BIN_DIR/mmgeth" "${node_args[@]}" --datadir "$LOCALNET_DIR/follower$i" --http.port ${!http} --port ${!p2p} \
		--bootnodes "$enode"
done

btc_address=$("$BIN_DIR/mmgeth" btcaddress --regtest 2>/dev/null)
start mmminer "$BIN_DIR/mmminer" --btc.rpc "http://$BTC_RPC" --btc.user $BTC_USER --btc.pass $BTC_PASS \
	--btc.address "$btc_address" --rpc "http://127.0.0.1:$MINER_HTTP" --threads 1 --rate "$RATE"

echo $RELAY_KEY >"$LOCALNET_DIR/relay.key"
chmod 600 "$LOCALNET_DIR/relay.key"
start relay "$BIN_DIR/mmfed" relay --rpc "http://127.0.0.1:$MINER_HTTP" --btc.rpc "http://$BTC_RPC" \
	--btc.user $BTC_USER --btc.pass $BTC_PASS --key "$LOCALNET_DIR/relay.key" \
	--metrics --metrics.port $RELAY_METRICS
for i in 0 1 2; do
	dir=$LOCALNET_DIR/federator$i
	mkdir -p "$dir"
	echo "${FED_KEYS[$i]}" >"$dir/member.key"
	echo "${FED_GAS_KEYS[$i]}" >"$dir/gas.key"
	chmod 600 "$dir/member.key" "$dir/gas.key"
	start federator$i "$BIN_DIR/mmfed" run --member $i --key "$dir/member.key" --gas.key "$dir/gas.key" --datadir "$dir" \
		--rpc "http://127.0.0.1:$MINER_HTTP" --btc.rpc "http://$BTC_RPC" --btc.user $BTC_USER --btc.pass $BTC_PASS \
		--metrics --metrics.port $((FED_METRICS + i))
done
wait_for "follower 1's RPC" rpc_up $F1_HTTP
wait_for "follower 2's RPC" rpc_up $F2_HTTP
for i in 0 1 2; do wait_for "federator $i's first round" fed_up $((FED_METRICS + i)); done

cat <<END
localnet is up on 127.0.0.1 (datadirs and *.log in $LOCALNET_DIR); Ctrl-C stops it.
  btcd       pid=${pids[0]}  bitcoin-rpc=http://$BTC_RPC  user=$BTC_USER pass=$BTC_PASS  (regtest)
  miner      pid=${pids[1]}  rpc=http://127.0.0.1:$MINER_HTTP  enode=$enode  (mmgeth --regtest --mine)
  follower1  pid=${pids[2]}  rpc=http://127.0.0.1:$F1_HTTP
  follower2  pid=${pids[3]}  rpc=http://127.0.0.1:$F2_HTTP
  mmminer    pid=${pids[4]}  merge-mines btcd with the miner; coinbase to $btc_address
  relay      pid=${pids[5]}  metrics=http://127.0.0.1:$RELAY_METRICS/debug/metrics/prometheus  (mmfed relay: BtcRelay in step with btcd)
  federator0 pid=${pids[6]}  metrics=http://127.0.0.1:$FED_METRICS/debug/metrics/prometheus  (mmfed run --member 0)
  federator1 pid=${pids[7]}  metrics=http://127.0.0.1:$((FED_METRICS + 1))/debug/metrics/prometheus  (mmfed run --member 1)
  federator2 pid=${pids[8]}  metrics=http://127.0.0.1:$((FED_METRICS + 2))/debug/metrics/prometheus  (mmfed run --member 2)
Federation: 2-of-3 with the public regtest dev keys; datadirs (signed.log) in $LOCALNET_DIR/federator*.
Funded accounts: the Hardhat test mnemonic's (#0 pays the relay, #17-#19 the federators).
END

# Run until Ctrl-C, or until one of them dies.
set +e
wait -n "${pids[@]}"
echo "localnet: a process exited; see the logs in $LOCALNET_DIR" >&2
exit 1
