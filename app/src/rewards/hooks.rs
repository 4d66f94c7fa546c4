//! Each block: mint the provision, collect fees, and credit validators.

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::Submission;
use super::{RewardsRead, RewardsWrite, AVS_REWARDS_ESCROW, DISTRIBUTION};
use crate::avs::AvsRead;
use crate::math::WAD;
use crate::restaking::RestakingRead;
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
        let acc = state.accumulator(&op.address, NATIVE_DENOM, NATIVE_DENOM).await? + acc_step_down(to_stakers, total_scaled);
        state.put_accumulator(&op.address, NATIVE_DENOM, NATIVE_DENOM, acc)?;
    }
    if commission > 0 {
        let c = state.commission(&op.address).await?;
        state.put_commission(&op.address, NATIVE_DENOM, c.saturating_add(commission))?;
    }
    Ok(amount)
}

/// At an epoch end, pay every AVS reward submission's share for this epoch
/// to its operator set: each registered operator gets a part by its
/// allocated stake (tokens x multiplier, summed over the rewarded
/// strategies), keeps its commission for that AVS, and the rest raises its
/// accumulator of each rewarded strategy by that strategy's part. Cost:
/// O(submissions x members x strategies), never per staker. An epoch with
/// no allocated stake pays nothing; what is left after the last epoch
/// (that, and rounding dust) goes back to the submitter.
pub async fn end_epoch<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<()> {
    let blocks_per_epoch = state.delegation_params().await?.blocks_per_epoch;
    if !height.is_multiple_of(blocks_per_epoch) {
        return Ok(());
    }
    for mut sub in state.submissions().await? {
        let amount = if sub.remaining_epochs <= 1 { sub.remaining } else { sub.remaining / sub.remaining_epochs as u128 };
        let paid = pay_epoch(state, &sub, amount).await?;
        sub.remaining -= paid;
        sub.remaining_epochs = sub.remaining_epochs.saturating_sub(1);
        if sub.remaining_epochs == 0 {
            if sub.remaining > 0 {
                let coin = Coin::new(sub.denom.clone(), sub.remaining);
                state.send_coin(&Address::module(AVS_REWARDS_ESCROW), &sub.submitter, &coin).await?;
            }
            state.delete_submission(sub.id)?;
            let n = state.set_submission_count(sub.avs_id, sub.set_id).await?;
            state.put_set_submission_count(sub.avs_id, sub.set_id, n.saturating_sub(1))?;
        } else {
            state.put_submission(&sub)?;
        }
        state.record(Event::new(
            "avs_rewards",
            [
                ("submission_id", sub.id.to_string()).index(),
                ("avs_id", sub.avs_id.to_string()).index(),
                ("paid", format!("{paid}{}", sub.denom)).no_index(),
                ("remaining_epochs", sub.remaining_epochs.to_string()).no_index(),
            ],
        ));
    }
    Ok(())
}

/// Credit `r_op` of `reward` to an operator for its work for AVS `avs_id`:
/// it keeps its commission for that AVS (its native rate unless it set
/// one), and the rest raises its accumulator of each strategy in `parts`
/// (strategy, weight, total scaled shares) by that strategy's part of the
/// weight; rounding between strategies goes to the operator. The tokens
/// must reach the distribution account (the caller moves them). O(parts).
pub async fn credit_operator<S: StoreWrite + Send + Sync>(state: &mut S, op: &Address, avs_id: u64, reward: &str, r_op: u128, parts: &[(String, u128, u128)]) -> AppResult<()> {
    if r_op == 0 {
        return Ok(());
    }
    let w_op: u128 = parts.iter().map(|(_, w, _)| *w).fold(0u128, |a, w| a.saturating_add(w));
    let bps = match state.avs_commission(op, avs_id).await? {
        Some(b) => b,
        None => state.operator(op).await?.map_or(0, |o| o.commission_rate_bps),
    };
    let commission = mul_div_down(r_op, bps as u128, 10_000).unwrap_or(0);
    let to_stakers = r_op - commission;
    let mut credited = 0u128;
    for (denom, w, total_scaled) in parts {
        let r_s = mul_div_down(to_stakers, *w, w_op.max(1)).unwrap_or(0);
        if r_s == 0 || *total_scaled == 0 {
            continue;
        }
        let acc = state.accumulator(op, denom, reward).await? + acc_step_down(r_s, *total_scaled);
        state.put_accumulator(op, denom, reward, acc)?;
        credited += r_s;
    }
    let commission = r_op - credited;
    if commission > 0 {
        let c = state.commission_in(op, reward).await?;
        state.put_commission(op, reward, c.saturating_add(commission))?;
    }
    Ok(())
}

/// A member's weight in a reward round: (operator, [(strategy, weight,
/// total scaled shares)], weight sum).
type MemberWeight = (Address, Vec<(String, u128, u128)>, u128);

/// One epoch of one submission; returns what was credited (moved from
/// escrow to the distribution account).
async fn pay_epoch<S: StoreWrite + Send + Sync>(state: &mut S, sub: &Submission, amount: u128) -> AppResult<u128> {
    if amount == 0 {
        return Ok(0);
    }
    let mut rows: Vec<MemberWeight> = Vec::new();
    let mut total_weight = 0u128;
    let mut rates = Vec::with_capacity(sub.strategies.len());
    for (denom, mult) in &sub.strategies {
        let Some(strategy) = state.strategy(denom).await? else { continue };
        rates.push((denom.clone(), *mult, strategy, state.pool_tokens(denom).await?));
    }
    for op in state.set_members(sub.avs_id, sub.set_id).await? {
        let mut parts = Vec::new();
        let mut w_op = 0u128;
        for (denom, mult, strategy, tvl) in &rates {
            let a = state.allocation(&op, denom, sub.avs_id, sub.set_id).await?;
            if a.magnitude == 0 {
                continue;
            }
            let total_scaled = state.operator_stake(&op, denom).await?.total_scaled;
            let shares = mul_div_down(total_scaled, a.magnitude, WAD).unwrap_or(0);
            let tokens = strategy.tokens_for_shares(shares, *tvl).unwrap_or(0);
            let w = tokens.saturating_mul(*mult as u128);
            if w > 0 {
                parts.push((denom.clone(), w, total_scaled));
                w_op = w_op.saturating_add(w);
            }
        }
        if w_op > 0 {
            total_weight = total_weight.saturating_add(w_op);
            rows.push((op, parts, w_op));
        }
    }
    if total_weight == 0 {
        return Ok(0);
    }
    let mut given = 0u128;
    for (op, parts, w_op) in rows {
        let r_op = mul_div_down(amount, w_op, total_weight).unwrap_or(0);
        credit_operator(state, &op, sub.avs_id, &sub.denom, r_op, &parts).await?;
        given += r_op;
    }
    if given > 0 {
        state.send_coin(&Address::module(AVS_REWARDS_ESCROW), &Address::module(DISTRIBUTION), &Coin::new(sub.denom.clone(), given)).await?;
    }
    Ok(given)
}
