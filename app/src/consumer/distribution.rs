//! Consumer rewards: ICS's `distribution.go`. Each block the fee
//! collector's balances are split: `consumer_redistribution_fraction`
//! stays on this chain (module account `cons_redistribute`), the rest waits
//! in `cons_to_send_to_provider`. Every `blocks_per_distribution_transmission`
//! blocks what waits there goes to the provider's fee pool as ICS-20
//! transfers over the distribution channel (a `transfer` channel on the CCV
//! connection), with ICS v6's memo naming this consumer.
//!
//! A transfer that cannot be sent is logged and retried next round; one
//! that fails or times out on the way is refunded by ICS-20 to
//! `cons_to_send_to_provider` and goes out with the next round. None of it
//! can fail a block.

use ibc_proto::interchain_security::ccv::v1::ConsumerParams;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::{ConsumerRead, ConsumerWrite};
use crate::bank::{BankRead, BankWrite};
use crate::ccv;
use crate::error::{AppError, AppResult};
use crate::math::{mul_div_down, parse_decimal_wad, WAD};
use crate::store::StoreWrite;
use crate::types::{Address, Coin};

/// ICS's `ConsumerRedistributeName`: the consumer's share of its fees.
pub const CONS_REDISTRIBUTE: &str = "cons_redistribute";
/// ICS's `ConsumerToSendToProviderName`: the provider's share, until sent.
pub const CONS_TO_SEND_TO_PROVIDER: &str = "cons_to_send_to_provider";

/// The share of `amount` the consumer keeps: `amount * fraction`, rounded
/// down (ICS truncates; the remainder goes to the provider).
pub fn consumer_share(amount: u128, fraction_wad: u128) -> u128 {
    mul_div_down(amount, fraction_wad.min(WAD), WAD).unwrap_or(amount)
}

/// ICS's `DistributeRewardsInternally`: split every balance of the fee
/// collector. O(denoms it holds).
pub async fn distribute_internally<S: StoreWrite + Send + Sync>(state: &mut S, params: &ConsumerParams) -> AppResult<()> {
    let fee_collector = Address::module(crate::auth::FEE_COLLECTOR);
    let balances = state.all_balances(&fee_collector).await?;
    if balances.is_empty() {
        return Ok(());
    }
    let fraction = parse_decimal_wad(&params.consumer_redistribution_fraction)
        .filter(|f| *f <= WAD)
        .ok_or_else(|| AppError::internal(format!("consumer_redistribution_fraction {:?} is not a fraction", params.consumer_redistribution_fraction)))?;
    let (keep, send) = (Address::module(CONS_REDISTRIBUTE), Address::module(CONS_TO_SEND_TO_PROVIDER));
    for coin in balances.iter() {
        let kept = consumer_share(coin.amount.0, fraction);
        if kept > 0 {
            state.send_coin(&fee_collector, &keep, &Coin::new(&coin.denom, kept)).await?;
        }
        if coin.amount.0 > kept {
            state.send_coin(&fee_collector, &send, &Coin::new(&coin.denom, coin.amount.0 - kept)).await?;
        }
    }
    Ok(())
}

/// ICS's `shouldSendRewardsToProvider`.
pub fn transmission_due(height: u64, last: u64, blocks_per_transmission: i64) -> bool {
    height.saturating_sub(last) >= blocks_per_transmission.max(1) as u64
}

/// The denoms sent to the provider: ICS's `AllowedRewardDenoms`
/// (`reward_denoms`, and `provider_reward_denoms` as vouchers received
/// over the distribution channel), or, when neither lists any, every denom
/// waiting to be sent. (ICS sends nothing then; the genesis an Aegis
/// provider writes lists none, and fees on an Aegis consumer are in its
/// own native denom.)
pub fn allowed_denoms(params: &ConsumerParams, waiting: &[String]) -> Vec<String> {
    if params.reward_denoms.is_empty() && params.provider_reward_denoms.is_empty() {
        return waiting.to_vec();
    }
    let mut out = params.reward_denoms.clone();
    for d in &params.provider_reward_denoms {
        let path = format!("transfer/{}/{d}", params.distribution_transmission_channel);
        out.push(format!("ibc/{}", crate::ibc::transfer::denom_hash(&path)));
    }
    out
}

/// The end-block part of reward distribution (ICS's `EndBlockRD`).
pub async fn end_block<S: StoreWrite + Send + Sync>(state: &mut S, height: u64) -> AppResult<()> {
    let Some(params) = state.consumer_params().await? else { return Ok(()) };
    distribute_internally(state, &params).await?;
    if !transmission_due(height, state.last_transmission_height().await?, params.blocks_per_distribution_transmission) {
        return Ok(());
    }
    let mut fork = cnidarium::StateDelta::new(&mut *state);
    match send_rewards_to_provider(&mut fork, &params, height).await {
        Ok(()) => {
            crate::store::keep_fork(fork);
        }
        Err(e) => {
            drop(fork);
            tracing::error!(target: "consumer", "sending rewards to the provider failed, retried next round: {}", e.message);
            state.record(Event::new("consumer_fee_distribution_failed", [("module", "consumer".to_string()).index(), ("error", e.message).no_index()]));
        }
    }
    state.put_last_transmission_height(height)
}

