//! JSON views of the Aegis query responses and tx message responses, for
//! the CLI's output. Field names are the proto field names (snake_case);
//! big integers stay decimal strings, as the protos carry them.

pub mod text;

use aegis_proto::aegis::{avs::v1 as apb, delegation::v1 as dpb, restaking::v1 as rpb, rewards::v1 as wpb, slashing::v1 as spb};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use prost::Message;
use serde_json::{json, Value};

pub fn coins(c: &[Coin]) -> Value {
    Value::Array(c.iter().map(|c| json!({"denom": c.denom, "amount": c.amount})).collect())
}

pub fn restaking_params(p: &rpb::Params) -> Value {
    json!({"withdrawal_delay_seconds": p.withdrawal_delay_seconds.to_string(), "authority": p.authority})
}

pub fn strategy(s: &rpb::Strategy) -> Value {
    json!({
        "denom": s.denom, "pool_address": s.pool_address, "total_shares": s.total_shares, "tvl": s.tvl,
        "tokens_per_share_wad": s.tokens_per_share_wad, "deposit_cap": s.deposit_cap,
    })
}

pub fn staker_deposits(r: &rpb::QueryStakerDepositsResponse) -> Value {
    let deposits: Vec<Value> = r
        .deposits
        .iter()
        .map(|d| {
            json!({
                "denom": d.denom, "deposit_shares": d.deposit_shares, "deposit_scaling_factor": d.deposit_scaling_factor,
                "slashing_factor": d.slashing_factor, "withdrawable_shares": d.withdrawable_shares, "withdrawable_tokens": d.withdrawable_tokens,
            })
        })
        .collect();
    json!({"operator": r.operator, "deposits": deposits})
}

pub fn withdrawal(w: &rpb::Withdrawal) -> Value {
    let entries: Vec<Value> = w
        .entries
        .iter()
        .map(|e| json!({"denom": e.denom, "scaled_shares": e.scaled_shares, "withdrawable_shares": e.withdrawable_shares, "withdrawable_tokens": e.withdrawable_tokens}))
        .collect();
    json!({
        "id": w.id.to_string(), "staker": w.staker, "operator": w.operator,
        "start_time": w.start_time.to_string(), "completable_time": w.completable_time.to_string(), "entries": entries,
    })
}

pub fn delegation_params(p: &dpb::Params) -> Value {
    json!({"blocks_per_epoch": p.blocks_per_epoch.to_string(), "max_validators": p.max_validators, "power_reduction": p.power_reduction})
}

pub fn operator(o: &dpb::Operator) -> Value {
    let m = o.metadata.clone().unwrap_or_default();
    let stake: Vec<Value> = o
        .stake
        .iter()
        .map(|s| json!({"denom": s.denom, "shares": s.shares, "tokens": s.tokens, "max_magnitude": s.max_magnitude, "queued_scaled_shares": s.queued_scaled_shares}))
        .collect();
    json!({
        "address": o.address,
        "metadata": {"moniker": m.moniker, "website": m.website, "details": m.details, "metadata_uri": m.metadata_uri},
        "commission_rate_bps": o.commission_rate_bps,
        "max_commission_rate_bps": o.max_commission_rate_bps,
        "max_commission_change_rate_bps": o.max_commission_change_rate_bps,
        "commission_updated_at": o.commission_updated_at.to_string(),
        "consensus_pubkey": o.consensus_pubkey,
        "stake": stake,
        "delegator_count": o.delegator_count.to_string(),
        "voting_power": o.voting_power.to_string(),
        "is_validator": o.is_validator,
    })
}

pub fn validator_set(r: &dpb::QueryValidatorSetResponse) -> Value {
    let validators: Vec<Value> = r
        .validators
        .iter()
        .map(|v| json!({"operator": v.operator, "consensus_pubkey": v.consensus_pubkey, "power": v.power.to_string(), "tokens": v.tokens}))
        .collect();
    json!({"epoch_height": r.epoch_height.to_string(), "validators": validators})
}

