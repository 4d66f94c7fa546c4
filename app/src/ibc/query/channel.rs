//! `ibc.core.channel.v1.Query`: channels, and the packet state relayers
//! poll to find what to relay.

use cnidarium::{Snapshot, Storage};
use ibc_core::host::types::identifiers::Sequence;
use ibc_core::host::types::path::{AckPath, ChannelEndPath, CommitmentPath, ReceiptPath, SeqRecvPath, SeqSendPath};
use ibc_proto_052::ibc::core::channel::v1::{query_server::Query, *};
use ibc_proto_052::ibc::core::client::v1::IdentifiedClientState;
use tonic::{Request, Response, Status};

use super::{
    all_channels, channel_client, channel_end, channel_path, client_state, connection_id, consensus_state, decode_u64, get, no_sequence_zero,
    paginate, scan, self_height, sequence_key,
};
use crate::ibc::state::keys;
use crate::query::request_snapshot;

#[derive(Clone)]
pub struct ChannelQuery {
    storage: Storage,
}

impl ChannelQuery {
    pub fn new(storage: Storage) -> Self {
        ChannelQuery { storage }
    }
}

fn commitment_path(chan: &ChannelEndPath, sequence: u64) -> CommitmentPath {
    CommitmentPath::new(&chan.0, &chan.1, Sequence::from(sequence))
}

fn ack_path(chan: &ChannelEndPath, sequence: u64) -> AckPath {
    AckPath::new(&chan.0, &chan.1, Sequence::from(sequence))
}

fn receipt_path(chan: &ChannelEndPath, sequence: u64) -> ReceiptPath {
    ReceiptPath::new(&chan.0, &chan.1, Sequence::from(sequence))
}

/// Every (sequence, value) under a channel's per-packet prefix, in
/// sequence order, keyed for pagination.
async fn packet_states(snapshot: &Snapshot, chan: &ChannelEndPath, prefix: &str) -> Result<Vec<(Vec<u8>, PacketState)>, Status> {
    let mut states = Vec::new();
    for (suffix, data) in scan(snapshot, prefix).await? {
        let sequence = suffix.parse::<u64>().map_err(|_| Status::internal(format!("corrupt packet key {prefix}{suffix}")))?;
        states.push(PacketState { port_id: chan.0.to_string(), channel_id: chan.1.to_string(), sequence, data });
    }
    states.sort_by_key(|s| s.sequence);
    Ok(states.into_iter().map(|s| (sequence_key(s.sequence), s)).collect())
}

/// A channel's next receive or send sequence.
async fn next_sequence(snapshot: &Snapshot, key: &str, what: &str, chan: &ChannelEndPath) -> Result<u64, Status> {
    let bytes = get(snapshot, key).await?.ok_or_else(|| Status::not_found(format!("no next {what} sequence for channel {}/{}", chan.0, chan.1)))?;
    decode_u64(key, &bytes)
}

