//! Consumer infractions. Downtime arrives as an ICS slash packet and jails
//! the operator on that consumer only (and slashes the consumer's downtime
//! fraction of what it allocated to it); each consumer may jail at most a
//! bounded share of its power per epoch, beyond which packets bounce for a
//! later retry. A double-sign on a consumer is submitted as evidence (ICS's
//! `MsgSubmitConsumerDoubleVoting`), checked against the keys the provider
//! itself gave that consumer, and slashes the consumer's double-sign
//! fraction of the operator's allocation to it, then tombstones it there.
//! Both go through the AVS slashing path, so they take only stake
//! allocated to that consumer.

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::msgs::module_address;
use super::state::{JailMeter, Phase, CONSUMER_SET};
use super::{Consumer, ProviderError, ProviderRead, ProviderWrite};
use crate::avs::AvsRead;
use crate::ccv;
use crate::delegation::DelegationRead;
use crate::error::AppResult;
use crate::slashing::msgs::{SlashOperator, SlashOutcome};
use crate::store::StoreWrite;
use crate::types::Address;

/// Which operator a consumer consensus address (hex, upper case) belongs to
/// on consumer `id`: an assigned key (current, or retired less than the
/// consumer's unbonding period ago), or else the operator's provider key if
/// it never assigned one there.
pub async fn operator_of_consumer_address<S: StoreWrite + Send + Sync + ?Sized>(state: &S, c: &Consumer, addr: &str) -> AppResult<Option<Address>> {
    if let Some(owner) = state.key_owner(c.id, addr).await? {
        let now = state.block_time();
        let live = owner.retired_at.is_none_or(|at| now < at.saturating_add(c.params.unbonding_period_seconds as i64));
        return Ok(live.then_some(owner.operator));
    }
    let Some(op) = state.consensus_address_owner(addr).await? else { return Ok(None) };
    Ok(state.assigned_key(c.id, &op).await?.is_none().then_some(op))
}

/// Slash `fraction` (WAD) of what `op` allocated to the consumer in every
/// accepted strategy it has allocated in, through the AVS slashing path.
/// Nothing allocated, or the epoch's slash cap reached, is logged and
/// leaves the rest of the punishment (jail, tombstone) in place.
async fn slash_allocation<S: StoreWrite + Send + Sync>(state: &mut S, c: &Consumer, op: &Address, fraction: u128, description: &str, evidence_ref: String) -> AppResult<()> {
    if fraction == 0 {
        return Ok(());
    }
    let mut strategies = Vec::new();
    for (denom, _) in &c.params.strategies {
        if state.allocation(op, denom, c.id, CONSUMER_SET).await?.magnitude > 0 {
            strategies.push(denom.clone());
        }
    }
    if strategies.is_empty() {
        return Ok(());
    }
    let slash = SlashOperator {
        slasher: module_address(),
        operator: *op,
        avs_id: c.id,
        set_id: CONSUMER_SET,
        strategies,
        wad_to_slash: fraction,
        description: description.into(),
        evidence_ref,
    };
    let mut fork = cnidarium::StateDelta::new(&mut *state);
    match slash.check_and_execute(&mut fork).await {
        Ok(SlashOutcome::Applied(_)) | Ok(SlashOutcome::Pending { .. }) => {
            crate::store::keep_fork(fork);
        }
        Err(e) => {
            drop(fork);
            tracing::warn!(target: "provider", "consumer {} infraction of {op}: allocation not slashed: {}", c.id, e.message);
            state.record(Event::new(
                "consumer_slash_skipped",
                [("consumer_id", c.id.to_string()).index(), ("operator", op.to_string()).index(), ("reason", e.message).no_index()],
            ));
        }
    }
    Ok(())
}