pub fn rewards_params(p: &wpb::Params) -> Value {
    json!({"inflation_rate_bps": p.inflation_rate_bps, "blocks_per_year": p.blocks_per_year.to_string()})
}

pub fn pending_rewards(r: &wpb::QueryPendingRewardsResponse) -> Value {
    json!({"rewards": coins(&r.rewards), "commission": coins(&r.commission)})
}

pub fn avs_reward_submission(s: &wpb::AvsRewardSubmission) -> Value {
    let strategies: Vec<Value> = s.strategies.iter().map(|m| json!({"strategy": m.strategy, "multiplier": m.multiplier.to_string()})).collect();
    json!({
        "id": s.id.to_string(), "avs_id": s.avs_id.to_string(), "operator_set_id": s.operator_set_id, "submitter": s.submitter,
        "remaining": s.remaining.as_ref().map(|c| json!({"denom": c.denom, "amount": c.amount})),
        "remaining_epochs": s.remaining_epochs.to_string(), "strategies": strategies,
    })
}

pub fn avs_params(p: &apb::Params) -> Value {
    json!({
        "default_allocation_delay_seconds": p.default_allocation_delay_seconds.to_string(),
        "deallocation_delay_seconds": p.deallocation_delay_seconds.to_string(),
        "allocation_configuration_delay_seconds": p.allocation_configuration_delay_seconds.to_string(),
        "max_strategies_per_set": p.max_strategies_per_set,
    })
}

pub fn avs(a: &apb::Avs) -> Value {
    json!({
        "id": a.id.to_string(), "owner": a.owner, "metadata_uri": a.metadata_uri,
        "redistribution_recipient": a.redistribution_recipient, "operator_set_count": a.operator_set_count,
    })
}

pub fn operator_set(s: &apb::OperatorSet) -> Value {
    json!({
        "avs_id": s.avs_id.to_string(), "id": s.id, "strategies": s.strategies, "slasher": s.slasher,
        "veto_committee": s.veto_committee, "veto_threshold": s.veto_threshold, "veto_window_seconds": s.veto_window_seconds.to_string(),
        "allowlist": s.allowlist, "member_count": s.member_count.to_string(),
    })
}

pub fn allocation(a: &apb::Allocation) -> Value {
    json!({
        "avs_id": a.avs_id.to_string(), "operator_set_id": a.operator_set_id, "strategy": a.strategy,
        "magnitude": a.magnitude, "pending_magnitude": a.pending_magnitude, "effective_at": a.effective_at.to_string(),
        "slashable": a.slashable, "allocated_tokens": a.allocated_tokens,
    })
}

pub fn allocations(operator: &str, r: &apb::QueryAllocationsResponse) -> Value {
    json!({
        "operator": operator,
        "allocations": r.allocations.iter().map(allocation).collect::<Vec<_>>(),
        "allocation_delay_seconds": r.allocation_delay_seconds.to_string(),
        "pending_allocation_delay_seconds": r.pending_allocation_delay_seconds.to_string(),
        "pending_allocation_delay_effective_at": r.pending_allocation_delay_effective_at.to_string(),
    })
}

