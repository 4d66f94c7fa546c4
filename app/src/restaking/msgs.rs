//! Deposit, queue and complete withdrawals, create strategies.

use aegis_proto::aegis::restaking::v1 as pb;

use tendermint_proto::google::protobuf::Any;

use super::{RestakingError, RestakingRead, RestakingWrite, Strategy};
use crate::error::{AppResult, SdkError};
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::{validate_denom, Address, Coin};

pub const MSG_DEPOSIT_URL: &str = "/aegis.restaking.v1.MsgDeposit";
pub const MSG_QUEUE_WITHDRAWAL_URL: &str = "/aegis.restaking.v1.MsgQueueWithdrawal";
pub const MSG_COMPLETE_WITHDRAWAL_URL: &str = "/aegis.restaking.v1.MsgCompleteWithdrawal";
pub const MSG_CREATE_STRATEGY_URL: &str = "/aegis.restaking.v1.MsgCreateStrategy";

/// The `message.module` event value.
pub const MODULE: &str = "restaking";

/// The restaking module's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    Deposit(Deposit),
    QueueWithdrawal(QueueWithdrawal),
    CompleteWithdrawal(CompleteWithdrawal),
    CreateStrategy(CreateStrategy),
}

/// Decode and check statelessly; `None` if the type URL is not a restaking message.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_DEPOSIT_URL => unpack(any, Deposit::check_stateless).map(Msg::Deposit),
        MSG_QUEUE_WITHDRAWAL_URL => unpack(any, QueueWithdrawal::check_stateless).map(Msg::QueueWithdrawal),
        MSG_COMPLETE_WITHDRAWAL_URL => unpack(any, CompleteWithdrawal::check_stateless).map(Msg::CompleteWithdrawal),
        MSG_CREATE_STRATEGY_URL => unpack(any, CreateStrategy::check_stateless).map(Msg::CreateStrategy),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::Deposit(m) => m.staker,
            Msg::QueueWithdrawal(m) => m.staker,
            Msg::CompleteWithdrawal(m) => m.staker,
            Msg::CreateStrategy(m) => m.authority,
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::Deposit(_) => MSG_DEPOSIT_URL,
            Msg::QueueWithdrawal(_) => MSG_QUEUE_WITHDRAWAL_URL,
            Msg::CompleteWithdrawal(_) => MSG_COMPLETE_WITHDRAWAL_URL,
            Msg::CreateStrategy(_) => MSG_CREATE_STRATEGY_URL,
        }
    }

    /// Check against state and execute; returns the `Any`-packed response.
    pub async fn execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::Deposit(m) => {
                let shares = m.check_and_execute(state).await?;
                Ok(response("/aegis.restaking.v1.MsgDepositResponse", &pb::MsgDepositResponse { shares: shares.to_string() }))
            }
            Msg::QueueWithdrawal(m) => {
                let withdrawal_id = m.check_and_execute(state).await?;
                Ok(response("/aegis.restaking.v1.MsgQueueWithdrawalResponse", &pb::MsgQueueWithdrawalResponse { withdrawal_id }))
            }
            Msg::CompleteWithdrawal(m) => {
                let paid = m.check_and_execute(state).await?;
                let amount = paid.iter().map(|c| c.to_proto()).collect();
                Ok(response("/aegis.restaking.v1.MsgCompleteWithdrawalResponse", &pb::MsgCompleteWithdrawalResponse { amount }))
            }
            Msg::CreateStrategy(m) => {
                m.check_and_execute(state).await?;
                Ok(response("/aegis.restaking.v1.MsgCreateStrategyResponse", &pb::MsgCreateStrategyResponse {}))
            }
        }
    }
}

/// Most strategies one withdrawal may name.
pub const MAX_WITHDRAWAL_ENTRIES: usize = 32;

/// A decimal integer that fits u128.
pub fn parse_u128(s: &str) -> AppResult<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RestakingError::InvalidNumber(s.into()).into());
    }
    s.parse::<u128>().map_err(|_| RestakingError::InvalidNumber(s.into()).into())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deposit {
    pub staker: Address,
    pub amount: Coin,
}

