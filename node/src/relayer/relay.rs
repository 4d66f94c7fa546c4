//! `start`: relay packets, acknowledgements and timeouts both ways.
//!
//! Every round reads what is pending from the chains themselves (packet
//! commitments still on the source, which of them the destination has not
//! received, which acknowledgements the destination wrote for them), so the
//! relayer keeps no state of its own: killed at any moment and restarted,
//! it finds exactly the work that is left. A packet delivered twice (two
//! relayers, or a crash between send and record) is a no-op on the chain.

use std::time::Duration;

use tendermint_rpc::Client;

use anyhow::{Context, Result};
use ibc_proto::ibc::core::channel::v1 as ch;
use tracing::{info, warn};

use super::chain::{Chain, PacketEvent};
use super::client::{client_state, prepare, update_msg};
use super::config::RelayerConfig;
use aegis_app::signer::pack;

/// Packets per transaction (the relayer batches a client update with them).
const BATCH: usize = 100;

/// One direction of one channel: packets from `src` to `dst`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Direction {
    pub src: usize,
    pub dst: usize,
    pub src_port: String,
    pub dst_port: String,
    pub src_channel: String,
    pub dst_channel: String,
    /// `dst`'s client of `src`, and `src`'s client of `dst`.
    pub client_on_dst: String,
    pub client_on_src: String,
    pub ordered: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundStats {
    pub received: usize,
    pub acked: usize,
    pub timed_out: usize,
    pub pending: usize,
}

/// (`src`, the other chain).
pub(crate) fn two(chains: &mut [Chain; 2], src: usize) -> (&mut Chain, &mut Chain) {
    let [a, b] = chains;
    if src == 0 {
        (a, b)
    } else {
        (b, a)
    }
}

/// Every sequence with a commitment on `src` (all pages: an ORDERED
/// channel must see its lowest pending sequence, and keys sort as strings).
async fn packet_commitments(src: &Chain, port: &str, channel: &str) -> Result<Vec<u64>> {
    use ibc_proto::cosmos::base::query::v1beta1::PageRequest;
    let mut seqs = Vec::new();
    let mut key = Vec::new();
    loop {
        let pagination = Some(PageRequest { key: key.clone(), limit: 1000, ..Default::default() });
        let r: ch::QueryPacketCommitmentsResponse = src
            .query(
                "/ibc.core.channel.v1.Query/PacketCommitments",
                &ch::QueryPacketCommitmentsRequest { port_id: port.into(), channel_id: channel.into(), pagination },
                None,
            )
            .await?;
        seqs.extend(r.commitments.into_iter().map(|c| c.sequence));
        key = r.pagination.map(|p| p.next_key).unwrap_or_default();
        if key.is_empty() {
            return Ok(seqs);
        }
    }
}

async fn unreceived(dst: &Chain, port: &str, channel: &str, seqs: &[u64]) -> Result<Vec<u64>> {
    let r: ch::QueryUnreceivedPacketsResponse = dst
        .query(
            "/ibc.core.channel.v1.Query/UnreceivedPackets",
            &ch::QueryUnreceivedPacketsRequest { port_id: port.into(), channel_id: channel.into(), packet_commitment_sequences: seqs.to_vec() },
            None,
        )
        .await?;
    Ok(r.sequences)
}

async fn acknowledged(dst: &Chain, port: &str, channel: &str, seqs: &[u64]) -> Result<Vec<u64>> {
    let r: ch::QueryPacketAcknowledgementsResponse = dst
        .query(
            "/ibc.core.channel.v1.Query/PacketAcknowledgements",
            &ch::QueryPacketAcknowledgementsRequest { port_id: port.into(), channel_id: channel.into(), pagination: None, packet_commitment_sequences: seqs.to_vec() },
            None,
        )
        .await?;
    Ok(r.acknowledgements.into_iter().map(|a| a.sequence).collect())
}

/// Packet events found so far in a round, by sequence: one `tx_search`
/// usually returns a transaction holding many packets (a relayer's or a
/// user's batch), so the rest need no search of their own.
type Found = std::collections::BTreeMap<u64, PacketEvent>;

