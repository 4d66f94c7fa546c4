//! ABCI 2.0 (CometBFT 0.38) -> App, as four tower services for tower-abci.
//!
//! tower-abci pipelines requests, so the consensus and mempool connections
//! each feed a single actor task over a channel: requests are enqueued in
//! `call` (arrival order) and handled one at a time. Info and Query only
//! read committed snapshots and run concurrently.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cnidarium::{StateDelta, Storage};
use tendermint::abci::{response, types::ExecTxResult, Code};
use tendermint::v0_38::abci::{
    ConsensusRequest, ConsensusResponse, InfoRequest, InfoResponse, MempoolRequest, MempoolResponse, SnapshotRequest, SnapshotResponse,
};
use tokio::sync::{mpsc, oneshot};
use tower::Service;
use tracing::{error, info};

use crate::app::{execute_tx, next_block_state, App, BlockInput, TxOutcome};
use crate::auth::params::MinGasPrice;
use crate::auth::sigcache::SigCacheWrite;
use crate::auth::SigCache;
use crate::store::readcache::{CachedSnapshot, ReadCache};
use crate::tx::{decode_tx, ExecMode};
use crate::types::Address;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;
type Job<Req, Resp> = (Req, oneshot::Sender<Result<Resp, BoxError>>);

/// A tower service that forwards each request to an actor task.
pub struct Actor<Req, Resp> {
    tx: mpsc::UnboundedSender<Job<Req, Resp>>,
}

impl<Req, Resp> Clone for Actor<Req, Resp> {
    fn clone(&self) -> Self {
        Actor { tx: self.tx.clone() }
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> Service<Req> for Actor<Req, Resp> {
    type Response = Resp;
    type Error = BoxError;
    type Future = BoxFuture<Resp>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let (done, result) = oneshot::channel();
        let sent = self.tx.send((req, done));
        Box::pin(async move {
            sent.map_err(|_| "the application has stopped")?;
            result.await.map_err(|_| "the application dropped the request")?
        })
    }
}

pub type Consensus = Actor<ConsensusRequest, ConsensusResponse>;
pub type Mempool = Actor<MempoolRequest, MempoolResponse>;

/// Info and Query: read-only, served concurrently from committed snapshots.
#[derive(Clone)]
pub struct Info {
    storage: Storage,
}

/// State sync is not offered: every snapshot request is answered "none".
#[derive(Clone, Default)]
pub struct Snapshots;

/// The four services tower-abci needs, running on the current tokio runtime.
pub fn services(app: App, min_gas_price: MinGasPrice) -> (Consensus, Mempool, Info, Snapshots) {
    let (consensus, mempool, info, snapshots, _) = services_with_mempool_view(app, min_gas_price);
    (consensus, mempool, info, snapshots)
}

/// What the gRPC server asks of the CheckTx state.
enum MempoolQuery {
    Sequence(Address, oneshot::Sender<Option<u64>>),
    Simulate(Vec<u8>, oneshot::Sender<TxOutcome>),
}

/// A read-only window on the CheckTx state, for the gRPC server: the
/// sequence an account has reached counting the transactions this node's
/// mempool has admitted, and simulation on top of them (as the Cosmos SDK
/// simulates on its check state). Questions are queued behind the CheckTx
/// requests already received, so a client that broadcast a tx and then
/// asks sees it.
#[derive(Clone)]
pub struct MempoolView {
    tx: mpsc::UnboundedSender<MempoolQuery>,
}

impl MempoolView {
    /// The account's sequence in the CheckTx state; None when CheckTx has
    /// run nothing yet (or the account does not exist there). The state may
    /// predate the latest commit until CometBFT re-checks the mempool, so
    /// callers take the larger of this and the committed sequence.
    pub async fn sequence(&self, address: Address) -> Option<u64> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(MempoolQuery::Sequence(address, reply)).ok()?;
        answer.await.ok().flatten()
    }

