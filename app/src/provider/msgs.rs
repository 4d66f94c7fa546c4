//! Consumer registration, update and removal (owner), opt-in, opt-out and
//! consumer keys (operator).

use std::collections::BTreeSet;

use aegis_proto::aegis::provider::v1 as pb;
use tendermint::abci::{Event, EventAttributeIndexExt};
use tendermint_proto::google::protobuf::Any;

use super::state::{ConsumerParams, Infractions, KeyOwner, Metadata, Phase, CONSUMER_SET};
use super::{Consumer, ProviderError, ProviderRead, ProviderWrite};
use crate::avs::msgs::{parse_address_set, parse_wad, DeregisterFromOperatorSet, RegisterForOperatorSet};
use crate::avs::{Avs, AvsRead, AvsWrite, OperatorSet};
use crate::delegation::{DelegationError, DelegationRead};
use crate::error::AppResult;
use crate::math::{parse_decimal_wad, WAD};
use crate::restaking::{RestakingError, RestakingRead};
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::Address;

pub const MSG_CREATE_CONSUMER_URL: &str = "/aegis.provider.v1.MsgCreateConsumer";
pub const MSG_UPDATE_CONSUMER_URL: &str = "/aegis.provider.v1.MsgUpdateConsumer";
pub const MSG_REMOVE_CONSUMER_URL: &str = "/aegis.provider.v1.MsgRemoveConsumer";
pub const MSG_OPT_IN_URL: &str = "/aegis.provider.v1.MsgOptIn";
pub const MSG_OPT_OUT_URL: &str = "/aegis.provider.v1.MsgOptOut";
pub const MSG_ASSIGN_CONSUMER_KEY_URL: &str = "/aegis.provider.v1.MsgAssignConsumerKey";
pub const MSG_UNJAIL_URL: &str = "/aegis.provider.v1.MsgUnjail";
/// ICS's own message, so that ICS tooling (Hermes's `evidence`) can submit it.
pub const MSG_SUBMIT_CONSUMER_DOUBLE_VOTING_URL: &str = "/interchain_security.ccv.provider.v1.MsgSubmitConsumerDoubleVoting";

/// The `message.module` event value.
pub const MODULE: &str = "provider";

/// The provider module account: owner of every consumer's AVS and slasher
/// of its operator set, so that consumer infractions are slashed only
/// through this module.
pub fn module_address() -> Address {
    Address::module(MODULE)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    CreateConsumer(Box<CreateConsumer>),
    UpdateConsumer(Box<UpdateConsumer>),
    RemoveConsumer(RemoveConsumer),
    OptIn(OptIn),
    OptOut(OptOut),
    AssignConsumerKey(AssignConsumerKey),
    Unjail(Unjail),
    SubmitConsumerDoubleVoting(Box<SubmitConsumerDoubleVoting>),
}

pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_CREATE_CONSUMER_URL => unpack(any, CreateConsumer::check_stateless).map(|m| Msg::CreateConsumer(Box::new(m))),
        MSG_UPDATE_CONSUMER_URL => unpack(any, UpdateConsumer::check_stateless).map(|m| Msg::UpdateConsumer(Box::new(m))),
        MSG_REMOVE_CONSUMER_URL => unpack(any, RemoveConsumer::check_stateless).map(Msg::RemoveConsumer),
        MSG_OPT_IN_URL => unpack(any, OptIn::check_stateless).map(Msg::OptIn),
        MSG_OPT_OUT_URL => unpack(any, OptOut::check_stateless).map(Msg::OptOut),
        MSG_ASSIGN_CONSUMER_KEY_URL => unpack(any, AssignConsumerKey::check_stateless).map(Msg::AssignConsumerKey),
        MSG_UNJAIL_URL => unpack(any, Unjail::check_stateless).map(Msg::Unjail),
        MSG_SUBMIT_CONSUMER_DOUBLE_VOTING_URL => unpack(any, SubmitConsumerDoubleVoting::check_stateless).map(|m| Msg::SubmitConsumerDoubleVoting(Box::new(m))),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::CreateConsumer(m) => m.owner,
            Msg::UpdateConsumer(m) => m.owner,
            Msg::RemoveConsumer(m) => m.owner,
            Msg::OptIn(m) => m.operator,
            Msg::OptOut(m) => m.operator,
            Msg::AssignConsumerKey(m) => m.operator,
            Msg::Unjail(m) => m.operator,
            Msg::SubmitConsumerDoubleVoting(m) => m.submitter,
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::CreateConsumer(_) => MSG_CREATE_CONSUMER_URL,
            Msg::UpdateConsumer(_) => MSG_UPDATE_CONSUMER_URL,
            Msg::RemoveConsumer(_) => MSG_REMOVE_CONSUMER_URL,
            Msg::OptIn(_) => MSG_OPT_IN_URL,
            Msg::OptOut(_) => MSG_OPT_OUT_URL,
            Msg::AssignConsumerKey(_) => MSG_ASSIGN_CONSUMER_KEY_URL,
            Msg::Unjail(_) => MSG_UNJAIL_URL,
            Msg::SubmitConsumerDoubleVoting(_) => MSG_SUBMIT_CONSUMER_DOUBLE_VOTING_URL,
        }
    }

    pub async fn execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::CreateConsumer(m) => {
                let consumer_id = m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgCreateConsumerResponse", &pb::MsgCreateConsumerResponse { consumer_id }))
            }
            Msg::UpdateConsumer(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgUpdateConsumerResponse", &pb::MsgUpdateConsumerResponse {}))
            }
            Msg::RemoveConsumer(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgRemoveConsumerResponse", &pb::MsgRemoveConsumerResponse {}))
            }
            Msg::OptIn(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgOptInResponse", &pb::MsgOptInResponse {}))
            }
            Msg::OptOut(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgOptOutResponse", &pb::MsgOptOutResponse {}))
            }
            Msg::AssignConsumerKey(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgAssignConsumerKeyResponse", &pb::MsgAssignConsumerKeyResponse {}))
            }
            Msg::Unjail(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.provider.v1.MsgUnjailResponse", &pb::MsgUnjailResponse {}))
            }
            Msg::SubmitConsumerDoubleVoting(m) => {
                if let Some(header_chain) = &m.header_chain_id {
                    let c = state.require_consumer(m.consumer_id).await?;
                    if *header_chain != c.params.chain_id {
                        return Err(ProviderError::InvalidEvidence(format!("the infraction header is from {header_chain}, consumer {} is {}", c.id, c.params.chain_id)).into());
                    }
                }
                super::infractions::on_double_voting(state, m.consumer_id, &m.evidence).await?;
                Ok(response(
                    "/interchain_security.ccv.provider.v1.MsgSubmitConsumerDoubleVotingResponse",
                    &ibc_proto::interchain_security::ccv::provider::v1::MsgSubmitConsumerDoubleVotingResponse {},
                ))
            }
        }
    }
}

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 10_000;
const MAX_STRATEGIES: usize = 16;
/// A strategy's weight is at most 100x (one power unit per 10^4 tokens).
const MAX_WEIGHT_BPS: u32 = 1_000_000;

fn bad(msg: impl Into<String>) -> crate::error::AppError {
    ProviderError::InvalidParameters(msg.into()).into()
}

fn check_len(field: &str, s: &str, max: usize) -> AppResult<()> {
    if s.len() > max {
        return Err(bad(format!("{field} is {} bytes, max {max}", s.len())));
    }
    Ok(())
}

fn parse_fraction(field: &str, s: &str) -> AppResult<u128> {
    if s.is_empty() {
        return Ok(0);
    }
    parse_wad(s).map_err(|_| bad(format!("{field} {s:?} must be a WAD integer between 0 and 10^18")))
}

