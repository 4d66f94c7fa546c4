//! End of block: hand the validator changes the provider sent this block
//! to CometBFT (ICS's `ApplyCCValidatorChanges`, run from EndBlock).

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::{pending_key, ConsumerRead, ConsumerWrite};
use crate::delegation::hooks::PowerUpdate;
use crate::error::AppResult;
use crate::store::StoreWrite;

/// The changes received this block, ordered by key, applied to the stored
/// consumer validator set. A removal of a key that is not in the set is
/// dropped, as ICS drops it (CometBFT refuses to remove an unknown
/// validator). Nothing on a chain that is not a consumer.
pub async fn end_block<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<Vec<PowerUpdate>> {
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
        let updates = end_block(&mut state, 5).await.unwrap();
        let got: Vec<(String, i64)> = updates.iter().map(|u| (u.consensus_pubkey.clone(), u.power)).collect();
        assert_eq!(got, vec![(hex::encode([1u8; 32]), 7), (hex::encode([3u8; 32]), 4)]);
        let set: Vec<([u8; 32], i64)> = state.consumer_validators().await.unwrap().into_iter().map(|v| (v.pubkey, v.power)).collect();
        assert_eq!(set, vec![([1; 32], 7), ([3; 32], 4)]);
        assert!(end_block(&mut state, 6).await.unwrap().is_empty(), "nothing pending any more");
    }
}
