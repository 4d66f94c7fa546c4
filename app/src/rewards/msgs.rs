//! `MsgClaimRewards`, `MsgSubmitAvsRewards`, `MsgSetAvsCommission`.

use std::collections::BTreeSet;

use aegis_proto::aegis::rewards::v1 as pb;
use tendermint::abci::{Event, EventAttributeIndexExt};
use tendermint_proto::google::protobuf::Any;

use super::state::Submission;
use super::{RewardsError, RewardsRead, RewardsWrite, AVS_REWARDS_ESCROW, DISTRIBUTION};
use crate::avs::{AvsError, AvsRead};
use crate::bank::BankWrite;
use crate::delegation::{DelegationError, DelegationRead};
use crate::error::AppResult;
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::{Address, Coin};

pub const MSG_CLAIM_REWARDS_URL: &str = "/aegis.rewards.v1.MsgClaimRewards";
pub const MSG_SUBMIT_AVS_REWARDS_URL: &str = "/aegis.rewards.v1.MsgSubmitAvsRewards";
pub const MSG_SET_AVS_COMMISSION_URL: &str = "/aegis.rewards.v1.MsgSetAvsCommission";

/// The `message.module` event value.
pub const MODULE: &str = "rewards";

/// The rewards module's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    ClaimRewards(ClaimRewards),
    SubmitAvsRewards(SubmitAvsRewards),
    SetAvsCommission(SetAvsCommission),
}

/// Decode and check statelessly; `None` if the type URL is not a rewards message.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_CLAIM_REWARDS_URL => unpack(any, ClaimRewards::check_stateless).map(Msg::ClaimRewards),
        MSG_SUBMIT_AVS_REWARDS_URL => unpack(any, SubmitAvsRewards::check_stateless).map(Msg::SubmitAvsRewards),
        MSG_SET_AVS_COMMISSION_URL => unpack(any, SetAvsCommission::check_stateless).map(Msg::SetAvsCommission),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::ClaimRewards(m) => m.claimer,
            Msg::SubmitAvsRewards(m) => m.owner,
            Msg::SetAvsCommission(m) => m.operator,
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::ClaimRewards(_) => MSG_CLAIM_REWARDS_URL,
            Msg::SubmitAvsRewards(_) => MSG_SUBMIT_AVS_REWARDS_URL,
            Msg::SetAvsCommission(_) => MSG_SET_AVS_COMMISSION_URL,
        }
    }

    /// Check against state and execute; returns the `Any`-packed response.
    pub async fn execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::ClaimRewards(m) => {
                let paid = m.check_and_execute(state).await?;
                let amount = paid.iter().map(|c| c.to_proto()).collect();
                Ok(response("/aegis.rewards.v1.MsgClaimRewardsResponse", &pb::MsgClaimRewardsResponse { amount }))
            }
            Msg::SubmitAvsRewards(m) => {
                let submission_id = m.check_and_execute(state).await?;
                Ok(response("/aegis.rewards.v1.MsgSubmitAvsRewardsResponse", &pb::MsgSubmitAvsRewardsResponse { submission_id }))
            }
            Msg::SetAvsCommission(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.rewards.v1.MsgSetAvsCommissionResponse", &pb::MsgSetAvsCommissionResponse {}))
            }
        }
    }
}

/// Longest payout of one submission, in epochs.
pub const MAX_REWARD_EPOCHS: u64 = 10_000;
/// Submissions paying out to one operator set at once (each costs every
/// epoch end O(members)).
pub const MAX_SUBMISSIONS_PER_SET: u64 = 16;