/// The stateless checks of `ConsumerParameters`.
pub fn parse_params(p: Option<&pb::ConsumerParameters>) -> AppResult<ConsumerParams> {
    let p = p.ok_or_else(|| bad("parameters are required"))?;
    ibc_core::host::types::identifiers::ChainId::new(&p.chain_id).map_err(|e| bad(format!("chain_id {:?}: {e}", p.chain_id)))?;
    if p.chain_id.is_empty() || p.chain_id.len() > 50 {
        return Err(bad(format!("chain_id must be 1 to 50 characters, got {}", p.chain_id.len())));
    }
    let md = p.metadata.clone().unwrap_or_default();
    check_len("metadata.name", &md.name, MAX_NAME)?;
    check_len("metadata.description", &md.description, MAX_DESCRIPTION)?;
    check_len("metadata.metadata", &md.metadata, MAX_DESCRIPTION)?;
    if p.spawn_time < 0 {
        return Err(bad(format!("spawn_time {} is negative", p.spawn_time)));
    }
    let shaping = p.power_shaping.clone().unwrap_or_default();
    let min_stake = if shaping.min_stake.is_empty() {
        0
    } else {
        shaping.min_stake.parse::<u128>().map_err(|_| bad(format!("min_stake {:?} is not a non-negative integer", shaping.min_stake)))?
    };
    if shaping.power_cap_percent > 100 {
        return Err(bad(format!("power_cap_percent {} exceeds 100", shaping.power_cap_percent)));
    }
    let allowlist = parse_address_set("allowlist", &shaping.allowlist)?;
    let denylist = parse_address_set("denylist", &shaping.denylist)?;
    if let Some(both) = allowlist.iter().find(|a| denylist.contains(a)) {
        return Err(bad(format!("{both} is on both the allow list and the deny list")));
    }
    if p.strategies.is_empty() || p.strategies.len() > MAX_STRATEGIES {
        return Err(bad(format!("a consumer accepts 1 to {MAX_STRATEGIES} strategies, got {}", p.strategies.len())));
    }
    let mut seen = BTreeSet::new();
    let mut strategies = Vec::with_capacity(p.strategies.len());
    for s in &p.strategies {
        crate::types::validate_denom(&s.denom)?;
        if !seen.insert(s.denom.clone()) {
            return Err(bad(format!("strategy {} listed twice", s.denom)));
        }
        if s.weight_bps == 0 || s.weight_bps > MAX_WEIGHT_BPS {
            return Err(bad(format!("weight_bps of {} is {}, must be 1 to {MAX_WEIGHT_BPS}", s.denom, s.weight_bps)));
        }
        strategies.push((s.denom.clone(), s.weight_bps));
    }
    let reward_fraction = if p.reward_fraction.is_empty() {
        0
    } else {
        parse_decimal_wad(&p.reward_fraction).filter(|w| *w <= WAD).ok_or_else(|| bad(format!("reward_fraction {:?} must be a decimal between 0 and 1", p.reward_fraction)))?
    };
    let inf = p.infractions.clone().unwrap_or_default();
    let infractions = Infractions {
        double_sign_fraction: parse_fraction("infractions.double_sign_fraction", &inf.double_sign_fraction)?,
        downtime_fraction: parse_fraction("infractions.downtime_fraction", &inf.downtime_fraction)?,
        downtime_jail_seconds: inf.downtime_jail_seconds,
    };
    if infractions.downtime_jail_seconds > 365 * 24 * 3600 {
        return Err(bad(format!("downtime_jail_seconds {} exceeds a year", infractions.downtime_jail_seconds)));
    }
    let proof_specs = super::state::ProofSpecKind::parse(&p.proof_specs)
        .ok_or_else(|| bad(format!("proof_specs {:?} must be \"aegis\" or \"cosmos-sdk\"", p.proof_specs)))?;
    if p.commission_bps > 10_000 {
        return Err(bad(format!("commission_bps {} exceeds 10000", p.commission_bps)));
    }
    if p.blocks_per_distribution_transmission > i64::MAX as u64 {
        return Err(bad(format!("blocks_per_distribution_transmission {} exceeds {}", p.blocks_per_distribution_transmission, i64::MAX)));
    }
    Ok(ConsumerParams {
        chain_id: p.chain_id.clone(),
        metadata: Metadata { name: md.name, description: md.description, metadata: md.metadata },
        spawn_time: p.spawn_time,
        min_stake,
        max_validators: shaping.max_validators,
        power_cap_percent: shaping.power_cap_percent,
        allowlist,
        denylist,
        strategies,
        reward_fraction,
        infractions,
        unbonding_period_seconds: p.unbonding_period_seconds,
        commission_bps: p.commission_bps,
        proof_specs,
        blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
    })
}

