//! The provider module's state: consumer records, their validator sets as
//! last sent, consumer keys, and the queues the epoch end reads. The only
//! place its keys are spelled.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{ProviderError, ProviderParams};
use crate::error::AppResult;
use crate::store::{StoreRead, StoreWrite};
use crate::types::Address;

pub(crate) mod keys {
    use crate::types::Address;

    pub const PARAMS: &str = "provider/params";
    pub const CONSUMERS: &str = "provider/consumers/";
    pub const SPAWN_QUEUE: &str = "provider/spawn/";
    pub const REMOVAL_QUEUE: &str = "provider/removals/";
    pub const DIRTY: &str = "provider/dirty/";
    pub const CONSUMER_COUNT: &str = "provider/consumer_count";

    pub fn consumer(id: u64) -> String {
        format!("{CONSUMERS}{id:020}")
    }
    pub fn chain_id(chain_id: &str) -> String {
        format!("provider/chain_ids/{chain_id}")
    }
    pub fn spawn_entry(at: i64, id: u64) -> String {
        format!("{SPAWN_QUEUE}{:020}/{id:020}", at.max(0))
    }
    pub fn removal_entry(at: i64, id: u64) -> String {
        format!("{REMOVAL_QUEUE}{:020}/{id:020}", at.max(0))
    }
    pub fn dirty(id: u64) -> String {
        format!("{DIRTY}{id:020}")
    }
    pub const DIRTY_OPERATORS: &str = "provider/dirty_operators/";
    pub fn dirty_operator(id: u64, op: &Address) -> String {
        format!("{DIRTY_OPERATORS}{id:020}/{}", op.to_hex())
    }
    pub const UNSENT: &str = "provider/unsent/";
    pub fn unsent(id: u64) -> String {
        format!("{UNSENT}{id:020}")
    }
    pub fn candidates(id: u64) -> String {
        format!("provider/candidates/{id:020}")
    }
    pub fn validator_set(id: u64) -> String {
        format!("provider/valsets/{id:020}")
    }
    pub fn genesis(id: u64) -> String {
        format!("provider/genesis/{id:020}")
    }
    pub fn assigned_key(id: u64, op: &Address) -> String {
        format!("provider/keys/{id:020}/{}", op.to_hex())
    }
    pub fn key_owner(id: u64, cons_addr: &str) -> String {
        format!("provider/key_owners/{id:020}/{cons_addr}")
    }
    pub fn channel(channel_id: &str) -> String {
        format!("provider/channels/{channel_id}")
    }
    pub fn client(client_id: &str) -> String {
        format!("provider/clients/{client_id}")
    }
    pub fn jail(id: u64, op: &Address) -> String {
        format!("provider/jails/{id:020}/{}", op.to_hex())
    }
    pub const REWARD_POOLS: &str = "provider/reward_pools/";
    pub fn reward_pool(id: u64, denom: &str) -> String {
        format!("{REWARD_POOLS}{id:020}/{}", crate::types::denom_key(denom))
    }
    pub fn earned(id: u64, op: &Address, denom: &str) -> String {
        format!("provider/earned/{id:020}/{}/{}", op.to_hex(), crate::types::denom_key(denom))
    }
    pub fn earned_of(id: u64, op: &Address) -> String {
        format!("provider/earned/{id:020}/{}/", op.to_hex())
    }
    pub fn jail_meter(id: u64) -> String {
        format!("provider/jail_meters/{id:020}")
    }
}

/// A consumer's lifecycle: registered -> launched -> stopped -> removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for its spawn time and an eligible operator.
    Registered,
    /// Genesis served; validator sets go out each epoch that changes one.
    Launched,
    /// Removed by its owner: nothing more is sent; its operators stay
    /// slashable for the unbonding period, then it is removed.
    Stopped,
    /// Its state is deleted; only this record remains, and its chain id is
    /// free again.
    Removed,
}