pub fn operator_risk(r: &apb::QueryOperatorRiskResponse) -> Value {
    let strategies: Vec<Value> = r
        .strategies
        .iter()
        .map(|s| {
            json!({
                "strategy": s.strategy, "shares": s.shares, "tokens": s.tokens, "queued_tokens": s.queued_tokens,
                "max_magnitude": s.max_magnitude, "encumbered_magnitude": s.encumbered_magnitude, "slashable_magnitude": s.slashable_magnitude,
                "worst_case_loss_tokens": s.worst_case_loss_tokens, "worst_case_loss_per_epoch_tokens": s.worst_case_loss_per_epoch_tokens,
            })
        })
        .collect();
    let pending: Vec<Value> = r
        .pending_slashes
        .iter()
        .map(|p| {
            json!({
                "id": p.id.to_string(), "avs_id": p.avs_id.to_string(), "operator_set_id": p.operator_set_id,
                "wad_to_slash": p.wad_to_slash, "executable_at": p.executable_at.to_string(),
            })
        })
        .collect();
    json!({
        "operator": r.operator, "strategies": strategies, "allocations": r.allocations.iter().map(allocation).collect::<Vec<_>>(),
        "pending_slashes": pending, "jailed": r.jailed, "tombstoned": r.tombstoned,
    })
}

pub fn staker_exposure(staker: &str, r: &apb::QueryStakerExposureResponse) -> Value {
    let exposures: Vec<Value> = r
        .exposures
        .iter()
        .map(|e| json!({"avs_id": e.avs_id.to_string(), "strategy": e.strategy, "magnitude": e.magnitude, "tokens_at_risk": e.tokens_at_risk}))
        .collect();
    json!({"staker": staker, "operator": r.operator, "exposures": exposures})
}

pub fn slashing_params(p: &spb::Params) -> Value {
    json!({
        "signed_blocks_window": p.signed_blocks_window.to_string(), "min_signed_per_window": p.min_signed_per_window,
        "downtime_jail_duration_seconds": p.downtime_jail_duration_seconds.to_string(),
        "slash_fraction_double_sign": p.slash_fraction_double_sign, "slash_fraction_downtime": p.slash_fraction_downtime,
        "max_slash_per_epoch": p.max_slash_per_epoch,
    })
}

pub fn pending_slash(s: &spb::PendingSlash) -> Value {
    json!({
        "id": s.id.to_string(), "operator": s.operator, "avs_id": s.avs_id.to_string(), "operator_set_id": s.operator_set_id,
        "strategies": s.strategies, "wad_to_slash": s.wad_to_slash, "description": s.description, "evidence_ref": s.evidence_ref,
        "submitted_at": s.submitted_at.to_string(), "executable_at": s.executable_at.to_string(), "vetoes": s.vetoes,
    })
}

/// A slash status as the CLI spells it (`pending`, `vetoed`, ...).
pub fn slash_status(status: i32) -> String {
    match spb::SlashStatus::try_from(status) {
        Ok(spb::SlashStatus::Unspecified) | Err(_) => format!("unknown ({status})"),
        Ok(s) => s.as_str_name().trim_start_matches("SLASH_STATUS_").to_ascii_lowercase(),
    }
}

pub fn slash(s: &spb::Slash) -> Value {
    json!({
        "id": s.id.to_string(), "status": slash_status(s.status), "operator": s.operator, "avs_id": s.avs_id.to_string(),
        "operator_set_id": s.operator_set_id, "strategies": s.strategies, "wad_to_slash": s.wad_to_slash, "description": s.description,
        "evidence_ref": s.evidence_ref, "submitted_height": s.submitted_height.to_string(), "submitted_at": s.submitted_at.to_string(),
        "executable_at": s.executable_at.to_string(), "vetoes": s.vetoes, "resolved_height": s.resolved_height.to_string(),
        "resolved_at": s.resolved_at.to_string(), "resolved_by": s.resolved_by, "slashed": slashed(&s.slashed),
    })
}

pub fn signing_info(i: &spb::SigningInfo) -> Value {
    json!({
        "operator": i.operator, "consensus_address": i.consensus_address, "start_height": i.start_height.to_string(),
        "index_offset": i.index_offset.to_string(), "missed_blocks_counter": i.missed_blocks_counter.to_string(),
        "jailed": i.jailed, "jailed_until": i.jailed_until.to_string(), "tombstoned": i.tombstoned,
    })
}

