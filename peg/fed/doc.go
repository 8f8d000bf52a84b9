// Package fed is the logic of mmfed, the federator and relayer daemon
// (PEG.md §5.5), as a library that cmd/mmfed wraps and tests run in-process:
// the header relay, the deposit relay, the federator loop (federator.go),
// the signing rules (signrules.go) and the member key's signer (signer.go,
// signerrpc.go).
//
// # Signing rules (PEG.md §5.5)
//
// SignRules.Check applies, in order: the batch's block is finalized
// (ErrNotFinalized); peg.BuildPegOut over the batch's requests and inputs
// at its fee rate gives the Bridge's bytes and btcd gives its sighashes
// (ErrRebuildMismatch); the rate is within the operator's bound
// (ErrFeeTooHigh); no input was signed for another batch (ErrDoubleSpend,
// from SignedLog: append-only, fsync'd before Check returns, read back at
// start, so a kill -9 between signing and broadcasting cannot lead to a
// conflicting signature); the daily outflow cap (ErrOutflowCap): what the
// batches first signed in the last 24 hours pay out, from the times and
// amounts the same log records, so a restart does not reset it. Every
// refusal is counted in mmfed/sign/refused/<rule>.
//
// # Signer
//
// The member key lives in a Signer, which is given only references — a
// batch id and version, a fee rate and nonce — and reads the rest from its
// own sidechain node, so that whoever asks cannot get an arbitrary digest
// signed. LocalSigner checks the batch awaits its federation's signatures
// (ErrNotSigning), then SignRules, then signs; it signs fee votes up to its
// fee bound (ErrVoteFee) with the chain id and member index it read. mmfed
// run uses one in process, or, with --signer, a RemoteSigner: the same
// LocalSigner in an mmfed signer process, served by ServeSigner as geth
// JSON-RPC on a 0600 unix socket (signer_pubKey, signer_signBatch,
// signer_signFeeVote; a refusal is error RefusalErrorCode with its rule's
// name as data, and comes back as an error that errors.Is the rule's).
//
// # Strict mode (PEG.md §5.5 rule 6)
//
// Without it a signer trusts its node: a compromised mmgeth host could
// describe a fabricated batch (a request paying a thief, with the bytes and
// sighashes of that transaction) consistently enough that the rebuild
// agrees. With SignerConfig.Strict (mmfed signer --strict, mmfed run
// --strict), after rules 1 to 5 (no proofs fetched for a batch they
// refuse) and before the signed log records the inputs, the signer proves
// the batch from its own Bitcoin node (strict.go):
//
//  1. mm_getAnchorProof of the node's finalized block F, checked by
//     anchorproof.VerifyOnBitcoin under the network's tag (ErrAnchorProof),
//     whose Bitcoin block must be K deep in the signer's Bitcoin node's
//     best chain (ErrAnchorDepth);
//  2. eth_getProof of the Bridge at F for the batch's first word and the
//     version's sighash slots (bridge.BatchSlot, SighashSlot), checked with
//     anchorproof.VerifyAccount and VerifySlot against F's state root from
//     step 1: the batch is signing in this epoch with the inputs and
//     creation block the node gave, and each proven sighash is the node's
//     (ErrStateProof), which rule 2 has required of the signer's rebuild;
//     a version not yet in F's state (a fee bump) is ErrNotFinalized.
//
// F rather than the batch's creation block is proven because a fee bump's
// sighashes are stored after that block, and because a full node keeps
// F's state, not an old block's. F is usually an anchor itself (finalized
// is the number of the anchor behind it), so the proof is then its header
// and the Bitcoin header only. The Bitcoin node failing is an error, not a refusal. Each
// check costs two calls to the node and one to the Bitcoin node, and is
// logged with its time.
//
// # Relay
//
// A Relayer keeps BtcRelay (0x…01000007) in step with one Bitcoin node. It
// keeps no state of its own: each round derives everything from the two
// chains, so a restart, a second relayer, a sidechain reorg that drops its
// transactions, or a Bitcoin reorg are all the same case. A round:
//
//  1. reads BtcRelay's bestChain() and the node's best block; equal: done;
//  2. finds the fork point, the highest height where BtcRelay's
//     blockHashAt(h) equals the node's getblockhash(h), walking down from
//     min(both heights), at most maxForkDepth below BtcRelay's tip (deeper,
//     the node is on another Bitcoin network or BtcRelay cannot follow it:
//     ErrDiverged);
//  3. fetches the node's headers above the fork point, checking that each
//     links to the one before (a node reorging meanwhile fails the round);
//  4. when the node's branch would replace BtcRelay's best chain rather
//     than extend it, and the fetched headers reach the node's tip, compares
//     their chainwork with BtcRelay's: no more work (the node is behind, or
//     holds an equal-work sibling) means nothing to submit, since BtcRelay
//     keeps the first-seen of equal tips as Bitcoin Core does;
//  5. submits the headers parent first in receiveHeaders transactions of
//     at most maxHeadersPerCall (read from BtcRelay's params()), each
//     pre-checked with eth_call (a revert is logged decoded, e.g.
//     TimeTooNew(…), and fails the round without spending gas), gas from
//     eth_estimateGas plus a margin, EIP-1559 fees, the account's nonce
//     from the node, and waits for its receipt before the next.
//
// Run repeats rounds every interval, and at once after a round that
// submitted headers (blocks came meanwhile, or a long catch-up goes on); the
// interval should be shorter than the sidechain's block time for BtcRelay
// to stay within a block of the node. A failed round (either node down, a
// revert, a receipt that does not come) is retried with exponential backoff
// up to a minute, and the first success after failures is logged. With
// transactions of its account still pending in the pool (sent before a
// restart, say), a round waits for them rather than stacking more.
//
// The relayer measures what only it can see, the light client's lag behind
// its Bitcoin node (RelayConfig.Metrics; `mmfed relay --metrics`):
// BtcRelay's and the node's best heights as last read, the lag in blocks
// and in seconds (since a round first saw the node's tip missing from
// BtcRelay, by the relayer's clock), and counters of headers relayed, gas
// spent and failed rounds. mmgeth reports the rest of finality's metrics.
//
// Headers are never trusted from the node: BtcRelay checks every rule, so a
// lying node can waste the relayer's gas but not corrupt the light client.
//
// # Deposits (PEG.md §4.4)
//
// With recipients to watch (RelayConfig.Watch, and with WatchNode those the
// sidechain node lists over mm_watchedDeposits, mmgeth --peg.watch), a round
// goes on after the headers:
//
//  1. pulls the node's new watch registrations and derives each recipient's
//     deposit script with the Bridge's own depositScript(recipient, epoch)
//     for the active epoch (again for all when the epoch changes);
//  2. reads the Bitcoin node's best-chain blocks it has not read, after
//     going back to the highest one it read that is still in that chain (a
//     Bitcoin reorg), and notes every non-coinbase output paying a watched
//     script; on start it reads the last maxForkDepth blocks;
//  3. for each deposit noted and not registered (getDeposit), finds its
//     block again through gettxout (a reorg moves it, or returns it to the
//     mempool) and, once BtcRelay gives that block the confirmations the
//     Bridge requires for its value, builds the proof from the raw block
//     (bridge.NewPegInProof) and sends registerPegIn, pre-checked with
//     eth_call: a revert is logged decoded (AlreadyProcessed: someone else
//     relayed it, forgotten) and the deposit tried again next round.
//
// A recipient is matched only in blocks read after its registration: a
// user asks for the address before paying it, and the relayer polls the
// list every round. A payment older than that is registered by anyone with
// mm_getPegInProof (self-relay).
package fed
