//! Consumer -> provider packets: ICS's `relay.go` (slash packets queued,
//! then sent from the end-block hook once the CCV channel is established)
//! and `throttle_retry.go` (one slash packet in flight at a time; a bounced
//! one is sent again after the retry delay).
//!
//! Nothing the provider answers can fail a block or a relayer's message:
//! an acknowledgement this chain cannot use is logged, shown in an event,
//! and the packet it answers is dropped.

use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::{ConsumerRead, ConsumerWrite, SlashRecord};
use super::CcvChannelState;
use crate::ccv;
use crate::error::AppResult;
use crate::store::StoreWrite;

/// The event a queued slash request emits (ICS's `consumer_slash_request`).
pub const EVENT_SLASH_REQUEST: &str = "consumer_slash_request";

/// Queue a slash packet for the validator with consensus address
/// `address` (ICS's `QueueSlashPacket`). A downtime packet is not queued
/// while one for the same validator is outstanding (queued, or sent and
/// not yet answered). Returns whether it was queued.
pub async fn queue_slash_packet<S: StoreWrite + Send + Sync + ?Sized>(
    state: &mut S,
    address: [u8; 20],
    power: i64,
    valset_update_id: u64,
    infraction: ccv::Infraction,
) -> AppResult<bool> {
    let cons = hex::encode_upper(address);
    let downtime = infraction == ccv::Infraction::Downtime;
    if downtime {
        if state.outstanding_downtime(&cons).await? {
            return Ok(false);
        }
        state.put_outstanding_downtime(&cons, true)?;
    }
    let data = ccv::ConsumerPacket::Slash(ccv::SlashPacket { validator_address: address, power, valset_update_id, infraction }).encode();
    let index = state.next_pending_packet_index().await?;
    state.put_pending_packet(index, data)?;
    state.put_next_pending_packet_index(index + 1)?;
    let infraction = match infraction {
        ccv::Infraction::Downtime => "INFRACTION_DOWNTIME",
        ccv::Infraction::DoubleSign => "INFRACTION_DOUBLE_SIGN",
    };
    tracing::info!(target: "consumer", validator = %cons, vsc_id = valset_update_id, infraction, "slash packet queued");
    state.record(Event::new(
        EVENT_SLASH_REQUEST,
        [
            ("module", "consumer".to_string()).index(),
            ("validator_address", cons).index(),
            ("valset_update_id", valset_update_id.to_string()).index(),
            ("infraction_type", infraction.to_string()).index(),
        ],
    ));
    Ok(true)
}

/// ICS's `PacketSendingPermitted`: nothing is waiting for an answer, and a
/// bounced packet's retry delay has passed.
pub fn sending_permitted(record: Option<&SlashRecord>, now: i64, retry_delay_seconds: i64) -> bool {
    match record {
        None => true,
        Some(r) if r.waiting_on_reply => false,
        Some(r) => now > r.send_time.saturating_add(retry_delay_seconds),
    }
}

fn seconds(d: &Option<tendermint_proto::google::protobuf::Duration>) -> i64 {
    d.as_ref().map_or(0, |d| d.seconds.max(0))
}

/// ICS's `SendPackets`, from the end-block hook: once the CCV channel is
/// established (the first VSC packet) and open, send the packet at the
/// head of the queue if sending is permitted. The packet stays at the head
/// until the provider answers it. A send that fails (an expired provider
/// client, say) leaves it queued for the next block.
pub async fn send_pending_packets<S: StoreWrite + Send + Sync>(state: &mut S) -> AppResult<()> {
    if state.ccv_channel_state().await? != CcvChannelState::Open {
        return Ok(());
    }
    let Some(channel) = state.provider_channel().await? else { return Ok(()) };
    let Some((index, data)) = state.head_pending_packet().await? else { return Ok(()) };
    let Some(params) = state.consumer_params().await? else { return Ok(()) };
    let now = state.block_time();
    if !sending_permitted(state.slash_record().await?.as_ref(), now, seconds(&params.retry_delay_period)) {
        return Ok(());
    }
    let timeout = seconds(&params.ccv_timeout_period) as u64;
    let mut fork = cnidarium::StateDelta::new(&mut *state);
    let sent = match crate::ibc::host::context(&mut fork).await {
        Ok(ctx) => crate::ibc::host::send_packet(ctx, ccv::CONSUMER_PORT, &channel, data, timeout),
        Err(e) => Err(e),
    };
    match sent {
        Ok(sequence) => {
            crate::store::keep_fork(fork);
            state.put_slash_record(Some(&SlashRecord { waiting_on_reply: true, send_time: now }))?;
            tracing::info!(target: "consumer", sequence, index, "slash packet sent to the provider");
        }
        Err(e) => {
            drop(fork);
            tracing::error!(target: "consumer", index, "cannot send the pending slash packet, it stays queued: {}", e.message);
            state.record(Event::new("consumer_packet_send_failed", [("module", "consumer".to_string()).index(), ("error", e.message).no_index()]));
        }
    }
    Ok(())
}

/// What the provider's acknowledgement of a slash packet says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlashAck {
    /// Result 0x01 (ICS v1) or 0x02: the provider handled it.
    Handled,
    /// Result 0x03: the provider's throttle bounced it; retry later.
    Bounced,
    /// An error acknowledgement, or one this chain cannot read.
    Refused(String),
}