/// Search `chain` for the `kind` event of packet `seq` on `channel`
/// (`send_packet`: the source channel; `write_acknowledgement`: the
/// destination channel): in transactions first, then in blocks' own
/// FinalizeBlock events (packets a module sends from a block hook, like a
/// provider's validator-set packets). The query names only the sequence:
/// CometBFT's kv indexer scans every match of each condition, and the
/// sequence is the only selective one; the port and channel are checked
/// here.
async fn packet_event(chain: &Chain, kind: &str, port: &str, channel: &str, seq: u64, found: &mut Found) -> Result<Option<PacketEvent>> {
    if let Some(e) = found.get(&seq) {
        return Ok(Some(e.clone()));
    }
    let ours = |e: &PacketEvent| {
        if kind == "send_packet" {
            e.packet.source_port == port && e.packet.source_channel == channel
        } else {
            e.packet.destination_port == port && e.packet.destination_channel == channel
        }
    };
    let query = format!("{kind}.packet_sequence='{seq}'");
    for e in chain.packet_events(kind, query.clone()).await? {
        if ours(&e) {
            found.insert(e.packet.sequence, e);
        }
    }
    if !found.contains_key(&seq) {
        for e in chain.block_packet_events(kind, query).await? {
            if ours(&e) {
                found.insert(e.packet.sequence, e);
            }
        }
    }
    Ok(found.get(&seq).cloned())
}

/// Proofs of many paths at one height, up to 16 queries in flight (the
/// node answers ABCI queries concurrently); in the order of `paths`.
async fn prove_all(chain: &Chain, paths: impl Iterator<Item = String>, height: u64) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    use futures::StreamExt;
    futures::stream::iter(paths.map(|path| async move { chain.prove(&path, height).await })).buffered(16).collect::<Vec<_>>().await.into_iter().collect()
}

/// Whether `p` can no longer be received on `dst`, judged by `dst`'s
/// latest block (height and time), which the timeout proof will use.
fn timed_out(p: &ch::Packet, dst_height: u64, dst_time_ns: u64) -> bool {
    let by_height = p.timeout_height.as_ref().is_some_and(|h| h.revision_height != 0 && dst_height > h.revision_height);
    let by_time = p.timeout_timestamp != 0 && dst_time_ns >= p.timeout_timestamp;
    by_height || by_time
}