/// Pay out everything `addr` has earned (staker rewards + commission, every
/// denom). Returns what was paid; empty if nothing was owed. Used by the
/// message and by withdrawal/undelegation, which settle first.
pub async fn pay_out<S: StoreWrite + Send>(state: &mut S, addr: &Address) -> AppResult<Vec<Coin>> {
    let owed = state.take_owed(addr).await?;
    let mut paid = Vec::with_capacity(owed.len());
    for (denom, amount) in owed {
        let coin = Coin::new(denom, amount);
        state.send_coin(&Address::module(DISTRIBUTION), addr, &coin).await?;
        paid.push(coin);
    }
    if !paid.is_empty() {
        let amount = paid.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
        state.record(Event::new("claim_rewards", [("claimer", addr.to_string()).index(), ("amount", amount).no_index()]));
    }
    Ok(paid)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRewards {
    pub claimer: Address,
}

impl ClaimRewards {
    pub fn check_stateless(msg: &pb::MsgClaimRewards) -> AppResult<Self> {
        Ok(ClaimRewards { claimer: Address::parse(&msg.claimer)? })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Vec<Coin>> {
        let paid = pay_out(state, &self.claimer).await?;
        if paid.is_empty() {
            return Err(RewardsError::NothingToClaim { address: self.claimer.to_string() }.into());
        }
        Ok(paid)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitAvsRewards {
    pub owner: Address,
    pub avs_id: u64,
    pub set_id: u32,
    pub amount: Coin,
    pub epochs: u64,
    pub strategies: Vec<(String, u64)>,
}

impl SubmitAvsRewards {
    pub fn check_stateless(msg: &pb::MsgSubmitAvsRewards) -> AppResult<Self> {
        let bad = |m: String| -> crate::error::AppError { RewardsError::InvalidSubmission(m).into() };
        let amount = msg.amount.as_ref().ok_or_else(|| bad("amount is required".into())).and_then(Coin::from_proto)?;
        if amount.amount.0 == 0 {
            return Err(bad(format!("amount {amount} must be positive")));
        }
        if msg.epochs == 0 || msg.epochs > MAX_REWARD_EPOCHS {
            return Err(bad(format!("epochs {} must be between 1 and {MAX_REWARD_EPOCHS}", msg.epochs)));
        }
        let mut seen = BTreeSet::new();
        let mut strategies = Vec::with_capacity(msg.strategies.len());
        for s in &msg.strategies {
            crate::types::validate_denom(&s.strategy)?;
            if s.multiplier == 0 {
                return Err(bad(format!("multiplier of {} must be positive", s.strategy)));
            }
            if !seen.insert(s.strategy.clone()) {
                return Err(bad(format!("strategy {} listed twice", s.strategy)));
            }
            strategies.push((s.strategy.clone(), s.multiplier));
        }
        Ok(SubmitAvsRewards { owner: Address::parse(&msg.owner)?, avs_id: msg.avs_id, set_id: msg.operator_set_id, amount, epochs: msg.epochs, strategies })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u64> {
        let avs = state.avs(self.avs_id).await?.ok_or(AvsError::UnknownAvs { avs_id: self.avs_id })?;
        if avs.owner != self.owner {
            return Err(AvsError::NotAvsOwner { avs_id: self.avs_id, owner: avs.owner.to_string(), signer: self.owner.to_string() }.into());
        }
        let set = state.require_operator_set(self.avs_id, self.set_id).await?;
        let strategies = if self.strategies.is_empty() { set.strategies.iter().map(|s| (s.clone(), 1)).collect() } else { self.strategies.clone() };
        for (denom, _) in &strategies {
            if !set.accepts(denom) {
                return Err(AvsError::StrategyNotInSet { avs_id: self.avs_id, set_id: self.set_id, denom: denom.clone() }.into());
            }
        }
        let count = state.set_submission_count(self.avs_id, self.set_id).await?;
        if count >= MAX_SUBMISSIONS_PER_SET {
            return Err(RewardsError::TooManySubmissions { avs_id: self.avs_id, set_id: self.set_id, count, max: MAX_SUBMISSIONS_PER_SET }.into());
        }
        state.send_coin(&self.owner, &Address::module(AVS_REWARDS_ESCROW), &self.amount).await?;
        let id = state.next_submission_id().await?;
        state.put_submission(&Submission {
            id,
            avs_id: self.avs_id,
            set_id: self.set_id,
            submitter: self.owner,
            denom: self.amount.denom.clone(),
            remaining: self.amount.amount.0,
            remaining_epochs: self.epochs,
            strategies,
        })?;
        state.put_set_submission_count(self.avs_id, self.set_id, count + 1)?;
        state.record(Event::new(
            "submit_avs_rewards",
            [
                ("submission_id", id.to_string()).index(),
                ("avs_id", self.avs_id.to_string()).index(),
                ("operator_set_id", self.set_id.to_string()).no_index(),
                ("amount", self.amount.to_string()).no_index(),
                ("epochs", self.epochs.to_string()).no_index(),
            ],
        ));
        Ok(id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAvsCommission {
    pub operator: Address,
    pub avs_id: u64,
    pub bps: u32,
}

impl SetAvsCommission {
    pub fn check_stateless(msg: &pb::MsgSetAvsCommission) -> AppResult<Self> {
        Ok(SetAvsCommission { operator: Address::parse(&msg.operator)?, avs_id: msg.avs_id, bps: msg.commission_bps })
    }

    /// Bounded by the operator's max commission rate, like its native rate.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let op = state.operator(&self.operator).await?.ok_or_else(|| DelegationError::NotAnOperator { address: self.operator.to_string() })?;
        if state.avs(self.avs_id).await?.is_none() {
            return Err(AvsError::UnknownAvs { avs_id: self.avs_id }.into());
        }
        if self.bps > op.max_commission_rate_bps {
            return Err(RewardsError::CommissionAboveMax { operator: self.operator.to_string(), bps: self.bps, max_bps: op.max_commission_rate_bps }.into());
        }
        state.put_avs_commission(&self.operator, self.avs_id, self.bps)?;
        state.record(Event::new(
            "set_avs_commission",
            [("operator", self.operator.to_string()).index(), ("avs_id", self.avs_id.to_string()).index(), ("commission_bps", self.bps.to_string()).no_index()],
        ));
        Ok(())
    }
}