pub fn read_slash_ack(ack: &[u8]) -> SlashAck {
    match ccv::decode_ack(ack) {
        Ok(ccv::Ack::Result(r)) if r == [ccv::ACK_RESULT_V1] || r == [ccv::ACK_SLASH_HANDLED] => SlashAck::Handled,
        Ok(ccv::Ack::Result(r)) if r == [ccv::ACK_SLASH_BOUNCED] => SlashAck::Bounced,
        Ok(ccv::Ack::Result(r)) => SlashAck::Refused(format!("unrecognized acknowledgement result {}", hex::encode(r))),
        Ok(ccv::Ack::Error(e)) => SlashAck::Refused(e),
        Err(e) => SlashAck::Refused(format!("unreadable acknowledgement: {e}")),
    }
}

/// ICS's `OnAcknowledgementPacket` for a packet this chain sent on its CCV
/// channel. An answer to the packet at the head of the queue:
/// - handled (0x01, 0x02): the packet leaves the queue, sending resumes,
///   and the validator's outstanding-downtime flag clears;
/// - bounced (0x03): it stays at the head and is sent again once the
///   retry delay has passed since it was sent;
/// - an error (or unreadable) acknowledgement: logged and the packet is
///   dropped as if handled. ICS closes the CCV channel here; Aegis keeps
///   it, because a provider's refusal of one slash packet is no reason to
///   stop receiving its validator sets.
///
/// An answer to any other packet (never queued here) is logged and
/// changes nothing.
pub async fn on_acknowledgement<S: StoreWrite + Send + Sync>(state: &mut S, sequence: u64, data: &[u8], ack: &[u8]) -> AppResult<()> {
    let answer = read_slash_ack(ack);
    let head = state.head_pending_packet().await?;
    let Some((index, _)) = head.filter(|(_, d)| d == data) else {
        tracing::warn!(target: "consumer", sequence, "acknowledgement of packet {sequence}, which is not the pending slash packet: ignored ({answer:?})");
        state.record(Event::new(
            "consumer_packet_ack_ignored",
            [("module", "consumer".to_string()).index(), ("packet_sequence", sequence.to_string()).index(), ("ack", String::from_utf8_lossy(ack).into_owned()).no_index()],
        ));
        return Ok(());
    };
    let validator = match ccv::ConsumerPacket::decode(data) {
        Ok(ccv::ConsumerPacket::Slash(p)) => Some(hex::encode_upper(p.validator_address)),
        _ => None,
    };
    let (result, error) = match &answer {
        SlashAck::Handled => ("handled", None),
        SlashAck::Bounced => ("bounced", None),
        SlashAck::Refused(e) => ("refused", Some(e.clone())),
    };
    match answer {
        SlashAck::Bounced => {
            let mut record = state.slash_record().await?.unwrap_or(SlashRecord { waiting_on_reply: false, send_time: state.block_time() });
            record.waiting_on_reply = false;
            state.put_slash_record(Some(&record))?;
            tracing::info!(target: "consumer", sequence, "the provider bounced slash packet {sequence}: it is retried after the retry delay");
        }
        SlashAck::Handled | SlashAck::Refused(_) => {
            state.delete_pending_packet(index)?;
            state.put_slash_record(None)?;
            if let Some(v) = &validator {
                state.put_outstanding_downtime(v, false)?;
            }
            if let Some(e) = &error {
                tracing::error!(target: "consumer", sequence, "the provider refused slash packet {sequence}, dropped: {e}");
            }
        }
    }
    let mut attrs: Vec<tendermint::abci::EventAttribute> = vec![
        ("module", "consumer").index().into(),
        ("packet_sequence", sequence.to_string()).index().into(),
        ("validator_address", validator.unwrap_or_default()).index().into(),
        ("result", result).index().into(),
    ];
    if let Some(e) = error {
        attrs.push(("error", e).no_index().into());
    }
    state.record(Event::new("consumer_slash_ack", attrs));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_waits_for_the_reply_then_the_retry_delay() {
        assert!(sending_permitted(None, 100, 60));
        let waiting = SlashRecord { waiting_on_reply: true, send_time: 100 };
        assert!(!sending_permitted(Some(&waiting), 10_000, 60));
        let bounced = SlashRecord { waiting_on_reply: false, send_time: 100 };
        assert!(!sending_permitted(Some(&bounced), 160, 60), "ICS: strictly after send time + delay");
        assert!(sending_permitted(Some(&bounced), 161, 60));
    }

    #[test]
    fn acknowledgements_read_as_ics_means_them() {
        assert_eq!(read_slash_ack(&ccv::result_ack(1)), SlashAck::Handled);
        assert_eq!(read_slash_ack(&ccv::result_ack(2)), SlashAck::Handled);
        assert_eq!(read_slash_ack(&ccv::result_ack(3)), SlashAck::Bounced);
        assert_eq!(read_slash_ack(&ccv::result_ack(4)), SlashAck::Refused("unrecognized acknowledgement result 04".into()));
        assert_eq!(read_slash_ack(&ccv::error_ack("no")), SlashAck::Refused("no".into()));
        assert!(matches!(read_slash_ack(b"garbage"), SlashAck::Refused(e) if e.starts_with("unreadable acknowledgement: ")));
    }
}