/// One round in one direction: receive, time out and acknowledge what is
/// pending. Returns what was done. On an ORDERED channel packets are
/// received strictly in sequence: delivery stops before the first packet
/// whose event is missing, and at the first one that has timed out (whose
/// timeout closes the channel, as ICS-04 has it).
pub async fn round(chains: &mut [Chain; 2], d: &Direction) -> Result<RoundStats> {
    let mut stats = RoundStats::default();
    let (src, dst) = two(chains, d.src);
    let mut commitments = packet_commitments(src, &d.src_port, &d.src_channel).await?;
    // Keys sort as strings ("10" before "9"); packets go in sequence order.
    commitments.sort_unstable();
    stats.pending = commitments.len();
    if commitments.is_empty() {
        return Ok(stats);
    }
    let mut not_received = unreceived(dst, &d.dst_port, &d.dst_channel, &commitments).await?;
    not_received.sort_unstable();
    let status = dst.rpc.status().await?;
    let dst_height = status.sync_info.latest_block_height.value();
    let dst_time = status.sync_info.latest_block_time.unix_timestamp_nanos().max(0) as u64;

    let mut deliver = Vec::new();
    let mut expire = Vec::new();
    let mut sent = Found::new();
    for seq in not_received.iter().copied().take(BATCH) {
        match packet_event(src, "send_packet", &d.src_port, &d.src_channel, seq, &mut sent).await?.map(|e| e.packet) {
            Some(p) if timed_out(&p, dst_height, dst_time) => {
                expire.push(p);
                if d.ordered {
                    break;
                }
            }
            Some(p) => deliver.push(p),
            None => {
                warn!(chain = %src.id, seq, "no send_packet event found for a pending commitment (is the tx indexer on?)");
                if d.ordered {
                    break;
                }
            }
        }
    }

    if !deliver.is_empty() {
        let pr = prepare(src, dst, &d.client_on_dst).await?;
        let mut msgs: Vec<cosmrs::Any> = pr.update.into_iter().collect();
        let paths = deliver.iter().map(|p| format!("commitments/ports/{}/channels/{}/sequences/{}", p.source_port, p.source_channel, p.sequence));
        let proofs = prove_all(src, paths, pr.q).await?;
        for (p, (_, proof)) in deliver.iter().zip(proofs) {
            msgs.push(pack(
                "/ibc.core.channel.v1.MsgRecvPacket",
                &ch::MsgRecvPacket { packet: Some(p.clone()), proof_commitment: proof, proof_height: Some(src.height(pr.p)), signer: dst.signer.address.to_string() },
            ));
        }
        let tx = dst.send(msgs).await.with_context(|| format!("delivering {} packets to {}", deliver.len(), dst.id))?;
        if tx.tx_result.code.is_err() {
            warn!(chain = %dst.id, log = %tx.tx_result.log, "receive batch failed");
        } else {
            stats.received = deliver.len();
            info!(from = %src.id, to = %dst.id, packets = deliver.len(), height = %tx.height, "delivered");
        }
    }

    if !expire.is_empty() {
        let pr = prepare(dst, src, &d.client_on_src).await?;
        let mut msgs: Vec<cosmrs::Any> = pr.update.into_iter().collect();
        for p in &expire {
            let (proof, next) = if d.ordered {
                let (v, proof) = dst.prove(&format!("nextSequenceRecv/ports/{}/channels/{}", p.destination_port, p.destination_channel), pr.q).await?;
                let next = v.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(p.sequence);
                (proof, next)
            } else {
                let (_, proof) = dst.prove(&format!("receipts/ports/{}/channels/{}/sequences/{}", p.destination_port, p.destination_channel, p.sequence), pr.q).await?;
                (proof, p.sequence)
            };
            msgs.push(pack(
                "/ibc.core.channel.v1.MsgTimeout",
                &ch::MsgTimeout {
                    packet: Some(p.clone()),
                    proof_unreceived: proof,
                    proof_height: Some(dst.height(pr.p)),
                    next_sequence_recv: next,
                    signer: src.signer.address.to_string(),
                },
            ));
        }
        let tx = src.send(msgs).await.with_context(|| format!("timing out {} packets on {}", expire.len(), src.id))?;
        if tx.tx_result.code.is_err() {
            warn!(chain = %src.id, log = %tx.tx_result.log, "timeout batch failed");
        } else {
            stats.timed_out = expire.len();
            info!(chain = %src.id, packets = expire.len(), height = %tx.height, "timed out (refunded)");
        }
    }

    // Acknowledgements: packets `dst` received whose commitment is still on `src`.
    let mut acked = acknowledged(dst, &d.dst_port, &d.dst_channel, &commitments).await?;
    acked.sort_unstable();
    let mut acks = Vec::new();
    let mut written = Found::new();
    for seq in acked.into_iter().take(BATCH) {
        match packet_event(dst, "write_acknowledgement", &d.dst_port, &d.dst_channel, seq, &mut written).await? {
            Some(e) => acks.push(e),
            None => {
                warn!(chain = %dst.id, seq, "no write_acknowledgement event found for an acknowledgement");
                // An ORDERED channel takes acknowledgements in sequence too.
                if d.ordered {
                    break;
                }
            }
        }
    }
    if !acks.is_empty() {
        let pr = prepare(dst, src, &d.client_on_src).await?;
        let mut msgs: Vec<cosmrs::Any> = pr.update.into_iter().collect();
        let paths = acks.iter().map(|e| format!("acks/ports/{}/channels/{}/sequences/{}", e.packet.destination_port, e.packet.destination_channel, e.packet.sequence));
        let proofs = prove_all(dst, paths, pr.q).await?;
        for (e, (_, proof)) in acks.iter().zip(proofs) {
            let p = &e.packet;
            msgs.push(pack(
                "/ibc.core.channel.v1.MsgAcknowledgement",
                &ch::MsgAcknowledgement {
                    packet: Some(p.clone()),
                    acknowledgement: e.ack.clone(),
                    proof_acked: proof,
                    proof_height: Some(dst.height(pr.p)),
                    signer: src.signer.address.to_string(),
                },
            ));
        }
        let tx = src.send(msgs).await.with_context(|| format!("acknowledging {} packets on {}", acks.len(), src.id))?;
        if tx.tx_result.code.is_err() {
            warn!(chain = %src.id, log = %tx.tx_result.log, "acknowledgement batch failed");
        } else {
            stats.acked = acks.len();
            info!(chain = %src.id, packets = acks.len(), height = %tx.height, "acknowledged");
        }
    }
    Ok(stats)
}

