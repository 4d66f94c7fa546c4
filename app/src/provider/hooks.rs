//! Epoch end: launch consumers whose spawn time has come, recompute the
//! validator sets of the consumers something changed for, send them as VSC
//! packets, and delete consumers whose unbonding period after stopping has
//! passed. Consumers nothing changed for are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::msgs::{consumer_key, module_address};
use super::state::{ConsumerValidator, Phase, CONSUMER_SET};
use super::{Consumer, ProviderRead, ProviderWrite};
use crate::avs::{AvsRead, AvsWrite};
use crate::ccv;
use crate::delegation::{DelegationRead, DelegationWrite};
use crate::error::{AppError, AppResult};
use crate::math::{mul_div_down, mul_wad_down, WAD};
use crate::restaking::{RestakingRead, Strategy};
use crate::store::{StoreRead, StoreWrite};
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

/// The consumer's validator set now: its opted-in operators that are not
/// jailed, tombstoned or denied, have a key and at least `min_stake`
/// allocated, ranked by power (then address), the top `max_validators`,
/// then ICS's power cap. O(opted-in operators).
pub async fn compute_validator_set<S: StoreRead + Send + Sync + ?Sized>(state: &S, c: &Consumer) -> AppResult<Vec<ConsumerValidator>> {
    let power_reduction = state.delegation_params().await?.power_reduction;
    let rates = rates(state, c).await?;
    let mut out: Vec<ConsumerValidator> = Vec::new();
    for op in state.set_members(c.id, CONSUMER_SET).await? {
        if c.params.denylist.contains(&op) {
            continue;
        }
        let Some(operator) = state.operator(&op).await? else { continue };
        if operator.jailed || operator.tombstoned || state.consumer_jail(c.id, &op).await?.excluded() {
            continue;
        }
        let Some(key) = consumer_key(state, c.id, &op).await? else { continue };
        let (allocated, power) = operator_power(state, c, &rates, &op, power_reduction).await?;
        if power == 0 || allocated < c.params.min_stake {
            continue;
        }
        out.push(ConsumerValidator { operator: op, key, power });
    }
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
    Ok(out)
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

pub async fn end_block<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<()> {
    let blocks_per_epoch = state.delegation_params().await?.blocks_per_epoch;
    if !height.is_multiple_of(blocks_per_epoch) {
        return Ok(());
    }
    let now = state.block_time();
    for (at, id) in state.due_removals(now).await? {
        state.queue_removal(at, id, false)?;
        if let Some(mut c) = state.consumer(id).await? {
            remove(state, &mut c).await?;
        }
    }
    let mut dirty: BTreeSet<u64> = state.dirty_consumers().await?.into_iter().collect();
    // Whether an AVS is a launched consumer, read once per AVS (changed
    // operators share most of their registrations).
    let mut launched: BTreeMap<u64, bool> = BTreeMap::new();
    for (avs_id, set_id) in state.changed_sets().await? {
        state.clear_changed_set(avs_id, set_id)?;
        if set_id == CONSUMER_SET && state.consumer(avs_id).await?.is_some_and(|c| c.phase == Phase::Launched) {
            dirty.insert(avs_id);
        }
    }
    for op in state.changed_operators().await? {
        state.clear_changed_operator(&op)?;
        for (avs_id, set_id, reg) in state.registrations(&op).await? {
            if set_id != CONSUMER_SET || !reg.registered {
                continue;
            }
            let is_launched = match launched.get(&avs_id) {
                Some(l) => *l,
                None => {
                    let l = state.consumer(avs_id).await?.is_some_and(|c| c.phase == Phase::Launched);
                    launched.insert(avs_id, l);
                    l
                }
            };
            if is_launched {
                dirty.insert(avs_id);
            }
        }
    }
    for (at, id) in state.due_spawns(now).await? {
        let Some(c) = state.consumer(id).await? else { continue };
        if c.phase != Phase::Registered {
            state.queue_spawn(at, id, false)?;
            continue;
        }
        // A launch that fails (an input the IBC layer refuses) is logged and
        // retried next epoch; it never fails the block.
        let mut fork = cnidarium::StateDelta::new(&mut *state);
        match launch(&mut fork, c, height).await {
            Ok(true) => {
                // A fork's events stay in the fork unless handed on: the
                // launch's (and below, the VSC packet's `send_packet`,
                // which relayers look for) must reach the block's.
                crate::store::keep_fork(fork);
                state.queue_spawn(at, id, false)?;
                dirty.remove(&id);
            }
            Ok(false) => {}
            Err(e) => {
                drop(fork);
                tracing::error!(target: "provider", "launching consumer {id} failed, retrying next epoch: {}", e.message);
                state.record(Event::new("consumer_launch_failed", [("consumer_id", id.to_string()).index(), ("error", e.message).no_index()]));
            }
        }
    }
    for id in dirty {
        let Some(c) = state.consumer(id).await? else {
            state.mark_dirty(id, false)?;
            continue;
        };
        if c.phase != Phase::Launched {
            state.mark_dirty(id, false)?;
            continue;
        }
        // Until the CCV channel opens, changes wait (the mark stays).
        if c.channel_id.is_none() {
            state.mark_dirty(id, true)?;
            continue;
        }
        let mut fork = cnidarium::StateDelta::new(&mut *state);
        match send_validator_set(&mut fork, c).await {
            Ok(()) => {
                crate::store::keep_fork(fork);
            }
            Err(e) => {
                drop(fork);
                tracing::error!(target: "provider", "sending consumer {id} its validator set failed: {}", e.message);
                state.record(Event::new("consumer_vsc_failed", [("consumer_id", id.to_string()).index(), ("error", e.message).no_index()]));
            }
        }
        state.mark_dirty(id, false)?;
    }
    super::rewards::distribute(state).await
}

/// Recompute and, if it changed, send the set as the next VSC packet.
async fn send_validator_set<S: StoreWrite + Send + Sync>(state: &mut S, mut c: Consumer) -> AppResult<()> {
    let old = state.consumer_validators(c.id).await?;
    let new = compute_validator_set(state, &c).await?;
    let updates = diff(&old, &new);
    if updates.is_empty() {
        return Ok(());
    }
    if new.is_empty() {
        // A consumer cannot run without validators: keep the last set.
        state.record(Event::new("consumer_validators_empty", [("consumer_id", c.id.to_string()).index()]));
        return Ok(());
    }
    let timeout = state.provider_params().await?.vsc_timeout_seconds;
    c.valset_update_id += 1;
    let packet = ccv::VscPacket { updates, valset_update_id: c.valset_update_id, slash_acks: vec![] };
    let channel = c.channel_id.clone().unwrap_or_default();
    let ctx = crate::ibc::host::context(state).await?;
    let seq = crate::ibc::host::send_packet(ctx, ccv::PROVIDER_PORT, &channel, packet.encode(), timeout)?;
    state.put_consumer_validators(c.id, &new)?;
    state.put_consumer(&c)?;
    state.record(Event::new(
        "consumer_validator_set_change",
        [
            ("consumer_id", c.id.to_string()).index(),
            ("valset_update_id", c.valset_update_id.to_string()).index(),
            ("updates", packet.updates.len().to_string()).no_index(),
            ("validators", new.len().to_string()).no_index(),
            ("packet_sequence", seq.to_string()).no_index(),
        ],
    ));
    Ok(())
}

/// Launch if the set is not empty: create the provider's client of the
/// consumer (its initial consensus state trusts exactly the initial
/// validator set, as ICS does), store the set and the consumer genesis.
/// Returns whether it launched.
async fn launch<S: StoreWrite + Send + Sync>(state: &mut S, mut c: Consumer, height: u64) -> AppResult<bool> {
    let set = compute_validator_set(state, &c).await?;
    if set.is_empty() {
        return Ok(false);
    }
    let params = state.provider_params().await?;
    let unbonding = Duration::from_secs(c.params.unbonding_period_seconds);
    let trusting = unbonding * params.trusting_period_numerator as u32 / params.trusting_period_denominator as u32;
    let initial: Vec<ccv::ValidatorUpdate> = diff(&[], &set);
    let infos = initial
        .iter()
        .map(|u| {
            let pk = tendermint::PublicKey::from_raw_ed25519(&u.pubkey).ok_or_else(|| AppError::internal("stored consumer key is not ed25519"))?;
            Ok(tendermint::validator::Info::new(pk, tendermint::vote::Power::try_from(u.power).map_err(AppError::internal)?))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let valset_hash = tendermint::validator::Set::new(infos, None).hash();
    let block = state.block_context().ok_or_else(|| AppError::internal("launch outside a block"))?;
    let client_state = crate::ibc::host::tendermint_client_state(&c.params.chain_id, 1, trusting, unbonding, c.params.proof_specs.specs())?;
    let time = tendermint::Time::from_unix_timestamp(block.time_seconds, block.time_nanos).map_err(AppError::internal)?;
    let consensus_state = ibc_client_tendermint::types::ConsensusState::new(
        ibc_core::commitment_types::commitment::CommitmentRoot::from_bytes(b"sentinel_root"),
        time,
        valset_hash,
    );
    let ctx = crate::ibc::host::context(state).await?;
    let client_id = crate::ibc::host::create_client(ctx, client_state, consensus_state, &module_address())?;

    let provider_client = crate::ibc::host::self_client_state(state, height).await?;
    let provider_consensus = crate::ibc::host::self_consensus_state(state, height).await?;
    let genesis = consumer_genesis(&c, provider_client, provider_consensus, &initial, params.vsc_timeout_seconds);
    state.put_consumer_genesis(c.id, &genesis)?;
    state.put_consumer_validators(c.id, &set)?;
    state.put_client(&client_id, c.id)?;
    c.phase = Phase::Launched;
    c.client_id = Some(client_id.clone());
    c.launch_height = height;
    state.put_consumer(&c)?;
    state.record(Event::new(
        "consumer_launched",
        [
            ("consumer_id", c.id.to_string()).index(),
            ("chain_id", c.params.chain_id.clone()).index(),
            ("client_id", client_id).index(),
            ("validators", set.len().to_string()).no_index(),
        ],
    ));
    Ok(true)
}

/// ICS's `ConsumerGenesisState` for a new chain (with ICS v6.2's
/// `consumer_id`).
fn consumer_genesis(
    c: &Consumer,
    client_state: ibc_client_tendermint::types::ClientState,
    consensus_state: ibc_client_tendermint::types::ConsensusState,
    initial: &[ccv::ValidatorUpdate],
    vsc_timeout_seconds: u64,
) -> ccv::ConsumerGenesis {
    let params = ccv::ConsumerParams {
        enabled: true,
        provider_fee_pool_addr_str: module_address().to_string(),
        ccv_timeout_period: Duration::from_secs(vsc_timeout_seconds),
        consumer_redistribution_fraction: crate::math::wad_to_decimal(WAD - c.params.reward_fraction.min(WAD)),
        unbonding_period: Duration::from_secs(c.params.unbonding_period_seconds),
        consumer_id: Some(c.id.to_string()),
        ..Default::default()
    };
    ccv::ConsumerGenesis {
        params,
        provider: ccv::ProviderInfo {
            client_state: Some(client_state.into()),
            consensus_state: Some(consensus_state.into()),
            initial_val_set: initial.to_vec(),
        },
        new_chain: true,
        pre_ccv: None,
        connection_id: None,
    }
}

/// Stop a launched consumer (its owner removed it, or its CCV channel
/// closed or a VSC packet timed out): no more validator sets; removed once
/// its unbonding period has passed.
pub fn stop<S: StoreWrite + Send + Sync + ?Sized>(state: &mut S, c: &mut Consumer) -> AppResult<()> {
    if c.phase != Phase::Launched {
        return Ok(());
    }
    let now = state.block_time();
    c.phase = Phase::Stopped;
    c.stopped_at = now;
    state.queue_removal(now.saturating_add(c.params.unbonding_period_seconds as i64), c.id, true)?;
    state.mark_dirty(c.id, false)?;
    state.put_consumer(c)?;
    Ok(())
}

/// Delete a consumer's state: its chain id is free again, its operators
/// are deregistered with nothing left slashable (so they can deallocate
/// at once), and only a record in phase `removed` remains. O(its members
/// and keys), once.
pub async fn remove<S: StoreWrite + Send + Sync + ?Sized>(state: &mut S, c: &mut Consumer) -> AppResult<()> {
    let now = state.block_time();
    for op in state.set_members(c.id, CONSUMER_SET).await? {
        let mut reg = state.registration(&op, c.id, CONSUMER_SET).await?;
        reg.registered = false;
        reg.slashable_until = now;
        state.put_registration(&op, c.id, CONSUMER_SET, &reg)?;
    }
    let mut set = state.require_operator_set(c.id, CONSUMER_SET).await?;
    set.member_count = 0;
    state.put_operator_set(&set)?;
    state.put_chain_id(&c.params.chain_id, None)?;
    state.put_consumer_validators(c.id, &[])?;
    state.mark_dirty(c.id, false)?;
    let count = state.consumer_count().await?;
    state.put_consumer_count(count.saturating_sub(1))?;
    c.phase = Phase::Removed;
    state.put_consumer(c)?;
    state.record(Event::new("consumer_removed", [("consumer_id", c.id.to_string()).index(), ("chain_id", c.params.chain_id.clone()).index()]));
    Ok(())
}
