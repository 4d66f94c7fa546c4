//! AVS registration, operator sets, operator registration and allocations.

use std::collections::BTreeSet;

use aegis_proto::aegis::avs::v1 as pb;
use tendermint::abci::{Event, EventAttributeIndexExt};
use tendermint_proto::google::protobuf::Any;

use super::state::AllocationDelay;
use super::{Allocation, Avs, AvsError, AvsRead, AvsWrite, OperatorSet};
use crate::delegation::{DelegationError, DelegationRead};
use crate::error::AppResult;
use crate::math::WAD;
use crate::restaking::{RestakingError, RestakingRead};
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::Address;

pub const MSG_REGISTER_AVS_URL: &str = "/aegis.avs.v1.MsgRegisterAvs";
pub const MSG_UPDATE_AVS_URL: &str = "/aegis.avs.v1.MsgUpdateAvs";
pub const MSG_CREATE_OPERATOR_SET_URL: &str = "/aegis.avs.v1.MsgCreateOperatorSet";
pub const MSG_REGISTER_FOR_OPERATOR_SET_URL: &str = "/aegis.avs.v1.MsgRegisterForOperatorSet";
pub const MSG_DEREGISTER_FROM_OPERATOR_SET_URL: &str = "/aegis.avs.v1.MsgDeregisterFromOperatorSet";
pub const MSG_MODIFY_ALLOCATIONS_URL: &str = "/aegis.avs.v1.MsgModifyAllocations";
pub const MSG_SET_ALLOCATION_DELAY_URL: &str = "/aegis.avs.v1.MsgSetAllocationDelay";

/// The `message.module` event value.
pub const MODULE: &str = "avs";

/// The avs module's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    RegisterAvs(RegisterAvs),
    UpdateAvs(UpdateAvs),
    CreateOperatorSet(CreateOperatorSet),
    RegisterForOperatorSet(RegisterForOperatorSet),
    DeregisterFromOperatorSet(DeregisterFromOperatorSet),
    ModifyAllocations(ModifyAllocations),
    SetAllocationDelay(SetAllocationDelay),
}

/// Decode and check statelessly; `None` if the type URL is not an avs message.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_REGISTER_AVS_URL => unpack(any, RegisterAvs::check_stateless).map(Msg::RegisterAvs),
        MSG_UPDATE_AVS_URL => unpack(any, UpdateAvs::check_stateless).map(Msg::UpdateAvs),
        MSG_CREATE_OPERATOR_SET_URL => unpack(any, CreateOperatorSet::check_stateless).map(Msg::CreateOperatorSet),
        MSG_REGISTER_FOR_OPERATOR_SET_URL => unpack(any, RegisterForOperatorSet::check_stateless).map(Msg::RegisterForOperatorSet),
        MSG_DEREGISTER_FROM_OPERATOR_SET_URL => unpack(any, DeregisterFromOperatorSet::check_stateless).map(Msg::DeregisterFromOperatorSet),
        MSG_MODIFY_ALLOCATIONS_URL => unpack(any, ModifyAllocations::check_stateless).map(Msg::ModifyAllocations),
        MSG_SET_ALLOCATION_DELAY_URL => unpack(any, SetAllocationDelay::check_stateless).map(Msg::SetAllocationDelay),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::RegisterAvs(m) => m.owner,
            Msg::UpdateAvs(m) => m.owner,
            Msg::CreateOperatorSet(m) => m.owner,
            Msg::RegisterForOperatorSet(m) => m.operator,
            Msg::DeregisterFromOperatorSet(m) => m.operator,
            Msg::ModifyAllocations(m) => m.operator,
            Msg::SetAllocationDelay(m) => m.operator,
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::RegisterAvs(_) => MSG_REGISTER_AVS_URL,
            Msg::UpdateAvs(_) => MSG_UPDATE_AVS_URL,
            Msg::CreateOperatorSet(_) => MSG_CREATE_OPERATOR_SET_URL,
            Msg::RegisterForOperatorSet(_) => MSG_REGISTER_FOR_OPERATOR_SET_URL,
            Msg::DeregisterFromOperatorSet(_) => MSG_DEREGISTER_FROM_OPERATOR_SET_URL,
            Msg::ModifyAllocations(_) => MSG_MODIFY_ALLOCATIONS_URL,
            Msg::SetAllocationDelay(_) => MSG_SET_ALLOCATION_DELAY_URL,
        }
    }

    /// Check against state and execute; returns the `Any`-packed response.
    pub async fn execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::RegisterAvs(m) => {
                let avs_id = m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgRegisterAvsResponse", &pb::MsgRegisterAvsResponse { avs_id }))
            }
            Msg::UpdateAvs(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgUpdateAvsResponse", &pb::MsgUpdateAvsResponse {}))
            }
            Msg::CreateOperatorSet(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgCreateOperatorSetResponse", &pb::MsgCreateOperatorSetResponse {}))
            }
            Msg::RegisterForOperatorSet(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgRegisterForOperatorSetResponse", &pb::MsgRegisterForOperatorSetResponse {}))
            }
            Msg::DeregisterFromOperatorSet(m) => {
                let slashable_until = m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgDeregisterFromOperatorSetResponse", &pb::MsgDeregisterFromOperatorSetResponse { slashable_until }))
            }
            Msg::ModifyAllocations(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgModifyAllocationsResponse", &pb::MsgModifyAllocationsResponse {}))
            }
            Msg::SetAllocationDelay(m) => {
                let effective_at = m.check_and_execute(state).await?;
                Ok(response("/aegis.avs.v1.MsgSetAllocationDelayResponse", &pb::MsgSetAllocationDelayResponse { effective_at }))
            }
        }
    }
}

