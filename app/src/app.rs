//! Composes the modules: genesis, transaction dispatch, block execution.
//!
//! FinalizeBlock computes, Commit persists: `finalize_block` executes the
//! block into a state delta and stages the JMT write batch whose root is the
//! app hash; `commit` writes that batch to RocksDB atomically. Nothing in
//! FinalizeBlock touches disk, so a crash before Commit loses nothing that
//! CometBFT will not replay.

use anyhow::{anyhow, Context};
use cnidarium::{StagedWriteBatch, StateDelta, StateRead, StateWrite, Storage};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use prost::Message;
use serde::{Deserialize, Serialize};
use tendermint::abci::{Event, EventAttributeIndexExt};

use crate::auth::sigcache::SigCacheWrite;
use crate::auth::{self, genesis::AuthGenesis, params::MinGasPrice, AuthParams, AuthRead, SigCache};
use crate::bank::genesis::BankGenesis;
use crate::delegation::genesis::DelegationGenesis;
use crate::delegation::{DelegationRead, DelegationWrite};
use crate::restaking::genesis::RestakingGenesis;
use crate::rewards::genesis::RewardsGenesis;
use crate::avs::genesis::AvsGenesis;
use crate::slashing::genesis::SlashingGenesis;
use crate::slashing::hooks::{CommitVote, Misbehavior};
use crate::error::{AppError, AppResult, SdkError};
use crate::store::readcache::{BlockWrites, ReadCache};
use crate::store::{BlockContext, GasMeter, StoreRead, StoreWrite};
use crate::tx::{decode_tx, ExecMode, ParsedTx};
use crate::types::Address;

/// Module accounts: addresses no user holds a key for, which may not receive
/// MsgSend transfers.
pub const MODULE_ACCOUNTS: &[&str] = &[
    auth::FEE_COLLECTOR,
    crate::rewards::DISTRIBUTION,
    crate::rewards::AVS_REWARDS_ESCROW,
    crate::consumer::distribution::CONS_REDISTRIBUTE,
    crate::consumer::distribution::CONS_TO_SEND_TO_PROVIDER,
];

pub fn is_module_account(addr: &Address) -> bool {
    // Derived once: every transfer asks.
    static ADDRESSES: std::sync::LazyLock<Vec<Address>> = std::sync::LazyLock::new(|| MODULE_ACCOUNTS.iter().map(|name| Address::module(name)).collect());
    ADDRESSES.contains(addr)
}

/// `app_state` of genesis.json.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppGenesis {
    pub auth: AuthGenesis,
    pub bank: BankGenesis,
    pub restaking: RestakingGenesis,
    pub delegation: DelegationGenesis,
    pub rewards: RewardsGenesis,
    pub avs: AvsGenesis,
    pub slashing: SlashingGenesis,
    pub ibc: crate::ibc::genesis::IbcGenesis,
    /// ICS's `ConsumerGenesisState`: present exactly on a consumer chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer: Option<crate::ccv::ConsumerGenesis>,
    pub provider: crate::provider::genesis::ProviderGenesis,
}

const LAST_BLOCK_KEY: &str = "app/last_block";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct LastBlock {
    height: u64,
    time_seconds: i64,
    time_nanos: u32,
}

/// What executing one transaction produced.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    pub result: AppResult<()>,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
    /// Protobuf `TxMsgData` with one response per message, on success.
    pub data: Vec<u8>,
    pub hash: Option<[u8; 32]>,
}

impl TxOutcome {
    fn failed(e: AppError, gas_wanted: u64, gas_used: u64, hash: Option<[u8; 32]>) -> Self {
        TxOutcome { result: Err(e), gas_wanted, gas_used, events: vec![], data: vec![], hash }
    }
}

/// Inputs of one block, from FinalizeBlock.
#[derive(Clone, Debug)]
pub struct BlockInput {
    pub height: u64,
    pub time_seconds: i64,
    pub time_nanos: u32,
    pub txs: Vec<Vec<u8>>,
    /// The decided last commit's votes (liveness).
    pub votes: Vec<CommitVote>,
    /// Evidence of provider validators' misbehavior.
    pub misbehavior: Vec<Misbehavior>,
    /// Hash of the next block's validator set (from the header), which
    /// IBC records in this chain's consensus state.
    pub next_validators_hash: Vec<u8>,
}