impl Phase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Registered => "registered",
            Phase::Launched => "launched",
            Phase::Stopped => "stopped",
            Phase::Removed => "removed",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    pub description: String,
    pub metadata: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Infractions {
    /// WAD fractions of the stake allocated to the consumer.
    pub double_sign_fraction: u128,
    pub downtime_fraction: u128,
    pub downtime_jail_seconds: u64,
}

/// What the owner chooses (MsgCreateConsumer / MsgUpdateConsumer).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerParams {
    pub chain_id: String,
    pub metadata: Metadata,
    pub spawn_time: i64,
    /// Tokens allocated (over the accepted strategies, before weights) an
    /// operator needs to be in the set.
    pub min_stake: u128,
    /// 0 = no limit.
    pub max_validators: u32,
    /// 0 = no cap; else 1..=100.
    pub power_cap_percent: u32,
    pub allowlist: Vec<Address>,
    pub denylist: Vec<Address>,
    /// (denom, weight in basis points), in the owner's order.
    pub strategies: Vec<(String, u32)>,
    /// WAD fraction of the consumer's fees sent to the provider.
    pub reward_fraction: u128,
    pub infractions: Infractions,
    /// The consumer chain's unbonding period.
    pub unbonding_period_seconds: u64,
    pub commission_bps: u32,
    pub proof_specs: ProofSpecKind,
    /// ICS's `blocks_per_distribution_transmission` for the consumer
    /// genesis; 0 = ICS's default (1000).
    #[serde(default)]
    pub blocks_per_distribution_transmission: u64,
}

/// The store layout the consumer proves its state in, which the provider's
/// client of it must verify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProofSpecKind {
    /// An Aegis consumer: JMT proofs in the `ibc` substore, then the main store.
    #[default]
    Aegis,
    /// A Cosmos SDK (ICS) consumer: IAVL, then Tendermint simple-Merkle proofs.
    CosmosSdk,
}

impl ProofSpecKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "aegis" => Some(ProofSpecKind::Aegis),
            "cosmos-sdk" => Some(ProofSpecKind::CosmosSdk),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ProofSpecKind::Aegis => "aegis",
            ProofSpecKind::CosmosSdk => "cosmos-sdk",
        }
    }

    pub fn specs(&self) -> ibc_core::commitment_types::specs::ProofSpecs {
        match self {
            ProofSpecKind::Aegis => crate::ibc::proof_specs(),
            ProofSpecKind::CosmosSdk => ibc_core::commitment_types::specs::ProofSpecs::cosmos(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    /// Also its AVS id; its operator set is (id, 0).
    pub id: u64,
    pub owner: Address,
    pub phase: Phase,
    pub params: ConsumerParams,
    pub client_id: Option<String>,
    pub channel_id: Option<String>,
    pub launch_height: u64,
    pub stopped_at: i64,
    /// The last valset update id sent (the genesis set is id 0... see
    /// `launch`): VSC packet ids count up from 1.
    pub valset_update_id: u64,
}

/// The operator set of a consumer's AVS.
pub const CONSUMER_SET: u32 = 0;

/// One validator of a consumer's set as last sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerValidator {
    pub operator: Address,
    /// Hex of the 32-byte ed25519 key.
    pub key: String,
    pub power: i64,
}

/// Who holds a consumer key. Never deleted while the consumer exists, so a
/// key is never reusable by another operator; `retired_at` records when
/// the operator replaced it (evidence against it is accepted for the
/// unbonding period after that).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyOwner {
    pub operator: Address,
    pub key: String,
    pub retired_at: Option<i64>,
}

/// An operator's standing on one consumer (not on the provider, nor on
/// other consumers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerJail {
    /// Jailed for downtime until this block time (0 = never jailed).
    pub until: i64,
    /// Double-signed on the consumer: out of its set for good.
    pub tombstoned: bool,
    /// Unjailed (MsgUnjail) since its last jailing.
    #[serde(default)]
    pub unjailed: bool,
}

impl ConsumerJail {
    /// Out of the consumer's set: tombstoned, or jailed and not unjailed.
    pub fn excluded(&self) -> bool {
        self.tombstoned || (self.until > 0 && !self.unjailed)
    }
}

