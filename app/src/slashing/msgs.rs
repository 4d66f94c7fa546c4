//! `MsgSlashOperator`, `MsgVetoSlash`, `MsgExecuteSlash`, `MsgUnjail`.

use std::collections::BTreeSet;

use aegis_proto::aegis::slashing::v1 as pb;
use tendermint::abci::{Event, EventAttributeIndexExt};
use tendermint_proto::google::protobuf::Any;

use super::state::{slash_event, Slashed};
use super::{AvsSlash, SlashStatus, SlashingError, SlashingRead, SlashingWrite};
use crate::avs::AvsRead;
use crate::delegation::{DelegationError, DelegationRead, DelegationWrite};
use crate::error::AppResult;
use crate::math::WAD;
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::Address;

pub const MSG_SLASH_OPERATOR_URL: &str = "/aegis.slashing.v1.MsgSlashOperator";
pub const MSG_VETO_SLASH_URL: &str = "/aegis.slashing.v1.MsgVetoSlash";
pub const MSG_EXECUTE_SLASH_URL: &str = "/aegis.slashing.v1.MsgExecuteSlash";
pub const MSG_UNJAIL_URL: &str = "/aegis.slashing.v1.MsgUnjail";

/// The `message.module` event value.
pub const MODULE: &str = "slashing";

/// The slashing module's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    SlashOperator(SlashOperator),
    VetoSlash(VetoSlash),
    ExecuteSlash(ExecuteSlash),
    Unjail(Unjail),
}

/// Decode and check statelessly; `None` if the type URL is not a slashing message.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_SLASH_OPERATOR_URL => unpack(any, SlashOperator::check_stateless).map(Msg::SlashOperator),
        MSG_VETO_SLASH_URL => unpack(any, VetoSlash::check_stateless).map(Msg::VetoSlash),
        MSG_EXECUTE_SLASH_URL => unpack(any, ExecuteSlash::check_stateless).map(Msg::ExecuteSlash),
        MSG_UNJAIL_URL => unpack(any, Unjail::check_stateless).map(Msg::Unjail),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::SlashOperator(m) => m.slasher,
            Msg::VetoSlash(m) => m.member,
            Msg::ExecuteSlash(m) => m.executor,
            Msg::Unjail(m) => m.operator,
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::SlashOperator(_) => MSG_SLASH_OPERATOR_URL,
            Msg::VetoSlash(_) => MSG_VETO_SLASH_URL,
            Msg::ExecuteSlash(_) => MSG_EXECUTE_SLASH_URL,
            Msg::Unjail(_) => MSG_UNJAIL_URL,
        }
    }

    /// Check against state and execute; returns the `Any`-packed response.
    pub async fn execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::SlashOperator(m) => {
                let resp = match m.check_and_execute(state).await? {
                    SlashOutcome::Applied(s) => pb::MsgSlashOperatorResponse { pending_slash_id: 0, executable_at: 0, slashed: slashed_to_proto(&s) },
                    SlashOutcome::Pending { id, executable_at } => pb::MsgSlashOperatorResponse { pending_slash_id: id, executable_at, slashed: vec![] },
                };
                Ok(response("/aegis.slashing.v1.MsgSlashOperatorResponse", &resp))
            }
            Msg::VetoSlash(m) => {
                let cancelled = m.check_and_execute(state).await?;
                Ok(response("/aegis.slashing.v1.MsgVetoSlashResponse", &pb::MsgVetoSlashResponse { cancelled }))
            }
            Msg::ExecuteSlash(m) => {
                let resp = match m.check_and_execute(state).await? {
                    ExecuteOutcome::Executed(s) => pb::MsgExecuteSlashResponse { slashed: slashed_to_proto(&s), expired: false },
                    ExecuteOutcome::Expired => pb::MsgExecuteSlashResponse { slashed: vec![], expired: true },
                };
                Ok(response("/aegis.slashing.v1.MsgExecuteSlashResponse", &resp))
            }
            Msg::Unjail(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.slashing.v1.MsgUnjailResponse", &pb::MsgUnjailResponse {}))
            }
        }
    }
}

const MAX_DESCRIPTION: usize = 1024;
const MAX_EVIDENCE_REF: usize = 256;