impl Deposit {
    pub fn check_stateless(msg: &pb::MsgDeposit) -> AppResult<Self> {
        let staker = Address::parse(&msg.staker)?;
        let coin = msg.amount.as_ref().ok_or_else(|| SdkError::InvalidCoins("deposit has no amount".into()))?;
        let amount = Coin::from_proto(coin)?;
        if amount.amount.0 == 0 {
            return Err(SdkError::InvalidCoins(format!("deposit amount must be positive, got {amount}")).into());
        }
        Ok(Deposit { staker, amount })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u128> {
        state.deposit_tokens(&self.staker, &self.amount).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueWithdrawal {
    pub staker: Address,
    pub requests: Vec<(String, u128)>,
}

impl QueueWithdrawal {
    pub fn check_stateless(msg: &pb::MsgQueueWithdrawal) -> AppResult<Self> {
        let staker = Address::parse(&msg.staker)?;
        if msg.withdrawals.is_empty() {
            return Err(RestakingError::InvalidWithdrawal("no strategies named".into()).into());
        }
        if msg.withdrawals.len() > MAX_WITHDRAWAL_ENTRIES {
            return Err(RestakingError::InvalidWithdrawal(format!("{} strategies named, max {MAX_WITHDRAWAL_ENTRIES}", msg.withdrawals.len())).into());
        }
        let mut requests: Vec<(String, u128)> = Vec::with_capacity(msg.withdrawals.len());
        for w in &msg.withdrawals {
            validate_denom(&w.denom)?;
            let shares = parse_u128(&w.shares)?;
            if shares == 0 {
                return Err(RestakingError::InvalidWithdrawal(format!("zero shares of {}", w.denom)).into());
            }
            if requests.iter().any(|(d, _)| *d == w.denom) {
                return Err(RestakingError::InvalidWithdrawal(format!("{} named twice", w.denom)).into());
            }
            requests.push((w.denom.clone(), shares));
        }
        Ok(QueueWithdrawal { staker, requests })
    }

    /// Pays out pending rewards, then escrows the shares.
    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u64> {
        crate::rewards::msgs::pay_out(state, &self.staker).await?;
        state.queue_withdrawal(&self.staker, &self.requests).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompleteWithdrawal {
    pub staker: Address,
    pub withdrawal_id: u64,
    pub receive_as_tokens: bool,
}

impl CompleteWithdrawal {
    pub fn check_stateless(msg: &pb::MsgCompleteWithdrawal) -> AppResult<Self> {
        Ok(CompleteWithdrawal { staker: Address::parse(&msg.staker)?, withdrawal_id: msg.withdrawal_id, receive_as_tokens: msg.receive_as_tokens })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Vec<Coin>> {
        state.complete_withdrawal(&self.staker, self.withdrawal_id, self.receive_as_tokens).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateStrategy {
    pub authority: Address,
    pub denom: String,
    pub deposit_cap: Option<u128>,
}

impl CreateStrategy {
    pub fn check_stateless(msg: &pb::MsgCreateStrategy) -> AppResult<Self> {
        validate_denom(&msg.denom)?;
        let deposit_cap = if msg.deposit_cap.is_empty() { None } else { Some(parse_u128(&msg.deposit_cap)?) };
        Ok(CreateStrategy { authority: Address::parse(&msg.authority)?, denom: msg.denom.clone(), deposit_cap })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let params = state.restaking_params().await?;
        if params.authority != self.authority {
            return Err(RestakingError::NotAuthority { signer: self.authority.to_string(), authority: params.authority.to_string() }.into());
        }
        if state.strategy(&self.denom).await?.is_some() {
            return Err(RestakingError::StrategyExists { denom: self.denom.clone() }.into());
        }
        state.put_strategy(&Strategy { denom: self.denom.clone(), total_shares: 0, deposit_cap: self.deposit_cap })
    }
}
