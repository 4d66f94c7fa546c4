//! `MsgClaimRewards`.

use aegis_proto::aegis::rewards::v1 as pb;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::{RewardsError, RewardsRead, RewardsWrite, DISTRIBUTION};
use crate::bank::BankWrite;
use crate::error::AppResult;
use crate::store::StoreWrite;
use crate::types::{Address, Coin, NATIVE_DENOM};

pub const MSG_CLAIM_REWARDS_URL: &str = "/aegis.rewards.v1.MsgClaimRewards";

/// Pay out everything `addr` has earned (staker rewards + commission).
/// Returns the amount; 0 if nothing was owed. Used by the message and by
/// withdrawal/undelegation, which settle first.
pub async fn pay_out<S: StoreWrite + Send>(state: &mut S, addr: &Address) -> AppResult<u128> {
    state.settle_rewards(addr).await?;
    let mut rec = state.staker_rewards(addr).await?;
    let commission = state.commission(addr).await?;
    let total = rec.pending.saturating_add(commission);
    if total == 0 {
        return Ok(0);
    }
    if rec.pending > 0 {
        rec.pending = 0;
        state.put_staker_rewards(addr, &rec)?;
    }
    if commission > 0 {
        state.put_commission(addr, 0)?;
    }
    state.send_coin(&Address::module(DISTRIBUTION), addr, &Coin::new(NATIVE_DENOM, total)).await?;
    state.record(Event::new("claim_rewards", [("claimer", addr.to_string()).index(), ("amount", format!("{total}{NATIVE_DENOM}")).no_index()]));
    Ok(total)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRewards {
    pub claimer: Address,
}

impl ClaimRewards {
    pub fn check_stateless(msg: &pb::MsgClaimRewards) -> AppResult<Self> {
        Ok(ClaimRewards { claimer: Address::parse(&msg.claimer)? })
    }

    pub async fn check_and_execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<u128> {
        let paid = pay_out(state, &self.claimer).await?;
        if paid == 0 {
            return Err(RewardsError::NothingToClaim { address: self.claimer.to_string() }.into());
        }
        Ok(paid)
    }
}
