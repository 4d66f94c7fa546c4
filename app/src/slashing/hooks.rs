//! Each block: provider misbehavior (double-signing) and liveness from the
//! decided last commit.

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::{slash_event, SigningInfo};
use super::{SlashingRead, SlashingWrite};
use crate::delegation::hooks::PowerUpdate;
use crate::delegation::{DelegationRead, DelegationWrite};
use crate::error::AppResult;
use crate::store::StoreWrite;
use crate::types::Address;

/// One validator's vote in the decided last commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitVote {
    /// CometBFT address: the first 20 bytes of sha256 of the ed25519 key.
    pub address: [u8; 20],
    /// False when its flag is Absent (a nil vote counts as signed, as in
    /// x/slashing).
    pub signed: bool,
    /// Its voting power in that commit's validator set (what a consumer
    /// reports in a slash packet).
    pub power: i64,
}

/// Misbehavior CometBFT reports (duplicate vote or light-client attack).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misbehavior {
    pub address: [u8; 20],
    pub height: u64,
    pub kind: String,
}

/// Handle this block's evidence and votes. Returns the validators to take
/// out of CometBFT's set now (power 0). O(validators + evidence).
pub async fn begin_block<S: StoreWrite + Send + Sync>(state: &mut S, votes: &[CommitVote], misbehavior: &[Misbehavior]) -> AppResult<Vec<PowerUpdate>> {
    let mut updates = Vec::new();
    if votes.is_empty() && misbehavior.is_empty() {
        return Ok(updates);
    }
    let params = state.slashing_params().await?;
    let height = state.block_height();
    let now = state.block_time();

    for ev in misbehavior {
        let cons = hex::encode_upper(ev.address);
        let Some(op_addr) = state.consensus_address_owner(&cons).await? else { continue };
        let Some(mut op) = state.operator(&op_addr).await? else { continue };
        if op.tombstoned {
            continue;
        }
        let slashed = state.slash_native_fraction(&op_addr, params.slash_fraction_double_sign).await?;
        op.tombstoned = true;
        op.jailed = true;
        state.put_operator(&op)?;
        let mut info = state.signing_info(&cons).await?.unwrap_or_else(|| fresh(Some(op_addr), height));
        info.jailed_until = i64::MAX;
        state.put_signing_info(&cons, &info)?;
        updates.extend(state.remove_validator(&op_addr).await?);
        state.record(slash_event("double_sign", &op_addr, &[slashed], vec![("infraction_height", ev.height.to_string()), ("kind", ev.kind.clone())]));
    }

    for v in votes {
        let cons = hex::encode_upper(v.address);
        let Some(op_addr) = state.consensus_address_owner(&cons).await? else { continue };
        let Some(mut op) = state.operator(&op_addr).await? else { continue };
        if op.jailed || op.tombstoned {
            continue;
        }
        let mut info = state.signing_info(&cons).await?.unwrap_or_else(|| fresh(Some(op_addr), height));
        let down = record_signature(state, &cons, &mut info, v.signed, &params).await?;
        if !v.signed {
            state.record(Event::new("liveness", [("operator", op_addr.to_string()).index(), ("missed_blocks", info.missed_blocks_counter.to_string()).no_index()]));
        }
        if down {
            let slashed = state.slash_native_fraction(&op_addr, params.slash_fraction_downtime).await?;
            op.jailed = true;
            state.put_operator(&op)?;
            info.jailed_until = now.saturating_add(params.downtime_jail_duration_seconds as i64);
            reset_window(state, &cons, &mut info).await?;
            updates.extend(state.remove_validator(&op_addr).await?);
            state.record(slash_event(
                "downtime",
                &op_addr,
                &[slashed],
                vec![("jailed_until", info.jailed_until.to_string()), ("missed_blocks", (params.max_missed() + 1).to_string())],
            ));
        }
        state.put_signing_info(&cons, &info)?;
    }
    Ok(updates)
}

/// A validator's first signing record: its window starts at `height`.
pub fn fresh(operator: Option<Address>, height: u64) -> SigningInfo {
    SigningInfo { operator, start_height: height, index_offset: 0, missed_blocks_counter: 0, jailed_until: 0 }
}

/// x/slashing's sliding window (`HandleValidatorSignature`): record whether
/// the validator with consensus address `cons` signed this block in its
/// missed-block bits and counter. Returns whether it has now missed more
/// than `max_missed` of the window, past its first full window: a downtime
/// infraction, which the caller punishes (then calls [`reset_window`]).
/// The caller stores `info`. Shared by the provider's own validators and a
/// consumer chain's (keyed by their consumer consensus address there).
pub async fn record_signature<S: StoreWrite + Send + Sync>(state: &mut S, cons: &str, info: &mut SigningInfo, signed: bool, params: &super::SlashingParams) -> AppResult<bool> {
    let window = params.signed_blocks_window.max(1);
    let index = info.index_offset % window;
    info.index_offset += 1;
    let was_missed = state.missed_bit(cons, index).await?;
    let missed = !signed;
    if was_missed != missed {
        state.put_missed_bit(cons, index, missed)?;
        if missed {
            info.missed_blocks_counter += 1;
        } else {
            info.missed_blocks_counter = info.missed_blocks_counter.saturating_sub(1);
        }
    }
    Ok(state.block_height() > info.start_height + window && info.missed_blocks_counter > params.max_missed())
}

/// After a downtime infraction: the window starts over (x/slashing resets
/// the counter, the offset and the bits so that a punished validator is
/// not punished again for the same blocks).
pub async fn reset_window<S: StoreWrite + Send + Sync>(state: &mut S, cons: &str, info: &mut SigningInfo) -> AppResult<()> {
    info.missed_blocks_counter = 0;
    info.index_offset = 0;
    state.clear_missed_bits(cons).await
}