/// What one block produced.
#[derive(Clone, Debug)]
pub struct BlockOutput {
    pub tx_results: Vec<TxOutcome>,
    /// Validator-set changes (epoch ends only).
    pub validator_updates: Vec<tendermint::validator::Update>,
    pub events: Vec<Event>,
    pub app_hash: Vec<u8>,
}

/// A block between FinalizeBlock and Commit.
struct Staged {
    batch: StagedWriteBatch,
    /// The version the block was executed on.
    parent: u64,
    writes: BlockWrites,
}

pub struct App {
    storage: Storage,
    /// The block FinalizeBlock staged, waiting for Commit. (A write batch
    /// is Send but not Sync; the mutex makes App shareable across awaits.)
    staged: std::sync::Mutex<Option<Staged>>,
    /// Signatures already verified, shared with the mempool connection.
    sig_cache: SigCache,
    /// Values at the last committed version, shared with the mempool
    /// connection: hot keys are not read from RocksDB block after block.
    read_cache: ReadCache,
    /// What CometBFT's tx indexer should index (app.toml `index_events`).
    index_events: crate::abci::IndexEvents,
    /// Threads that decode a block's txs and verify their signatures
    /// before execution. Changes speed only, never results.
    verify_threads: usize,
}

impl App {
    pub fn new(storage: Storage) -> Self {
        let verify_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        App { storage, staged: std::sync::Mutex::new(None), sig_cache: SigCache::default(), read_cache: ReadCache::default(), index_events: Default::default(), verify_threads }
    }

    /// The read cache CheckTx and simulation should read through (see
    /// [`crate::store::readcache`]).
    pub fn read_cache(&self) -> &ReadCache {
        &self.read_cache
    }

    pub fn set_read_cache(&mut self, cache: ReadCache) {
        self.read_cache = cache;
    }

    pub fn index_events(&self) -> &crate::abci::IndexEvents {
        &self.index_events
    }

    pub fn set_index_events(&mut self, index_events: crate::abci::IndexEvents) {
        self.index_events = index_events;
    }

    /// The signature cache CheckTx should fill so FinalizeBlock can skip
    /// what it already verified.
    pub fn sig_cache(&self) -> &SigCache {
        &self.sig_cache
    }

    pub fn set_sig_cache(&mut self, cache: SigCache) {
        self.sig_cache = cache;
    }

    pub fn verify_threads(&self) -> usize {
        self.verify_threads
    }

