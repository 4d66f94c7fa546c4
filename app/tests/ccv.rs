//! A provider and its consumer chain end to end, over a real CCV channel
//! (`testkit::ccv`): the consumer starts with the launched set and follows
//! the provider's validator sets with CometBFT's timing; its validators'
//! downtime becomes slash packets that jail them there only; its fees reach
//! the provider's fee pool as ICS-20 vouchers.

use aegis_app::avs::AvsRead;
use aegis_app::ccv::{self, ConsumerPacket, Infraction, SlashPacket, VscPacket};
use aegis_app::consumer::{CcvChannelState, ConsumerRead};
use aegis_app::delegation::DelegationRead;
use aegis_app::provider::ProviderRead;
use aegis_app::signer::pack;
use aegis_app::testkit::ccv::*;
use aegis_app::testkit::ibc::{ok, send_raw_packet, written_acks, Side};
use aegis_app::testkit::light::{set_of, validator_key};
use aegis_app::types::{Address, NATIVE_DENOM};
use aegis_proto::aegis::avs::v1 as apb;

/// A validator set by key: (ed25519 key, power).
type Set = Vec<([u8; 32], i64)>;

fn sorted(mut v: Set) -> Set {
    v.sort();
    v
}

/// The validator updates of the consumer's blocks after `after`: (height,
/// updates by key).
fn updates_after(path: &CcvPath, after: u64) -> Vec<(u64, Set)> {
    path.consumer
        .log
        .validator_updates
        .range(after + 1..)
        .map(|(h, u)| (*h, u.iter().map(|u| (u.pub_key.to_bytes().try_into().unwrap(), u.power.value() as i64)).collect()))
        .collect()
}

/// Consumer blocks until its height is at least `h`.
async fn consumer_to(path: &mut CcvPath, h: u64) {
    while path.consumer.height < h {
        path.consumer.block(vec![]).await;
    }
}

/// The one set change the consumer applied after `after`: it is handed to
/// CometBFT in that block and is the header chain's set two blocks later.
async fn one_set_change(path: &mut CcvPath, after: u64, want: &[([u8; 32], i64)]) -> u64 {
    let changes = updates_after(path, after);
    assert_eq!(changes.len(), 1, "one block with validator updates: {changes:?}");
    let (h, updates) = changes[0].clone();
    assert_eq!(updates, sorted(want.to_vec()), "FinalizeBlock's validator updates at {h}, by key");
    let before = path.consumer_cometbft_set(h + 1);
    consumer_to(path, h + 2).await;
    assert_eq!(path.consumer_cometbft_set(h + 1), before, "the set of h + 1 is the old one");
    let after_set = sorted(path.consumer_set().await);
    assert_eq!(path.consumer_cometbft_set(h + 2), after_set, "the set of h + 2 is the new one");
    assert_eq!(path.consumer.light.headers[&(h + 2)].header.validators_hash, set_of(&after_set).hash());
    assert_eq!(path.consumer.light.headers[&(h + 1)].header.validators_hash, set_of(&before).hash());
    h
}