const MAX_URI: usize = 512;
/// Most members of a veto committee or an allowlist.
pub const MAX_ADDRESS_LIST: usize = 100;
/// Most allocations changed by one message.
pub const MAX_ALLOCATIONS_PER_MSG: usize = 64;

/// A WAD fraction: a decimal integer in [0, 10^18].
pub fn parse_wad(s: &str) -> AppResult<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 19 {
        return Err(AvsError::InvalidMagnitude(format!("{s:?}")).into());
    }
    let v: u128 = s.parse().map_err(|_| AvsError::InvalidMagnitude(format!("{s:?}")))?;
    if v > WAD {
        return Err(AvsError::InvalidMagnitude(format!("{v} exceeds 10^18")).into());
    }
    Ok(v)
}

fn check_len(field: &'static str, s: &str, max: usize) -> AppResult<()> {
    if s.len() > max {
        return Err(AvsError::FieldTooLong { field, len: s.len(), max }.into());
    }
    Ok(())
}

fn parse_optional_address(s: &str) -> AppResult<Option<Address>> {
    if s.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Address::parse(s)?))
    }
}

/// Distinct addresses, at most MAX_ADDRESS_LIST.
pub(crate) fn parse_address_set(field: &str, list: &[String]) -> AppResult<Vec<Address>> {
    if list.len() > MAX_ADDRESS_LIST {
        return Err(AvsError::InvalidOperatorSet(format!("{field} has {} entries, max {MAX_ADDRESS_LIST}", list.len())).into());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let addr = Address::parse(a)?;
        if !seen.insert(addr) {
            return Err(AvsError::InvalidOperatorSet(format!("{field} lists {addr} twice")).into());
        }
        out.push(addr);
    }
    Ok(out)
}

async fn owned_avs<S: AvsRead + Send + Sync + ?Sized>(state: &S, avs_id: u64, signer: &Address) -> AppResult<Avs> {
    let avs = state.avs(avs_id).await?.ok_or(AvsError::UnknownAvs { avs_id })?;
    if avs.owner != *signer {
        return Err(AvsError::NotAvsOwner { avs_id, owner: avs.owner.to_string(), signer: signer.to_string() }.into());
    }
    Ok(avs)
}

