//! Unit tests of the consumer's own bookkeeping on a bare state: the
//! height -> valset update id floor and its pruning, the slash packet
//! queue and its acknowledgements, and liveness from commit votes.

use cnidarium::StateDelta;

use super::hooks::begin_block;
use super::relay::{on_acknowledgement, queue_slash_packet};
use super::state::{prune_valset_update_ids, ConsumerRead, ConsumerWrite, SlashRecord};
use crate::ccv::{self, ConsumerPacket, Infraction, SlashPacket};
use crate::slashing::hooks::CommitVote;
use crate::slashing::{SlashingParams, SlashingRead, SlashingWrite};
use crate::store::{BlockContext, StoreWrite};

async fn state() -> (tempfile::TempDir, StateDelta<cnidarium::Snapshot>) {
    let dir = tempfile::tempdir().unwrap();
    let storage = crate::store::open(dir.path().join("db")).await.unwrap();
    (dir, StateDelta::new(storage.latest_snapshot()))
}

fn at<S: StoreWrite>(state: &mut S, height: u64, time: i64) {
    state.put_block_context(BlockContext { chain_id: "consumer-1".into(), height, time_seconds: time, time_nanos: 0 });
}

fn slash(addr: u8, power: i64, vsc: u64) -> Vec<u8> {
    ConsumerPacket::Slash(SlashPacket { validator_address: [addr; 20], power, valset_update_id: vsc, infraction: Infraction::Downtime }).encode()
}

#[tokio::test]
async fn infractions_are_dated_by_the_newest_mapping_at_or_below_their_height_and_old_mappings_go() {
    let (_dir, mut s) = state().await;
    for (h, id) in [(0, 0), (5, 1), (9, 2), (30, 3), (40, 4)] {
        s.put_height_valset_update_id(h, id).unwrap();
    }
    async fn at(s: &StateDelta<cnidarium::Snapshot>, h: u64) -> u64 {
        s.valset_update_id_at(h).await.unwrap()
    }
    assert_eq!((at(&s, 0).await, at(&s, 4).await, at(&s, 5).await, at(&s, 8).await, at(&s, 29).await, at(&s, 100).await), (0, 0, 1, 1, 2, 4));
    // At height 41 the window reaches back to 25: 30 and 40 stay, and 9
    // (the newest below it) still dates heights 25..29.
    prune_valset_update_ids(&mut s, 41).await.unwrap();
    for (h, kept) in [(0, false), (5, false), (9, true), (30, true), (40, true)] {
        assert_eq!(s.height_valset_update_id(h).await.unwrap().is_some(), kept, "height {h}");
    }
    assert_eq!((at(&s, 27).await, at(&s, 35).await), (2, 3));
}