    /// At least one.
    pub fn set_verify_threads(&mut self, threads: usize) {
        self.verify_threads = threads.max(1);
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Give back the storage handle (dropping any staged, uncommitted block).
    pub fn into_storage(self) -> Storage {
        self.storage
    }

    /// Last committed height (0 before the first block) and its app hash
    /// (empty before genesis): what ABCI Info reports.
    pub async fn last_committed(&self) -> anyhow::Result<(u64, Vec<u8>)> {
        let version = self.storage.latest_version();
        if version == u64::MAX {
            return Ok((0, vec![]));
        }
        let root = self.storage.latest_snapshot().root_hash().await?;
        Ok((version, root.0.to_vec()))
    }

    /// Write genesis state and commit it as version 0; returns the app hash.
    /// Idempotent: if genesis was already committed (a crash before block 1
    /// makes CometBFT call InitChain again) the stored root is returned.
    pub async fn init_chain(&mut self, chain_id: &str, app_state_bytes: &[u8], genesis_time: (i64, u32)) -> AppResult<Vec<u8>> {
        if self.storage.latest_version() != u64::MAX {
            let stored = self.storage.latest_snapshot().chain_id().await?;
            if stored != chain_id {
                return Err(SdkError::InvalidChainId(format!("state belongs to {stored}, genesis says {chain_id}")).into());
            }
            return Ok(self.last_committed().await?.1);
        }
        let genesis: AppGenesis = if app_state_bytes.is_empty() {
            AppGenesis::default()
        } else {
            serde_json::from_slice(app_state_bytes).map_err(|e| SdkError::InvalidRequest(format!("genesis app_state: {e}")))?
        };
        let mut state = StateDelta::new(self.storage.latest_snapshot());
        genesis.auth.apply(&mut state, chain_id).await?;
        genesis.bank.apply(&mut state).await?;
        genesis.restaking.apply(&mut state).await?;
        genesis.avs.apply(&mut state).await?;
        genesis.slashing.apply(&mut state).await?;
        genesis.rewards.apply(&mut state).await?;
        genesis.delegation.apply(&mut state).await?;
        genesis.ibc.apply(&mut state).await?;
        if let Some(consumer) = &genesis.consumer {
            crate::consumer::genesis::apply(consumer, &mut state, chain_id, genesis_time).await?;
        }
        genesis.provider.apply(&mut state).await?;
        let set = crate::delegation::hooks::compute_validator_set(&state, 0).await?;
        state.put_validator_set(&set)?;
        state.write_json(LAST_BLOCK_KEY.into(), &LastBlock { height: 0, time_seconds: genesis_time.0, time_nanos: genesis_time.1 })?;
        let root = self.storage.commit(state).await.map_err(AppError::from)?;
        Ok(root.0.to_vec())
    }

    /// Execute a block and stage (not persist) its writes.
    pub async fn finalize_block(&mut self, block: BlockInput) -> anyhow::Result<BlockOutput> {
        let snapshot = self.storage.latest_snapshot();
        let expected = snapshot.version().wrapping_add(1);
        if block.height != expected {
            return Err(anyhow!("FinalizeBlock for height {} but the last committed height is {}", block.height, snapshot.version()));
        }
        let chain_id = snapshot.chain_id().await?;
        // Header H carries the app hash after H-1: the root of this snapshot.
        let last_app_hash = snapshot.root_hash().await?.0.to_vec();
        self.read_cache.adopt(snapshot.version());
        let mut state = StateDelta::new(self.read_cache.wrap(snapshot));
        state.put_block_context(BlockContext { chain_id: chain_id.clone(), height: block.height, time_seconds: block.time_seconds, time_nanos: block.time_nanos });
        state.put_sig_cache(self.sig_cache.clone());

        // Block hooks run in forks so their events can be returned.
        let mut begin = StateDelta::new(&mut state);
        crate::rewards::hooks::begin_block(&mut begin).await.context("distributing rewards")?;
        let mut updates = crate::slashing::hooks::begin_block(&mut begin, &block.votes, &block.misbehavior).await.context("slashing")?;
        crate::consumer::hooks::begin_block(&mut begin, &block.votes).await.context("consumer liveness")?;
        crate::avs::hooks::begin_block(&mut begin).await.context("maturing allocations")?;
        let header = crate::ibc::hooks::HostHeader {
            height: block.height,
            time_seconds: block.time_seconds,
            time_nanos: block.time_nanos,
            app_hash: last_app_hash,
            next_validators_hash: block.next_validators_hash.clone(),
        };
        crate::ibc::hooks::begin_block(&mut begin, &header).await.context("recording the IBC host consensus state")?;
        let (_, mut events) = begin.apply();
        // Decode on every core and verify on every core what the cache
        // lacks; then run the txs in order, where the ante finds those
        // signatures cached (or verifies itself what this warm-up missed).
        // On one thread the warm-up would only move the same work earlier
        // (and read each signer's account twice), so it is skipped.
        let decoded = decode_block_txs(&block.txs, self.verify_threads);
        if self.verify_threads > 1 {
            let jobs = auth::sigcache::block_jobs(&state, &chain_id, &decoded).await;
            auth::sigcache::preverify(&self.sig_cache, &jobs, self.verify_threads);
        }
        let mut tx_results = Vec::with_capacity(block.txs.len());
        for tx in decoded {
            tx_results.push(execute_decoded_tx(&mut state, tx, ExecMode::Deliver, &MinGasPrice::zero()).await);
        }

        let mut end = StateDelta::new(&mut state);
        updates.extend(crate::delegation::hooks::end_block(&mut end, block.height).await.context("epoch end")?);
        // A consumer chain has no operators, so the epoch above produces no
        // updates there; its set comes from the provider's VSC packets.
        updates.extend(crate::consumer::hooks::end_block(&mut end, block.height).await.context("consumer validator updates")?);
        crate::rewards::hooks::end_epoch(&mut end, block.height).await.context("AVS reward round")?;
        crate::provider::hooks::end_block(&mut end, block.height).await.context("consumer chains")?;
        let (_, end_events) = end.apply();
        events.extend(end_events);
        let validator_updates = updates.iter().map(|u| u.to_tendermint()).collect::<AppResult<Vec<_>>>()?;
        state.write_json(
            LAST_BLOCK_KEY.into(),
            &LastBlock { height: block.height, time_seconds: block.time_seconds, time_nanos: block.time_nanos },
        )?;
        // cnidarium stages only a delta over a bare snapshot: move the
        // block's changes there, keeping a copy for the read cache.
        let (base, changes) = state.flatten();
        let writes = BlockWrites::of(&changes);
        let base = base.into_snapshot();
        let parent = base.version();
        let mut bare = StateDelta::new(base);
        changes.apply_to(&mut bare);
        let batch = self.storage.prepare_commit(bare).await.context("staging the block's writes")?;
        let app_hash = batch.root_hash().0.to_vec();
        *self.staged.lock().expect("staged lock") = Some(Staged { batch, parent, writes });
        Ok(BlockOutput { tx_results, validator_updates, events, app_hash })
    }

    /// The validator set chosen at genesis, as CometBFT updates (empty if
    /// genesis has no operator with a consensus key and stake). On a
    /// consumer chain: the initial set the provider gave, by key.
    pub async fn genesis_validators(&self) -> anyhow::Result<Vec<tendermint::validator::Update>> {
        use crate::consumer::ConsumerRead;
        let snapshot = self.storage.latest_snapshot();
        if snapshot.is_consumer_chain().await? {
            return snapshot
                .consumer_validators()
                .await?
                .iter()
                .map(|v| crate::delegation::hooks::PowerUpdate { consensus_pubkey: hex::encode(v.pubkey), power: v.power }.to_tendermint().map_err(|e| anyhow!(e)))
                .collect();
        }
        let set = snapshot.validator_set().await?;
        set.validators
            .iter()
            .map(|v| crate::delegation::hooks::PowerUpdate { consensus_pubkey: v.consensus_pubkey.clone(), power: v.power }.to_tendermint().map_err(|e| anyhow!(e)))
            .collect()
    }

    /// Persist the staged block atomically.
    pub async fn commit(&mut self) -> anyhow::Result<u64> {
        let staged = self.staged.lock().expect("staged lock").take().ok_or_else(|| anyhow!("Commit without a preceding FinalizeBlock"))?;
        let version = staged.batch.version();
        if let Err(e) = self.storage.commit_batch(staged.batch) {
            self.read_cache.clear();
            return Err(e).context("committing the block");
        }
        self.read_cache.advance(staged.parent, version, staged.writes);
        Ok(version)
    }
}

/// Block time of the last committed block (0 before the first): what
/// queries judge time-dependent status (slashable, pending) against.
pub async fn last_block_time<S: StoreRead + Send + Sync>(state: &S) -> AppResult<i64> {
    let last: Option<LastBlock> = state.read_json(LAST_BLOCK_KEY).await?;
    Ok(last.map_or(0, |l| l.time_seconds))
}

/// Block time of the last committed block as (Unix seconds, nanoseconds):
/// what IBC client expiry is judged against.
pub async fn last_block_timestamp<S: StoreRead + Send + Sync>(state: &S) -> AppResult<(i64, u32)> {
    let last: Option<LastBlock> = state.read_json(LAST_BLOCK_KEY).await?;
    Ok(last.map_or((0, 0), |l| (l.time_seconds, l.time_nanos)))
}

/// The state a transaction outside a block (CheckTx, Simulate) runs on: the
/// latest snapshot, with the next height and the last block's time.
pub async fn next_block_state<S: StateRead>(snapshot: S) -> AppResult<StateDelta<S>> {
    let chain_id = snapshot.chain_id().await?;
    let last: Option<LastBlock> = snapshot.read_json(LAST_BLOCK_KEY).await?;
    let last = last.ok_or_else(|| AppError::internal("no block has been committed yet"))?;
    let mut state = StateDelta::new(snapshot);
    state.put_block_context(BlockContext { chain_id, height: last.height + 1, time_seconds: last.time_seconds, time_nanos: last.time_nanos });
    Ok(state)
}

/// Estimate a transaction's gas by running it, signatures unchecked, on a
/// throwaway copy of the latest state.
pub async fn simulate(storage: &Storage, tx_bytes: &[u8]) -> TxOutcome {
    let mut state = match next_block_state(storage.latest_snapshot()).await {
        Ok(s) => s,
        Err(e) => return TxOutcome::failed(e, 0, 0, None),
    };
    execute_tx(&mut state, tx_bytes, ExecMode::Simulate, &MinGasPrice::zero()).await
}

/// Run one transaction against `state`. Ante (signature, sequence, fee) runs
/// in a fork that is kept only if it succeeds; the messages run in a second
/// fork that is kept only if every message succeeds, so a failed message
/// reverts its writes while the fee stays charged and the sequence advanced.
/// In Check/ReCheck mode only the ante runs, as in the Cosmos SDK.
pub async fn execute_tx<S>(state: &mut S, bytes: &[u8], mode: ExecMode, min_gas_price: &MinGasPrice) -> TxOutcome
where
    S: StateRead + StateWrite + Send + Sync,
{
    execute_decoded_tx(state, decode_tx(bytes, mode == ExecMode::Simulate), mode, min_gas_price).await
}

/// Decode a block's transactions, on `threads` threads, in block order.
fn decode_block_txs(txs: &[Vec<u8>], threads: usize) -> Vec<AppResult<ParsedTx>> {
    let decode = |chunk: &[Vec<u8>]| chunk.iter().map(|t| decode_tx(t, false)).collect::<Vec<_>>();
    let threads = threads.clamp(1, txs.len().max(1));
    if threads == 1 {
        return decode(txs);
    }
    let chunk = txs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = txs.chunks(chunk).map(|c| s.spawn(move || decode(c))).collect();
        handles.into_iter().flat_map(|h| h.join().expect("tx decoding thread panicked")).collect()
    })
}