#[tokio::test]
async fn the_consumer_starts_with_the_launched_set_and_follows_opt_out_deallocation_and_key_rotation() {
    let mut path = CcvPath::setup(CcvConfig::default()).await;
    let cfg = path.config.clone();
    let id = path.consumer_id;
    let powers: Vec<i64> = (0..4).map(|i| cfg.power(i)).collect();
    assert_eq!(powers, vec![500_000, 750_000, 400_000, 200_000], "allocated tokens x weight / 10^6");
    let initial = sorted((0..4).map(|i| (path.key(i), powers[i])).collect());

    // The genesis the provider stored, InitChain's answer, the consumer's
    // state and its first headers all hold the launched set.
    let genesis = path.provider.storage().latest_snapshot().consumer_genesis(id).await.unwrap().unwrap();
    assert_eq!(genesis.provider.initial_val_set.iter().map(|u| (u.pubkey, u.power)).collect::<Vec<_>>(), initial);
    let init_chain: Vec<([u8; 32], i64)> =
        path.consumer.app().genesis_validators().await.unwrap().iter().map(|u| (u.pub_key.to_bytes().try_into().unwrap(), u.power.value() as i64)).collect();
    assert_eq!(sorted(init_chain), initial);
    assert_eq!(sorted(path.consumer_set().await), initial);
    assert_eq!(path.consumer_cometbft_set(1), initial);

    // The handshake: fee pool from the provider's metadata, the reward
    // channel the consumer started, both channels bound on the provider.
    let snap = path.consumer.storage().latest_snapshot();
    assert_eq!(snap.provider_fee_pool_addr().await.unwrap(), Some(Address::module("provider").to_string()));
    assert_eq!(snap.ccv_channel_state().await.unwrap(), CcvChannelState::None, "established by the first VSC packet");
    assert_eq!(snap.consumer_params().await.unwrap().unwrap().distribution_transmission_channel, "channel-1");
    assert_eq!(path.transfer_channel, ("channel-1".to_string(), "channel-1".to_string()));
    assert_eq!(path.provider.storage().latest_snapshot().consumer(id).await.unwrap().unwrap().channel_id.as_deref(), Some("channel-0"));

    // Operator 1 opts out, operator 3 deallocates: nothing happens on the
    // consumer until the provider's next epoch end and the relay.
    let (op1, op3) = (operator(1), operator(3));
    let txs = vec![path.provider.sign(&op1, vec![opt_out(&op1, id)]).await, path.provider.sign(&op3, vec![allocate(&op3, id, &[(NATIVE_DENOM, 0)])]).await];
    let out = path.provider.block(txs).await;
    ok(&out.tx_results[0], "opt out");
    ok(&out.tx_results[1], "deallocate");
    let mark = path.consumer.height;
    path.consumer.block(vec![]).await;
    assert!(updates_after(&path, mark).is_empty());
    path.provider_epoch_end().await;
    let relayed = path.relay().await;
    assert_eq!(relayed.to_consumer.len(), 1, "one VSC packet");
    let (packet, ack) = &relayed.to_consumer[0];
    assert_eq!(ack, &ccv::result_ack(1));
    let vsc = VscPacket::decode(&packet.data).unwrap();
    assert_eq!(vsc.valset_update_id, 1);
    let removed = sorted(vec![(path.key(1), 0), (path.key(3), 0)]);
    assert_eq!(vsc.updates.iter().map(|u| (u.pubkey, u.power)).collect::<Vec<_>>(), removed);
    one_set_change(&mut path, mark, &removed).await;
    assert_eq!(sorted(path.consumer_set().await), sorted(vec![(path.key(0), 500_000), (path.key(2), 400_000)]));
    let snap = path.consumer.storage().latest_snapshot();
    assert_eq!(snap.ccv_channel_state().await.unwrap(), CcvChannelState::Open);
    assert_eq!(snap.last_valset_update_id().await.unwrap(), 1);

    // Operator 0 rotates its consumer key (its node signs with the new one).
    let rotated = validator_key("consumer-1/operator0/rotated");
    path.consumer.light.keys.push(rotated.clone());
    let op0 = operator(0);
    ok(&path.provider.exec(&op0, vec![assign_key(&op0, id, &key_hex(&rotated))]).await, "assign a new consumer key");
    let mark = path.consumer.height;
    path.provider_epoch_end().await;
    let relayed = path.relay().await;
    assert_eq!(relayed.to_consumer.len(), 1);
    assert_eq!(VscPacket::decode(&relayed.to_consumer[0].0.data).unwrap().valset_update_id, 2);
    let rotation = [(path.key(0), 0), (key_bytes(&rotated), 500_000)];
    one_set_change(&mut path, mark, &rotation).await;
    assert_eq!(sorted(path.consumer_set().await), sorted(vec![(key_bytes(&rotated), 500_000), (path.key(2), 400_000)]));
    // The provider's client of the consumer follows the new sets.
    path.consumer.block(vec![]).await;
    let (_, _, update) = path.relayer.prepare_update(&mut path.consumer, &mut path.provider, &Side::A).await;
    ok(&path.provider.exec(&relayer_on_provider(), vec![update]).await, "client update across the set changes");
}

/// A second AVS on the provider (id 2, operator set 0, uaegis) that
/// operator `i` joins with `magnitude` of its uaegis, effective at once
/// after the allocation delay.
async fn other_avs(path: &mut CcvPath, i: usize, magnitude: u128) -> u64 {
    let owner = owner();
    let out = path
        .provider
        .exec(
            &owner,
            vec![
                pack("/aegis.avs.v1.MsgRegisterAvs", &apb::MsgRegisterAvs { owner: owner.address.to_string(), metadata_uri: "other".into(), redistribution_recipient: String::new() }),
                pack(
                    "/aegis.avs.v1.MsgCreateOperatorSet",
                    &apb::MsgCreateOperatorSet {
                        owner: owner.address.to_string(),
                        avs_id: 2,
                        operator_set_id: 0,
                        strategies: vec![NATIVE_DENOM.into()],
                        slasher: owner.address.to_string(),
                        veto_committee: vec![],
                        veto_threshold: 0,
                        veto_window_seconds: 0,
                        allowlist: vec![],
                    },
                ),
            ],
        )
        .await;
    ok(&out, "register another AVS");
    let op = operator(i);
    let join = pack("/aegis.avs.v1.MsgRegisterForOperatorSet", &apb::MsgRegisterForOperatorSet { operator: op.address.to_string(), avs_id: 2, operator_set_id: 0 });
    ok(&path.provider.exec(&op, vec![join, allocate_to(&op, 2, 0, &[(NATIVE_DENOM, magnitude)])]).await, "join and allocate");
    path.provider.skip_time(path.config.allocation_delay_seconds as i64);
    path.provider.block(vec![]).await;
    2
}

