//! Rewards state keys and typed access. The only place rewards keys are
//! spelled.

use async_trait::async_trait;
use primitive_types::U256;
use serde::{Deserialize, Serialize};

use super::RewardsParams;
use crate::delegation::DelegationRead;
use crate::error::{AppError, AppResult};
use crate::math::{acc_earned_down, u256_from_str};
use crate::restaking::RestakingRead;
use crate::store::{StoreRead, StoreWrite};
use crate::types::{Address, NATIVE_DENOM};

mod keys {
    use crate::types::Address;

    pub const PARAMS: &str = "rewards/params";
    pub const UNDISTRIBUTED: &str = "rewards/undistributed";
    pub const STAKERS: &str = "rewards/stakers/";
    pub const COMMISSIONS: &str = "rewards/commission/";

    pub fn accumulator(op: &Address) -> String {
        format!("rewards/accumulators/{}/{}", op.to_hex(), crate::types::NATIVE_DENOM)
    }
    pub fn staker(staker: &Address) -> String {
        format!("{STAKERS}{}", staker.to_hex())
    }
    pub fn commission(op: &Address) -> String {
        format!("{COMMISSIONS}{}", op.to_hex())
    }
}

/// A staker's reward position: the accumulator value it last settled at
/// (of the operator it is delegated to) and what it has earned unclaimed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakerRewards {
    pub snapshot: String,
    pub pending: u128,
}

#[async_trait]
pub trait RewardsRead: StoreRead {
    async fn rewards_params(&self) -> AppResult<RewardsParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    /// Native rewards per scaled native share of `op`, times 1e27.
    async fn accumulator(&self, op: &Address) -> AppResult<U256> {
        match self.read_bytes(&keys::accumulator(op)).await? {
            Some(b) => u256_from_str(std::str::from_utf8(&b).unwrap_or_default()).ok_or_else(|| AppError::internal("corrupt accumulator")),
            None => Ok(U256::zero()),
        }
    }

    async fn staker_rewards(&self, staker: &Address) -> AppResult<StakerRewards> {
        Ok(self.read_json(&keys::staker(staker)).await?.unwrap_or_default())
    }

    async fn commission(&self, op: &Address) -> AppResult<u128> {
        Ok(self.read_amount(&keys::commission(op)).await?.0)
    }

    /// Rewards held back for the next block (rounding remainders, or no
    /// validators yet).
    async fn undistributed(&self) -> AppResult<u128> {
        Ok(self.read_amount(keys::UNDISTRIBUTED).await?.0)
    }

    /// Staker rewards `staker` could claim now (settled + accrued).
    async fn pending_rewards(&self, staker: &Address) -> AppResult<u128> {
        let rec = self.staker_rewards(staker).await?;
        match self.delegated_operator(staker).await? {
            Some(op) => Ok(rec.pending.saturating_add(self.accrued(staker, &op, &rec).await?.0)),
            None => Ok(rec.pending),
        }
    }

    /// What `staker`, delegated to `op`, earned since `rec.snapshot`, and
    /// the accumulator value it was measured at.
    async fn accrued(&self, staker: &Address, op: &Address, rec: &StakerRewards) -> AppResult<(u128, U256)> {
        let scaled = self.staker_deposit(staker, NATIVE_DENOM).await?.scaled();
        let acc = self.accumulator(op).await?;
        let snap = u256_from_str(&rec.snapshot).unwrap_or(acc);
        let earned = acc_earned_down(scaled, acc.saturating_sub(snap)).ok_or_else(|| AppError::internal("reward overflow"))?;
        Ok((earned, acc))
    }
}

impl<T: StoreRead + ?Sized> RewardsRead for T {}

#[async_trait]
pub trait RewardsWrite: StoreWrite {
    fn put_rewards_params(&mut self, params: &RewardsParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    fn put_accumulator(&mut self, op: &Address, acc: U256) -> AppResult<()> {
        self.write_bytes(keys::accumulator(op), acc.to_string().into_bytes())
    }

    fn put_commission(&mut self, op: &Address, amount: u128) -> AppResult<()> {
        self.write_amount(keys::commission(op), crate::types::Amount(amount))
    }

    fn put_undistributed(&mut self, amount: u128) -> AppResult<()> {
        self.write_amount(keys::UNDISTRIBUTED.into(), crate::types::Amount(amount))
    }

    fn put_staker_rewards(&mut self, staker: &Address, rec: &StakerRewards) -> AppResult<()> {
        self.write_json(keys::staker(staker), rec)
    }

    /// Move what the staker earned since its last settlement into
    /// `pending`. Must run before its native scaled shares or its
    /// delegation change.
    async fn settle_rewards(&mut self, staker: &Address) -> AppResult<()> {
        let Some(op) = self.delegated_operator(staker).await? else { return Ok(()) };
        let mut rec = self.staker_rewards(staker).await?;
        let (earned, acc) = self.accrued(staker, &op, &rec).await?;
        let snapshot = acc.to_string();
        if earned == 0 && rec.snapshot == snapshot {
            return Ok(());
        }
        rec.pending = rec.pending.saturating_add(earned);
        rec.snapshot = snapshot;
        self.put_staker_rewards(staker, &rec)
    }

    /// A staker starts earning from `op`'s accumulator as it is now.
    async fn start_rewards(&mut self, staker: &Address, op: &Address) -> AppResult<()> {
        let mut rec = self.staker_rewards(staker).await?;
        rec.snapshot = self.accumulator(op).await?.to_string();
        self.put_staker_rewards(staker, &rec)
    }
}

impl<T: StoreWrite + ?Sized> RewardsWrite for T {}

/// For tests and audits (iterates every staker record): the distribution
/// account holds at least what is owed (undistributed + commissions +
/// every staker's pending rewards).
pub async fn check_rewards_invariant<S: StoreRead + Send + Sync>(state: &S) -> AppResult<()> {
    use crate::bank::BankRead;
    let mut owed = state.undistributed().await?;
    for (_, value) in state.read_prefix(keys::COMMISSIONS).await? {
        owed += crate::types::Amount::from_be_bytes(&value)?.0;
    }
    for (key, _) in state.read_prefix(keys::STAKERS).await? {
        let addr = Address::from_hex(&key[keys::STAKERS.len()..]).ok_or_else(|| AppError::internal(format!("bad key {key}")))?;
        owed += state.pending_rewards(&addr).await?;
    }
    let held = state.balance(&Address::module(super::DISTRIBUTION), NATIVE_DENOM).await?.0;
    if held < owed {
        return Err(super::RewardsError::Invariant(format!("distribution holds {held}{NATIVE_DENOM}, owes {owed}{NATIVE_DENOM}")).into());
    }
    Ok(())
}