/// [`execute_tx`] for a transaction already decoded (or refused by
/// decoding) with `decode_tx(bytes, mode == Simulate)`.
async fn execute_decoded_tx<S>(state: &mut S, tx: AppResult<ParsedTx>, mode: ExecMode, min_gas_price: &MinGasPrice) -> TxOutcome
where
    S: StateRead + StateWrite + Send + Sync,
{
    let tx = match tx {
        Ok(tx) => tx,
        Err(e) => return TxOutcome::failed(e, 0, 0, None),
    };
    let params = match state.auth_params().await {
        Ok(p) => p,
        Err(e) => return TxOutcome::failed(e, tx.gas_limit, 0, Some(tx.hash)),
    };
    let limit = if mode == ExecMode::Simulate { u64::MAX } else { tx.gas_limit };
    let meter = GasMeter::new(limit, params.gas);
    state.put_gas_meter(meter.clone());
    let outcome = run_tx(state, &tx, mode, &params, min_gas_price, &meter).await;
    state.clear_gas_meter();
    outcome
}

async fn run_tx<S>(state: &mut S, tx: &ParsedTx, mode: ExecMode, params: &AuthParams, min_gas_price: &MinGasPrice, meter: &GasMeter) -> TxOutcome
where
    S: StateRead + StateWrite + Send + Sync,
{
    let gas_wanted = tx.gas_limit;
    let mut ante_state = StateDelta::new(&mut *state);
    if let Err(e) = auth::msgs::ante(&mut ante_state, tx, mode, params, min_gas_price).await {
        return TxOutcome::failed(e, gas_wanted, meter.used(), Some(tx.hash));
    }
    let (_, mut events) = ante_state.apply();
    if matches!(mode, ExecMode::Check | ExecMode::ReCheck) {
        return TxOutcome { result: Ok(()), gas_wanted, gas_used: meter.used(), events, data: vec![], hash: Some(tx.hash) };
    }

    let mut msg_state = StateDelta::new(&mut *state);
    let mut responses = Vec::with_capacity(tx.msgs.len());
    for (i, msg) in tx.msgs.iter().enumerate() {
        let result = async {
            msg_state.consume_gas(meter.costs().per_message, "message")?;
            msg.execute(&mut msg_state).await
        }
        .await;
        match result {
            Ok(response) => {
                responses.push(response);
                let signer = msg.signers()[0].to_string();
                msg_state.record(Event::new(
                    "message",
                    [
                        ("action", msg.type_url()).index(),
                        ("sender", signer.as_str()).index(),
                        ("module", msg.module()).index(),
                        ("msg_index", i.to_string().as_str()).index(),
                    ],
                ));
            }
            Err(e) => {
                let e = AppError { message: format!("failed to execute message; message index: {i}: {}", e.message), ..e };
                drop(msg_state);
                return TxOutcome { result: Err(e), gas_wanted, gas_used: meter.used(), events, data: vec![], hash: Some(tx.hash) };
            }
        }
    }
    let (_, msg_events) = msg_state.apply();
    events.extend(msg_events);
    #[allow(deprecated)]
    let data = TxMsgData { data: vec![], msg_responses: responses }.encode_to_vec();
    TxOutcome { result: Ok(()), gas_wanted, gas_used: meter.used(), events, data, hash: Some(tx.hash) }
}