pub fn slashed_to_proto(s: &[Slashed]) -> Vec<pb::SlashedAmount> {
    s.iter().map(|s| pb::SlashedAmount { strategy: s.denom.clone(), magnitude: s.magnitude.to_string(), tokens: s.tokens.to_string() }).collect()
}

/// Apply an AVS slash now (an immediate request, or a pending one after its
/// window): take it from the allocation, pay or burn the tokens, mark the
/// evidence applied and emit the `slash` event.
#[allow(clippy::too_many_arguments)]
async fn apply_slash<S: StoreWrite + Send>(
    state: &mut S,
    op: &Address,
    avs_id: u64,
    set_id: u32,
    strategies: &[String],
    wad_to_slash: u128,
    evidence_ref: &str,
    pending_id: Option<u64>,
) -> AppResult<Vec<Slashed>> {
    let avs = state.avs(avs_id).await?.ok_or(crate::avs::AvsError::UnknownAvs { avs_id })?;
    let slashed = state.slash_allocation(op, avs_id, set_id, strategies, wad_to_slash, avs.redistribution_recipient.as_ref()).await?;
    let mut attrs = vec![("avs_id", avs_id.to_string()), ("operator_set_id", set_id.to_string())];
    let applied = match pending_id {
        Some(id) => {
            attrs.push(("slash_id", id.to_string()));
            format!("applied {id}")
        }
        None => "applied".to_string(),
    };
    attrs.push(("evidence_ref", evidence_ref.to_string()));
    state.put_evidence_used(avs_id, evidence_ref, &applied)?;
    state.record(slash_event("avs", op, &slashed, attrs));
    Ok(slashed)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlashOperator {
    pub slasher: Address,
    pub operator: Address,
    pub avs_id: u64,
    pub set_id: u32,
    pub strategies: Vec<String>,
    pub wad_to_slash: u128,
    pub description: String,
    pub evidence_ref: String,
}

/// The result of a slash request: applied now, or pending a veto window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlashOutcome {
    Applied(Vec<Slashed>),
    Pending { id: u64, executable_at: i64 },
}

