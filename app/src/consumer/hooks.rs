//! Block hooks of a consumer chain. Begin: liveness of its validators from
//! the decided last commit (x/slashing's window, run by the slashing
//! module's own code over consumer consensus addresses), a downtime
//! becoming a slash packet for the provider. End (ICS's `EndBlock`):
//! reward distribution, sending queued packets, then handing the validator
//! changes the provider sent this block to CometBFT
//! (`ApplyCCValidatorChanges`).

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::{pending_key, prune_valset_update_ids, ConsumerRead, ConsumerWrite};
use crate::ccv;
use crate::delegation::hooks::PowerUpdate;
use crate::error::AppResult;
use crate::slashing::hooks::{fresh, record_signature, reset_window, CommitVote};
use crate::slashing::{SlashingRead, SlashingWrite};
use crate::store::StoreWrite;

/// How many blocks before the current one a downtime infraction is dated
/// (x/slashing's `height - ValidatorUpdateDelay - 1`): the valset update id
/// of that height goes in the slash packet.
pub const INFRACTION_HEIGHT_LAG: u64 = 2;

/// Liveness of the consumer's validators (x/slashing's `BeginBlocker` as an
/// ICS consumer runs it): each vote of the last commit goes into its
/// validator's signing window, keyed by its consumer consensus address,
/// with the slashing module's params. A validator that misses too many
/// blocks gets one downtime slash packet queued for the provider, and its
/// window starts over; while that packet is outstanding its votes are not
/// counted (ICS: the consumer treats it as jailed). The consumer does not
/// remove it: the provider's next validator set does. Nothing on a chain
/// that is not a consumer. O(votes).
pub async fn begin_block<S: StoreWrite + Send + Sync>(state: &mut S, votes: &[CommitVote]) -> AppResult<()> {
    if votes.is_empty() || !state.is_consumer_chain().await? {
        return Ok(());
    }
    let params = state.slashing_params().await?;
    let height = state.block_height();
    let now = state.block_time();
    for v in votes {
        let cons = hex::encode_upper(v.address);
        if state.outstanding_downtime(&cons).await? {
            continue;
        }
        let mut info = state.signing_info(&cons).await?.unwrap_or_else(|| fresh(None, height));
        let down = record_signature(state, &cons, &mut info, v.signed, &params).await?;
        if !v.signed {
            state.record(Event::new("liveness", [("address", cons.clone()).index(), ("missed_blocks", info.missed_blocks_counter.to_string()).no_index()]));
        }
        if down {
            let infraction_height = height.saturating_sub(INFRACTION_HEIGHT_LAG);
            let vsc_id = state.valset_update_id_at(infraction_height).await?;
            super::relay::queue_slash_packet(state, v.address, v.power, vsc_id, ccv::Infraction::Downtime).await?;
            info.jailed_until = now.saturating_add(params.downtime_jail_duration_seconds as i64);
            reset_window(state, &cons, &mut info).await?;
            tracing::warn!(target: "consumer", validator = %cons, missed = params.max_missed() + 1, "validator down: slash packet queued for the provider");
        }
        state.put_signing_info(&cons, &info)?;
    }
    Ok(())
}

/// ICS's consumer `EndBlock`: reward distribution, queued packets, then
/// the validator changes. Nothing on a chain that is not a consumer.
pub async fn end_block<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<Vec<PowerUpdate>> {
    if !state.is_consumer_chain().await? {
        return Ok(vec![]);
    }
    // Rewards are the consumer's own business: whatever goes wrong there
    // (a fraction that does not parse, say) is logged, never a halt.
    let mut fork = cnidarium::StateDelta::new(&mut *state);
    match super::distribution::end_block(&mut fork, height).await {
        Ok(()) => {
            crate::store::keep_fork(fork);
        }
        Err(e) => {
            drop(fork);
            tracing::error!(target: "consumer", "reward distribution failed at height {height}: {}", e.message);
            state.record(Event::new("consumer_fee_distribution_failed", [("height", height.to_string()).index(), ("error", e.message).no_index()]));
        }
    }
    super::relay::send_pending_packets(state).await?;
    // A VSC packet received this block mapped the next height: forget
    // mappings no infraction can be dated to any more.
    if state.height_valset_update_id(height + 1).await?.is_some() {
        prune_valset_update_ids(state, height).await?;
    }
    apply_changes(state, height).await
}

/// The changes received this block, ordered by key, applied to the stored
/// consumer validator set. A removal of a key that is not in the set is
/// dropped, as ICS drops it (CometBFT refuses to remove an unknown
/// validator). A validator that joins starts a fresh signing window and
/// has no outstanding downtime (ICS: `AfterValidatorBonded`, and its
/// sanity reset of the flag).
pub async fn apply_changes<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<Vec<PowerUpdate>> {
    let pending = state.pending_changes().await?;
    if pending.is_empty() {
        return Ok(vec![]);
    }
    let mut updates = Vec::with_capacity(pending.len());
    for (key, power) in &pending {
        let pubkey = pending_key(key)?;
        let current = state.consumer_validator_power(&pubkey).await?;
        if current.is_none() && *power == 0 {
            continue;
        }
        if current.is_none() {
            if let Some(cons) = crate::delegation::state::consensus_address_of(key) {
                let mut info = state.signing_info(&cons).await?.unwrap_or_else(|| fresh(None, height));
                info.start_height = height;
                state.put_signing_info(&cons, &info)?;
                state.put_outstanding_downtime(&cons, false)?;
            }
        }
        state.put_consumer_validator(&pubkey, *power)?;
        updates.push(PowerUpdate { consensus_pubkey: key.clone(), power: *power });
    }
    state.put_pending_changes(&Default::default())?;
    state.record(Event::new(
        "consumer_validator_updates",
        [("height", height.to_string()).index(), ("updates", updates.len().to_string()).no_index()],
    ));
    Ok(updates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn end_block_hands_over_pending_changes_once_and_drops_removals_of_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::store::open(dir.path().join("db")).await.unwrap();
        let mut state = cnidarium::StateDelta::new(storage.latest_snapshot());
        state.put_consumer_validator(&[1; 32], 10).unwrap();
        let pending = [(hex::encode([2u8; 32]), 0), (hex::encode([1u8; 32]), 7), (hex::encode([3u8; 32]), 4)].into_iter().collect();
        state.put_pending_changes(&pending).unwrap();
        let updates = apply_changes(&mut state, 5).await.unwrap();
        let got: Vec<(String, i64)> = updates.iter().map(|u| (u.consensus_pubkey.clone(), u.power)).collect();
        assert_eq!(got, vec![(hex::encode([1u8; 32]), 7), (hex::encode([3u8; 32]), 4)]);
        let set: Vec<([u8; 32], i64)> = state.consumer_validators().await.unwrap().into_iter().map(|v| (v.pubkey, v.power)).collect();
        assert_eq!(set, vec![([1; 32], 7), ([3; 32], 4)]);
        assert!(apply_changes(&mut state, 6).await.unwrap().is_empty(), "nothing pending any more");
    }
}