#[tonic::async_trait]
impl Query for ChannelQuery {
    async fn channel(&self, req: Request<QueryChannelRequest>) -> Result<Response<QueryChannelResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let chan = channel_path(&req.get_ref().port_id, &req.get_ref().channel_id)?;
        let channel = channel_end(&snapshot, &chan).await?;
        Ok(Response::new(QueryChannelResponse { channel: Some(channel), proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn channels(&self, req: Request<QueryChannelsRequest>) -> Result<Response<QueryChannelsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let items = all_channels(&snapshot).await?.into_iter().map(|c| (format!("{}/{}", c.port_id, c.channel_id).into_bytes(), c)).collect();
        let (channels, pagination) = paginate(items, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryChannelsResponse { channels, pagination: Some(pagination), height: Some(self_height(&snapshot).await?) }))
    }

    async fn connection_channels(&self, req: Request<QueryConnectionChannelsRequest>) -> Result<Response<QueryConnectionChannelsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let connection = connection_id(&req.get_ref().connection)?;
        let items = all_channels(&snapshot)
            .await?
            .into_iter()
            .filter(|c| c.connection_hops.first().is_some_and(|hop| hop == connection.as_str()))
            .map(|c| (format!("{}/{}", c.port_id, c.channel_id).into_bytes(), c))
            .collect();
        let (channels, pagination) = paginate(items, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryConnectionChannelsResponse { channels, pagination: Some(pagination), height: Some(self_height(&snapshot).await?) }))
    }

    async fn channel_client_state(&self, req: Request<QueryChannelClientStateRequest>) -> Result<Response<QueryChannelClientStateResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let chan = channel_path(&req.get_ref().port_id, &req.get_ref().channel_id)?;
        let client = channel_client(&snapshot, &chan).await?;
        let state = client_state(&snapshot, &client).await?;
        Ok(Response::new(QueryChannelClientStateResponse {
            identified_client_state: Some(IdentifiedClientState { client_id: client.to_string(), client_state: Some(state) }),
            proof: vec![],
            proof_height: Some(self_height(&snapshot).await?),
        }))
    }

    async fn channel_consensus_state(
        &self,
        req: Request<QueryChannelConsensusStateRequest>,
    ) -> Result<Response<QueryChannelConsensusStateResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        let client = channel_client(&snapshot, &chan).await?;
        let state = consensus_state(&snapshot, &client, r.revision_number, r.revision_height).await?;
        Ok(Response::new(QueryChannelConsensusStateResponse {
            consensus_state: Some(state),
            client_id: client.to_string(),
            proof: vec![],
            proof_height: Some(self_height(&snapshot).await?),
        }))
    }

    async fn packet_commitment(&self, req: Request<QueryPacketCommitmentRequest>) -> Result<Response<QueryPacketCommitmentResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        no_sequence_zero(&[r.sequence])?;
        let commitment = get(&snapshot, &keys::path(commitment_path(&chan, r.sequence)))
            .await?
            .ok_or_else(|| Status::not_found(format!("no commitment for packet {} on {}/{}", r.sequence, chan.0, chan.1)))?;
        Ok(Response::new(QueryPacketCommitmentResponse { commitment, proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn packet_commitments(&self, req: Request<QueryPacketCommitmentsRequest>) -> Result<Response<QueryPacketCommitmentsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let chan = channel_path(&req.get_ref().port_id, &req.get_ref().channel_id)?;
        channel_end(&snapshot, &chan).await?;
        let items = packet_states(&snapshot, &chan, &keys::commitments(&chan)).await?;
        let (commitments, pagination) = paginate(items, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryPacketCommitmentsResponse { commitments, pagination: Some(pagination), height: Some(self_height(&snapshot).await?) }))
    }

    async fn packet_receipt(&self, req: Request<QueryPacketReceiptRequest>) -> Result<Response<QueryPacketReceiptResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        no_sequence_zero(&[r.sequence])?;
        let received = get(&snapshot, &keys::path(receipt_path(&chan, r.sequence))).await?.is_some();
        Ok(Response::new(QueryPacketReceiptResponse { received, proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn packet_acknowledgement(
        &self,
        req: Request<QueryPacketAcknowledgementRequest>,
    ) -> Result<Response<QueryPacketAcknowledgementResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        no_sequence_zero(&[r.sequence])?;
        let acknowledgement = get(&snapshot, &keys::path(ack_path(&chan, r.sequence)))
            .await?
            .ok_or_else(|| Status::not_found(format!("no acknowledgement for packet {} on {}/{}", r.sequence, chan.0, chan.1)))?;
        Ok(Response::new(QueryPacketAcknowledgementResponse { acknowledgement, proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    /// With `packet_commitment_sequences`, the acknowledgements of those
    /// packets that have one (unpaginated, as in ibc-go); otherwise a page
    /// of all of the channel's acknowledgements.
    async fn packet_acknowledgements(
        &self,
        req: Request<QueryPacketAcknowledgementsRequest>,
    ) -> Result<Response<QueryPacketAcknowledgementsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        channel_end(&snapshot, &chan).await?;
        let height = Some(self_height(&snapshot).await?);
        if !r.packet_commitment_sequences.is_empty() {
            let mut acknowledgements = Vec::new();
            for &sequence in &r.packet_commitment_sequences {
                if let Some(data) = get(&snapshot, &keys::path(ack_path(&chan, sequence))).await?.filter(|d| !d.is_empty()) {
                    acknowledgements.push(PacketState { port_id: chan.0.to_string(), channel_id: chan.1.to_string(), sequence, data });
                }
            }
            return Ok(Response::new(QueryPacketAcknowledgementsResponse { acknowledgements, pagination: None, height }));
        }
        let items = packet_states(&snapshot, &chan, &keys::acks(&chan)).await?;
        let (acknowledgements, pagination) = paginate(items, r.pagination.as_ref())?;
        Ok(Response::new(QueryPacketAcknowledgementsResponse { acknowledgements, pagination: Some(pagination), height }))
    }

    /// Of the given sequences (of packets the counterparty sent), those this
    /// chain has not received: no receipt on an unordered channel; at or
    /// past the next receive sequence on an ordered one.
    async fn unreceived_packets(&self, req: Request<QueryUnreceivedPacketsRequest>) -> Result<Response<QueryUnreceivedPacketsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        no_sequence_zero(&r.packet_commitment_sequences)?;
        let channel = channel_end(&snapshot, &chan).await?;
        let mut sequences = Vec::new();
        match channel.ordering() {
            Order::Unordered => {
                for &sequence in &r.packet_commitment_sequences {
                    if get(&snapshot, &keys::path(receipt_path(&chan, sequence))).await?.is_none() {
                        sequences.push(sequence);
                    }
                }
            }
            Order::Ordered => {
                let next = next_sequence(&snapshot, &keys::path(SeqRecvPath::new(&chan.0, &chan.1)), "receive", &chan).await?;
                sequences.extend(r.packet_commitment_sequences.iter().copied().filter(|s| *s >= next));
            }
            other => return Err(Status::invalid_argument(format!("channel {}/{} has unsupported ordering {}", chan.0, chan.1, other.as_str_name()))),
        }
        Ok(Response::new(QueryUnreceivedPacketsResponse { sequences, height: Some(self_height(&snapshot).await?) }))
    }

    /// Of the given sequences (of packets this chain sent), those whose
    /// acknowledgement this chain has not processed: their commitment is
    /// still stored.
    async fn unreceived_acks(&self, req: Request<QueryUnreceivedAcksRequest>) -> Result<Response<QueryUnreceivedAcksResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let chan = channel_path(&r.port_id, &r.channel_id)?;
        no_sequence_zero(&r.packet_ack_sequences)?;
        channel_end(&snapshot, &chan).await?;
        let mut sequences = Vec::new();
        for &sequence in &r.packet_ack_sequences {
            if get(&snapshot, &keys::path(commitment_path(&chan, sequence))).await?.is_some_and(|c| !c.is_empty()) {
                sequences.push(sequence);
            }
        }
        Ok(Response::new(QueryUnreceivedAcksResponse { sequences, height: Some(self_height(&snapshot).await?) }))
    }

    /// As in ibc-go, 0 on an unordered channel, which does not use it.
    async fn next_sequence_receive(
        &self,
        req: Request<QueryNextSequenceReceiveRequest>,
    ) -> Result<Response<QueryNextSequenceReceiveResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let chan = channel_path(&req.get_ref().port_id, &req.get_ref().channel_id)?;
        let channel = channel_end(&snapshot, &chan).await?;
        let next_sequence_receive = match channel.ordering() {
            Order::Unordered => 0,
            _ => next_sequence(&snapshot, &keys::path(SeqRecvPath::new(&chan.0, &chan.1)), "receive", &chan).await?,
        };
        Ok(Response::new(QueryNextSequenceReceiveResponse { next_sequence_receive, proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn next_sequence_send(&self, req: Request<QueryNextSequenceSendRequest>) -> Result<Response<QueryNextSequenceSendResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let chan = channel_path(&req.get_ref().port_id, &req.get_ref().channel_id)?;
        let next_sequence_send = next_sequence(&snapshot, &keys::path(SeqSendPath::new(&chan.0, &chan.1)), "send", &chan).await?;
        Ok(Response::new(QueryNextSequenceSendResponse { next_sequence_send, proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn upgrade_error(&self, _req: Request<QueryUpgradeErrorRequest>) -> Result<Response<QueryUpgradeErrorResponse>, Status> {
        Err(Status::unimplemented("channel upgrades are not supported by Aegis (ibc-rs has none)"))
    }

    async fn upgrade(&self, _req: Request<QueryUpgradeRequest>) -> Result<Response<QueryUpgradeResponse>, Status> {
        Err(Status::unimplemented("channel upgrades are not supported by Aegis (ibc-rs has none)"))
    }

    async fn channel_params(&self, _req: Request<QueryChannelParamsRequest>) -> Result<Response<QueryChannelParamsResponse>, Status> {
        Err(Status::unimplemented("channel params (the upgrade timeout) exist only with channel upgrades, which Aegis does not support"))
    }
}