    /// Simulate `tx` on a throwaway fork of the CheckTx state; None if the
    /// mempool task has stopped.
    pub async fn simulate(&self, tx: Vec<u8>) -> Option<TxOutcome> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(MempoolQuery::Simulate(tx, reply)).ok()?;
        answer.await.ok()
    }
}

/// As [`services`], plus a [`MempoolView`] of the CheckTx state.
pub fn services_with_mempool_view(app: App, min_gas_price: MinGasPrice) -> (Consensus, Mempool, Info, Snapshots, MempoolView) {
    let storage = app.storage().clone();
    let sig_cache = app.sig_cache().clone();
    let read_cache = app.read_cache().clone();
    let (ctx, mut crx) = mpsc::unbounded_channel::<Job<ConsensusRequest, ConsensusResponse>>();
    tokio::spawn(async move {
        let mut app = app;
        while let Some((req, done)) = crx.recv().await {
            let result = handle_consensus(&mut app, req).await;
            if let Err(e) = &result {
                error!("consensus request failed: {e}");
            }
            let _ = done.send(result);
        }
    });
    let mut mempool = MempoolState { storage: storage.clone(), state: None, min_gas_price, sig_cache, read_cache };
    let (mtx, mut mrx) = mpsc::unbounded_channel::<Job<MempoolRequest, MempoolResponse>>();
    let (qtx, mut qrx) = mpsc::unbounded_channel::<MempoolQuery>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                // CheckTx first: a sequence question waits for the txs already queued.
                biased;
                job = mrx.recv() => {
                    let Some((MempoolRequest::CheckTx(req), done)) = job else { break };
                    let mode = match req.kind {
                        tendermint::abci::request::CheckTxKind::New => ExecMode::Check,
                        tendermint::abci::request::CheckTxKind::Recheck => ExecMode::ReCheck,
                    };
                    let resp = mempool.check_tx(&req.tx, mode).await;
                    let _ = done.send(Ok(MempoolResponse::CheckTx(resp)));
                }
                Some(q) = qrx.recv() => match q {
                    MempoolQuery::Sequence(address, reply) => {
                        let _ = reply.send(mempool.sequence(&address).await);
                    }
                    MempoolQuery::Simulate(tx, reply) => {
                        let _ = reply.send(mempool.simulate(&tx).await);
                    }
                }
            }
        }
    });
    (Actor { tx: ctx }, Actor { tx: mtx }, Info { storage }, Snapshots, MempoolView { tx: qtx })
}