/// Stateful checks shared by create and update: the strategies exist and
/// the consumer's unbonding period fits within the provider's (0 = the
/// provider's). Returns the params with the unbonding period filled in.
async fn check_params<S: StoreWrite + Send + Sync>(state: &S, mut p: ConsumerParams, own: Option<u64>) -> AppResult<ConsumerParams> {
    if p.chain_id == state.block_context().map(|b| b.chain_id).unwrap_or_default() {
        return Err(bad(format!("chain_id {} is the provider's own", p.chain_id)));
    }
    if let Some(other) = state.consumer_by_chain_id(&p.chain_id).await? {
        if Some(other) != own {
            return Err(ProviderError::ChainIdInUse { chain_id: p.chain_id.clone(), consumer_id: other }.into());
        }
    }
    let max = state.avs_params().await?.max_strategies_per_set as usize;
    if p.strategies.len() > max {
        return Err(bad(format!("{} strategies, max {max}", p.strategies.len())));
    }
    for (denom, _) in &p.strategies {
        if state.strategy(denom).await?.is_none() {
            return Err(RestakingError::UnknownStrategy { denom: denom.clone() }.into());
        }
    }
    let provider_unbonding = state.restaking_params().await?.withdrawal_delay_seconds;
    if p.unbonding_period_seconds == 0 {
        p.unbonding_period_seconds = provider_unbonding;
    }
    if p.unbonding_period_seconds > provider_unbonding {
        return Err(bad(format!(
            "unbonding_period_seconds {} exceeds the provider's {provider_unbonding}: stake could leave the provider while the consumer still trusts it",
            p.unbonding_period_seconds
        )));
    }
    Ok(p)
}