#[tokio::test]
async fn one_downtime_packet_per_validator_and_acks_move_the_queue() {
    let (_dir, mut s) = state().await;
    at(&mut s, 10, 1_000);
    assert!(queue_slash_packet(&mut s, [1; 20], 30, 4, Infraction::Downtime).await.unwrap());
    assert!(!queue_slash_packet(&mut s, [1; 20], 30, 4, Infraction::Downtime).await.unwrap(), "outstanding");
    assert!(queue_slash_packet(&mut s, [2; 20], 20, 4, Infraction::Downtime).await.unwrap());
    let queue: Vec<Vec<u8>> = s.pending_packets().await.unwrap().into_iter().map(|(_, d)| d).collect();
    assert_eq!(queue, vec![slash(1, 30, 4), slash(2, 20, 4)]);

    // An answer to a packet that is not the head changes nothing.
    s.put_slash_record(Some(&SlashRecord { waiting_on_reply: true, send_time: 1_000 })).unwrap();
    on_acknowledgement(&mut s, 7, &slash(2, 20, 4), &ccv::result_ack(2)).await.unwrap();
    assert_eq!(s.pending_packets().await.unwrap().len(), 2);
    // Bounced: stays at the head, waiting for the retry delay.
    on_acknowledgement(&mut s, 1, &slash(1, 30, 4), &ccv::result_ack(3)).await.unwrap();
    assert_eq!(s.slash_record().await.unwrap(), Some(SlashRecord { waiting_on_reply: false, send_time: 1_000 }));
    assert_eq!(s.pending_packets().await.unwrap().len(), 2);
    assert!(s.outstanding_downtime(&hex::encode_upper([1u8; 20])).await.unwrap());
    // Handled: off the queue, flag and record cleared.
    on_acknowledgement(&mut s, 2, &slash(1, 30, 4), &ccv::result_ack(2)).await.unwrap();
    assert_eq!(s.pending_packets().await.unwrap().into_iter().map(|(_, d)| d).collect::<Vec<_>>(), vec![slash(2, 20, 4)]);
    assert!(!s.outstanding_downtime(&hex::encode_upper([1u8; 20])).await.unwrap());
    assert_eq!(s.slash_record().await.unwrap(), None);
    // An error ack (or garbage) drops the packet without closing anything.
    on_acknowledgement(&mut s, 3, &slash(2, 20, 4), b"not json").await.unwrap();
    assert!(s.pending_packets().await.unwrap().is_empty());
    assert!(!s.outstanding_downtime(&hex::encode_upper([2u8; 20])).await.unwrap());
    assert_eq!(s.next_pending_packet_index().await.unwrap(), 2);
}

#[tokio::test]
async fn missing_more_than_the_window_allows_queues_one_slash_packet_dated_two_blocks_back() {
    let (_dir, mut s) = state().await;
    s.put_provider_client_id("07-tendermint-0").unwrap();
    s.put_slashing_params(&SlashingParams { signed_blocks_window: 4, min_signed_per_window: crate::math::WAD / 2, ..Default::default() }).unwrap();
    s.put_height_valset_update_id(0, 0).unwrap();
    s.put_height_valset_update_id(5, 3).unwrap();
    s.put_height_valset_update_id(8, 4).unwrap();
    let vote = |signed| vec![CommitVote { address: [7; 20], signed, power: 55 }, CommitVote { address: [8; 20], signed: true, power: 45 }];
    // Window 4, at most 2 missed, judged after height start + 4 (start 2):
    // missed at 4, 5, 6, 7 (6 and 7 overwrite the signed 2 and 3).
    for h in 2..=6 {
        at(&mut s, h, 1_000 + 5 * h as i64);
        begin_block(&mut s, &vote(h < 4)).await.unwrap();
        assert!(s.pending_packets().await.unwrap().is_empty(), "height {h}");
    }
    at(&mut s, 7, 1_035);
    begin_block(&mut s, &vote(false)).await.unwrap();
    let queue: Vec<Vec<u8>> = s.pending_packets().await.unwrap().into_iter().map(|(_, d)| d).collect();
    assert_eq!(queue, vec![slash(7, 55, 3)], "dated at height 5: the set of valset update 3");
    let info = s.signing_info(&hex::encode_upper([7u8; 20])).await.unwrap().unwrap();
    assert_eq!((info.start_height, info.index_offset, info.missed_blocks_counter, info.operator), (2, 0, 0, None));
    // While outstanding its votes are not counted.
    for h in 8..=20 {
        at(&mut s, h, 1_000 + 5 * h as i64);
        begin_block(&mut s, &vote(false)).await.unwrap();
    }
    assert_eq!(s.pending_packets().await.unwrap().len(), 1);
    assert_eq!(s.signing_info(&hex::encode_upper([7u8; 20])).await.unwrap().unwrap().index_offset, 0);
    // Not a consumer chain: nothing.
    let (_dir2, mut other) = state().await;
    at(&mut other, 9, 1_045);
    begin_block(&mut other, &vote(false)).await.unwrap();
    assert_eq!(other.signing_info(&hex::encode_upper([7u8; 20])).await.unwrap(), None);
}