/// Everything of operator `op` on the provider that a consumer jailing
/// must not touch: its stake records, its allocations to the consumer and
/// to the other AVS, its provider standing.
async fn provider_standing(path: &CcvPath, op: &Address) -> String {
    let s = path.provider.storage().latest_snapshot();
    let mut out = String::new();
    for denom in [NATIVE_DENOM, LST] {
        out += &format!("{:?}\n", s.operator_stake(op, denom).await.unwrap());
        out += &format!("{:?}\n", s.allocation(op, denom, path.consumer_id, 0).await.unwrap());
        out += &format!("{:?}\n", s.allocation(op, denom, 2, 0).await.unwrap());
        out += &format!("{:?}\n", s.encumbered_magnitude(op, denom).await.unwrap());
    }
    let o = s.operator(op).await.unwrap().unwrap();
    out += &format!("jailed {} tombstoned {}\n", o.jailed, o.tombstoned);
    out
}

/// Consumer blocks (all but the offline keys signing) until a slash
/// packet is queued; the height it was queued at.
async fn until_slash_queued(path: &mut CcvPath, pending_before: usize) -> u64 {
    for _ in 0..30 {
        path.consumer.block(vec![]).await;
        if path.consumer.storage().latest_snapshot().pending_packets().await.unwrap().len() > pending_before {
            return path.consumer.height;
        }
    }
    panic!("no slash packet was queued");
}

fn slash_data(path: &CcvPath, i: usize, power: i64, vsc: u64) -> Vec<u8> {
    ConsumerPacket::Slash(SlashPacket { validator_address: key_address(&path.consumer_keys[i]), power, valset_update_id: vsc, infraction: Infraction::Downtime }).encode()
}