/// Power jailed through slash packets on a consumer in one epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JailMeter {
    pub epoch: u64,
    pub jailed_power: i64,
}

#[async_trait]
pub trait ProviderRead: StoreRead {
    async fn provider_params(&self) -> AppResult<ProviderParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    async fn consumer(&self, id: u64) -> AppResult<Option<Consumer>> {
        self.read_json(&keys::consumer(id)).await
    }

    async fn require_consumer(&self, id: u64) -> AppResult<Consumer> {
        Ok(self.consumer(id).await?.ok_or(ProviderError::UnknownConsumer { consumer_id: id })?)
    }

    /// Every consumer, by id. O(consumers): for queries.
    async fn consumers(&self) -> AppResult<Vec<Consumer>> {
        Ok(self.read_prefix_json(keys::CONSUMERS).await?.into_iter().map(|(_, c)| c).collect())
    }

    async fn consumer_count(&self) -> AppResult<u64> {
        Ok(self.read_u64(keys::CONSUMER_COUNT).await?.unwrap_or(0))
    }

    async fn consumer_by_chain_id(&self, chain_id: &str) -> AppResult<Option<u64>> {
        self.read_u64(&keys::chain_id(chain_id)).await
    }

    async fn consumer_by_channel(&self, channel_id: &str) -> AppResult<Option<u64>> {
        self.read_u64(&keys::channel(channel_id)).await
    }

    async fn consumer_by_client(&self, client_id: &str) -> AppResult<Option<u64>> {
        self.read_u64(&keys::client(client_id)).await
    }

    /// The validator set last sent (or launched with), by power then operator.
    async fn consumer_validators(&self, id: u64) -> AppResult<Vec<ConsumerValidator>> {
        Ok(self.read_json(&keys::validator_set(id)).await?.unwrap_or_default())
    }

    /// The consumer genesis, once launched.
    async fn consumer_genesis(&self, id: u64) -> AppResult<Option<crate::ccv::ConsumerGenesis>> {
        self.read_json(&keys::genesis(id)).await
    }

    /// The key the operator assigned for the consumer (hex), if any.
    async fn assigned_key(&self, id: u64, op: &Address) -> AppResult<Option<String>> {
        self.read_json(&keys::assigned_key(id, op)).await
    }

    async fn consumer_jail(&self, id: u64, op: &Address) -> AppResult<ConsumerJail> {
        Ok(self.read_json(&keys::jail(id, op)).await?.unwrap_or_default())
    }

    async fn reward_pool(&self, id: u64, denom: &str) -> AppResult<u128> {
        Ok(self.read_amount(&keys::reward_pool(id, denom)).await?.0)
    }

    /// Every consumer's undistributed rewards: (consumer, denom, amount).
    async fn reward_pools(&self) -> AppResult<Vec<(u64, String, u128)>> {
        let mut out = Vec::new();
        for (k, v) in self.read_prefix(keys::REWARD_POOLS).await? {
            let Some((id, denom)) = k[keys::REWARD_POOLS.len()..].split_once('/') else { continue };
            let amount = crate::types::Amount::from_be_bytes(&v).map_err(|e| crate::error::AppError::internal(format!("corrupt value at {k}: {e}")))?.0;
            out.push((id.parse().unwrap_or_default(), crate::types::denom_from_key(denom), amount));
        }
        Ok(out)
    }

    /// What an operator has earned from a consumer, in one denom, since it
    /// joined (commission and its stakers' part together).
    async fn consumer_earned(&self, id: u64, op: &Address, denom: &str) -> AppResult<u128> {
        Ok(self.read_amount(&keys::earned(id, op, denom)).await?.0)
    }