async fn handle_consensus(app: &mut App, req: ConsensusRequest) -> Result<ConsensusResponse, BoxError> {
    Ok(match req {
        ConsensusRequest::InitChain(req) => {
            let t = split_time(req.time);
            let app_hash = app.init_chain(&req.chain_id, &req.app_state_bytes, t).await.map_err(|e| format!("genesis rejected: {e}"))?;
            info!(chain_id = %req.chain_id, app_hash = %hex::encode_upper(&app_hash), "genesis committed");
            // Genesis operators with a consensus key and stake are the first
            // validators; with none, CometBFT keeps genesis.json's.
            let validators = app.genesis_validators().await?;
            ConsensusResponse::InitChain(response::InitChain {
                consensus_params: None,
                validators,
                app_hash: app_hash.try_into()?,
            })
        }
        ConsensusRequest::PrepareProposal(req) => {
            // Keep the mempool's order; drop what cannot decode or does not fit.
            let mut size = 0i64;
            let mut txs = Vec::with_capacity(req.txs.len());
            for tx in req.txs {
                if decode_tx(&tx, false).is_err() {
                    continue;
                }
                size += tx.len() as i64;
                if size > req.max_tx_bytes {
                    break;
                }
                txs.push(tx);
            }
            ConsensusResponse::PrepareProposal(response::PrepareProposal { txs })
        }
        ConsensusRequest::ProcessProposal(req) => {
            let ok = req.txs.iter().all(|tx| decode_tx(tx, false).is_ok());
            if !ok {
                info!(height = %req.height, "rejecting a proposal holding an undecodable transaction");
            }
            ConsensusResponse::ProcessProposal(if ok { response::ProcessProposal::Accept } else { response::ProcessProposal::Reject })
        }
        ConsensusRequest::FinalizeBlock(req) => {
            let (time_seconds, time_nanos) = split_time(req.time);
            let block = BlockInput {
                height: req.height.value(),
                time_seconds,
                time_nanos,
                txs: req.txs.iter().map(|t| t.to_vec()).collect(),
                votes: req.decided_last_commit.votes.iter().map(commit_vote).collect(),
                misbehavior: req.misbehavior.iter().map(misbehavior).collect(),
                next_validators_hash: req.next_validators_hash.as_bytes().to_vec(),
            };
            let mut out = app.finalize_block(block).await?;
            let index = app.index_events();
            index.apply(&mut out.events);
            for r in &mut out.tx_results {
                index.apply(&mut r.events);
            }
            ConsensusResponse::FinalizeBlock(response::FinalizeBlock {
                events: out.events,
                tx_results: out.tx_results.into_iter().map(exec_tx_result).collect(),
                validator_updates: out.validator_updates,
                consensus_param_updates: None,
                app_hash: out.app_hash.try_into()?,
            })
        }
        ConsensusRequest::Commit => {
            let height = app.commit().await?;
            tracing::debug!(height, "committed");
            ConsensusResponse::Commit(response::Commit { data: Default::default(), retain_height: 0u32.into() })
        }
        ConsensusRequest::ExtendVote(_) => ConsensusResponse::ExtendVote(response::ExtendVote { vote_extension: Default::default() }),
        ConsensusRequest::VerifyVoteExtension(_) => ConsensusResponse::VerifyVoteExtension(response::VerifyVoteExtension::Accept),
    })
}

fn commit_vote(v: &tendermint::abci::types::VoteInfo) -> crate::slashing::hooks::CommitVote {
    use tendermint::abci::types::BlockSignatureInfo;
    use tendermint::block::BlockIdFlag;
    let signed = match v.sig_info {
        BlockSignatureInfo::Flag(BlockIdFlag::Absent) => false,
        BlockSignatureInfo::Flag(_) | BlockSignatureInfo::LegacySigned => true,
    };
    crate::slashing::hooks::CommitVote { address: v.validator.address, signed, power: i64::try_from(v.validator.power.value()).unwrap_or(i64::MAX) }
}

fn misbehavior(m: &tendermint::abci::types::Misbehavior) -> crate::slashing::hooks::Misbehavior {
    crate::slashing::hooks::Misbehavior { address: m.validator.address, height: m.height.value(), kind: format!("{:?}", m.kind) }
}

/// Block time as Unix seconds and nanoseconds.
pub fn split_time(t: tendermint::Time) -> (i64, u32) {
    let nanos = t.unix_timestamp_nanos();
    (nanos.div_euclid(1_000_000_000) as i64, nanos.rem_euclid(1_000_000_000) as u32)
}

/// Which event attributes CometBFT's tx indexer indexes, as the Cosmos
/// SDK's app.toml `index-events`: `<event type>.<attribute key>` strings,
/// e.g. `transfer.recipient`. Empty keeps the modules' own marks (the
/// attributes they mark `index`); a list indexes exactly the attributes it
/// names, in tx results and block events. Node-local and safe to differ
/// between nodes: CometBFT's results hash covers no events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexEvents(std::collections::BTreeSet<String>);

impl IndexEvents {
    pub fn parse(list: &[String]) -> Result<Self, String> {
        for entry in list {
            match entry.split_once('.') {
                Some((kind, key)) if !kind.is_empty() && !key.is_empty() => {}
                _ => return Err(format!("index_events entry {entry:?}: expected <event type>.<attribute key>, e.g. \"transfer.recipient\"")),
            }
        }
        Ok(IndexEvents(list.iter().cloned().collect()))
    }

