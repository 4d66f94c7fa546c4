//! Each block: mint the provision, collect fees, and credit validators.

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::{RewardsRead, RewardsWrite, DISTRIBUTION};
use crate::bank::{BankRead, BankWrite};
use crate::delegation::{DelegationRead, ValidatorEntry};
use crate::error::{AppError, AppResult};
use crate::math::{acc_step_down, mul_div_down};
use crate::store::StoreWrite;
use crate::types::{Address, Coin, NATIVE_DENOM};

/// Distribute this block's provision and the fees collected so far among
/// the current validators by power. O(validators). Nothing is minted or
/// collected while there is no validator set (a chain without operators).
pub async fn begin_block<S: StoreWrite + Send + Sync>(state: &mut S) -> AppResult<()> {
    let set = state.validator_set().await?;
    let total_power: u128 = set.validators.iter().map(|v| v.power as u128).sum();
    if total_power == 0 {
        return Ok(());
    }
    let params = state.rewards_params().await?;
    let distribution = Address::module(DISTRIBUTION);
    let supply = state.supply(NATIVE_DENOM).await?.0;
    let provision = mul_div_down(supply, params.inflation_rate_bps as u128, 10_000 * params.blocks_per_year as u128).unwrap_or(0);
    if provision > 0 {
        state.mint(&distribution, &Coin::new(NATIVE_DENOM, provision)).await?;
    }
    let fee_collector = Address::module(crate::auth::FEE_COLLECTOR);
    let fees = state.balance(&fee_collector, NATIVE_DENOM).await?.0;
    if fees > 0 {
        state.send_coin(&fee_collector, &distribution, &Coin::new(NATIVE_DENOM, fees)).await?;
    }
    let pot = state.undistributed().await?.checked_add(provision + fees).ok_or_else(|| AppError::internal("reward pot overflows"))?;
    let mut given = 0u128;
    for v in &set.validators {
        let share = mul_div_down(pot, v.power as u128, total_power).unwrap_or(0);
        given += credit_validator(state, v, share).await?;
    }
    state.put_undistributed(pot - given)?;
    state.record(Event::new(
        "rewards",
        [("provision", provision.to_string()).no_index(), ("fees", fees.to_string()).no_index(), ("distributed", given.to_string()).no_index()],
    ));
    Ok(())
}

/// Give `amount` to a validator: commission to the operator, the rest to
/// its native stakers' accumulator. Returns what was credited (the
/// accumulator's rounding remainder stays in the module account as dust
/// owed to nobody).
async fn credit_validator<S: StoreWrite + Send + Sync>(state: &mut S, v: &ValidatorEntry, amount: u128) -> AppResult<u128> {
    if amount == 0 {
        return Ok(0);
    }
    let Some(op) = state.operator(&v.operator).await? else { return Ok(0) };
    let mut commission = mul_div_down(amount, op.commission_rate_bps as u128, 10_000).unwrap_or(0);
    let to_stakers = amount - commission;
    let total_scaled = state.operator_stake(&op.address, NATIVE_DENOM).await?.total_scaled;
    if total_scaled == 0 {
        commission = amount;
    } else if to_stakers > 0 {
        let acc = state.accumulator(&op.address).await? + acc_step_down(to_stakers, total_scaled);
        state.put_accumulator(&op.address, acc)?;
    }
    if commission > 0 {
        let c = state.commission(&op.address).await?;
        state.put_commission(&op.address, c.saturating_add(commission))?;
    }
    Ok(amount)
}