    async fn consumer_earned_all(&self, id: u64, op: &Address) -> AppResult<Vec<(String, u128)>> {
        let prefix = keys::earned_of(id, op);
        let mut out = Vec::new();
        for (k, v) in self.read_prefix(&prefix).await? {
            let amount = crate::types::Amount::from_be_bytes(&v).map_err(|e| crate::error::AppError::internal(format!("corrupt value at {k}: {e}")))?.0;
            out.push((crate::types::denom_from_key(&k[prefix.len()..]), amount));
        }
        Ok(out)
    }

    async fn jail_meter(&self, id: u64) -> AppResult<JailMeter> {
        Ok(self.read_json(&keys::jail_meter(id)).await?.unwrap_or_default())
    }

    async fn key_owner(&self, id: u64, cons_addr: &str) -> AppResult<Option<KeyOwner>> {
        self.read_json(&keys::key_owner(id, cons_addr)).await
    }

    /// Consumers whose spawn time is at or before `now`, oldest first:
    /// (spawn time, id). Reads only those.
    async fn due_spawns(&self, now: i64) -> AppResult<Vec<(i64, u64)>> {
        due(self, keys::SPAWN_QUEUE, now).await
    }

    async fn due_removals(&self, now: i64) -> AppResult<Vec<(i64, u64)>> {
        due(self, keys::REMOVAL_QUEUE, now).await
    }

    /// Consumers whose candidates must all be recomputed (their parameters
    /// changed) at the next epoch end.
    async fn dirty_consumers(&self) -> AppResult<Vec<u64>> {
        Ok(self.read_prefix(keys::DIRTY).await?.into_iter().filter_map(|(k, _)| k[keys::DIRTY.len()..].parse().ok()).collect())
    }

    /// (consumer, operator) pairs a message changed (opt-in or out, key,
    /// jail): that operator's candidate is recomputed at the next epoch end.
    async fn dirty_operators(&self) -> AppResult<Vec<(u64, Address)>> {
        Ok(self
            .read_prefix(keys::DIRTY_OPERATORS)
            .await?
            .into_iter()
            .filter_map(|(k, _)| {
                let (id, op) = k[keys::DIRTY_OPERATORS.len()..].split_once('/')?;
                Some((id.parse().ok()?, Address::from_hex(op)?))
            })
            .collect())
    }

    /// Launched consumers whose candidates changed while their CCV channel
    /// was not open: their set goes out once it is.
    async fn unsent_consumers(&self) -> AppResult<Vec<u64>> {
        Ok(self.read_prefix(keys::UNSENT).await?.into_iter().filter_map(|(k, _)| k[keys::UNSENT.len()..].parse().ok()).collect())
    }

    /// The consumer's cached candidates (see `valset::Candidate`).
    async fn candidates(&self, id: u64) -> AppResult<std::collections::BTreeMap<Address, super::valset::Candidate>> {
        Ok(self.read_json(&keys::candidates(id)).await?.unwrap_or_default())
    }
}

impl<T: StoreRead + ?Sized> ProviderRead for T {}

/// Entries of a time-keyed queue due at `now`: the scan stops at the first
/// entry after `now`, so it costs what is due plus one.
async fn due<S: StoreRead + ?Sized>(state: &S, prefix: &str, now: i64) -> AppResult<Vec<(i64, u64)>> {
    let at_of = |k: &str| k.get(prefix.len()..).and_then(|s| s.split('/').next()).and_then(|s| s.parse::<i64>().ok());
    let mut stop = |k: &str| at_of(k).is_none_or(|at| at > now);
    let entries = state.read_prefix_until(prefix, usize::MAX, &mut stop).await?;
    Ok(entries
        .into_iter()
        .filter_map(|(k, _)| {
            let (at, id) = k[prefix.len()..].split_once('/')?;
            let at: i64 = at.parse().ok()?;
            (at <= now).then_some((at, id.parse().ok()?))
        })
        .collect())
}