    /// Mark each attribute of `events` indexed exactly when listed (no
    /// change when the list is empty).
    pub fn apply(&self, events: &mut [tendermint::abci::Event]) {
        if self.0.is_empty() {
            return;
        }
        for event in events {
            for attr in &mut event.attributes {
                let listed = attr.key_str().is_ok_and(|key| self.0.contains(&format!("{}.{key}", event.kind)));
                attr.set_index(listed);
            }
        }
    }
}

pub fn exec_tx_result(o: TxOutcome) -> ExecTxResult {
    let (code, codespace, log) = match &o.result {
        Ok(()) => (Code::Ok, String::new(), String::new()),
        Err(e) => (Code::from(e.code), e.codespace.to_string(), e.message.clone()),
    };
    ExecTxResult {
        code,
        data: o.data.into(),
        log,
        info: String::new(),
        gas_wanted: o.gas_wanted.min(i64::MAX as u64) as i64,
        gas_used: o.gas_used.min(i64::MAX as u64) as i64,
        events: o.events,
        codespace,
    }
}

/// CheckTx state: the latest committed snapshot plus every transaction
/// admitted since, so consecutive transactions of one account each see the
/// sequence its predecessor left. Rebuilt when a new block is committed
/// (CometBFT then re-checks what is left in its mempool).
struct MempoolState {
    storage: Storage,
    state: Option<(u64, StateDelta<CachedSnapshot>)>,
    min_gas_price: MinGasPrice,
    /// Shared with the consensus connection: what CheckTx verified,
    /// FinalizeBlock does not verify again.
    sig_cache: SigCache,
    /// Shared with the consensus connection, which moves it to each new
    /// commit.
    read_cache: ReadCache,
}

impl MempoolState {
    /// The CheckTx state, rebuilt on the latest commit if one happened since.
    async fn current(&mut self) -> Result<&mut StateDelta<CachedSnapshot>, TxOutcome> {
        let latest = self.storage.latest_version();
        if self.state.as_ref().map(|(v, _)| *v) != Some(latest) {
            let snapshot = self.storage.latest_snapshot();
            self.read_cache.adopt(snapshot.version());
            match next_block_state(self.read_cache.wrap(snapshot)).await {
                Ok(mut s) => {
                    s.put_sig_cache(self.sig_cache.clone());
                    self.state = Some((latest, s))
                }
                Err(e) => return Err(TxOutcome { result: Err(e), gas_wanted: 0, gas_used: 0, events: vec![], data: vec![], hash: None }),
            }
        }
        Ok(&mut self.state.as_mut().expect("set above").1)
    }

    async fn check_tx(&mut self, tx: &[u8], mode: ExecMode) -> response::CheckTx {
        let min_gas_price = self.min_gas_price.clone();
        match self.current().await {
            Ok(state) => check_tx_response(execute_tx(state, tx, mode, &min_gas_price).await),
            Err(failed) => check_tx_response(failed),
        }
    }

    async fn simulate(&mut self, tx: &[u8]) -> TxOutcome {
        match self.current().await {
            Ok(state) => {
                let mut fork = StateDelta::new(&mut *state);
                execute_tx(&mut fork, tx, ExecMode::Simulate, &MinGasPrice::zero()).await
            }
            Err(failed) => failed,
        }
    }

    async fn sequence(&self, address: &Address) -> Option<u64> {
        use crate::auth::AuthRead;
        let (_, state) = self.state.as_ref()?;
        state.account(address).await.ok().flatten().map(|a| a.sequence)
    }
}