#[tokio::test]
async fn a_consumer_validator_that_stops_signing_is_jailed_on_that_consumer_only_and_can_unjail() {
    let mut path = CcvPath::setup(CcvConfig::default()).await;
    let id = path.consumer_id;
    other_avs(&mut path, 3, 1_000_000_000_000_000_000 / 4).await;
    let op3 = operator(3);
    let standing = provider_standing(&path, &op3.address).await;
    let supply = path.provider.supply(NATIVE_DENOM).await;

    // Operator 3's consumer node stops signing. x/slashing's window (10
    // blocks, at most 5 missed) finds it down; the CCV channel is not
    // established yet, so the slash packet waits in the queue, and only
    // one is queued however long it stays down.
    let key3 = path.consumer_keys[3].clone();
    path.take_offline(3);
    let queued_at = until_slash_queued(&mut path, 0).await;
    for _ in 0..12 {
        path.consumer.block(vec![]).await;
    }
    let snap = path.consumer.storage().latest_snapshot();
    let pending = snap.pending_packets().await.unwrap();
    assert_eq!(pending.len(), 1, "one packet per validator while it is outstanding");
    assert_eq!(pending[0].1, slash_data(&path, 3, 200_000, 0), "the genesis set's valset update id, the CometBFT power");
    assert!(snap.outstanding_downtime(&hex::encode_upper(key_address(&key3))).await.unwrap());
    assert!(path.consumer.log.sent.iter().all(|p| p.source_port != "consumer"), "nothing is sent before the channel is established");
    let info = aegis_app::slashing::SlashingRead::signing_info(&snap, &hex::encode_upper(key_address(&key3))).await.unwrap().unwrap();
    assert_eq!((info.operator, info.missed_blocks_counter, info.index_offset), (None, 0, 0), "the window starts over after a report");
    assert!(queued_at > 10);

    // The first VSC packet establishes the channel; the slash packet goes
    // out in that block and the provider jails operator 3 on the consumer.
    let relayed = path.establish_ccv_channel().await;
    let slashes: Vec<_> = relayed.to_provider.iter().filter(|(p, _)| p.source_port == "consumer").collect();
    assert_eq!(slashes.len(), 1);
    assert_eq!(slashes[0].0.data, slash_data(&path, 3, 200_000, 0));
    assert_eq!(slashes[0].1, ccv::result_ack(ccv::ACK_SLASH_HANDLED));
    let snap = path.consumer.storage().latest_snapshot();
    assert!(snap.pending_packets().await.unwrap().is_empty(), "handled: off the queue");
    assert_eq!(snap.slash_record().await.unwrap(), None);
    assert!(!snap.outstanding_downtime(&hex::encode_upper(key_address(&key3))).await.unwrap(), "the handled ack clears the flag");
    let jail = path.provider.storage().latest_snapshot().consumer_jail(id, &op3.address).await.unwrap();
    assert!(jail.excluded() && !jail.tombstoned && !jail.unjailed);

    // The provider's next validator set leaves it out of the consumer's.
    // (An epoch end during that relay may have sent it already.)
    path.provider_epoch_end().await;
    path.relay().await;
    let changes = updates_after(&path, queued_at);
    let removal = changes.iter().find(|(_, u)| u.contains(&(path.key(3), 0))).expect("operator 3 removed").0;
    consumer_to(&mut path, removal + 2).await;
    assert!(path.consumer_cometbft_set(removal + 1).iter().any(|(k, _)| *k == path.key(3)));
    assert!(path.consumer_cometbft_set(removal + 2).iter().all(|(k, _)| *k != path.key(3)));
    assert!(path.consumer_set().await.iter().all(|(k, _)| *k != path.key(3)));

    // Its provider stake, its allocations (to this consumer: downtime
    // slashes nothing here; to the other AVS) and its provider standing
    // are exactly what they were; nothing was burned.
    assert_eq!(provider_standing(&path, &op3.address).await, standing);
    assert_eq!(path.provider.supply(NATIVE_DENOM).await, supply);

    // MsgUnjail: refused before the jail time, accepted after it; the next
    // set brings it back (its node is back online too).
    let out = path.provider.exec(&op3, vec![unjail(&op3, id)]).await;
    let e = out.result.unwrap_err();
    assert_eq!((e.codespace, e.code), ("provider", 21));
    assert_eq!(
        e.message,
        format!(
            "failed to execute message; message index: 0: operator {} is jailed on consumer {id} until {} (block time {}, {}s left)",
            op3.address,
            jail.until,
            path.provider.time,
            jail.until - path.provider.time
        )
    );
    path.provider.skip_time(jail.until - path.provider.time);
    ok(&path.provider.exec(&op3, vec![unjail(&op3, id)]).await, "unjail");
    path.bring_online(3);
    let mark = path.consumer.height;
    path.provider_epoch_end().await;
    path.relay().await;
    let changes = updates_after(&path, mark);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].1, vec![(path.key(3), 200_000)]);
    assert!(path.consumer_set().await.contains(&(path.key(3), 200_000)));
    let snap = path.consumer.storage().latest_snapshot();
    let info = aegis_app::slashing::SlashingRead::signing_info(&snap, &hex::encode_upper(key_address(&key3))).await.unwrap().unwrap();
    assert_eq!(info.start_height, changes[0].0, "its window starts again when it rejoins");
    assert_eq!(provider_standing(&path, &op3.address).await, standing);
}