#[async_trait]
pub trait ProviderWrite: StoreWrite {
    fn put_provider_params(&mut self, params: &ProviderParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    fn put_consumer(&mut self, c: &Consumer) -> AppResult<()> {
        self.write_json(keys::consumer(c.id), c)
    }

    fn delete_consumer(&mut self, id: u64) -> AppResult<()> {
        self.delete_key(keys::consumer(id))
    }

    fn put_consumer_count(&mut self, n: u64) -> AppResult<()> {
        self.write_u64(keys::CONSUMER_COUNT.into(), n)
    }

    fn put_chain_id(&mut self, chain_id: &str, id: Option<u64>) -> AppResult<()> {
        match id {
            Some(id) => self.write_u64(keys::chain_id(chain_id), id),
            None => self.delete_key(keys::chain_id(chain_id)),
        }
    }

    fn put_channel(&mut self, channel_id: &str, id: u64) -> AppResult<()> {
        self.write_u64(keys::channel(channel_id), id)
    }

    fn put_client(&mut self, client_id: &str, id: u64) -> AppResult<()> {
        self.write_u64(keys::client(client_id), id)
    }

    fn put_consumer_validators(&mut self, id: u64, set: &[ConsumerValidator]) -> AppResult<()> {
        self.write_json(keys::validator_set(id), &set)
    }

    fn put_consumer_genesis(&mut self, id: u64, genesis: &crate::ccv::ConsumerGenesis) -> AppResult<()> {
        self.write_json(keys::genesis(id), genesis)
    }

    fn put_assigned_key(&mut self, id: u64, op: &Address, key: &str) -> AppResult<()> {
        self.write_json(keys::assigned_key(id, op), &key)
    }

    fn put_consumer_jail(&mut self, id: u64, op: &Address, jail: &ConsumerJail) -> AppResult<()> {
        self.write_json(keys::jail(id, op), jail)
    }

    fn put_reward_pool(&mut self, id: u64, denom: &str, amount: u128) -> AppResult<()> {
        if amount == 0 {
            self.delete_key(keys::reward_pool(id, denom))
        } else {
            self.write_amount(keys::reward_pool(id, denom), crate::types::Amount(amount))
        }
    }

    fn put_consumer_earned(&mut self, id: u64, op: &Address, denom: &str, amount: u128) -> AppResult<()> {
        self.write_amount(keys::earned(id, op, denom), crate::types::Amount(amount))
    }

    fn put_jail_meter(&mut self, id: u64, meter: &JailMeter) -> AppResult<()> {
        self.write_json(keys::jail_meter(id), meter)
    }

    fn put_key_owner(&mut self, id: u64, cons_addr: &str, owner: &KeyOwner) -> AppResult<()> {
        self.write_json(keys::key_owner(id, cons_addr), owner)
    }

    fn queue_spawn(&mut self, at: i64, id: u64, queued: bool) -> AppResult<()> {
        if queued {
            self.write_bytes(keys::spawn_entry(at, id), vec![])
        } else {
            self.delete_key(keys::spawn_entry(at, id))
        }
    }

    fn queue_removal(&mut self, at: i64, id: u64, queued: bool) -> AppResult<()> {
        if queued {
            self.write_bytes(keys::removal_entry(at, id), vec![])
        } else {
            self.delete_key(keys::removal_entry(at, id))
        }
    }

    /// Recompute this operator's candidate on the consumer at the next
    /// epoch end.
    fn mark_operator_dirty(&mut self, id: u64, op: &Address, dirty: bool) -> AppResult<()> {
        if dirty {
            self.write_bytes(keys::dirty_operator(id, op), vec![])
        } else {
            self.delete_key(keys::dirty_operator(id, op))
        }
    }

    fn mark_unsent(&mut self, id: u64, unsent: bool) -> AppResult<()> {
        if unsent {
            self.write_bytes(keys::unsent(id), vec![])
        } else {
            self.delete_key(keys::unsent(id))
        }
    }

    fn put_candidates(&mut self, id: u64, candidates: &std::collections::BTreeMap<Address, super::valset::Candidate>) -> AppResult<()> {
        if candidates.is_empty() {
            self.delete_key(keys::candidates(id))
        } else {
            self.write_json(keys::candidates(id), candidates)
        }
    }

    /// Recompute every candidate of this consumer at the next epoch end.
    fn mark_dirty(&mut self, id: u64, dirty: bool) -> AppResult<()> {
        if dirty {
            self.write_bytes(keys::dirty(id), vec![])
        } else {
            self.delete_key(keys::dirty(id))
        }
    }
}

impl<T: StoreWrite + ?Sized> ProviderWrite for T {}

/// For tests and audits (iterates every consumer and its set): the phase
/// counts and indexes agree with the records; every validator last sent
/// has positive power, a unique key, and that key resolves to it; the fee
/// pool holds at least every consumer's undistributed rewards; and a
/// launched consumer with nothing marked or journaled has cached exactly
/// the candidates a computation from scratch gives, and was last sent (or
/// launched with) exactly the set they give.
pub async fn check_provider_invariants<S: StoreRead + Send + Sync>(state: &S) -> AppResult<()> {
    use crate::bank::BankRead;
    use crate::delegation::DelegationRead;
    use std::collections::{BTreeMap, BTreeSet};
    let fail = |m: String| Err(crate::error::AppError::internal(format!("provider invariant: {m}")));
    let consumers = state.consumers().await?;
    let live = consumers.iter().filter(|c| c.phase != Phase::Removed).count() as u64;
    if live != state.consumer_count().await? {
        return fail(format!("{live} consumers exist, the count says {}", state.consumer_count().await?));
    }
    let mut pending: BTreeSet<u64> = state.dirty_consumers().await?.into_iter().collect();
    pending.extend(state.dirty_operators().await?.into_iter().map(|(id, _)| id));
    pending.extend(state.unsent_consumers().await?);
    let journal_empty = state.changed_operators().await?.is_empty() && crate::avs::AvsRead::changed_allocations(state).await?.is_empty();
    for c in &consumers {
        if c.phase == Phase::Removed {
            continue;
        }
        if state.consumer_by_chain_id(&c.params.chain_id).await? != Some(c.id) {
            return fail(format!("chain id {} does not index consumer {}", c.params.chain_id, c.id));
        }
        if let Some(ch) = &c.channel_id {
            if state.consumer_by_channel(ch).await? != Some(c.id) {
                return fail(format!("channel {ch} does not index consumer {}", c.id));
            }
        }
        let set = state.consumer_validators(c.id).await?;
        let mut keys = BTreeSet::new();
        for v in &set {
            if v.power <= 0 || !keys.insert(v.key.clone()) {
                return fail(format!("consumer {} validator {} has power {} or a repeated key", c.id, v.operator, v.power));
            }
            let addr = crate::delegation::state::consensus_address_of(&v.key).unwrap_or_default();
            let holder = match state.key_owner(c.id, &addr).await? {
                Some(o) => Some(o.operator),
                None => state.consensus_address_owner(&addr).await?,
            };
            if holder != Some(v.operator) {
                return fail(format!("consumer {} key {} resolves to {holder:?}, not {}", c.id, v.key, v.operator));
            }
        }
        if c.phase == Phase::Launched && !pending.contains(&c.id) && journal_empty {
            let cached = state.candidates(c.id).await?;
            let fresh = super::valset::all_candidates(state, c).await?;
            if cached != fresh {
                return fail(format!("consumer {} was not marked but its candidates changed: cached {cached:?}, now {fresh:?}", c.id));
            }
            let now = super::valset::assemble(c, &fresh);
            if now != set && !now.is_empty() {
                return fail(format!("consumer {} was not marked but its set changed: sent {set:?}, now {now:?}", c.id));
            }
        }
    }
    let mut pools: BTreeMap<String, u128> = BTreeMap::new();
    for (_, denom, amount) in state.reward_pools().await? {
        *pools.entry(denom).or_default() += amount;
    }
    for (denom, owed) in pools {
        let have = state.balance(&super::msgs::module_address(), &denom).await?.0;
        if have < owed {
            return fail(format!("the fee pool holds {have}{denom}, consumers are owed {owed}"));
        }
    }
    Ok(())
}