impl SlashOperator {
    pub fn check_stateless(msg: &pb::MsgSlashOperator) -> AppResult<Self> {
        let s = &msg.wad_to_slash;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 39 {
            return Err(SlashingError::InvalidFraction(format!("{s:?}")).into());
        }
        let wad: u128 = s.parse().map_err(|_| SlashingError::InvalidFraction(format!("{s:?}")))?;
        if wad == 0 {
            return Err(SlashingError::InvalidFraction(s.clone()).into());
        }
        if wad > WAD {
            return Err(SlashingError::AboveAllocation { wad_to_slash: s.clone() }.into());
        }
        if msg.strategies.is_empty() || msg.strategies.len() > 32 {
            return Err(SlashingError::BadField { field: "strategies", len: msg.strategies.len(), max: 32 }.into());
        }
        let mut seen = BTreeSet::new();
        for d in &msg.strategies {
            crate::types::validate_denom(d)?;
            if !seen.insert(d) {
                return Err(crate::avs::AvsError::InvalidOperatorSet(format!("strategy {d} listed twice")).into());
            }
        }
        if msg.description.len() > MAX_DESCRIPTION {
            return Err(SlashingError::BadField { field: "description", len: msg.description.len(), max: MAX_DESCRIPTION }.into());
        }
        if msg.evidence_ref.is_empty() || msg.evidence_ref.len() > MAX_EVIDENCE_REF {
            return Err(SlashingError::BadField { field: "evidence_ref", len: msg.evidence_ref.len(), max: MAX_EVIDENCE_REF }.into());
        }
        Ok(SlashOperator {
            slasher: Address::parse(&msg.slasher)?,
            operator: Address::parse(&msg.operator)?,
            avs_id: msg.avs_id,
            set_id: msg.operator_set_id,
            strategies: msg.strategies.clone(),
            wad_to_slash: wad,
            description: msg.description.clone(),
            evidence_ref: msg.evidence_ref.clone(),
        })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<SlashOutcome> {
        let (avs_id, set_id, op) = (self.avs_id, self.set_id, self.operator);
        let set = state.require_operator_set(avs_id, set_id).await?;
        if set.slasher != self.slasher {
            return Err(SlashingError::NotSlasher { signer: self.slasher.to_string(), slasher: set.slasher.to_string(), avs_id, set_id }.into());
        }
        for d in &self.strategies {
            if !set.accepts(d) {
                return Err(crate::avs::AvsError::StrategyNotInSet { avs_id, set_id, denom: d.clone() }.into());
            }
        }
        if state.evidence_used(avs_id, &self.evidence_ref).await? {
            return Err(SlashingError::EvidenceReused { avs_id, evidence_ref: self.evidence_ref.clone() }.into());
        }
        if set.veto_committee.is_empty() {
            // slash_allocation checks that the set can still slash the operator.
            let slashed = apply_slash(state, &op, avs_id, set_id, &self.strategies, self.wad_to_slash, &self.evidence_ref, None).await?;
            return Ok(SlashOutcome::Applied(slashed));
        }
        let now = state.block_time();
        if !state.registration(&op, avs_id, set_id).await?.slashable(now) {
            return Err(SlashingError::NotSlashable { operator: op.to_string(), avs_id, set_id }.into());
        }
        // Nothing allocated now means nothing to wait for: refuse early.
        let mut any = false;
        for d in &self.strategies {
            any |= state.allocation(&op, d, avs_id, set_id).await?.magnitude > 0;
        }
        if !any {
            return Err(SlashingError::NothingAllocated { operator: op.to_string(), avs_id, set_id, strategies: self.strategies.join(",") }.into());
        }
        let id = state.next_slash_id().await?;
        let executable_at = now.saturating_add(set.veto_window_seconds as i64);
        state.put_new_slash(&AvsSlash {
            id,
            operator: op,
            avs_id,
            set_id,
            strategies: self.strategies.clone(),
            wad_to_slash: self.wad_to_slash,
            description: self.description.clone(),
            evidence_ref: self.evidence_ref.clone(),
            submitted_at: now,
            executable_at,
            vetoes: vec![],
            submitted_height: state.block_height(),
            status: SlashStatus::Pending,
            resolved_height: 0,
            resolved_at: 0,
            resolved_by: None,
            slashed: vec![],
        })?;
        state.put_evidence_used(avs_id, &self.evidence_ref, &format!("pending {id}"))?;
        state.record(Event::new(
            "request_slash",
            [
                ("slash_id", id.to_string()).index(),
                ("operator", op.to_string()).index(),
                ("avs_id", avs_id.to_string()).index(),
                ("operator_set_id", set_id.to_string()).no_index(),
                ("wad_to_slash", self.wad_to_slash.to_string()).no_index(),
                ("executable_at", executable_at.to_string()).no_index(),
            ],
        ));
        Ok(SlashOutcome::Pending { id, executable_at })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VetoSlash {
    pub member: Address,
    pub slash_id: u64,
}

impl VetoSlash {
    pub fn check_stateless(msg: &pb::MsgVetoSlash) -> AppResult<Self> {
        Ok(VetoSlash { member: Address::parse(&msg.member)?, slash_id: msg.slash_id })
    }

    /// Returns true when this veto cancelled the slash.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<bool> {
        let id = self.slash_id;
        let mut p = state.avs_slash(id).await?.ok_or(SlashingError::UnknownSlash { id })?;
        if p.status != SlashStatus::Pending {
            return Err(p.resolved_error().into());
        }
        let set = state.require_operator_set(p.avs_id, p.set_id).await?;
        if !set.veto_committee.contains(&self.member) {
            return Err(SlashingError::NotVetoMember { member: self.member.to_string(), avs_id: p.avs_id, set_id: p.set_id }.into());
        }
        let now = state.block_time();
        if now >= p.executable_at {
            return Err(SlashingError::VetoWindowClosed { id, closed_at: p.executable_at, now }.into());
        }
        if p.vetoes.contains(&self.member) {
            return Err(SlashingError::AlreadyVetoed { member: self.member.to_string(), id }.into());
        }
        p.vetoes.push(self.member);
        let cancelled = p.vetoes.len() >= set.veto_threshold as usize;
        if cancelled {
            p.status = SlashStatus::Vetoed;
            p.resolved_height = state.block_height();
            p.resolved_at = now;
            state.put_evidence_used(p.avs_id, &p.evidence_ref, &format!("vetoed {id}"))?;
        }
        state.update_slash(&p, SlashStatus::Pending)?;
        state.record(Event::new(
            "veto_slash",
            [("slash_id", id.to_string()).index(), ("member", self.member.to_string()).index(), ("cancelled", cancelled.to_string()).no_index()],
        ));
        Ok(cancelled)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecuteSlash {
    pub executor: Address,
    pub slash_id: u64,
}

impl ExecuteSlash {
    pub fn check_stateless(msg: &pb::MsgExecuteSlash) -> AppResult<Self> {
        Ok(ExecuteSlash { executor: Address::parse(&msg.executor)?, slash_id: msg.slash_id })
    }

    /// Apply a pending slash after its window, exactly as an immediate slash
    /// would at this block. If it fails (e.g. the epoch cap), it stays
    /// pending and can be executed later. If the operator is no longer
    /// slashable by the set (deregistered and past `slashable_until`), it
    /// can never apply: it is recorded as expired and the message succeeds.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<ExecuteOutcome> {
        let id = self.slash_id;
        let mut p = state.avs_slash(id).await?.ok_or(SlashingError::UnknownSlash { id })?;
        if p.status != SlashStatus::Pending {
            return Err(p.resolved_error().into());
        }
        let now = state.block_time();
        if now < p.executable_at {
            return Err(SlashingError::VetoWindowOpen { id, executable_at: p.executable_at, now, left: p.executable_at - now }.into());
        }
        p.resolved_height = state.block_height();
        p.resolved_at = now;
        p.resolved_by = Some(self.executor);
        if !state.registration(&p.operator, p.avs_id, p.set_id).await?.slashable(now) {
            p.status = SlashStatus::Expired;
            state.update_slash(&p, SlashStatus::Pending)?;
            state.put_evidence_used(p.avs_id, &p.evidence_ref, &format!("expired {id}"))?;
            state.record(Event::new(
                "expire_slash",
                [
                    ("slash_id", id.to_string()).index(),
                    ("operator", p.operator.to_string()).index(),
                    ("avs_id", p.avs_id.to_string()).index(),
                    ("operator_set_id", p.set_id.to_string()).no_index(),
                ],
            ));
            return Ok(ExecuteOutcome::Expired);
        }
        let slashed = apply_slash(state, &p.operator, p.avs_id, p.set_id, &p.strategies, p.wad_to_slash, &p.evidence_ref, Some(id)).await?;
        p.status = SlashStatus::Executed;
        p.slashed = slashed.clone();
        state.update_slash(&p, SlashStatus::Pending)?;
        Ok(ExecuteOutcome::Executed(slashed))
    }
}

/// What `MsgExecuteSlash` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecuteOutcome {
    Executed(Vec<Slashed>),
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unjail {
    pub operator: Address,
}

impl Unjail {
    pub fn check_stateless(msg: &pb::MsgUnjail) -> AppResult<Self> {
        Ok(Unjail { operator: Address::parse(&msg.operator)? })
    }

    /// Clear the jail; the validator returns at the next epoch end.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let mut op = state.operator(&self.operator).await?.ok_or_else(|| DelegationError::NotAnOperator { address: self.operator.to_string() })?;
        if op.tombstoned {
            return Err(SlashingError::Tombstoned { operator: op.address.to_string() }.into());
        }
        if !op.jailed {
            return Err(SlashingError::NotJailed { operator: op.address.to_string() }.into());
        }
        let now = state.block_time();
        let cons = op.consensus_address().unwrap_or_default();
        let mut info = state.signing_info(&cons).await?;
        let until = info.as_ref().map_or(0, |i| i.jailed_until);
        if now < until {
            return Err(SlashingError::StillJailed { operator: op.address.to_string(), until, now, left: until - now }.into());
        }
        op.jailed = false;
        state.put_operator(&op)?;
        if let Some(info) = info.as_mut() {
            // Liveness is judged afresh from here (x/slashing resets the
            // start height when a validator is bonded again).
            info.start_height = state.block_height();
            state.put_signing_info(&cons, info)?;
        }
        state.record(Event::new("unjail", [("operator", op.address.to_string()).index()]));
        Ok(())
    }
}
