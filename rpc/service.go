package rpc

import (
	"crypto/rand"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/lru"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/gasprice"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	// Register the tracers debug_trace* can be asked for by name: callTracer,
	// prestateTracer, 4byteTracer... and JavaScript tracers.
	_ "github.com/ethereum/go-ethereum/eth/tracers/js"
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"
)

// Fee oracle settings: geth's full-node defaults.
var oracleConfig = gasprice.Config{
	Blocks:           20,
	Percentile:       60,
	MaxHeaderHistory: 1024,
	MaxBlockHistory:  1024,
	MaxPrice:         gasprice.DefaultMaxPrice,
	IgnorePrice:      gasprice.DefaultIgnorePrice,
}

// maxLogQueryTerms bounds the addresses, and the topics per position, of one
// log filter (geth's default).
const maxLogQueryTerms = 1000

// noIndexLogCache is how many blocks' decoded logs are cached when the log
// index is off (dev). Only blocks whose bloom matched a query are cached,
// and dev blocks are small.
const noIndexLogCache = 512

// Service holds the RPC namespaces and the background parts they need. It is
// a geth node.Lifecycle: Start runs the log indexer, Stop ends it. Register it
// so that it stops before the chain does.
type Service struct {
	cfg       Config
	b         *backend
	gpo       *gasprice.Oracle
	filterAPI *filters.FilterAPI
	events    *filters.EventSystem // the eth_subscribe feeds (subscribe.go)
	subs      *subscriptionCounter
	traces    *traceAPI
	filterSys *filters.FilterSystem
	recent    *recentLogs // eth_getLogs' index when filtermaps is off; else nil
	nonceLock addrLocker
	// instanceID names this run for anvil_metadata, as anvil's does.
	instanceID common.Hash
	// senders remembers the senders of transactions submitted here, which
	// the pool recovered: a receipt read back from the database would
	// recover its sender again (an ecrecover, a tenth of the node's CPU in
	// a send-and-receipt loop, with the pool's own).
	senders *lru.Cache[common.Hash, common.Address]
}

// submittedSenders is how many senders of submitted transactions are kept:
// enough for every receipt a client polls soon after sending.
const submittedSenders = 4096

// New builds the service. Its filter system starts following the chain at
// once, so that no event between New and Start is lost.
func New(cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := newBackend(cfg)
	if b.logIndex, err = newLogIndexer(b, cfg.NoLogIndex, cfg.SyncActive); err != nil {
		return nil, err
	}
	// The block range and result limits are filterAPI's, not the filter
	// system's (see there); the address/topic count limit is geth's default.
	fcfg := filters.Config{LogQueryLimit: maxLogQueryTerms}
	if cfg.NoLogIndex {
		// Without the index every eth_getLogs reads and decodes the
		// receipts of each block whose bloom matches; geth's 32-block cache
		// of decoded logs is far less than a dev chain's history.
		fcfg.LogCacheSize = noIndexLogCache
	}
	fsys := filters.NewFilterSystem(b, fcfg)
	var recent *recentLogs
	if cfg.NoLogIndex {
		recent = newRecentLogs(cfg.Chain)
	}
	return &Service{
		cfg:        cfg,
		b:          b,
		gpo:        gasprice.NewOracle(b, oracleConfig, cfg.MinTip),
		filterAPI:  filters.NewFilterAPI(fsys),
		events:     filters.NewEventSystem(fsys),
		subs:       &subscriptionCounter{limit: cfg.MaxSubscriptions, open: make(map[string]int)},
		traces:     newTraceAPI(b, cfg.TraceLimit),
		filterSys:  fsys,
		recent:     recent,
		instanceID: randomHash(),
		senders:    lru.NewCache[common.Hash, common.Address](submittedSenders),
	}, nil
}

// Start starts the log indexer.
func (s *Service) Start() error {
	s.b.logIndex.start()
	return nil
}

// Stop stops the log indexer. The filter system ends with the chain's feeds.
func (s *Service) Stop() error {
	s.b.logIndex.stop()
	return nil
}

// APIs lists the namespaces; the node registers them and filters them by its
// --http.api/--ws.api lists. evm, personal and the eth_signTypedData
// methods are present only in dev mode: geth, which has no keys to sign
// with there, has none of them.
func (s *Service) APIs() []gethrpc.API {
	apis := []gethrpc.API{
		{Namespace: "eth", Service: &ethAPI{s}},
		{Namespace: "eth", Service: &filterAPI{FilterAPI: s.filterAPI, s: s}},
		{Namespace: "net", Service: &netAPI{s}},
		{Namespace: "web3", Service: &web3API{s}},
		{Namespace: "txpool", Service: &txpoolAPI{s}},
		{Namespace: "debug", Service: &debugAPI{s}},
		{Namespace: "debug", Service: s.traces},
	}
	if s.cfg.Dev != nil {
		apis = append(apis,
			gethrpc.API{Namespace: "evm", Service: &evmAPI{s}},
			gethrpc.API{Namespace: "anvil", Service: &anvilAPI{s}},
			gethrpc.API{Namespace: "hardhat", Service: &hardhatAPI{anvilAPI{s}}},
			gethrpc.API{Namespace: "personal", Service: &personalAPI{s}},
			gethrpc.API{Namespace: "eth", Service: &typedDataAPI{s}},
		)
	}
	if s.cfg.MM != nil {
		apis = append(apis, gethrpc.API{Namespace: "mm", Service: &mmAPI{s}})
	}
	if s.cfg.Peg != nil {
		apis = append(apis, gethrpc.API{Namespace: "mm", Service: &mmPegAPI{s}})
	}
	return apis
}

func randomHash() common.Hash {
	var h common.Hash
	_, _ = rand.Read(h[:]) // crypto/rand.Read never fails
	return h
}

// ethAPI is the eth namespace, spread over the eth_*.go files.
type ethAPI struct{ s *Service }