/// ICS's `SendRewardsToProvider`: one ICS-20 transfer per allowed denom
/// waiting in `cons_to_send_to_provider`, to the provider's fee pool,
/// timing out `transfer_timeout_period` after this block. Nothing is sent
/// (and that is no error) while the distribution channel is not open or
/// the provider's fee pool is unknown.
pub async fn send_rewards_to_provider<S: StoreWrite + Send + Sync>(state: &mut S, params: &ConsumerParams, height: u64) -> AppResult<()> {
    let channel = params.distribution_transmission_channel.clone();
    let open = {
        use ibc_core::channel::types::channel::State;
        let ctx = crate::ibc::host::context(state).await?;
        crate::ibc::host::channel_end(&ctx, "transfer", &channel).is_ok_and(|c| c.state == State::Open)
    };
    if !open {
        tracing::info!(target: "consumer", channel = %channel, "cannot send rewards to the provider: the transmission channel is not open");
        return Ok(());
    }
    let Some(fee_pool) = state.provider_fee_pool_addr().await?.filter(|a| !a.is_empty()) else {
        tracing::info!(target: "consumer", "cannot send rewards to the provider: its fee pool address is not known yet");
        return Ok(());
    };
    let sender = Address::module(CONS_TO_SEND_TO_PROVIDER);
    let waiting = state.all_balances(&sender).await?;
    let denoms: Vec<String> = waiting.iter().map(|c| c.denom.clone()).collect();
    let chain_id = state.block_context().map(|b| b.chain_id).unwrap_or_default();
    let memo = ccv::reward_memo(&state.ccv_consumer_id().await?, &chain_id);
    let timeout_nanos = (state.block_time().max(0) as u64)
        .saturating_add(params.transfer_timeout_period.as_ref().map_or(0, |d| d.seconds.max(0) as u64))
        .saturating_mul(1_000_000_000)
        .saturating_add(state.block_context().map_or(0, |b| b.time_nanos as u64));
    let mut sent = Vec::new();
    for denom in allowed_denoms(params, &denoms) {
        let amount = waiting.amount_of(&denom).0;
        if amount == 0 {
            continue;
        }
        let raw = ibc_proto::ibc::applications::transfer::v1::MsgTransfer {
            source_port: "transfer".into(),
            source_channel: channel.clone(),
            token: Some(ibc_proto::cosmos::base::v1beta1::Coin { denom: denom.clone(), amount: amount.to_string() }),
            sender: sender.to_string(),
            receiver: fee_pool.clone(),
            timeout_height: None,
            timeout_timestamp: timeout_nanos,
            memo: memo.clone(),
        };
        let any = tendermint_proto::google::protobuf::Any { type_url: crate::ibc::msgs::MSG_TRANSFER_URL.into(), value: prost::Message::encode_to_vec(&raw) };
        let msg = crate::ibc::msgs::decode(&any).unwrap_or_else(|| Err(AppError::internal("MsgTransfer is an IBC message")))?;
        msg.execute(state).await?;
        sent.push(Coin::new(&denom, amount).to_string());
    }
    let blocks = params.blocks_per_distribution_transmission.max(1) as u64;
    tracing::info!(target: "consumer", sent = %sent.join(","), "sent rewards to the provider");
    state.record(Event::new(
        "fee_distribution",
        [
            ("module", "consumer".to_string()).index(),
            ("current_distribution_height", height.to_string()).index(),
            ("next_distribution_height", (height + blocks).to_string()).index(),
            ("distribution_fraction", params.consumer_redistribution_fraction.clone()).no_index(),
            ("total", waiting.to_string()).no_index(),
            ("provider_amount", sent.join(",")).no_index(),
        ],
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consumer_keeps_its_fraction_rounded_down() {
        assert_eq!(consumer_share(1_000, WAD * 3 / 4), 750);
        assert_eq!(consumer_share(1_001, WAD * 3 / 4), 750, "the provider gets the rounding");
        assert_eq!(consumer_share(1_001, 0), 0);
        assert_eq!(consumer_share(1_001, WAD), 1_001);
    }

    #[test]
    fn transmission_is_due_every_n_blocks_from_the_last() {
        assert!(!transmission_due(9, 0, 10));
        assert!(transmission_due(10, 0, 10));
        assert!(!transmission_due(19, 10, 10));
        assert!(transmission_due(20, 10, 10));
    }

    #[test]
    fn allowed_denoms_are_icss_list_or_everything_waiting() {
        let waiting = vec!["uaegis".to_string(), "ufoo".to_string()];
        let mut p = ConsumerParams::default();
        assert_eq!(allowed_denoms(&p, &waiting), waiting);
        p.reward_denoms = vec!["ufoo".into()];
        p.provider_reward_denoms = vec!["uatom".into()];
        p.distribution_transmission_channel = "channel-1".into();
        let hash = crate::ibc::transfer::denom_hash("transfer/channel-1/uatom");
        assert_eq!(allowed_denoms(&p, &waiting), vec!["ufoo".to_string(), format!("ibc/{hash}")]);
    }

    #[test]
    fn the_reward_memo_is_icss_bytes() {
        assert_eq!(ccv::reward_memo("7", "consumer-1"), "{\n\t\t\t\"provider\": {\"consumerId\":\"7\",\"chainId\":\"consumer-1\",\"memo\":\"ICS rewards\"}\n\t\t}");
    }
}
