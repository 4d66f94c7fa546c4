//! Operator registration and updates, delegate / undelegate / redelegate.

use aegis_proto::aegis::delegation::v1 as pb;
use tendermint::abci::{Event, EventAttributeIndexExt};
use tendermint_proto::google::protobuf::Any;

use super::{DelegationError, DelegationRead, DelegationWrite, Operator, OperatorMetadata};
use crate::error::AppResult;
use crate::restaking::RestakingWrite;
use crate::rewards::RewardsWrite;
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::Address;

pub const MSG_REGISTER_OPERATOR_URL: &str = "/aegis.delegation.v1.MsgRegisterOperator";
pub const MSG_UPDATE_OPERATOR_URL: &str = "/aegis.delegation.v1.MsgUpdateOperator";
pub const MSG_DELEGATE_URL: &str = "/aegis.delegation.v1.MsgDelegate";
pub const MSG_UNDELEGATE_URL: &str = "/aegis.delegation.v1.MsgUndelegate";
pub const MSG_REDELEGATE_URL: &str = "/aegis.delegation.v1.MsgRedelegate";

/// The `message.module` event value.
pub const MODULE: &str = "delegation";

/// The delegation module's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    RegisterOperator(RegisterOperator),
    UpdateOperator(UpdateOperator),
    Delegate(Delegate),
    Undelegate(Undelegate),
    Redelegate(Redelegate),
}

/// Decode and check statelessly; `None` if the type URL is not a delegation message.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_REGISTER_OPERATOR_URL => unpack(any, RegisterOperator::check_stateless).map(Msg::RegisterOperator),
        MSG_UPDATE_OPERATOR_URL => unpack(any, UpdateOperator::check_stateless).map(Msg::UpdateOperator),
        MSG_DELEGATE_URL => unpack(any, Delegate::check_stateless).map(Msg::Delegate),
        MSG_UNDELEGATE_URL => unpack(any, Undelegate::check_stateless).map(Msg::Undelegate),
        MSG_REDELEGATE_URL => unpack(any, Redelegate::check_stateless).map(Msg::Redelegate),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::RegisterOperator(m) => m.operator,
            Msg::UpdateOperator(m) => m.operator,
            Msg::Delegate(m) => m.staker,
            Msg::Undelegate(m) => m.staker,
            Msg::Redelegate(m) => m.staker,
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::RegisterOperator(_) => MSG_REGISTER_OPERATOR_URL,
            Msg::UpdateOperator(_) => MSG_UPDATE_OPERATOR_URL,
            Msg::Delegate(_) => MSG_DELEGATE_URL,
            Msg::Undelegate(_) => MSG_UNDELEGATE_URL,
            Msg::Redelegate(_) => MSG_REDELEGATE_URL,
        }
    }

    /// Check against state and execute; returns the `Any`-packed response.
    pub async fn execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::RegisterOperator(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.delegation.v1.MsgRegisterOperatorResponse", &pb::MsgRegisterOperatorResponse {}))
            }
            Msg::UpdateOperator(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.delegation.v1.MsgUpdateOperatorResponse", &pb::MsgUpdateOperatorResponse {}))
            }
            Msg::Delegate(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.delegation.v1.MsgDelegateResponse", &pb::MsgDelegateResponse {}))
            }
            Msg::Undelegate(m) => {
                let withdrawal_id = m.check_and_execute(state).await?;
                Ok(response("/aegis.delegation.v1.MsgUndelegateResponse", &pb::MsgUndelegateResponse { withdrawal_id }))
            }
            Msg::Redelegate(m) => {
                let withdrawal_id = m.check_and_execute(state).await?;
                Ok(response("/aegis.delegation.v1.MsgRedelegateResponse", &pb::MsgRedelegateResponse { withdrawal_id }))
            }
        }
    }
}

/// Commission rates are basis points.
pub const BPS: u32 = 10_000;
/// One commission change per day of block time, as in x/staking.
pub const COMMISSION_CHANGE_PERIOD: i64 = 24 * 3600;

fn check_metadata(m: &OperatorMetadata) -> AppResult<()> {
    for (field, value, max) in [
        ("moniker", &m.moniker, 70),
        ("website", &m.website, 140),
        ("details", &m.details, 280),
        ("metadata_uri", &m.metadata_uri, 512),
    ] {
        if value.len() > max {
            return Err(DelegationError::MetadataTooLong { field, len: value.len(), max }.into());
        }
    }
    Ok(())
}

fn metadata_from(pb: Option<&pb::OperatorMetadata>) -> Option<OperatorMetadata> {
    pb.map(|m| OperatorMetadata { moniker: m.moniker.clone(), website: m.website.clone(), details: m.details.clone(), metadata_uri: m.metadata_uri.clone() })
}