fn check_tx_response(o: TxOutcome) -> response::CheckTx {
    let r = exec_tx_result(o);
    response::CheckTx {
        code: r.code,
        data: r.data,
        log: r.log,
        info: r.info,
        gas_wanted: r.gas_wanted,
        gas_used: r.gas_used,
        events: vec![],
        codespace: r.codespace,
        ..Default::default()
    }
}

impl Service<InfoRequest> for Info {
    type Response = InfoResponse;
    type Error = BoxError;
    type Future = BoxFuture<InfoResponse>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: InfoRequest) -> Self::Future {
        let storage = self.storage.clone();
        Box::pin(async move {
            Ok(match req {
                InfoRequest::Info(_) => {
                    let version = storage.latest_version();
                    let (height, hash) = if version == u64::MAX {
                        (0, vec![])
                    } else {
                        (version, storage.latest_snapshot().root_hash().await?.0.to_vec())
                    };
                    InfoResponse::Info(response::Info {
                        data: "aegis".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        app_version: 1,
                        last_block_height: height.try_into()?,
                        last_block_app_hash: hash.try_into()?,
                    })
                }
                InfoRequest::Query(q) => InfoResponse::Query(crate::query::abci_query(&storage, q).await),
                InfoRequest::Echo(e) => InfoResponse::Echo(response::Echo { message: e.message }),
            })
        })
    }
}

impl Service<SnapshotRequest> for Snapshots {
    type Response = SnapshotResponse;
    type Error = BoxError;
    type Future = BoxFuture<SnapshotResponse>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: SnapshotRequest) -> Self::Future {
        Box::pin(async move {
            Ok(match req {
                SnapshotRequest::ListSnapshots => SnapshotResponse::ListSnapshots(Default::default()),
                SnapshotRequest::OfferSnapshot(_) => SnapshotResponse::OfferSnapshot(response::OfferSnapshot::Reject),
                SnapshotRequest::LoadSnapshotChunk(_) => SnapshotResponse::LoadSnapshotChunk(Default::default()),
                SnapshotRequest::ApplySnapshotChunk(_) => SnapshotResponse::ApplySnapshotChunk(response::ApplySnapshotChunk {
                    result: response::ApplySnapshotChunkResult::Abort,
                    refetch_chunks: vec![],
                    reject_senders: vec![],
                }),
            })
        })
    }
}

#[cfg(test)]
mod index_events_tests {
    use super::IndexEvents;
    use tendermint::abci::{Event, EventAttributeIndexExt};

    fn events() -> Vec<Event> {
        vec![
            Event::new("transfer", [("recipient", "a").index(), ("amount", "5uaegis").index()]),
            Event::new("message", [("sender", "b").no_index(), ("action", "/x").index()]),
        ]
    }

    fn marks(events: &[Event]) -> Vec<(String, bool)> {
        events.iter().flat_map(|e| e.attributes.iter().map(move |a| (format!("{}.{}", e.kind, a.key_str().unwrap()), a.index()))).collect()
    }

    #[test]
    fn a_list_indexes_exactly_what_it_names_and_empty_keeps_the_modules_marks() {
        let mut e = events();
        IndexEvents::parse(&[]).unwrap().apply(&mut e);
        assert_eq!(e, events());
        IndexEvents::parse(&["message.sender".into(), "transfer.recipient".into(), "other.key".into()]).unwrap().apply(&mut e);
        let want = [("transfer.recipient", true), ("transfer.amount", false), ("message.sender", true), ("message.action", false)];
        assert_eq!(marks(&e), want.map(|(k, i)| (k.to_string(), i)).to_vec());
    }

    #[test]
    fn malformed_entries_are_refused_by_name() {
        for bad in ["transfer", ".recipient", "transfer.", ""] {
            let err = IndexEvents::parse(&["message.sender".into(), bad.into()]).unwrap_err();
            assert_eq!(err, format!("index_events entry {bad:?}: expected <event type>.<attribute key>, e.g. \"transfer.recipient\""));
        }
    }
}
