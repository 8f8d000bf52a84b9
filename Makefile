# mmgeth — build, run and test. `make run` starts a dev node on 127.0.0.1:8545
# (`make run PORT=9545` on another port);
# `make test` installs what the tests need (Go modules, btcd, Foundry and
# Hardhat from npm) and runs every test.

GO      ?= go
BIN     := build/bin
CACHE   ?= $(CURDIR)/.cache
export MMGETH_TEST_CACHE := $(CACHE)

.PHONY: build run localnet test test-short bench fuzz tools contracts clean

# The commit and its date for `mmgeth version`, for builds Go does not stamp
# (GOFLAGS=-buildvcs=false); Go's own stamp wins where there is one.
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
GIT_DATE   := $(shell git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null)
LDFLAGS    := -X main.gitCommit=$(GIT_COMMIT) -X main.gitDate=$(GIT_DATE)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/mmgeth ./cmd/mmgeth
	$(GO) build -o $(BIN)/mmminer ./cmd/mmminer
	$(GO) build -o $(BIN)/mmfed ./cmd/mmfed

# PORT is the HTTP-RPC port of `make run`; WebSocket listens on PORT+1.
PORT    ?= 8545

run: build
	$(BIN)/mmgeth --dev --http --http.addr 127.0.0.1 --http.port $(PORT) --ws --ws.port $$(($(PORT) + 1))

# localnet starts a whole regtest network on 127.0.0.1 (btcd, a merge-mining
# node with mmminer, two followers, mmfed relay, a 2-of-3 federation of
# mmfed run), prints its endpoints and stops it on Ctrl-C; see
# bench/localnet.sh.
localnet: build
	BIN_DIR=$(CURDIR)/$(BIN) bench/localnet.sh

# tools installs Foundry, Hardhat and solc-js from npm into $(CACHE) for the
# end-to-end tests; the btcd tests `go install` btcd themselves.
tools:
	bash tests/tooling/install.sh

# contracts rebuilds the committed bridge bytecode and ABIs (evm/bridge/*.bin,
# *.abi.json) with the pinned solc-js; TestBytecodeUpToDate checks them.
contracts: tools
	$(GO) generate ./evm/bridge/

test: tools
	$(GO) vet ./...
	$(GO) test -timeout 45m ./...

test-short:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./mergemine/ ./btcspv/ ./peg/ ./evm/bridge/ ./consensus/ ./miner/ ./node/

# fuzz runs each fuzz target for FUZZTIME (the seed corpora run in `make test`).
FUZZTIME ?= 2m
fuzz:
	$(GO) test ./mergemine/ -run '^$$' -fuzz FuzzDecodeVerify -fuzztime $(FUZZTIME)
	$(GO) test ./btcspv/ -run '^$$' -fuzz FuzzReceiveHeaders -fuzztime $(FUZZTIME)
	$(GO) test ./btcspv/ -run '^$$' -fuzz FuzzVerifyInclusion -fuzztime $(FUZZTIME)
	$(GO) test ./btcspv/ -run '^$$' -fuzz FuzzParseTx -fuzztime $(FUZZTIME)
	$(GO) test ./rpc/ -run '^$$' -fuzz FuzzTypedData -fuzztime $(FUZZTIME)
	$(GO) test ./evm/bridge/ -run '^$$' -fuzz '^FuzzDiffReceiveHeaders$$' -fuzztime $(FUZZTIME)
	$(GO) test ./evm/bridge/ -run '^$$' -fuzz '^FuzzDiffVerifyInclusion$$' -fuzztime $(FUZZTIME)
	$(GO) test ./evm/bridge/ -run '^$$' -fuzz FuzzParseTxDifferential -fuzztime $(FUZZTIME)
	$(GO) test ./evm/bridge/ -run '^$$' -fuzz FuzzPegOutBatch -fuzztime $(FUZZTIME)
	for f in FuzzParseDepositAddress FuzzVerifyDepositAddress FuzzFederationScript; do \
		$(GO) test ./peg/ -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done

clean:
	rm -rf build
