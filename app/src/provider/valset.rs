//! A consumer's validator set: each opted-in operator's power from what it
//! allocated (weighted per strategy), the candidates cached per consumer,
//! the ranking, ICS's power cap, and the updates between two sets.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::state::{ConsumerValidator, CONSUMER_SET};
use super::{Consumer, ProviderRead};
use crate::avs::AvsRead;
use crate::ccv;
use crate::delegation::DelegationRead;
use crate::error::AppResult;
use crate::math::{mul_div_down, mul_wad_down, WAD};
use crate::restaking::{RestakingRead, Strategy};
use crate::store::StoreRead;
use crate::types::Address;

/// CometBFT bounds the total power by i64::MAX / 8; one validator stays
/// far below it (as on the provider).
const MAX_POWER: u128 = (i64::MAX / 8 / 1000) as u128;

/// The strategies a consumer accepts, each with its weight and what turning
/// shares into tokens needs (the strategy and its pool's tokens, `None` if
/// it no longer exists). The same for every operator: a computation over
/// many operators reads it once.
pub struct Rates(Vec<StrategyRate>);

/// (denom, weight in basis points, the strategy and its pool's tokens).
type StrategyRate = (String, u32, Option<(Strategy, u128)>);

pub async fn rates<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer) -> AppResult<Rates> {
    let mut out = Vec::with_capacity(c.params.strategies.len());
    for (denom, weight_bps) in &c.params.strategies {
        let rate = match state.strategy(denom).await? {
            Some(strategy) => Some((strategy, state.pool_tokens(denom).await?)),
            None => None,
        };
        out.push((denom.clone(), *weight_bps, rate));
    }
    Ok(Rates(out))
}

/// An operator's standing on a consumer: tokens allocated to it (summed
/// over the accepted strategies) and its voting power (weighted tokens /
/// power_reduction). Allocations count at their current magnitude minus a
/// pending decrease: stake on its way out stops giving power at once,
/// while staying slashable for the deallocation delay.
pub async fn operator_power<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer, rates: &Rates, op: &Address, power_reduction: u128) -> AppResult<(u128, i64)> {
    let mut allocated = 0u128;
    let mut weighted = 0u128;
    for (denom, weight_bps, rate) in &rates.0 {
        let (stake, _) = allocated_stake(state, c, op, denom, rate).await?;
        allocated = allocated.saturating_add(stake);
        weighted = weighted.saturating_add(mul_div_down(stake, *weight_bps as u128, 10_000).unwrap_or(u128::MAX));
    }
    let power = (weighted / power_reduction.max(1)).min(MAX_POWER) as i64;
    Ok((allocated, power))
}

/// Tokens `op` has allocated to the consumer in `denom` (counted as for
/// power) and its total scaled shares there.
async fn allocated_stake<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer, op: &Address, denom: &str, rate: &Option<(Strategy, u128)>) -> AppResult<(u128, u128)> {
    let a = state.allocation(op, denom, c.id, CONSUMER_SET).await?;
    let magnitude = a.magnitude.saturating_sub(a.pending_decrease);
    if magnitude == 0 {
        return Ok((0, 0));
    }
    let Some((strategy, tvl)) = rate else { return Ok((0, 0)) };
    let stake = state.operator_stake(op, denom).await?;
    let tokens = strategy.tokens_for_shares(stake.active_shares(), *tvl).unwrap_or(0);
    Ok((mul_wad_down(tokens, magnitude.min(WAD)).unwrap_or(0), stake.total_scaled))
}

/// An operator's power on the consumer per strategy, as reward weights:
/// (strategy, weighted allocated tokens, its total scaled shares there).
pub async fn operator_power_parts<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer, rates: &Rates, op: &Address) -> AppResult<Vec<(String, u128, u128)>> {
    let mut parts = Vec::new();
    for (denom, weight_bps, rate) in &rates.0 {
        let (stake, total_scaled) = allocated_stake(state, c, op, denom, rate).await?;
        let w = mul_div_down(stake, *weight_bps as u128, 10_000).unwrap_or(u128::MAX);
        if w > 0 {
            parts.push((denom.clone(), w, total_scaled));
        }
    }
    Ok(parts)
}

/// What the set computation needs to know about one opted-in operator,
/// kept per consumer (`provider/candidates/<id>`) so that an epoch end
/// refreshes only the operators that changed and ranks the rest from here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its key on the consumer (assigned, or its provider key), if any.
    pub key: Option<String>,
    pub power: i64,
    /// Tokens allocated over the accepted strategies, before weights.
    pub allocated: u128,
    /// Jailed or tombstoned on the provider, or on this consumer.
    pub excluded: bool,
}