#[tokio::test]
async fn slash_packets_beyond_the_jail_bound_bounce_and_are_retried_and_replays_change_nothing() {
    // Epochs long enough that the relays below stay within one.
    let mut path = CcvPath::setup(CcvConfig { blocks_per_epoch: 100, ..Default::default() }).await;
    let id = path.consumer_id;
    path.establish_ccv_channel().await;
    // 10% of 1,849,000 per epoch: the first jailing fills it.
    let (op2, op3) = (operator(2), operator(3));
    path.take_offline(2);
    path.take_offline(3);
    until_slash_queued(&mut path, 0).await;
    let snap = path.consumer.storage().latest_snapshot();
    let vsc = snap.last_valset_update_id().await.unwrap();
    assert_eq!(vsc, 1);
    let pending: Vec<Vec<u8>> = snap.pending_packets().await.unwrap().into_iter().map(|(_, d)| d).collect();
    assert_eq!(pending, vec![slash_data(&path, 2, 400_000, 1), slash_data(&path, 3, 200_000, 1)], "both went down together, in vote order");

    // Sent one at a time: operator 2's is handled, operator 3's bounced.
    let relayed = path.relay().await;
    let answers: Vec<(Vec<u8>, Vec<u8>)> = relayed.to_provider.iter().map(|(p, a)| (p.data.clone(), a.clone())).collect();
    assert_eq!(
        answers,
        vec![(slash_data(&path, 2, 400_000, 1), ccv::result_ack(ccv::ACK_SLASH_HANDLED)), (slash_data(&path, 3, 200_000, 1), ccv::result_ack(ccv::ACK_SLASH_BOUNCED))]
    );
    let provider_snap = path.provider.storage().latest_snapshot();
    assert!(provider_snap.consumer_jail(id, &op2.address).await.unwrap().excluded());
    assert!(!provider_snap.consumer_jail(id, &op3.address).await.unwrap().excluded());
    let snap = path.consumer.storage().latest_snapshot();
    assert_eq!(snap.pending_packets().await.unwrap().len(), 1, "the bounced packet stays at the head");
    let record = snap.slash_record().await.unwrap().unwrap();
    assert!(!record.waiting_on_reply);

    // A consumer flooding the provider beyond the bound: bounced, the
    // provider keeps making blocks, jails nobody more.
    let (chan_c, _) = path.ccv_channels();
    let mut flood = Vec::new();
    for _ in 0..3 {
        for i in [0, 1] {
            let power = if i == 0 { 499_000 } else { 750_000 };
            let data = slash_data(&path, i, power, 1);
            let p = send_raw_packet(&mut path.consumer, "consumer", &chan_c, data, 1_000_000).await.unwrap();
            path.consumer.log.sent.push(p.clone());
            flood.push(p);
        }
    }
    let relayed = path.relay().await;
    let bounced: Vec<&Vec<u8>> = relayed.to_provider.iter().map(|(_, a)| a).collect();
    assert_eq!(bounced.len(), 6);
    assert!(bounced.iter().all(|a| **a == ccv::result_ack(ccv::ACK_SLASH_BOUNCED)), "{bounced:?}");
    let provider_snap = path.provider.storage().latest_snapshot();
    for op in [operator(0), operator(1)] {
        assert!(!provider_snap.consumer_jail(id, &op.address).await.unwrap().excluded());
    }
    let height = path.provider.height;
    path.provider.block(vec![]).await;
    assert_eq!(path.provider.height, height + 1);
    // Their acks answer no queued packet: the consumer ignores them.
    assert_eq!(path.consumer.storage().latest_snapshot().pending_packets().await.unwrap().len(), 1);

    // Replays: a slash packet received again, an ack delivered again.
    let state_before = (path.provider.storage().latest_snapshot().jail_meter(id).await.unwrap(), provider_snap.consumer_jail(id, &op2.address).await.unwrap());
    let msgs = path.relayer.recv_batch(&mut path.consumer, &mut path.provider, Side::A, &flood[..1]).await;
    let tx = path.provider.sign_with_gas(&relayer_on_provider(), msgs, 100_000_000).await;
    let out = path.provider.block(vec![tx]).await.tx_results.remove(0);
    ok(&out, "replayed receive");
    assert!(written_acks(&out.events).is_empty(), "no second acknowledgement");
    let s = path.provider.storage().latest_snapshot();
    assert_eq!((s.jail_meter(id).await.unwrap(), s.consumer_jail(id, &op2.address).await.unwrap()), state_before);
    let acked = path.provider.log.acks.iter().find(|(p, _)| p.data == slash_data(&path, 2, 400_000, 1)).cloned().unwrap();
    let consumer_before = aegis_app::ibc::state::scan_raw(&path.consumer.storage().latest_snapshot(), "consumer/").await.unwrap();
    let msgs = path.relayer.ack_batch(&mut path.provider, &mut path.consumer, Side::B, &[acked]).await;
    let tx = path.consumer.sign_with_gas(&relayer_on_consumer(), msgs, 100_000_000).await;
    ok(&path.consumer.block(vec![tx]).await.tx_results[0], "replayed ack");
    let consumer_after = aegis_app::ibc::state::scan_raw(&path.consumer.storage().latest_snapshot(), "consumer/").await.unwrap();
    assert_eq!(consumer_after, consumer_before, "a replayed ack changes nothing");

    // After the retry delay (one hour, from the consumer genesis) and in a
    // new provider epoch, the bounced packet is sent again and handled.
    path.consumer.skip_time(3600);
    path.consumer.block(vec![]).await;
    path.provider_epoch_end().await;
    let relayed = path.relay().await;
    let retried: Vec<(Vec<u8>, Vec<u8>)> = relayed.to_provider.iter().filter(|(p, _)| p.source_port == "consumer").map(|(p, a)| (p.data.clone(), a.clone())).collect();
    assert_eq!(retried[0], (slash_data(&path, 3, 200_000, 1), ccv::result_ack(ccv::ACK_SLASH_HANDLED)));
    assert!(path.provider.storage().latest_snapshot().consumer_jail(id, &op3.address).await.unwrap().excluded());
    // Operator 2, still in the consumer's set until the provider's next
    // set removes it and still down, was reported again once its flag
    // cleared: the provider answers "handled" (already jailed) and
    // changes nothing.
    for r in &retried[1..] {
        assert_eq!(r, &(slash_data(&path, 2, 400_000, 1), ccv::result_ack(ccv::ACK_SLASH_HANDLED)));
    }
    assert_eq!(path.provider.storage().latest_snapshot().consumer_jail(id, &op2.address).await.unwrap(), state_before.1);
    let snap = path.consumer.storage().latest_snapshot();
    assert!(snap.pending_packets().await.unwrap().is_empty());
    assert_eq!(snap.slash_record().await.unwrap(), None);
}