/// A slash packet from the consumer bound to `channel`. Returns the ack:
/// handled (2), bounced (3, the per-epoch jail bound is spent: retry
/// later), or an error ack for a packet ICS would refuse too (an unknown
/// valset update id). A packet about a validator that is not in the
/// consumer's set is answered "handled" and changes nothing, as ICS does
/// (an error ack would make an ICS consumer close its channel); the event
/// `consumer_slash_ignored` says why.
pub async fn on_slash_packet<S: StoreWrite + Send + Sync>(state: &mut S, channel: &str, sequence: u64, p: &ccv::SlashPacket) -> AppResult<Vec<u8>> {
    let Some(id) = state.consumer_by_channel(channel).await? else {
        return Ok(ccv::error_ack(&format!("channel {channel} is no consumer's CCV channel")));
    };
    let c = state.require_consumer(id).await?;
    if p.valset_update_id > c.valset_update_id {
        return Ok(ccv::error_ack(&format!(
            "cannot find infraction height matching the validator update id {} for chain {id}: the last sent is {}",
            p.valset_update_id, c.valset_update_id
        )));
    }
    let addr = hex::encode_upper(p.validator_address);
    let ignored = |state: &mut S, why: String| {
        tracing::info!(target: "provider", "slash packet {sequence} from consumer {id} ignored: {why}");
        state.record(Event::new(
            "consumer_slash_ignored",
            [("consumer_id", id.to_string()).index(), ("consumer_address", addr.clone()).index(), ("reason", why).no_index()],
        ));
        Ok(ccv::result_ack(ccv::ACK_SLASH_HANDLED))
    };
    if p.infraction == ccv::Infraction::DoubleSign {
        return ignored(state, "double-signs on a consumer are judged from submitted evidence, not from slash packets".into());
    }
    if c.phase != Phase::Launched {
        return ignored(state, format!("consumer {id} is {}", c.phase.as_str()));
    }
    let Some(op) = operator_of_consumer_address(state, &c, &addr).await? else {
        return ignored(state, format!("{addr} is no validator's key on consumer {id}"));
    };
    let validators = state.consumer_validators(id).await?;
    let Some(power) = validators.iter().find(|v| v.operator == op).map(|v| v.power) else {
        return ignored(state, format!("operator {op} ({addr}) is not in consumer {id}'s validator set"));
    };
    let mut jail = state.consumer_jail(id, &op).await?;
    let now = state.block_time();
    if jail.excluded() {
        return ignored(state, format!("operator {op} is already jailed on consumer {id}"));
    }
    // The bound: slash packets jail at most `jail_bound_percent` of the
    // consumer's power per epoch (at least one validator).
    let params = state.provider_params().await?;
    let epoch = state.block_height() / state.delegation_params().await?.blocks_per_epoch.max(1);
    let total: i128 = validators.iter().map(|v| v.power as i128).sum();
    let bound = ((total * params.jail_bound_percent as i128) / 100).max(1);
    let mut meter = state.jail_meter(id).await?;
    if meter.epoch != epoch {
        meter = JailMeter { epoch, jailed_power: 0 };
    }
    if meter.jailed_power as i128 >= bound {
        state.record(Event::new(
            "consumer_slash_bounced",
            [("consumer_id", id.to_string()).index(), ("operator", op.to_string()).index(), ("jailed_power", meter.jailed_power.to_string()).no_index()],
        ));
        return Ok(ccv::result_ack(ccv::ACK_SLASH_BOUNCED));
    }
    meter.jailed_power = meter.jailed_power.saturating_add(power);
    state.put_jail_meter(id, &meter)?;
    jail.until = now.saturating_add(c.params.infractions.downtime_jail_seconds as i64).max(1);
    jail.unjailed = false;
    state.put_consumer_jail(id, &op, &jail)?;
    state.mark_operator_dirty(id, &op, true)?;
    slash_allocation(state, &c, &op, c.params.infractions.downtime_fraction, "downtime on a consumer chain", format!("downtime/{channel}/{sequence}")).await?;
    state.record(Event::new(
        "consumer_jail",
        [
            ("consumer_id", id.to_string()).index(),
            ("operator", op.to_string()).index(),
            ("consumer_address", addr).index(),
            ("jailed_until", jail.until.to_string()).no_index(),
            ("power", power.to_string()).no_index(),
        ],
    ));
    Ok(ccv::result_ack(ccv::ACK_SLASH_HANDLED))
}