/// A 32-byte ed25519 public key that decodes to a curve point; as hex.
fn check_consensus_key(bytes: &[u8]) -> AppResult<Option<String>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| DelegationError::InvalidConsensusKey(format!("ed25519 keys are 32 bytes, got {}", bytes.len())))?;
    ed25519_consensus::VerificationKey::try_from(arr)
        .map_err(|e| DelegationError::InvalidConsensusKey(format!("not an ed25519 point: {e}")))?;
    Ok(Some(hex::encode_upper(arr)))
}

async fn claim_consensus_key<S: StoreWrite + Send>(state: &mut S, key: &str, op: &Address) -> AppResult<()> {
    if let Some(owner) = state.consensus_key_owner(key).await? {
        return Err(DelegationError::ConsensusKeyInUse { key: key.into(), operator: owner.to_string() }.into());
    }
    state.put_consensus_key(key, op)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterOperator {
    pub operator: Address,
    pub metadata: OperatorMetadata,
    pub commission_rate_bps: u32,
    pub max_commission_rate_bps: u32,
    pub max_commission_change_rate_bps: u32,
    pub consensus_pubkey: Option<String>,
}

impl RegisterOperator {
    pub fn check_stateless(msg: &pb::MsgRegisterOperator) -> AppResult<Self> {
        let metadata = metadata_from(msg.metadata.as_ref()).unwrap_or_default();
        check_metadata(&metadata)?;
        if msg.max_commission_rate_bps > BPS {
            return Err(DelegationError::InvalidCommission(format!("max rate {}bps exceeds 100% ({BPS}bps)", msg.max_commission_rate_bps)).into());
        }
        if msg.commission_rate_bps > msg.max_commission_rate_bps {
            return Err(DelegationError::CommissionAboveMax { rate_bps: msg.commission_rate_bps, max_bps: msg.max_commission_rate_bps }.into());
        }
        if msg.max_commission_change_rate_bps > msg.max_commission_rate_bps {
            return Err(DelegationError::InvalidCommission(format!(
                "max change rate {}bps exceeds the max rate {}bps",
                msg.max_commission_change_rate_bps, msg.max_commission_rate_bps
            ))
            .into());
        }
        Ok(RegisterOperator {
            operator: Address::parse(&msg.operator)?,
            metadata,
            commission_rate_bps: msg.commission_rate_bps,
            max_commission_rate_bps: msg.max_commission_rate_bps,
            max_commission_change_rate_bps: msg.max_commission_change_rate_bps,
            consensus_pubkey: check_consensus_key(&msg.consensus_pubkey)?,
        })
    }

    /// Register and self-delegate (an operator is always delegated to
    /// itself, as in EigenLayer).
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let op = self.operator;
        if state.operator(&op).await?.is_some() {
            return Err(DelegationError::AlreadyOperator { address: op.to_string() }.into());
        }
        if let Some(current) = state.delegated_operator(&op).await? {
            return Err(DelegationError::AlreadyDelegated { staker: op.to_string(), operator: current.to_string() }.into());
        }
        if let Some(key) = &self.consensus_pubkey {
            claim_consensus_key(state, key, &op).await?;
        }
        let now = state.block_time();
        state.put_operator(&Operator {
            address: op,
            metadata: self.metadata.clone(),
            commission_rate_bps: self.commission_rate_bps,
            max_commission_rate_bps: self.max_commission_rate_bps,
            max_commission_change_rate_bps: self.max_commission_change_rate_bps,
            commission_updated_at: now,
            consensus_pubkey: self.consensus_pubkey.clone(),
            delegator_count: 0,
            jailed: false,
            tombstoned: false,
        })?;
        delegate(state, &op, &op).await?;
        state.record(Event::new(
            "register_operator",
            [("operator", op.to_string()).index(), ("moniker", self.metadata.moniker.clone()).no_index()],
        ));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateOperator {
    pub operator: Address,
    pub metadata: Option<OperatorMetadata>,
    pub commission_rate_bps: Option<u32>,
    pub consensus_pubkey: Option<String>,
}

impl UpdateOperator {
    pub fn check_stateless(msg: &pb::MsgUpdateOperator) -> AppResult<Self> {
        let metadata = metadata_from(msg.metadata.as_ref());
        if let Some(m) = &metadata {
            check_metadata(m)?;
        }
        Ok(UpdateOperator {
            operator: Address::parse(&msg.operator)?,
            metadata,
            commission_rate_bps: msg.commission_rate_bps,
            consensus_pubkey: check_consensus_key(&msg.consensus_pubkey)?,
        })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let mut op = state.operator(&self.operator).await?.ok_or_else(|| DelegationError::NotAnOperator { address: self.operator.to_string() })?;
        let now = state.block_time();
        if let Some(rate) = self.commission_rate_bps {
            if rate != op.commission_rate_bps {
                if rate > op.max_commission_rate_bps {
                    return Err(DelegationError::CommissionAboveMax { rate_bps: rate, max_bps: op.max_commission_rate_bps }.into());
                }
                let change = rate.abs_diff(op.commission_rate_bps);
                if change > op.max_commission_change_rate_bps {
                    return Err(DelegationError::CommissionChangeTooLarge { change_bps: change, max_change_bps: op.max_commission_change_rate_bps }.into());
                }
                let next = op.commission_updated_at.saturating_add(COMMISSION_CHANGE_PERIOD);
                if now < next {
                    return Err(DelegationError::CommissionChangeTooSoon { last: op.commission_updated_at, next, now }.into());
                }
                op.commission_rate_bps = rate;
                op.commission_updated_at = now;
            }
        }
        if let Some(m) = &self.metadata {
            op.metadata = m.clone();
        }
        if let Some(key) = &self.consensus_pubkey {
            if let Some(existing) = &op.consensus_pubkey {
                if existing != key {
                    return Err(DelegationError::ConsensusKeyAlreadySet { operator: op.address.to_string(), key: existing.clone() }.into());
                }
            } else {
                claim_consensus_key(state, key, &op.address).await?;
                op.consensus_pubkey = Some(key.clone());
            }
        }
        state.put_operator(&op)?;
        state.record(Event::new(
            "update_operator",
            [("operator", op.address.to_string()).index(), ("commission_rate_bps", op.commission_rate_bps.to_string()).no_index()],
        ));
        Ok(())
    }
}

/// Delegate all of `staker`'s shares to `op`.
pub async fn delegate<S: StoreWrite + Send>(state: &mut S, staker: &Address, op: &Address) -> AppResult<()> {
    let mut operator = state.operator(op).await?.ok_or_else(|| DelegationError::NotAnOperator { address: op.to_string() })?;
    if let Some(current) = state.delegated_operator(staker).await? {
        return Err(DelegationError::AlreadyDelegated { staker: staker.to_string(), operator: current.to_string() }.into());
    }
    state.delegate_deposits(staker, op).await?;
    state.put_delegation(staker, op)?;
    state.start_rewards(staker, op).await?;
    operator.delegator_count += 1;
    state.put_operator(&operator)?;
    state.record(Event::new("delegate", [("staker", staker.to_string()).index(), ("operator", op.to_string()).index()]));
    Ok(())
}

/// Queue all of `staker`'s shares for withdrawal and end its delegation.
/// Returns the withdrawal id (0 if it held no shares).
pub async fn undelegate<S: StoreWrite + Send>(state: &mut S, staker: &Address) -> AppResult<u64> {
    use crate::restaking::RestakingRead;
    let op = state.delegated_operator(staker).await?.ok_or_else(|| DelegationError::NotDelegated { staker: staker.to_string() })?;
    if op == *staker {
        return Err(DelegationError::OperatorSelfUndelegation { operator: op.to_string() }.into());
    }
    crate::rewards::msgs::pay_out(state, staker).await?;
    let requests: Vec<(String, u128)> =
        state.staker_deposits(staker).await?.into_iter().map(|(denom, d)| (denom, d.deposit_shares)).collect();
    let id = if requests.is_empty() { 0 } else { state.queue_withdrawal(staker, &requests).await? };
    state.delete_delegation(staker, &op)?;
    let mut operator = state.operator(&op).await?.ok_or_else(|| DelegationError::NotAnOperator { address: op.to_string() })?;
    operator.delegator_count = operator.delegator_count.saturating_sub(1);
    state.put_operator(&operator)?;
    state.record(Event::new(
        "undelegate",
        [("staker", staker.to_string()).index(), ("operator", op.to_string()).index(), ("withdrawal_id", id.to_string()).index()],
    ));
    Ok(id)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegate {
    pub staker: Address,
    pub operator: Address,
}

impl Delegate {
    pub fn check_stateless(msg: &pb::MsgDelegate) -> AppResult<Self> {
        Ok(Delegate { staker: Address::parse(&msg.staker)?, operator: Address::parse(&msg.operator)? })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        delegate(state, &self.staker, &self.operator).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undelegate {
    pub staker: Address,
}

impl Undelegate {
    pub fn check_stateless(msg: &pb::MsgUndelegate) -> AppResult<Self> {
        Ok(Undelegate { staker: Address::parse(&msg.staker)? })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u64> {
        undelegate(state, &self.staker).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redelegate {
    pub staker: Address,
    pub new_operator: Address,
}

impl Redelegate {
    pub fn check_stateless(msg: &pb::MsgRedelegate) -> AppResult<Self> {
        Ok(Redelegate { staker: Address::parse(&msg.staker)?, new_operator: Address::parse(&msg.new_operator)? })
    }

    /// Undelegate then delegate. The escrowed shares stay with (and
    /// slashable by) the old operator until the withdrawal completes.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u64> {
        if state.operator(&self.new_operator).await?.is_none() {
            return Err(DelegationError::NotAnOperator { address: self.new_operator.to_string() }.into());
        }
        if state.delegated_operator(&self.staker).await? == Some(self.new_operator) {
            return Err(DelegationError::SameOperator { staker: self.staker.to_string(), operator: self.new_operator.to_string() }.into());
        }
        let id = undelegate(state, &self.staker).await?;
        delegate(state, &self.staker, &self.new_operator).await?;
        Ok(id)
    }
}