/// Consumer blocks until one sends a reward transfer; that packet.
async fn until_reward_sent(path: &mut CcvPath) -> ibc_proto::ibc::core::channel::v1::Packet {
    let before = path.consumer.log.sent.len();
    for _ in 0..30 {
        path.consumer.block(vec![]).await;
        if let Some(p) = path.consumer.log.sent[before..].iter().find(|p| p.source_port == "transfer") {
            return p.clone();
        }
    }
    panic!("no reward transfer was sent");
}

#[tokio::test]
async fn consumer_fees_reach_the_provider_fee_pool_and_a_timed_out_transfer_goes_out_again() {
    use aegis_app::consumer::distribution::{CONS_REDISTRIBUTE, CONS_TO_SEND_TO_PROVIDER};
    let user = aegis_app::testkit::test_signer("ccv/consumer-user");
    let cfg = CcvConfig {
        consumer_accounts: vec![(user.address, vec![aegis_app::types::Coin::new(NATIVE_DENOM, FUNDS)])],
        edit_consumer_genesis: Some(|g| g.params.blocks_per_distribution_transmission = 10),
        ..Default::default()
    };
    let mut path = CcvPath::setup(cfg).await;
    let params = path.consumer.storage().latest_snapshot().consumer_params().await.unwrap().unwrap();
    assert_eq!(params.consumer_redistribution_fraction, "0.750000000000000000", "the provider takes the consumer's reward fraction, 0.25");
    let (keep, send, fee_pool) = (Address::module(CONS_REDISTRIBUTE), Address::module(CONS_TO_SEND_TO_PROVIDER), Address::module("provider"));
    let collector = Address::module("fee_collector");
    let (chan_c, chan_p) = path.transfer_channel.clone();
    let escrow = aegis_app::ibc::transfer::escrow_address("transfer", &chan_c);
    let voucher_denom = voucher(&chan_p, NATIVE_DENOM);

    // A fee is split at the end of its block: 3/4 stays, the rest (and
    // the rounding) waits for the provider.
    path.pay_consumer_fee(&user, 1_000_001).await;
    let c = &path.consumer;
    assert_eq!((c.balance(&collector, NATIVE_DENOM).await, c.balance(&keep, NATIVE_DENOM).await, c.balance(&send, NATIVE_DENOM).await), (0, 750_000, 250_001));

    // At the next transmission height it goes out over the reward channel
    // with ICS's memo, to the provider's fee pool.
    let packet = until_reward_sent(&mut path).await;
    assert_eq!((packet.source_channel.as_str(), packet.destination_channel.as_str()), (chan_c.as_str(), chan_p.as_str()));
    let data: serde_json::Value = serde_json::from_slice(&packet.data).unwrap();
    assert_eq!(data["amount"], "250001");
    assert_eq!(data["denom"], NATIVE_DENOM);
    assert_eq!(data["sender"], send.to_string());
    assert_eq!(data["receiver"], fee_pool.to_string());
    assert_eq!(data["memo"], ccv::reward_memo("1", "consumer-1"));
    assert_eq!((path.consumer.balance(&send, NATIVE_DENOM).await, path.consumer.balance(&escrow, NATIVE_DENOM).await), (0, 250_001));
    let relayed = path.relay().await;
    let transfers: Vec<_> = relayed.to_provider.iter().filter(|(p, _)| p.source_port == "transfer").collect();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].1, br#"{"result":"AQ=="}"#.to_vec());
    // ICS-20 minted the voucher to the fee pool, the packet's receiver
    // (from where the provider pays it out to the consumer's operators at
    // its epoch ends: the supply says what arrived).
    assert_eq!(path.provider.supply(&voucher_denom).await, 250_001);
    assert!(path.provider.balance(&fee_pool, &voucher_denom).await <= 250_001);
    assert_eq!(relayed.acks_to_consumer.iter().filter(|p| p.source_port == "transfer").count(), 1);

    // The next round's transfer times out (nobody relays it for an hour):
    // ICS-20 refunds it and the round after sends it again.
    path.pay_consumer_fee(&user, 400_000).await;
    assert_eq!(path.consumer.balance(&send, NATIVE_DENOM).await, 100_000);
    let lost = until_reward_sent(&mut path).await;
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&lost.data).unwrap()["amount"], "100000");
    path.provider.skip_time(3_700);
    path.provider.block(vec![]).await;
    assert_eq!(path.relay_timeouts().await, 1);
    assert_eq!((path.consumer.balance(&send, NATIVE_DENOM).await, path.consumer.balance(&escrow, NATIVE_DENOM).await), (100_000, 250_001));
    let again = until_reward_sent(&mut path).await;
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&again.data).unwrap()["amount"], "100000");
    path.relay().await;
    assert_eq!(path.provider.supply(&voucher_denom).await, 350_001);
    assert_eq!(path.consumer.balance(&keep, NATIVE_DENOM).await, 1_050_000);
    assert_eq!(path.consumer.balance(&escrow, NATIVE_DENOM).await, 350_001);
}