/// Two conflicting votes by one consumer key: verified against the key
/// records of that consumer (the keys the provider sent it), then the
/// operator's allocation to it is slashed by the double-sign fraction and
/// the operator is tombstoned there.
pub async fn on_double_voting<S: StoreWrite + Send + Sync>(state: &mut S, consumer_id: u64, evidence: &tendermint_proto::types::DuplicateVoteEvidence) -> AppResult<Address> {
    let c = state.require_consumer(consumer_id).await?;
    if !matches!(c.phase, Phase::Launched | Phase::Stopped) {
        return Err(ProviderError::WrongPhase { consumer_id, phase: c.phase.as_str().into(), action: "judging a double vote", needed: "launched or stopped" }.into());
    }
    let bad = |m: String| -> crate::error::AppError { ProviderError::InvalidEvidence(m).into() };
    let chain_id: tendermint::chain::Id = c.params.chain_id.parse().map_err(|e| bad(format!("chain id: {e}")))?;
    let vote = |v: &Option<tendermint_proto::types::Vote>, which: &str| -> AppResult<tendermint::vote::SignedVote> {
        let v = v.clone().ok_or_else(|| bad(format!("{which} is missing")))?;
        let v = tendermint::Vote::try_from(v).map_err(|e| bad(format!("{which}: {e}")))?;
        tendermint::vote::SignedVote::from_vote(v, chain_id.clone()).ok_or_else(|| bad(format!("{which} is not signed")))
    };
    let (a, b) = (vote(&evidence.vote_a, "vote_a")?, vote(&evidence.vote_b, "vote_b")?);
    let (va, vb) = (evidence.vote_a.as_ref().expect("checked"), evidence.vote_b.as_ref().expect("checked"));
    if va.height != vb.height || va.round != vb.round || va.r#type != vb.r#type {
        return Err(bad(format!("the votes are for different steps: {}/{}/{} and {}/{}/{}", va.height, va.round, va.r#type, vb.height, vb.round, vb.r#type)));
    }
    if va.block_id == vb.block_id {
        return Err(bad("the votes are for the same block".into()));
    }
    if a.validator_id() != b.validator_id() {
        return Err(bad(format!("the votes are by different validators: {} and {}", a.validator_id(), b.validator_id())));
    }
    let addr = a.validator_id().to_string().to_uppercase();
    let op = operator_of_consumer_address(state, &c, &addr).await?.ok_or_else(|| bad(format!("{addr} is no operator's key on consumer {consumer_id}")))?;
    let key = if let Some(owner) = state.key_owner(consumer_id, &addr).await? {
        owner.key
    } else {
        state.operator(&op).await?.and_then(|o| o.consensus_pubkey).ok_or_else(|| bad(format!("{addr} has no known key")))?
    };
    let key_bytes: [u8; 32] = hex::decode(&key).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| bad("stored key is not 32 bytes".into()))?;
    let vk = ed25519_consensus::VerificationKey::try_from(key_bytes).map_err(|_| bad("stored key is not ed25519".into()))?;
    for (which, v) in [("vote_a", &a), ("vote_b", &b)] {
        let sig: [u8; 64] = v.signature().as_bytes().try_into().map_err(|_| bad(format!("{which}: signature is not 64 bytes")))?;
        vk.verify(&ed25519_consensus::Signature::from(sig), &v.sign_bytes()).map_err(|_| bad(format!("{which}: the signature does not verify for key {key} on {}", c.params.chain_id)))?;
    }
    let mut jail = state.consumer_jail(consumer_id, &op).await?;
    if jail.tombstoned {
        return Err(ProviderError::AlreadyTombstoned { operator: op.to_string(), consumer_id }.into());
    }
    let height = va.height;
    slash_allocation(state, &c, &op, c.params.infractions.double_sign_fraction, "double-sign on a consumer chain", format!("double-vote/{height}/{addr}")).await?;
    jail.tombstoned = true;
    state.put_consumer_jail(consumer_id, &op, &jail)?;
    state.mark_operator_dirty(consumer_id, &op, true)?;
    state.record(Event::new(
        "consumer_double_vote",
        [
            ("consumer_id", consumer_id.to_string()).index(),
            ("operator", op.to_string()).index(),
            ("consumer_address", addr).index(),
            ("height", height.to_string()).no_index(),
        ],
    ));
    Ok(op)
}