/// An operator's candidate record now (7 reads); `None` if it is not
/// registered with the consumer's set (opted out) or not an operator.
pub async fn candidate<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer, rates: &Rates, op: &Address, power_reduction: u128) -> AppResult<Option<Candidate>> {
    if !state.registration(op, c.id, CONSUMER_SET).await?.registered {
        return Ok(None);
    }
    let Some(operator) = state.operator(op).await? else { return Ok(None) };
    let excluded = operator.jailed || operator.tombstoned || state.consumer_jail(c.id, op).await?.excluded();
    let key = match state.assigned_key(c.id, op).await? {
        Some(k) => Some(k),
        None => operator.consensus_pubkey.clone(),
    };
    let (allocated, power) = operator_power(state, c, rates, op, power_reduction).await?;
    Ok(Some(Candidate { key, power, allocated, excluded }))
}

/// Every opted-in operator's candidate record, from scratch. O(opted-in
/// operators): at launch, after the owner changes the consumer's
/// parameters, and in audits.
pub async fn all_candidates<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer) -> AppResult<BTreeMap<Address, Candidate>> {
    let power_reduction = state.delegation_params().await?.power_reduction;
    let rates = rates(state, c).await?;
    let mut out = BTreeMap::new();
    for op in state.set_members(c.id, CONSUMER_SET).await? {
        if let Some(cand) = candidate(state, c, &rates, &op, power_reduction).await? {
            out.insert(op, cand);
        }
    }
    Ok(out)
}

/// The consumer's validator set from its candidates: those not excluded or
/// denied, with a key, power and at least `min_stake` allocated, ranked by
/// power (then address), the top `max_validators`, then ICS's power cap.
/// No state reads.
pub fn assemble(c: &Consumer, candidates: &BTreeMap<Address, Candidate>) -> Vec<ConsumerValidator> {
    let mut out: Vec<ConsumerValidator> = candidates
        .iter()
        .filter(|(op, cand)| !cand.excluded && cand.power > 0 && cand.allocated >= c.params.min_stake && !c.params.denylist.contains(op))
        .filter_map(|(op, cand)| Some(ConsumerValidator { operator: *op, key: cand.key.clone()?, power: cand.power }))
        .collect();
    out.sort_by(|a, b| b.power.cmp(&a.power).then(a.operator.cmp(&b.operator)));
    // A key may reach two operators only through a provider key set after
    // another operator assigned it here; the first keeps it.
    let mut keys = BTreeSet::new();
    out.retain(|v| keys.insert(v.key.clone()));
    if c.params.max_validators > 0 {
        out.truncate(c.params.max_validators as usize);
    }
    if c.params.power_cap_percent > 0 && c.params.power_cap_percent < 100 {
        cap_power(&mut out, c.params.power_cap_percent);
        out.sort_by(|a, b| b.power.cmp(&a.power).then(a.operator.cmp(&b.operator)));
    }
    out
}

/// The consumer's validator set now, from scratch. O(opted-in operators).
pub async fn compute_validator_set<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer) -> AppResult<Vec<ConsumerValidator>> {
    Ok(assemble(c, &all_candidates(state, c).await?))
}

/// ICS's `NoMoreThanPercentOfTheSum`: no validator above `percent` of the
/// total, the excess spread over the others (largest first) so the total
/// is kept. With too few validators for the cap, everyone ends at the cap.
/// `set` is sorted by power, descending.
pub fn cap_power(set: &mut [ConsumerValidator], percent: u32) {
    let sum: i128 = set.iter().map(|v| v.power as i128).sum();
    let max = ((sum * percent as i128) / 100).max(1) as i64;
    let mut remaining: i64 = set.iter().filter(|v| v.power >= max).map(|v| v.power - max).sum();
    let mut below = set.iter().filter(|v| v.power < max).count() as i64;
    let mut per = if below > 0 { remaining / below } else { 0 };
    for v in set.iter_mut() {
        if v.power >= max {
            v.power = max;
        } else {
            let new = (v.power + per).min(max);
            remaining -= new - v.power;
            v.power = new;
            below -= 1;
            if below > 0 {
                per = remaining / below;
            }
        }
    }
}

/// Updates turning `old` into `new` (by key; power 0 removes), ordered by key.
pub fn diff(old: &[ConsumerValidator], new: &[ConsumerValidator]) -> Vec<ccv::ValidatorUpdate> {
    let mut powers: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for v in old {
        powers.entry(v.key.as_str()).or_default().0 = v.power;
    }
    for v in new {
        powers.entry(v.key.as_str()).or_default().1 = v.power;
    }
    powers
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .filter_map(|(key, (_, power))| {
            let pubkey: [u8; 32] = hex::decode(key).ok()?.try_into().ok()?;
            Some(ccv::ValidatorUpdate { pubkey, power })
        })
        .collect()
}