/// An ABCI query at a gRPC method path, as Hermes and cosmjs send it.
async fn abci<Req: prost::Message, Resp: prost::Message + Default>(chain: &aegis_app::testkit::TestChain, path: &str, req: Req) -> Result<Resp, String> {
    let q = tendermint::abci::request::Query { data: req.encode_to_vec().into(), path: path.into(), height: 0u32.into(), prove: false };
    let res = aegis_app::query::abci_query(chain.storage(), q).await;
    if res.code.is_err() {
        return Err(res.log);
    }
    Ok(Resp::decode(res.value.as_ref()).unwrap())
}

#[tokio::test]
async fn icss_consumer_queries_describe_the_ccv_path_and_the_throttle_state() {
    use ibc_proto_052::interchain_security::ccv::consumer::v1 as q;
    let mut path = CcvPath::setup(CcvConfig::default()).await;
    let params: q::QueryParamsResponse = abci(&path.consumer, "/interchain_security.ccv.consumer.v1.Query/QueryParams", q::QueryParamsRequest {}).await.unwrap();
    let params = params.params.unwrap();
    assert!(params.enabled);
    assert_eq!(params.provider_fee_pool_addr_str, Address::module("provider").to_string());
    assert_eq!(params.distribution_transmission_channel, "channel-1");
    assert_eq!(params.ccv_timeout_period.unwrap().seconds, 28 * 24 * 3600);
    assert_eq!(params.consumer_redistribution_fraction, "0.750000000000000000");
    let err = abci::<_, q::QueryProviderInfoResponse>(&path.consumer, "/interchain_security.ccv.consumer.v1.Query/QueryProviderInfo", q::QueryProviderInfoRequest {}).await.unwrap_err();
    assert!(err.contains("the CCV channel is not established yet"), "{err}");
    let err = abci::<_, q::QueryParamsResponse>(&path.provider, "/interchain_security.ccv.consumer.v1.Query/QueryParams", q::QueryParamsRequest {}).await.unwrap_err();
    assert!(err.contains("not a consumer chain"), "{err}");

    path.establish_ccv_channel().await;
    let info: q::QueryProviderInfoResponse = abci(&path.consumer, "/interchain_security.ccv.consumer.v1.Query/QueryProviderInfo", q::QueryProviderInfoRequest {}).await.unwrap();
    let chain = |c: Option<q::ChainInfo>| {
        let c = c.unwrap();
        (c.chain_id, c.client_id, c.connection_id, c.channel_id)
    };
    let s = |x: &str| x.to_string();
    assert_eq!(chain(info.consumer), (s("consumer-1"), s("07-tendermint-0"), s("connection-0"), s("channel-0")));
    assert_eq!(chain(info.provider), (s("aegis-test"), s("07-tendermint-0"), s("connection-0"), s("channel-0")));

    // A validator down: its slash packet in the throttle state's queue,
    // waiting for the provider's answer once sent.
    let k3 = path.consumer_keys[3].clone();
    path.take_offline(3);
    until_slash_queued(&mut path, 0).await;
    let state: q::QueryThrottleStateResponse = abci(&path.consumer, "/interchain_security.ccv.consumer.v1.Query/QueryThrottleState", q::QueryThrottleStateRequest {}).await.unwrap();
    let record = state.slash_record.unwrap();
    assert!(record.waiting_on_reply);
    assert_eq!(record.send_time.unwrap().seconds, path.consumer.time, "sent at the end of the block that queued it");
    assert_eq!(state.packet_data_queue.len(), 1);
    let packet = &state.packet_data_queue[0];
    assert_eq!(packet.r#type, 1);
    match packet.data.as_ref().unwrap() {
        ibc_proto_052::interchain_security::ccv::v1::consumer_packet_data::Data::SlashPacketData(d) => {
            let v = d.validator.as_ref().unwrap();
            assert_eq!((v.address.to_vec(), v.power, d.valset_update_id, d.infraction), (key_address(&k3).to_vec(), 200_000, 1, 2));
        }
        other => panic!("not a slash packet: {other:?}"),
    }
}

/// The provider side of rewards: what arrives from the consumer is split at
/// the provider's next epoch end among the validators of the set last sent,
/// by power; each operator keeps its commission (5%) and the rest goes to
/// the stakers delegated to it, in proportion to their shares, claimable
/// with MsgClaimRewards. What rounding leaves waits in the pool.
#[tokio::test]
async fn consumer_fees_are_paid_to_its_operators_and_their_stakers_by_power() {
    use aegis_app::rewards::RewardsRead;
    let user = aegis_app::testkit::test_signer("ccv/consumer-user");
    let staker = aegis_app::testkit::test_signer("ccv/provider-staker");
    let cfg = CcvConfig {
        consumer_accounts: vec![(user.address, vec![aegis_app::types::Coin::new(NATIVE_DENOM, FUNDS)])],
        provider_accounts: vec![(staker.address, vec![aegis_app::types::Coin::new(NATIVE_DENOM, FUNDS)])],
        edit_consumer_genesis: Some(|g| g.params.blocks_per_distribution_transmission = 10),
        ..Default::default()
    };
    let mut path = CcvPath::setup(cfg).await;
    path.establish_ccv_channel().await;
    // A staker doubles operator 0's uaegis stake: its power goes from
    // 499,000 to 998,000 (0.499 of 2 x 10^12 allocated, weight 1; the
    // channel was established by lowering its allocation from 0.5).
    let op0 = path.operators[0].address;
    let deposit = pack(
        "/aegis.restaking.v1.MsgDeposit",
        &aegis_proto::aegis::restaking::v1::MsgDeposit { staker: staker.address.to_string(), amount: Some(cosmos_sdk_proto::cosmos::base::v1beta1::Coin { denom: NATIVE_DENOM.into(), amount: "1000000000000".into() }) },
    );
    let delegate = pack("/aegis.delegation.v1.MsgDelegate", &aegis_proto::aegis::delegation::v1::MsgDelegate { staker: staker.address.to_string(), operator: op0.to_string() });
    ok(&path.provider.exec(&staker, vec![deposit, delegate]).await, "deposit and delegate");
    path.provider_epoch_end().await;
    path.relay().await;
    let powers: Vec<i64> = ProviderRead::consumer_validators(&path.provider.storage().latest_snapshot(), path.consumer_id).await.unwrap().iter().map(|v| v.power).collect();
    assert_eq!(powers, vec![998_000, 750_000, 400_000, 200_000]);

    // 4,000,000 of fees on the consumer: a quarter (1,000,000) goes to the provider.
    path.pay_consumer_fee(&user, 4_000_000).await;
    until_reward_sent(&mut path).await;
    path.relay().await;
    let denom = voucher(&path.transfer_channel.1, NATIVE_DENOM);
    let id = path.consumer_id;
    // The relay ran the provider past an epoch end, which paid it out.

    // By power out of 2,348,000: 425,042 / 319,420 / 170,357 / 85,178; 3 wait.
    let s = path.provider.storage().latest_snapshot();
    let earned: Vec<u128> = {
        let mut v = Vec::new();
        for op in &path.operators {
            v.push(s.consumer_earned(id, &op.address, &denom).await.unwrap());
        }
        v
    };
    assert_eq!(earned, vec![425_042, 319_420, 170_357, 85_178]);
    assert_eq!(s.reward_pool(id, &denom).await.unwrap(), 3);
    // Operator 0 keeps 5% (21,252); the other 403,790 is split between its
    // own shares and the staker's, equal halves: 201,895 each.
    assert_eq!(s.commission_in(&op0, &denom).await.unwrap(), 21_252);
    assert_eq!(s.pending_rewards_all(&staker.address).await.unwrap().get(&denom).copied(), Some(201_895));
    assert_eq!(s.pending_rewards_all(&op0).await.unwrap().get(&denom).copied(), Some(201_895));
    // The staker claims its share in the consumer's voucher.
    let claim = pack("/aegis.rewards.v1.MsgClaimRewards", &aegis_proto::aegis::rewards::v1::MsgClaimRewards { claimer: staker.address.to_string() });
    ok(&path.provider.exec(&staker, vec![claim]).await, "claim");
    assert_eq!(path.provider.balance(&staker.address, &denom).await, 201_895);
}
