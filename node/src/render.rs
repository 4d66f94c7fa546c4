//! JSON views of the Aegis query responses and tx message responses, for
//! the CLI's output. Field names are the proto field names (snake_case);
//! big integers stay decimal strings, as the protos carry them.

use aegis_proto::aegis::{delegation::v1 as dpb, restaking::v1 as rpb, rewards::v1 as wpb};
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
        _ => None,
    };
    let mut out = json!({"@type": any.type_url});
    if let Some(Value::Object(fields)) = body {
        out.as_object_mut().expect("object").extend(fields);
    }
    out
}