/// Keep `host`'s client of `src` fresh: update it once a third of its
/// trusting period has passed since its latest header, so an idle path's
/// clients never expire.
pub async fn refresh_client(src: &Chain, host: &mut Chain, client_id: &str) -> Result<bool> {
    let cs = client_state(host, client_id).await?;
    let trusting = cs.trusting_period.map(|d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32)).unwrap_or_default();
    let h = cs.latest_height.map(|h| h.revision_height).unwrap_or(0);
    let (sh, _) = src.header(h).await?;
    let latest = src.latest_height().await?;
    let (latest_sh, _) = src.header(latest).await?;
    let age = latest_sh.header.time.duration_since(sh.header.time).unwrap_or_default();
    if age < trusting / 3 || latest <= h {
        return Ok(false);
    }
    let msg = update_msg(src, host, client_id, latest).await?;
    let tx = host.send(vec![msg]).await?;
    if tx.tx_result.code.is_err() {
        warn!(chain = %host.id, client = client_id, log = %tx.tx_result.log, "client refresh failed");
        return Ok(false);
    }
    info!(chain = %host.id, client = client_id, height = latest, "client refreshed");
    Ok(true)
}

/// Relay until the process is stopped: each round, every open channel on
/// the path's connection both ways, after finishing the channel
/// handshakes found half done there.
pub async fn run(cfg: &RelayerConfig, chains: &mut [Chain; 2]) -> Result<()> {
    let p = &cfg.path;
    let ends = [p.end(0), p.end(1)];
    info!(a = %chains[0].id, b = %chains[1].id, connection_a = %p.connection_a, channel_a = %p.channel_a, channel_b = %p.channel_b, "relaying");
    let interval = Duration::from_millis(cfg.poll_interval_ms);
    let mut handshakes = super::channels::Handshakes::default();
    let mut known: Vec<Direction> = Vec::new();
    loop {
        if let Err(e) = handshakes.complete(chains, &ends).await {
            warn!("finishing channel handshakes failed (will retry): {e:#}");
        }
        match super::channels::open_directions(chains, &ends).await {
            Ok(dirs) => {
                for d in dirs.iter().filter(|d| !known.contains(d)) {
                    info!(src = %chains[d.src].id, port = %d.src_port, channel = %d.src_channel, dst = %chains[d.dst].id, dst_port = %d.dst_port, dst_channel = %d.dst_channel, ordered = d.ordered, "relaying channel");
                }
                known = dirs;
            }
            Err(e) => warn!("listing the path's channels failed (relaying the ones known): {e:#}"),
        }
        for d in &known {
            let (src_id, dst_id) = (chains[d.src].id.clone(), chains[d.dst].id.clone());
            match round(chains, d).await {
                Ok(s) => {
                    let labels = [("src", src_id.clone()), ("dst", dst_id.clone()), ("channel", d.src_channel.clone())];
                    metrics::gauge!("aegis_relayer_pending_packets", &labels).set(s.pending.saturating_sub(s.acked + s.timed_out) as f64);
                    metrics::counter!("aegis_relayer_packets_received_total", &labels).increment(s.received as u64);
                    metrics::counter!("aegis_relayer_acks_relayed_total", &labels).increment(s.acked as u64);
                    metrics::counter!("aegis_relayer_timeouts_relayed_total", &labels).increment(s.timed_out as u64);
                }
                Err(e) => warn!(from = %src_id, to = %dst_id, channel = %d.src_channel, "relay round failed (will retry): {e:#}"),
            }
        }
        for (src_i, dst_i) in [(0, 1), (1, 0)] {
            let client = &ends[dst_i].client;
            let (src, dst) = two(chains, src_i);
            if let Err(e) = refresh_client(src, dst, client).await {
                warn!(chain = %dst.id, "client refresh failed (will retry): {e:#}");
            }
            if let Ok(cs) = client_state(dst, client).await {
                let h = cs.latest_height.map(|h| h.revision_height).unwrap_or(0);
                metrics::gauge!("aegis_relayer_client_height", "host" => dst.id.clone(), "client" => client.clone()).set(h as f64);
            }
        }
        tokio::time::sleep(interval).await;
    }
}
