//! Consumer rewards on the provider. A consumer sends its share of fees as
//! ICS-20 transfers to the provider's fee pool (this module's account) on
//! a transfer channel over its CCV connection, as ICS consumers do. The
//! channel, not the memo, says which consumer paid: a transfer to the fee
//! pool over any other connection is refused with an error ack (so nothing
//! is stranded there). Each epoch end, a consumer's pool is split among
//! the validators of the set last sent to it by power; each keeps its
//! commission for that consumer (its AVS commission, `MsgSetAvsCommission`
//! on the consumer's id) and the rest raises its accumulators in the
//! consumer's strategies, weighted like its power, so its stakers claim
//! with `MsgClaimRewards` like any other reward. Cost: consumers that
//! received nothing are not read; one that did costs O(its validators).

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::valset::{operator_power_parts, rates};
use super::msgs::module_address;
use super::{ProviderRead, ProviderWrite};
use crate::bank::BankWrite;
use crate::error::AppResult;
use crate::math::mul_div_down;
use crate::rewards::DISTRIBUTION;
use crate::store::StoreWrite;
use crate::types::{Address, Coin};

/// Record rewards that arrived in the fee pool from consumer `id`.
pub async fn credit_received<S: StoreWrite + Send + Sync + ?Sized>(state: &mut S, id: u64, denom: &str, amount: u128) -> AppResult<()> {
    let have = state.reward_pool(id, denom).await?;
    state.put_reward_pool(id, denom, have.saturating_add(amount))?;
    state.record(Event::new(
        "consumer_rewards_received",
        [("consumer_id", id.to_string()).index(), ("amount", format!("{amount}{denom}")).no_index()],
    ));
    Ok(())
}

/// Pay out every consumer's pool (epoch end). What rounding leaves stays in
/// the pool for the next epoch; a consumer without validators keeps its
/// pool until it has some.
pub async fn distribute<S: StoreWrite + Send + Sync>(state: &mut S) -> AppResult<()> {
    for (id, denom, amount) in state.reward_pools().await? {
        // One consumer's payout failing (it never should) is logged and
        // retried next epoch; it never fails the block.
        let mut fork = cnidarium::StateDelta::new(&mut *state);
        match pay(&mut fork, id, &denom, amount).await {
            Ok(()) => {
                crate::store::keep_fork(fork);
            }
            Err(e) => {
                drop(fork);
                tracing::error!(target: "provider", "paying consumer {id}'s {denom} rewards failed: {}", e.message);
                state.record(Event::new("consumer_rewards_failed", [("consumer_id", id.to_string()).index(), ("error", e.message).no_index()]));
            }
        }
    }
    Ok(())
}

async fn pay<S: StoreWrite + Send + Sync>(state: &mut S, id: u64, denom: &str, amount: u128) -> AppResult<()> {
    let Some(c) = state.consumer(id).await? else { return Ok(()) };
    let validators = state.consumer_validators(id).await?;
    let total: u128 = validators.iter().map(|v| v.power.max(0) as u128).sum();
    if total == 0 || amount == 0 {
        return Ok(());
    }
    let rates = rates(state, &c).await?;
    let mut given = 0u128;
    for v in &validators {
        let r_op = mul_div_down(amount, v.power.max(0) as u128, total).unwrap_or(0);
        if r_op == 0 {
            continue;
        }
        let parts = operator_power_parts(state, &c, &rates, &v.operator).await?;
        crate::rewards::hooks::credit_operator(state, &v.operator, id, denom, r_op, &parts).await?;
        let earned = state.consumer_earned(id, &v.operator, denom).await?;
        state.put_consumer_earned(id, &v.operator, denom, earned.saturating_add(r_op))?;
        given += r_op;
    }
    if given > 0 {
        state.send_coin(&module_address(), &Address::module(DISTRIBUTION), &Coin::new(denom.to_string(), given)).await?;
    }
    state.put_reward_pool(id, denom, amount - given)?;
    state.record(Event::new(
        "consumer_rewards",
        [("consumer_id", id.to_string()).index(), ("paid", format!("{given}{denom}")).no_index(), ("validators", validators.len().to_string()).no_index()],
    ));
    Ok(())
}
