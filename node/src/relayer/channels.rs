//! The channels on a path's connection, read from both chains each round:
//! which are open (each relayed both ways), and which handshakes stand half
//! done. An ICS consumer opens its reward `transfer` channel itself when
//! the CCV channel's ChanOpenAck arrives, and anyone may send a
//! ChanOpenInit over an existing connection; the relayer answers with the
//! Try, Ack and Confirm the other steps need, each proven like any other.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use ibc_proto::ibc::core::channel::v1 as ch;
use tracing::{info, warn};

use super::chain::Chain;
use super::config::End;
use super::handshake::{chan_open_ack, chan_open_confirm, chan_open_try, ChannelAt};
use super::relay::{two, Direction};

/// A step that failed waits this long before it is tried again (a module
/// refusing a channel would otherwise be asked every round).
const RETRY_AFTER: Duration = Duration::from_secs(60);

fn state(c: &ch::IdentifiedChannel) -> ch::State {
    ch::State::try_from(c.state).unwrap_or(ch::State::UninitializedUnspecified)
}

fn ordering(c: &ch::IdentifiedChannel) -> ch::Order {
    ch::Order::try_from(c.ordering).unwrap_or(ch::Order::NoneUnspecified)
}

fn counterparty(c: &ch::IdentifiedChannel) -> (String, String) {
    c.counterparty.as_ref().map(|cp| (cp.port_id.clone(), cp.channel_id.clone())).unwrap_or_default()
}

fn at(c: &ch::IdentifiedChannel) -> ChannelAt {
    ChannelAt { port: c.port_id.clone(), channel: c.channel_id.clone(), ordering: ordering(c), version: c.version.clone() }
}

async fn lists(chains: &[Chain; 2], ends: &[End; 2]) -> Result<[Vec<ch::IdentifiedChannel>; 2]> {
    Ok([chains[0].connection_channels(&ends[0].connection).await?, chains[1].connection_channels(&ends[1].connection).await?])
}

/// Both directions of every OPEN channel on the path's connection.
pub async fn open_directions(chains: &[Chain; 2], ends: &[End; 2]) -> Result<Vec<Direction>> {
    let [on_a, _] = lists(chains, ends).await?;
    let mut out = Vec::new();
    for c in on_a.iter().filter(|c| state(c) == ch::State::Open) {
        let (cp_port, cp_channel) = counterparty(c);
        let ordered = ordering(c) == ch::Order::Ordered;
        out.push(Direction {
            src: 0,
            dst: 1,
            src_port: c.port_id.clone(),
            dst_port: cp_port.clone(),
            src_channel: c.channel_id.clone(),
            dst_channel: cp_channel.clone(),
            client_on_dst: ends[1].client.clone(),
            client_on_src: ends[0].client.clone(),
            ordered,
        });
        out.push(Direction {
            src: 1,
            dst: 0,
            src_port: cp_port,
            dst_port: c.port_id.clone(),
            src_channel: cp_channel,
            dst_channel: c.channel_id.clone(),
            client_on_dst: ends[0].client.clone(),
            client_on_src: ends[1].client.clone(),
            ordered,
        });
    }
    Ok(out)
}

/// One handshake step to take: on chain `dst`, for a channel end on `src`.
#[derive(Debug)]
enum Step {
    /// `src`'s channel is in INIT and nothing answers it: Try on `dst`.
    Try { src_end: ChannelAt, dst_port: String },
    /// `src`'s TRYOPEN answers `dst`'s INIT channel: Ack on `dst`.
    Ack { src_end: ChannelAt, dst_port: String, dst_channel: String },
    /// `src`'s channel is OPEN, `dst`'s answer still TRYOPEN: Confirm on `dst`.
    Confirm { src_end: ChannelAt, dst_port: String, dst_channel: String },
}

impl Step {
    fn key(&self, dst: usize) -> String {
        match self {
            Step::Try { src_end, .. } => format!("try:{dst}:{}/{}", src_end.port, src_end.channel),
            Step::Ack { dst_port, dst_channel, .. } => format!("ack:{dst}:{dst_port}/{dst_channel}"),
            Step::Confirm { dst_port, dst_channel, .. } => format!("confirm:{dst}:{dst_port}/{dst_channel}"),
        }
    }
}