async fn require_operator<S: DelegationRead + Send + Sync + ?Sized>(state: &S, op: &Address) -> AppResult<()> {
    if state.operator(op).await?.is_none() {
        return Err(DelegationError::NotAnOperator { address: op.to_string() }.into());
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterAvs {
    pub owner: Address,
    pub metadata_uri: String,
    pub redistribution_recipient: Option<Address>,
}

impl RegisterAvs {
    pub fn check_stateless(msg: &pb::MsgRegisterAvs) -> AppResult<Self> {
        check_len("metadata_uri", &msg.metadata_uri, MAX_URI)?;
        Ok(RegisterAvs {
            owner: Address::parse(&msg.owner)?,
            metadata_uri: msg.metadata_uri.clone(),
            redistribution_recipient: parse_optional_address(&msg.redistribution_recipient)?,
        })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u64> {
        let id = state.next_avs_id().await?;
        state.put_next_avs_id(id + 1)?;
        state.put_avs(&Avs {
            id,
            owner: self.owner,
            metadata_uri: self.metadata_uri.clone(),
            redistribution_recipient: self.redistribution_recipient,
            operator_set_count: 0,
        })?;
        state.record(Event::new("register_avs", [("avs_id", id.to_string()).index(), ("owner", self.owner.to_string()).index()]));
        Ok(id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateAvs {
    pub owner: Address,
    pub avs_id: u64,
    pub metadata_uri: Option<String>,
    pub redistribution_recipient: Option<Option<Address>>,
    pub new_owner: Option<Address>,
}

impl UpdateAvs {
    pub fn check_stateless(msg: &pb::MsgUpdateAvs) -> AppResult<Self> {
        if let Some(uri) = &msg.metadata_uri {
            check_len("metadata_uri", uri, MAX_URI)?;
        }
        Ok(UpdateAvs {
            owner: Address::parse(&msg.owner)?,
            avs_id: msg.avs_id,
            metadata_uri: msg.metadata_uri.clone(),
            redistribution_recipient: msg.redistribution_recipient.as_deref().map(parse_optional_address).transpose()?,
            new_owner: msg.new_owner.as_deref().map(Address::parse).transpose()?,
        })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let mut avs = owned_avs(state, self.avs_id, &self.owner).await?;
        if let Some(uri) = &self.metadata_uri {
            avs.metadata_uri = uri.clone();
        }
        if let Some(r) = self.redistribution_recipient {
            avs.redistribution_recipient = r;
        }
        if let Some(o) = self.new_owner {
            avs.owner = o;
        }
        state.put_avs(&avs)?;
        state.record(Event::new("update_avs", [("avs_id", avs.id.to_string()).index(), ("owner", avs.owner.to_string()).index()]));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOperatorSet {
    pub owner: Address,
    pub set: OperatorSet,
}

impl CreateOperatorSet {
    pub fn check_stateless(msg: &pb::MsgCreateOperatorSet) -> AppResult<Self> {
        let bad = |m: String| -> crate::error::AppError { AvsError::InvalidOperatorSet(m).into() };
        if msg.strategies.is_empty() {
            return Err(bad("an operator set accepts at least one strategy".into()));
        }
        let mut seen = BTreeSet::new();
        for s in &msg.strategies {
            crate::types::validate_denom(s)?;
            if !seen.insert(s) {
                return Err(bad(format!("strategy {s} listed twice")));
            }
        }
        let veto_committee = parse_address_set("veto_committee", &msg.veto_committee)?;
        if veto_committee.is_empty() {
            if msg.veto_threshold != 0 || msg.veto_window_seconds != 0 {
                return Err(bad("veto_threshold and veto_window_seconds need a veto committee".into()));
            }
        } else {
            if msg.veto_threshold == 0 || msg.veto_threshold as usize > veto_committee.len() {
                return Err(bad(format!("veto_threshold {} must be between 1 and the committee size {}", msg.veto_threshold, veto_committee.len())));
            }
            if msg.veto_window_seconds == 0 {
                return Err(bad("a veto committee needs a positive veto_window_seconds".into()));
            }
        }
        Ok(CreateOperatorSet {
            owner: Address::parse(&msg.owner)?,
            set: OperatorSet {
                avs_id: msg.avs_id,
                id: msg.operator_set_id,
                strategies: msg.strategies.clone(),
                slasher: Address::parse(&msg.slasher)?,
                veto_committee,
                veto_threshold: msg.veto_threshold,
                veto_window_seconds: msg.veto_window_seconds,
                allowlist: parse_address_set("allowlist", &msg.allowlist)?,
                member_count: 0,
            },
        })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let set = &self.set;
        let mut avs = owned_avs(state, set.avs_id, &self.owner).await?;
        if state.operator_set(set.avs_id, set.id).await?.is_some() {
            return Err(AvsError::OperatorSetExists { avs_id: set.avs_id, set_id: set.id }.into());
        }
        let params = state.avs_params().await?;
        if set.strategies.len() > params.max_strategies_per_set as usize {
            return Err(AvsError::InvalidOperatorSet(format!("{} strategies, max {}", set.strategies.len(), params.max_strategies_per_set)).into());
        }
        for denom in &set.strategies {
            if state.strategy(denom).await?.is_none() {
                return Err(RestakingError::UnknownStrategy { denom: denom.clone() }.into());
            }
        }
        // A slash requested during the window must still find stake that
        // leaves after the request (see docs/ARCHITECTURE.md).
        if set.veto_window_seconds >= params.deallocation_delay_seconds && !set.veto_committee.is_empty() {
            return Err(AvsError::InvalidOperatorSet(format!(
                "veto_window_seconds {} must be shorter than the deallocation delay {}",
                set.veto_window_seconds, params.deallocation_delay_seconds
            ))
            .into());
        }
        avs.operator_set_count += 1;
        state.put_avs(&avs)?;
        state.put_operator_set(set)?;
        state.record(Event::new(
            "create_operator_set",
            [
                ("avs_id", set.avs_id.to_string()).index(),
                ("operator_set_id", set.id.to_string()).index(),
                ("slasher", set.slasher.to_string()).no_index(),
                ("strategies", set.strategies.join(",")).no_index(),
            ],
        ));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterForOperatorSet {
    pub operator: Address,
    pub avs_id: u64,
    pub set_id: u32,
}

impl RegisterForOperatorSet {
    pub fn check_stateless(msg: &pb::MsgRegisterForOperatorSet) -> AppResult<Self> {
        Ok(RegisterForOperatorSet { operator: Address::parse(&msg.operator)?, avs_id: msg.avs_id, set_id: msg.operator_set_id })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let (op, avs_id, set_id) = (self.operator, self.avs_id, self.set_id);
        require_operator(state, &op).await?;
        let mut set = state.require_operator_set(avs_id, set_id).await?;
        if !set.allowlist.is_empty() && !set.allowlist.contains(&op) {
            return Err(AvsError::NotAllowlisted { operator: op.to_string(), avs_id, set_id }.into());
        }
        let mut reg = state.registration(&op, avs_id, set_id).await?;
        if reg.registered {
            return Err(AvsError::AlreadyRegistered { operator: op.to_string(), avs_id, set_id }.into());
        }
        reg.registered = true;
        state.put_registration(&op, avs_id, set_id, &reg)?;
        set.member_count += 1;
        state.put_operator_set(&set)?;
        state.record(Event::new(
            "register_for_operator_set",
            [("operator", op.to_string()).index(), ("avs_id", avs_id.to_string()).index(), ("operator_set_id", set_id.to_string()).index()],
        ));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeregisterFromOperatorSet {
    pub operator: Address,
    pub avs_id: u64,
    pub set_id: u32,
}

impl DeregisterFromOperatorSet {
    pub fn check_stateless(msg: &pb::MsgDeregisterFromOperatorSet) -> AppResult<Self> {
        Ok(DeregisterFromOperatorSet { operator: Address::parse(&msg.operator)?, avs_id: msg.avs_id, set_id: msg.operator_set_id })
    }

    /// Returns the time until which the set may still slash the operator.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<i64> {
        let (op, avs_id, set_id) = (self.operator, self.avs_id, self.set_id);
        let mut set = state.require_operator_set(avs_id, set_id).await?;
        let mut reg = state.registration(&op, avs_id, set_id).await?;
        if !reg.registered {
            return Err(AvsError::NotRegistered { operator: op.to_string(), avs_id, set_id }.into());
        }
        let delay = state.avs_params().await?.deallocation_delay_seconds as i64;
        reg.registered = false;
        reg.slashable_until = state.block_time().saturating_add(delay);
        state.put_registration(&op, avs_id, set_id, &reg)?;
        set.member_count = set.member_count.saturating_sub(1);
        state.put_operator_set(&set)?;
        state.record(Event::new(
            "deregister_from_operator_set",
            [
                ("operator", op.to_string()).index(),
                ("avs_id", avs_id.to_string()).index(),
                ("operator_set_id", set_id.to_string()).index(),
                ("slashable_until", reg.slashable_until.to_string()).no_index(),
            ],
        ));
        Ok(reg.slashable_until)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocateEntry {
    pub avs_id: u64,
    pub set_id: u32,
    pub denom: String,
    pub magnitude: u128,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModifyAllocations {
    pub operator: Address,
    pub allocations: Vec<AllocateEntry>,
}

impl ModifyAllocations {
    pub fn check_stateless(msg: &pb::MsgModifyAllocations) -> AppResult<Self> {
        if msg.allocations.is_empty() || msg.allocations.len() > MAX_ALLOCATIONS_PER_MSG {
            return Err(AvsError::InvalidMagnitude(format!("{} allocations in one message; 1 to {MAX_ALLOCATIONS_PER_MSG} allowed", msg.allocations.len())).into());
        }
        let mut seen = BTreeSet::new();
        let mut allocations = Vec::with_capacity(msg.allocations.len());
        for a in &msg.allocations {
            crate::types::validate_denom(&a.strategy)?;
            if !seen.insert((a.avs_id, a.operator_set_id, a.strategy.clone())) {
                return Err(AvsError::DuplicateAllocation { avs_id: a.avs_id, set_id: a.operator_set_id, denom: a.strategy.clone() }.into());
            }
            allocations.push(AllocateEntry { avs_id: a.avs_id, set_id: a.operator_set_id, denom: a.strategy.clone(), magnitude: parse_wad(&a.magnitude)? });
        }
        Ok(ModifyAllocations { operator: Address::parse(&msg.operator)?, allocations })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let op = self.operator;
        require_operator(state, &op).await?;
        let params = state.avs_params().await?;
        let now = state.block_time();
        let alloc_delay = state.allocation_delay(&op).await?.current(now, params.default_allocation_delay_seconds) as i64;
        for e in &self.allocations {
            let (avs_id, set_id, denom) = (e.avs_id, e.set_id, e.denom.as_str());
            let set = state.require_operator_set(avs_id, set_id).await?;
            if !set.accepts(denom) {
                return Err(AvsError::StrategyNotInSet { avs_id, set_id, denom: denom.into() }.into());
            }
            let mut a = state.allocation(&op, denom, avs_id, set_id).await?;
            if a.has_pending() {
                return Err(AvsError::ModificationPending { operator: op.to_string(), avs_id, set_id, denom: denom.into(), effective_at: a.effective_at }.into());
            }
            if e.magnitude == a.magnitude {
                return Err(AvsError::SameMagnitude { operator: op.to_string(), avs_id, set_id, denom: denom.into(), magnitude: a.magnitude }.into());
            }
            let reg = state.registration(&op, avs_id, set_id).await?;
            let mut encumbered = state.encumbered_magnitude(&op, denom).await?;
            if e.magnitude > a.magnitude {
                if !reg.registered {
                    return Err(AvsError::NotRegistered { operator: op.to_string(), avs_id, set_id }.into());
                }
                let delta = e.magnitude - a.magnitude;
                let max = state.operator_stake(&op, denom).await?.max_magnitude;
                let available = max.saturating_sub(encumbered);
                if delta > available {
                    return Err(AvsError::InsufficientMagnitude { operator: op.to_string(), denom: denom.into(), max, encumbered, available, requested: delta }.into());
                }
                encumbered += delta;
                if alloc_delay == 0 {
                    a.magnitude += delta;
                } else {
                    a.pending_increase = delta;
                    a.effective_at = now.saturating_add(alloc_delay);
                }
            } else {
                let delta = a.magnitude - e.magnitude;
                if reg.slashable(now) {
                    a.pending_decrease = delta;
                    a.effective_at = now.saturating_add(params.deallocation_delay_seconds as i64);
                } else {
                    // Nothing can slash it here any more: free at once.
                    a.magnitude -= delta;
                    encumbered -= delta;
                }
            }
            if a.has_pending() {
                state.enqueue_allocation(a.effective_at, &op, denom, avs_id, set_id)?;
            }
            state.put_allocation(&op, denom, avs_id, set_id, &a)?;
            state.put_encumbered_magnitude(&op, denom, encumbered)?;
            state.record(Event::new(
                "modify_allocation",
                [
                    ("operator", op.to_string()).index(),
                    ("avs_id", avs_id.to_string()).index(),
                    ("operator_set_id", set_id.to_string()).index(),
                    ("strategy", denom.to_string()).no_index(),
                    ("magnitude", a.magnitude.to_string()).no_index(),
                    ("target_magnitude", a.target().to_string()).no_index(),
                    ("effective_at", a.effective_at.to_string()).no_index(),
                ],
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAllocationDelay {
    pub operator: Address,
    pub delay_seconds: u64,
}

impl SetAllocationDelay {
    pub fn check_stateless(msg: &pb::MsgSetAllocationDelay) -> AppResult<Self> {
        if msg.delay_seconds > i64::MAX as u64 / 2 {
            return Err(AvsError::InvalidParams(format!("allocation delay {} is too large", msg.delay_seconds)).into());
        }
        Ok(SetAllocationDelay { operator: Address::parse(&msg.operator)?, delay_seconds: msg.delay_seconds })
    }

    /// Returns when the new delay applies.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<i64> {
        require_operator(state, &self.operator).await?;
        let params = state.avs_params().await?;
        let now = state.block_time();
        let mut d: AllocationDelay = state.allocation_delay(&self.operator).await?;
        d.delay = Some(d.current(now, params.default_allocation_delay_seconds));
        let at = now.saturating_add(params.allocation_configuration_delay_seconds as i64);
        d.pending = Some((self.delay_seconds, at));
        state.put_allocation_delay(&self.operator, &d)?;
        state.record(Event::new(
            "set_allocation_delay",
            [("operator", self.operator.to_string()).index(), ("delay_seconds", self.delay_seconds.to_string()).no_index(), ("effective_at", at.to_string()).no_index()],
        ));
        Ok(at)
    }
}

/// Apply the pending change queued for time `at`, if it is still the one
/// pending (a slash may have consumed a pending decrease). Called by the
/// block hook.
pub async fn mature<S: StoreWrite + Send>(state: &mut S, at: i64, op: &Address, denom: &str, avs_id: u64, set_id: u32) -> AppResult<()> {
    let mut a: Allocation = state.allocation(op, denom, avs_id, set_id).await?;
    if a.effective_at != at || !a.has_pending() {
        return Ok(());
    }
    if a.pending_increase > 0 {
        a.magnitude += a.pending_increase;
    } else if a.pending_decrease > 0 {
        let dec = a.pending_decrease.min(a.magnitude);
        a.magnitude -= dec;
        let enc = state.encumbered_magnitude(op, denom).await?;
        state.put_encumbered_magnitude(op, denom, enc.saturating_sub(dec))?;
    }
    a.pending_increase = 0;
    a.pending_decrease = 0;
    a.effective_at = 0;
    state.put_allocation(op, denom, avs_id, set_id, &a)
}