fn slashed(s: &[spb::SlashedAmount]) -> Value {
    Value::Array(s.iter().map(|a| json!({"strategy": a.strategy, "magnitude": a.magnitude, "tokens": a.tokens})).collect())
}

/// A message response from a tx's result, decoded when it is one of
/// Aegis's (`{"@type": ..., fields...}`); other types show only their type.
pub fn msg_response(any: &cosmrs::Any) -> Value {
    fn dec<M: Message + Default>(v: &[u8]) -> Option<M> {
        M::decode(v).ok()
    }
    let v = any.value.as_slice();
    let body = match any.type_url.as_str() {
        "/aegis.restaking.v1.MsgDepositResponse" => dec::<rpb::MsgDepositResponse>(v).map(|r| json!({"shares": r.shares})),
        "/aegis.restaking.v1.MsgQueueWithdrawalResponse" => {
            dec::<rpb::MsgQueueWithdrawalResponse>(v).map(|r| json!({"withdrawal_id": r.withdrawal_id.to_string()}))
        }
        "/aegis.restaking.v1.MsgCompleteWithdrawalResponse" => dec::<rpb::MsgCompleteWithdrawalResponse>(v).map(|r| json!({"amount": coins(&r.amount)})),
        "/aegis.delegation.v1.MsgUndelegateResponse" => dec::<dpb::MsgUndelegateResponse>(v).map(|r| json!({"withdrawal_id": r.withdrawal_id.to_string()})),
        "/aegis.delegation.v1.MsgRedelegateResponse" => dec::<dpb::MsgRedelegateResponse>(v).map(|r| json!({"withdrawal_id": r.withdrawal_id.to_string()})),
        "/aegis.rewards.v1.MsgClaimRewardsResponse" => dec::<wpb::MsgClaimRewardsResponse>(v).map(|r| json!({"amount": coins(&r.amount)})),
        "/aegis.rewards.v1.MsgSubmitAvsRewardsResponse" => {
            dec::<wpb::MsgSubmitAvsRewardsResponse>(v).map(|r| json!({"submission_id": r.submission_id.to_string()}))
        }
        "/aegis.avs.v1.MsgRegisterAvsResponse" => dec::<apb::MsgRegisterAvsResponse>(v).map(|r| json!({"avs_id": r.avs_id.to_string()})),
        "/aegis.avs.v1.MsgDeregisterFromOperatorSetResponse" => {
            dec::<apb::MsgDeregisterFromOperatorSetResponse>(v).map(|r| json!({"slashable_until": r.slashable_until.to_string()}))
        }
        "/aegis.avs.v1.MsgSetAllocationDelayResponse" => {
            dec::<apb::MsgSetAllocationDelayResponse>(v).map(|r| json!({"effective_at": r.effective_at.to_string()}))
        }
        "/aegis.slashing.v1.MsgSlashOperatorResponse" => dec::<spb::MsgSlashOperatorResponse>(v).map(|r| {
            json!({"pending_slash_id": r.pending_slash_id.to_string(), "executable_at": r.executable_at.to_string(), "slashed": slashed(&r.slashed)})
        }),
        "/aegis.slashing.v1.MsgVetoSlashResponse" => dec::<spb::MsgVetoSlashResponse>(v).map(|r| json!({"cancelled": r.cancelled})),
        "/aegis.provider.v1.MsgCreateConsumerResponse" => {
            dec::<aegis_proto::aegis::provider::v1::MsgCreateConsumerResponse>(v).map(|r| json!({"consumer_id": r.consumer_id.to_string()}))
        }
        "/aegis.slashing.v1.MsgExecuteSlashResponse" => dec::<spb::MsgExecuteSlashResponse>(v).map(|r| json!({"slashed": slashed(&r.slashed), "expired": r.expired})),
        _ => None,
    };
    let mut out = json!({"@type": any.type_url});
    if let Some(Value::Object(fields)) = body {
        out.as_object_mut().expect("object").extend(fields);
    }
    out
}