/// The steps the two chains' channel lists call for, as (src, dst, step).
fn steps(lists: &[Vec<ch::IdentifiedChannel>; 2]) -> Vec<(usize, usize, Step)> {
    let mut out = Vec::new();
    for (x, y) in [(0usize, 1usize), (1, 0)] {
        for c in &lists[x] {
            let (cp_port, cp_channel) = counterparty(c);
            match state(c) {
                ch::State::Init if cp_channel.is_empty() => {
                    let answer = lists[y].iter().find(|t| {
                        let (p, id) = counterparty(t);
                        p == c.port_id && id == c.channel_id && matches!(state(t), ch::State::Tryopen | ch::State::Open)
                    });
                    match answer {
                        Some(t) => out.push((y, x, Step::Ack { src_end: at(t), dst_port: c.port_id.clone(), dst_channel: c.channel_id.clone() })),
                        None => out.push((x, y, Step::Try { src_end: at(c), dst_port: cp_port })),
                    }
                }
                ch::State::Tryopen => {
                    let opened = lists[y].iter().find(|o| o.port_id == cp_port && o.channel_id == cp_channel && state(o) == ch::State::Open);
                    if let Some(o) = opened {
                        out.push((y, x, Step::Confirm { src_end: at(o), dst_port: c.port_id.clone(), dst_channel: c.channel_id.clone() }));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Finishes half-done channel handshakes, remembering failed steps so a
/// refused one is retried only after [`RETRY_AFTER`].
#[derive(Default)]
pub struct Handshakes {
    failed: BTreeMap<String, Instant>,
}

impl Handshakes {
    /// Take every step the channels on the path's connection call for;
    /// returns how many succeeded.
    pub async fn complete(&mut self, chains: &mut [Chain; 2], ends: &[End; 2]) -> Result<usize> {
        let lists = lists(chains, ends).await?;
        let mut done = 0;
        for (src_i, dst_i, step) in steps(&lists) {
            let key = step.key(dst_i);
            if self.failed.get(&key).is_some_and(|t| t.elapsed() < RETRY_AFTER) {
                continue;
            }
            let (src, dst) = two(chains, src_i);
            let client = &ends[dst_i].client;
            let result = match &step {
                Step::Try { src_end, dst_port } => chan_open_try(src, src_end, dst, client, &ends[dst_i].connection, dst_port).await.map(|(id, _)| {
                    info!(chain = %dst.id, channel = %id, port = %dst_port, "answered {} {}/{} (channel open try)", src.id, src_end.port, src_end.channel);
                }),
                Step::Ack { src_end, dst_port, dst_channel } => chan_open_ack(src, src_end, dst, client, dst_port, dst_channel).await,
                Step::Confirm { src_end, dst_port, dst_channel } => chan_open_confirm(src, src_end, dst, client, dst_port, dst_channel).await,
            };
            match result {
                Ok(()) => {
                    self.failed.remove(&key);
                    done += 1;
                }
                Err(e) => {
                    warn!(chain = %dst.id, "channel handshake step {key} failed (retrying in {}s): {e:#}", RETRY_AFTER.as_secs());
                    self.failed.insert(key, Instant::now());
                }
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chan(port: &str, id: &str, st: ch::State, cp_port: &str, cp_id: &str) -> ch::IdentifiedChannel {
        ch::IdentifiedChannel {
            state: st as i32,
            ordering: ch::Order::Unordered as i32,
            counterparty: Some(ch::Counterparty { port_id: cp_port.into(), channel_id: cp_id.into() }),
            connection_hops: vec!["connection-0".into()],
            version: "ics20-1".into(),
            port_id: port.into(),
            channel_id: id.into(),
            upgrade_sequence: 0,
        }
    }

    fn names(steps: &[(usize, usize, Step)]) -> Vec<String> {
        steps.iter().map(|(s, d, st)| format!("{s}->{}", st.key(*d))).collect()
    }

    #[test]
    fn each_half_done_handshake_gets_its_next_step() {
        use ch::State::*;
        let lists = [
            vec![
                chan("consumer", "channel-0", Open, "provider", "channel-0"),
                // The consumer's reward channel, just initiated.
                chan("transfer", "channel-1", Init, "transfer", ""),
                // Initiated here and answered there: ack here.
                chan("transfer", "channel-2", Init, "transfer", ""),
                // Answering B's channel-5, which is open: confirm here.
                chan("transfer", "channel-3", Tryopen, "transfer", "channel-5"),
                // Answering B's channel-6, still in INIT: B needs the ack, not us.
                chan("transfer", "channel-4", Tryopen, "transfer", "channel-6"),
            ],
            vec![
                chan("provider", "channel-0", Open, "consumer", "channel-0"),
                chan("transfer", "channel-1", Tryopen, "transfer", "channel-2"),
                chan("transfer", "channel-5", Open, "transfer", "channel-3"),
                chan("transfer", "channel-6", Init, "transfer", ""),
            ],
        ];
        assert_eq!(
            names(&steps(&lists)),
            vec!["0->try:1:transfer/channel-1", "1->ack:0:transfer/channel-2", "1->confirm:0:transfer/channel-3", "0->ack:1:transfer/channel-6",]
        );
    }
}
