//! End of epoch: choose the provider's validator set.

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::{DelegationRead, DelegationWrite, ValidatorEntry, ValidatorSet};
use crate::error::{AppError, AppResult};
use crate::restaking::RestakingRead;
use crate::store::StoreWrite;
use crate::types::NATIVE_DENOM;

/// A validator update for CometBFT: hex ed25519 key and new power (0 =
/// removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowerUpdate {
    pub consensus_pubkey: String,
    pub power: i64,
}

impl PowerUpdate {
    pub fn to_tendermint(&self) -> AppResult<tendermint::validator::Update> {
        let bytes = hex::decode(&self.consensus_pubkey).map_err(|e| AppError::internal(format!("stored consensus key: {e}")))?;
        let pub_key = tendermint::PublicKey::from_raw_ed25519(&bytes).ok_or_else(|| AppError::internal("stored consensus key is not ed25519"))?;
        Ok(tendermint::validator::Update { pub_key, power: tendermint::vote::Power::try_from(self.power).map_err(AppError::internal)? })
    }
}

/// CometBFT's bound on total voting power is i64::MAX / 8; one validator
/// is kept well below it.
const MAX_POWER: u128 = (i64::MAX / 8 / 1000) as u128;

/// Rank operators that have a consensus key and are neither jailed nor
/// tombstoned by delegated native stake
/// (tokens, then address for ties), keep the top `max_validators` with
/// power > 0. Cost: one stake read per operator, never per staker.
pub async fn compute_validator_set<S: RestakingRead + DelegationRead + Send + Sync + ?Sized>(state: &S, height: u64) -> AppResult<ValidatorSet> {
    let params = state.delegation_params().await?;
    let Some(strategy) = state.strategy(NATIVE_DENOM).await? else { return Ok(ValidatorSet { epoch_height: height, validators: vec![] }) };
    let tvl = state.pool_tokens(NATIVE_DENOM).await?;
    let mut candidates = Vec::new();
    for op in state.all_operators().await? {
        if op.jailed || op.tombstoned {
            continue;
        }
        let Some(key) = op.consensus_pubkey.clone() else { continue };
        let shares = state.operator_stake(&op.address, NATIVE_DENOM).await?.active_shares();
        let tokens = strategy.tokens_for_shares(shares, tvl).unwrap_or(0);
        let power = (tokens / params.power_reduction).min(MAX_POWER) as i64;
        if power > 0 {
            candidates.push(ValidatorEntry { operator: op.address, consensus_pubkey: key, power, tokens });
        }
    }
    candidates.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.operator.cmp(&b.operator)));
    candidates.truncate(params.max_validators as usize);
    candidates.sort_by(|a, b| b.power.cmp(&a.power).then(a.operator.cmp(&b.operator)));
    Ok(ValidatorSet { epoch_height: height, validators: candidates })
}

/// At an epoch end, store the new set and return the changes (a removed
/// validator gets power 0). An empty result keeps the old set: CometBFT
/// cannot run without validators.
pub async fn end_block<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<Vec<PowerUpdate>> {
    let params = state.delegation_params().await?;
    if !height.is_multiple_of(params.blocks_per_epoch) {
        return Ok(vec![]);
    }
    let new = compute_validator_set(state, height).await?;
    if new.validators.is_empty() {
        return Ok(vec![]);
    }
    let old = state.validator_set().await?;
    let updates = diff(&old, &new);
    state.put_validator_set(&new)?;
    state.record(Event::new(
        "epoch",
        [("height", height.to_string()).index(), ("validators", new.validators.len().to_string()).no_index(), ("updates", updates.len().to_string()).no_index()],
    ));
    Ok(updates)
}

/// Updates turning `old` into `new`, ordered by key: every key whose power
/// differs (absent = 0).
pub fn diff(old: &ValidatorSet, new: &ValidatorSet) -> Vec<PowerUpdate> {
    use std::collections::BTreeMap;
    let mut powers: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for v in &old.validators {
        powers.entry(v.consensus_pubkey.as_str()).or_default().0 = v.power;
    }
    for v in &new.validators {
        powers.entry(v.consensus_pubkey.as_str()).or_default().1 = v.power;
    }
    powers
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .map(|(key, (_, power))| PowerUpdate { consensus_pubkey: key.to_string(), power })
        .collect()
}