fn consumer_event(kind: &str, c: &Consumer) -> Event {
    Event::new(
        kind,
        [
            ("consumer_id", c.id.to_string()).index(),
            ("chain_id", c.params.chain_id.clone()).index(),
            ("owner", c.owner.to_string()).index(),
            ("phase", c.phase.as_str().to_string()).index(),
        ],
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateConsumer {
    pub owner: Address,
    pub params: ConsumerParams,
}

impl CreateConsumer {
    pub fn check_stateless(msg: &pb::MsgCreateConsumer) -> AppResult<Self> {
        Ok(CreateConsumer { owner: Address::parse(&msg.owner)?, params: parse_params(msg.parameters.as_ref())? })
    }

    /// Creates the consumer's AVS (owned and slashed by this module) and its
    /// operator set 0, and queues the launch for the spawn time.
    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<u64> {
        let count = state.consumer_count().await?;
        let max = state.provider_params().await?.max_consumers;
        if count >= max as u64 {
            return Err(ProviderError::TooManyConsumers { have: count, max }.into());
        }
        let params = check_params(state, self.params.clone(), None).await?;
        let id = state.next_avs_id().await?;
        state.put_next_avs_id(id + 1)?;
        state.put_avs(&Avs {
            id,
            owner: module_address(),
            metadata_uri: format!("consumer chain {}", params.chain_id),
            redistribution_recipient: None,
            operator_set_count: 1,
        })?;
        state.put_operator_set(&OperatorSet {
            avs_id: id,
            id: CONSUMER_SET,
            strategies: params.strategies.iter().map(|(d, _)| d.clone()).collect(),
            slasher: module_address(),
            veto_committee: vec![],
            veto_threshold: 0,
            veto_window_seconds: 0,
            allowlist: params.allowlist.clone(),
            member_count: 0,
        })?;
        let consumer = Consumer {
            id,
            owner: self.owner,
            phase: Phase::Registered,
            params,
            client_id: None,
            channel_id: None,
            launch_height: 0,
            stopped_at: 0,
            valset_update_id: 0,
        };
        state.put_consumer(&consumer)?;
        state.put_chain_id(&consumer.params.chain_id, Some(id))?;
        state.queue_spawn(consumer.params.spawn_time, id, true)?;
        state.put_consumer_count(count + 1)?;
        state.record(consumer_event("create_consumer", &consumer));
        Ok(id)
    }
}

/// The consumer, checked to be owned by `signer`.
async fn owned<S: ProviderRead + Send + Sync + ?Sized>(state: &S, id: u64, signer: &Address) -> AppResult<Consumer> {
    let c = state.require_consumer(id).await?;
    if c.owner != *signer {
        return Err(ProviderError::NotOwner { signer: signer.to_string(), owner: c.owner.to_string(), consumer_id: id }.into());
    }
    Ok(c)
}

fn wrong_phase(c: &Consumer, action: &'static str, needed: &'static str) -> crate::error::AppError {
    ProviderError::WrongPhase { consumer_id: c.id, phase: c.phase.as_str().into(), action, needed }.into()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateConsumer {
    pub owner: Address,
    pub consumer_id: u64,
    pub params: ConsumerParams,
    pub new_owner: Option<Address>,
}

impl UpdateConsumer {
    pub fn check_stateless(msg: &pb::MsgUpdateConsumer) -> AppResult<Self> {
        let new_owner = if msg.new_owner.is_empty() { None } else { Some(Address::parse(&msg.new_owner)?) };
        Ok(UpdateConsumer { owner: Address::parse(&msg.owner)?, consumer_id: msg.consumer_id, params: parse_params(msg.parameters.as_ref())?, new_owner })
    }

    /// Before launch everything may change; after it, the chain id, spawn
    /// time, unbonding period and the set of strategies are fixed (the
    /// consumer's genesis and its operators' allocations rest on them).
    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<()> {
        let mut c = owned(state, self.consumer_id, &self.owner).await?;
        if !matches!(c.phase, Phase::Registered | Phase::Launched) {
            return Err(wrong_phase(&c, "updating", "registered or launched"));
        }
        let params = check_params(state, self.params.clone(), Some(c.id)).await?;
        if c.phase == Phase::Launched {
            let denoms = |p: &ConsumerParams| p.strategies.iter().map(|(d, _)| d.clone()).collect::<BTreeSet<_>>();
            for (field, same) in [
                ("chain_id", params.chain_id == c.params.chain_id),
                ("spawn_time", params.spawn_time == c.params.spawn_time),
                ("unbonding_period_seconds", params.unbonding_period_seconds == c.params.unbonding_period_seconds),
                ("the set of strategies", denoms(&params) == denoms(&c.params)),
            ] {
                if !same {
                    return Err(bad(format!("{field} cannot change after launch")));
                }
            }
        } else {
            state.queue_spawn(c.params.spawn_time, c.id, false)?;
            state.queue_spawn(params.spawn_time, c.id, true)?;
            state.put_chain_id(&c.params.chain_id, None)?;
            state.put_chain_id(&params.chain_id, Some(c.id))?;
        }
        let mut set = state.require_operator_set(c.id, CONSUMER_SET).await?;
        set.strategies = params.strategies.iter().map(|(d, _)| d.clone()).collect();
        set.allowlist = params.allowlist.clone();
        state.put_operator_set(&set)?;
        c.params = params;
        if let Some(owner) = self.new_owner {
            c.owner = owner;
        }
        if c.phase == Phase::Launched {
            state.mark_dirty(c.id, true)?;
        }
        state.put_consumer(&c)?;
        state.record(consumer_event("update_consumer", &c));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoveConsumer {
    pub owner: Address,
    pub consumer_id: u64,
}

impl RemoveConsumer {
    pub fn check_stateless(msg: &pb::MsgRemoveConsumer) -> AppResult<Self> {
        Ok(RemoveConsumer { owner: Address::parse(&msg.owner)?, consumer_id: msg.consumer_id })
    }

    /// A registered consumer is removed at once; a launched one stops (no
    /// more validator sets) and is removed after its unbonding period, so
    /// evidence of what its validators did meanwhile can still be judged.
    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<()> {
        let mut c = owned(state, self.consumer_id, &self.owner).await?;
        match c.phase {
            Phase::Registered => {
                state.queue_spawn(c.params.spawn_time, c.id, false)?;
                super::hooks::remove(state, &mut c).await?;
            }
            Phase::Launched => super::hooks::stop(state, &mut c)?,
            Phase::Stopped | Phase::Removed => return Err(wrong_phase(&c, "removing", "registered or launched")),
        }
        state.record(consumer_event("remove_consumer", &c));
        Ok(())
    }
}

/// A consumer key from hex (64 characters) or base64 (of 32 bytes), checked
/// to be a valid ed25519 point; returns (hex key, CometBFT address hex).
pub fn parse_consumer_key(s: &str) -> AppResult<(String, String)> {
    use base64::Engine;
    let invalid = |reason: &str| ProviderError::InvalidKey { key: s.chars().take(100).collect(), reason: reason.into() };
    let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(s).map_err(|_| invalid("not hex"))?
    } else {
        base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| invalid("neither 64 hex characters nor base64"))?
    };
    let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| invalid(&format!("{} bytes, an ed25519 key has 32", bytes.len())))?;
    ed25519_consensus::VerificationKey::try_from(arr).map_err(|_| invalid("not a valid ed25519 public key"))?;
    let key = hex::encode(arr);
    let addr = crate::delegation::state::consensus_address_of(&key).ok_or_else(|| invalid("not hex"))?;
    Ok((key, addr))
}

/// The key an operator validates a consumer with: the one it assigned, or
/// else its provider consensus key.
pub async fn consumer_key<S: ProviderRead + DelegationRead + Send + Sync + ?Sized>(state: &S, id: u64, op: &Address) -> AppResult<Option<String>> {
    if let Some(k) = state.assigned_key(id, op).await? {
        return Ok(Some(k));
    }
    Ok(state.operator(op).await?.and_then(|o| o.consensus_pubkey))
}

async fn assign_key<S: StoreWrite + Send + Sync>(state: &mut S, c: &Consumer, op: &Address, key_str: &str) -> AppResult<()> {
    let (key, addr) = parse_consumer_key(key_str)?;
    if let Some(owner) = state.key_owner(c.id, &addr).await? {
        if owner.operator != *op {
            return Err(ProviderError::KeyInUse { address: addr, consumer_id: c.id, owner: owner.operator.to_string() }.into());
        }
    }
    if let Some(holder) = state.consensus_address_owner(&addr).await? {
        if holder != *op {
            return Err(ProviderError::KeyIsProviderKey { address: addr, owner: holder.to_string() }.into());
        }
    }
    let now = state.block_time();
    if let Some(old) = state.assigned_key(c.id, op).await? {
        if old == key {
            return Ok(());
        }
        if let Some(old_addr) = crate::delegation::state::consensus_address_of(&old) {
            if let Some(mut rec) = state.key_owner(c.id, &old_addr).await? {
                rec.retired_at = Some(now);
                state.put_key_owner(c.id, &old_addr, &rec)?;
            }
        }
    }
    state.put_assigned_key(c.id, op, &key)?;
    state.put_key_owner(c.id, &addr, &KeyOwner { operator: *op, key: key.clone(), retired_at: None })?;
    state.mark_operator_dirty(c.id, op, true)?;
    state.record(Event::new(
        "assign_consumer_key",
        [("operator", op.to_string()).index(), ("consumer_id", c.id.to_string()).index(), ("consumer_key", key).index(), ("consumer_address", addr).index()],
    ));
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptIn {
    pub operator: Address,
    pub consumer_id: u64,
    pub consumer_key: Option<String>,
}

impl OptIn {
    pub fn check_stateless(msg: &pb::MsgOptIn) -> AppResult<Self> {
        let consumer_key = if msg.consumer_key.is_empty() {
            None
        } else {
            parse_consumer_key(&msg.consumer_key)?;
            Some(msg.consumer_key.clone())
        };
        Ok(OptIn { operator: Address::parse(&msg.operator)?, consumer_id: msg.consumer_id, consumer_key })
    }

    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<()> {
        let (op, id) = (self.operator, self.consumer_id);
        let c = state.require_consumer(id).await?;
        if !matches!(c.phase, Phase::Registered | Phase::Launched) {
            return Err(wrong_phase(&c, "opting in", "registered or launched"));
        }
        if state.operator(&op).await?.is_none() {
            return Err(DelegationError::NotAnOperator { address: op.to_string() }.into());
        }
        if c.params.denylist.contains(&op) {
            return Err(ProviderError::Denied { operator: op.to_string(), consumer_id: id }.into());
        }
        if !c.params.allowlist.is_empty() && !c.params.allowlist.contains(&op) {
            return Err(ProviderError::NotAllowed { operator: op.to_string(), consumer_id: id }.into());
        }
        if state.registration(&op, id, CONSUMER_SET).await?.registered {
            return Err(ProviderError::AlreadyOptedIn { operator: op.to_string(), consumer_id: id }.into());
        }
        RegisterForOperatorSet { operator: op, avs_id: id, set_id: CONSUMER_SET }.check_and_execute(state).await?;
        if let Some(key) = &self.consumer_key {
            assign_key(state, &c, &op, key).await?;
        }
        state.mark_operator_dirty(id, &op, true)?;
        state.record(Event::new("opt_in", [("operator", op.to_string()).index(), ("consumer_id", id.to_string()).index()]));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOut {
    pub operator: Address,
    pub consumer_id: u64,
}

impl OptOut {
    pub fn check_stateless(msg: &pb::MsgOptOut) -> AppResult<Self> {
        Ok(OptOut { operator: Address::parse(&msg.operator)?, consumer_id: msg.consumer_id })
    }

    /// Leaves the consumer's set at the next epoch end; the operator stays
    /// slashable by it for the deallocation delay, as for any AVS.
    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<()> {
        let (op, id) = (self.operator, self.consumer_id);
        let c = state.require_consumer(id).await?;
        if !state.registration(&op, id, CONSUMER_SET).await?.registered {
            return Err(ProviderError::NotOptedIn { operator: op.to_string(), consumer_id: id }.into());
        }
        DeregisterFromOperatorSet { operator: op, avs_id: id, set_id: CONSUMER_SET }.check_and_execute(state).await?;
        state.mark_operator_dirty(c.id, &op, true)?;
        state.record(Event::new("opt_out", [("operator", op.to_string()).index(), ("consumer_id", id.to_string()).index()]));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignConsumerKey {
    pub operator: Address,
    pub consumer_id: u64,
    pub consumer_key: String,
}

impl AssignConsumerKey {
    pub fn check_stateless(msg: &pb::MsgAssignConsumerKey) -> AppResult<Self> {
        parse_consumer_key(&msg.consumer_key)?;
        Ok(AssignConsumerKey { operator: Address::parse(&msg.operator)?, consumer_id: msg.consumer_id, consumer_key: msg.consumer_key.clone() })
    }

    /// One key per operator per consumer, never another operator's (on this
    /// consumer, or as its provider key). A replaced key is retired, not
    /// freed: evidence against it stays attributable.
    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<()> {
        let c = state.require_consumer(self.consumer_id).await?;
        if !matches!(c.phase, Phase::Registered | Phase::Launched) {
            return Err(wrong_phase(&c, "assigning a key", "registered or launched"));
        }
        if state.operator(&self.operator).await?.is_none() {
            return Err(DelegationError::NotAnOperator { address: self.operator.to_string() }.into());
        }
        assign_key(state, &c, &self.operator, &self.consumer_key).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unjail {
    pub operator: Address,
    pub consumer_id: u64,
}

impl Unjail {
    pub fn check_stateless(msg: &pb::MsgUnjail) -> AppResult<Self> {
        Ok(Unjail { operator: Address::parse(&msg.operator)?, consumer_id: msg.consumer_id })
    }

    pub async fn check_and_execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<()> {
        let (op, id) = (self.operator, self.consumer_id);
        state.require_consumer(id).await?;
        let mut jail = state.consumer_jail(id, &op).await?;
        if jail.tombstoned {
            return Err(ProviderError::AlreadyTombstoned { operator: op.to_string(), consumer_id: id }.into());
        }
        if !jail.excluded() {
            return Err(ProviderError::NotJailed { operator: op.to_string(), consumer_id: id }.into());
        }
        let now = state.block_time();
        if now < jail.until {
            return Err(ProviderError::StillJailed { operator: op.to_string(), consumer_id: id, until: jail.until, now, left: jail.until - now }.into());
        }
        jail.unjailed = true;
        state.put_consumer_jail(id, &op, &jail)?;
        state.mark_operator_dirty(id, &op, true)?;
        state.record(Event::new("consumer_unjail", [("operator", op.to_string()).index(), ("consumer_id", id.to_string()).index()]));
        Ok(())
    }
}

/// ICS's `MsgSubmitConsumerDoubleVoting`. The infraction header ICS also
/// asks for is not needed: the votes are checked against the keys the
/// provider gave the consumer, not against a header's validator set. If
/// one is given, it must be the consumer's.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmitConsumerDoubleVoting {
    pub submitter: Address,
    pub consumer_id: u64,
    pub evidence: tendermint_proto::types::DuplicateVoteEvidence,
    pub header_chain_id: Option<String>,
}

// The evidence holds integers, bytes and strings only.
impl Eq for SubmitConsumerDoubleVoting {}

impl SubmitConsumerDoubleVoting {
    pub fn check_stateless(msg: &ibc_proto::interchain_security::ccv::provider::v1::MsgSubmitConsumerDoubleVoting) -> AppResult<Self> {
        let evidence = msg.duplicate_vote_evidence.clone().ok_or_else(|| ProviderError::InvalidEvidence("duplicate_vote_evidence is missing".into()))?;
        let consumer_id = msg.consumer_id.parse().map_err(|_| ProviderError::InvalidEvidence(format!("consumer_id {:?} is not a number", msg.consumer_id)))?;
        let header_chain_id = msg.infraction_block_header.as_ref().and_then(|h| h.signed_header.as_ref()).and_then(|sh| sh.header.as_ref()).map(|h| h.chain_id.clone());
        Ok(SubmitConsumerDoubleVoting { submitter: Address::parse(&msg.submitter)?, consumer_id, evidence, header_chain_id })
    }
}
