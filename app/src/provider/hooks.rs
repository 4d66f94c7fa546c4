//! Epoch end: launch consumers whose spawn time has come, recompute the
//! validator sets of the consumers something changed for, send them as VSC
//! packets, and delete consumers whose unbonding period after stopping has
//! passed. Consumers nothing changed for are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::msgs::module_address;
use super::state::{ConsumerValidator, Phase, CONSUMER_SET};
use super::{valset, Consumer, ProviderRead, ProviderWrite};
use crate::avs::{AvsRead, AvsWrite};
use crate::ccv;
use crate::delegation::{DelegationRead, DelegationWrite};
use crate::error::{AppError, AppResult};
use crate::math::WAD;
use crate::store::StoreWrite;
use crate::types::Address;

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
    // What changed, per consumer: everything (its parameters), or some of
    // its operators (a message about them, their allocation to it, their
    // stake or record). Markers and journals are cleared here.
    let full: BTreeSet<u64> = state.dirty_consumers().await?.into_iter().collect();
    for id in &full {
        state.mark_dirty(*id, false)?;
    }
    let mut ops: BTreeMap<u64, BTreeSet<Address>> = BTreeMap::new();
    for (id, op) in state.dirty_operators().await? {
        state.mark_operator_dirty(id, &op, false)?;
        ops.entry(id).or_default().insert(op);
    }
    for (avs_id, set_id, op) in state.changed_allocations().await? {
        state.clear_changed_allocation(avs_id, set_id, &op)?;
        if set_id == CONSUMER_SET {
            ops.entry(avs_id).or_default().insert(op);
        }
    }
    for op in state.changed_operators().await? {
        state.clear_changed_operator(&op)?;
        for (avs_id, set_id, reg) in state.registrations(&op).await? {
            if set_id == CONSUMER_SET && reg.registered {
                ops.entry(avs_id).or_default().insert(op);
            }
        }
    }
    let mut launched = BTreeSet::new();
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
                launched.insert(id);
            }
            Ok(false) => {}
            Err(e) => {
                drop(fork);
                tracing::error!(target: "provider", "launching consumer {id} failed, retrying next epoch: {}", e.message);
                state.record(Event::new("consumer_launch_failed", [("consumer_id", id.to_string()).index(), ("error", e.message).no_index()]));
            }
        }
    }
    let mut ids: BTreeSet<u64> = full.iter().copied().chain(ops.keys().copied()).collect();
    ids.extend(state.unsent_consumers().await?);
    for id in ids {
        if launched.contains(&id) {
            continue;
        }
        let Some(c) = state.consumer(id).await? else { continue };
        if c.phase != Phase::Launched {
            state.mark_unsent(id, false)?;
            continue;
        }
        let mut fork = cnidarium::StateDelta::new(&mut *state);
        match update(&mut fork, c, full.contains(&id), ops.get(&id)).await {
            Ok(()) => crate::store::keep_fork(fork),
            Err(e) => {
                drop(fork);
                tracing::error!(target: "provider", "updating consumer {id}'s validator set failed, recomputing it next epoch: {}", e.message);
                state.record(Event::new("consumer_vsc_failed", [("consumer_id", id.to_string()).index(), ("error", e.message).no_index()]));
                state.mark_dirty(id, true)?;
            }
        }
    }
    super::rewards::distribute(state).await
}

/// Refresh the consumer's candidates (all of them, or the operators that
/// changed), then send the set they give if it differs from the one last
/// sent; until its CCV channel opens, the consumer is marked unsent.
async fn update<S: StoreWrite + Send + Sync>(state: &mut S, c: Consumer, full: bool, ops: Option<&BTreeSet<Address>>) -> AppResult<()> {
    let candidates = if full {
        valset::all_candidates(state, &c).await?
    } else {
        let mut candidates = state.candidates(c.id).await?;
        if let Some(ops) = ops {
            let power_reduction = state.delegation_params().await?.power_reduction;
            let rates = valset::rates(state, &c).await?;
            for op in ops {
                match valset::candidate(state, &c, &rates, op, power_reduction).await? {
                    Some(cand) => candidates.insert(*op, cand),
                    None => candidates.remove(op),
                };
            }
        }
        candidates
    };
    state.put_candidates(c.id, &candidates)?;
    if c.channel_id.is_none() {
        return state.mark_unsent(c.id, true);
    }
    state.mark_unsent(c.id, false)?;
    let set = valset::assemble(&c, &candidates);
    send_validator_set(state, c, set).await
}

/// Send `new` as the next VSC packet if it differs from the set last sent.
async fn send_validator_set<S: StoreWrite + Send + Sync>(state: &mut S, mut c: Consumer, new: Vec<ConsumerValidator>) -> AppResult<()> {
    let old = state.consumer_validators(c.id).await?;
    let updates = valset::diff(&old, &new);
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
    let candidates = valset::all_candidates(state, &c).await?;
    let set = valset::assemble(&c, &candidates);
    if set.is_empty() {
        return Ok(false);
    }
    state.put_candidates(c.id, &candidates)?;
    let params = state.provider_params().await?;
    let unbonding = Duration::from_secs(c.params.unbonding_period_seconds);
    let trusting = unbonding * params.trusting_period_numerator as u32 / params.trusting_period_denominator as u32;
    let initial: Vec<ccv::ValidatorUpdate> = valset::diff(&[], &set);
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
    let params = match c.params.blocks_per_distribution_transmission {
        0 => params,
        n => ccv::ConsumerParams { blocks_per_distribution_transmission: n as i64, ..params },
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
    state.put_candidates(c.id, &Default::default())?;
    state.mark_dirty(c.id, false)?;
    state.mark_unsent(c.id, false)?;
    let count = state.consumer_count().await?;
    state.put_consumer_count(count.saturating_sub(1))?;
    c.phase = Phase::Removed;
    state.put_consumer(c)?;
    state.record(Event::new("consumer_removed", [("consumer_id", c.id.to_string()).index(), ("chain_id", c.params.chain_id.clone()).index()]));
    Ok(())
}
