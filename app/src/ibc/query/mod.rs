//! The queries relayers (Hermes) and clients read: `ibc.core.client.v1`,
//! `ibc.core.connection.v1`, `ibc.core.channel.v1` and
//! `ibc.applications.transfer.v1`, plus `cosmos.staking.v1beta1.Query/Params`
//! (relayers take a chain's unbonding period from it), served over gRPC and
//! ABCI query like every module's queries.
//!
//! Values are read raw at their ICS-24 paths and decoded into the
//! ibc-proto 0.52 types (the same wire format ibc-rs wrote with 0.51). As
//! in ibc-go's gRPC handlers, responses carry no proof: `proof_height` and
//! `height` name the height answered at, and a relayer proves a value with
//! ABCI `store/ibc/key` and `prove = true`.

pub mod channel;
pub mod client;
pub mod connection;
pub mod staking;
pub mod transfer;

use std::str::FromStr;

use cnidarium::{Snapshot, Storage};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use ibc_core::host::types::identifiers::{ChainId, ChannelId, ClientId, ConnectionId, PortId};
use ibc_core::host::types::path::{ChannelEndPath, ClientConsensusStatePath, ClientStatePath, ConnectionPath};
use ibc_proto_052::ibc::core::channel::v1::{Channel, IdentifiedChannel};
use ibc_proto_052::ibc::core::client::v1::Height;
use ibc_proto_052::ibc::core::connection::v1::ConnectionEnd;
use ibc_proto_052::google::protobuf::Any;
use prost::Message;
use tonic::Status;

pub use channel::ChannelQuery;
pub use client::ClientQuery;
pub use connection::ConnectionQuery;
pub use staking::StakingQuery;
pub use transfer::TransferQuery;

use super::state::{keys, read_raw, scan_raw};
use crate::auth::AuthRead;
use crate::query::{call, to_status};

/// ABCI paths of the IBC (and staking) query methods.
pub async fn route(storage: &Storage, s: Snapshot, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, Status>> {
    use cosmos_sdk_proto::cosmos::staking::v1beta1::query_server::Query as _;
    use ibc_proto_052::ibc::applications::transfer::v1::query_server::Query as _;
    use ibc_proto_052::ibc::core::channel::v1::query_server::Query as _;
    use ibc_proto_052::ibc::core::client::v1::query_server::Query as _;
    use ibc_proto_052::ibc::core::connection::v1::query_server::Query as _;
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    Some(match service {
        "ibc.core.client.v1.Query" => {
            let q = ClientQuery::new(storage.clone());
            match method {
                "ClientState" => call(s, data, |r| q.client_state(r)).await,
                "ClientStates" => call(s, data, |r| q.client_states(r)).await,
                "ConsensusState" => call(s, data, |r| q.consensus_state(r)).await,
                "ConsensusStates" => call(s, data, |r| q.consensus_states(r)).await,
                "ConsensusStateHeights" => call(s, data, |r| q.consensus_state_heights(r)).await,
                "ClientStatus" => call(s, data, |r| q.client_status(r)).await,
                "ClientParams" => call(s, data, |r| q.client_params(r)).await,
                "UpgradedClientState" => call(s, data, |r| q.upgraded_client_state(r)).await,
                "UpgradedConsensusState" => call(s, data, |r| q.upgraded_consensus_state(r)).await,
                _ => return None,
            }
        }
        "ibc.core.connection.v1.Query" => {
            let q = ConnectionQuery::new(storage.clone());
            match method {
                "Connection" => call(s, data, |r| q.connection(r)).await,
                "Connections" => call(s, data, |r| q.connections(r)).await,
                "ClientConnections" => call(s, data, |r| q.client_connections(r)).await,
                "ConnectionClientState" => call(s, data, |r| q.connection_client_state(r)).await,
                "ConnectionConsensusState" => call(s, data, |r| q.connection_consensus_state(r)).await,
                "ConnectionParams" => call(s, data, |r| q.connection_params(r)).await,
                _ => return None,
            }
        }
        "ibc.core.channel.v1.Query" => {
            let q = ChannelQuery::new(storage.clone());
            match method {
                "Channel" => call(s, data, |r| q.channel(r)).await,
                "Channels" => call(s, data, |r| q.channels(r)).await,
                "ConnectionChannels" => call(s, data, |r| q.connection_channels(r)).await,
                "ChannelClientState" => call(s, data, |r| q.channel_client_state(r)).await,
                "ChannelConsensusState" => call(s, data, |r| q.channel_consensus_state(r)).await,
                "PacketCommitment" => call(s, data, |r| q.packet_commitment(r)).await,
                "PacketCommitments" => call(s, data, |r| q.packet_commitments(r)).await,
                "PacketReceipt" => call(s, data, |r| q.packet_receipt(r)).await,
                "PacketAcknowledgement" => call(s, data, |r| q.packet_acknowledgement(r)).await,
                "PacketAcknowledgements" => call(s, data, |r| q.packet_acknowledgements(r)).await,
                "UnreceivedPackets" => call(s, data, |r| q.unreceived_packets(r)).await,
                "UnreceivedAcks" => call(s, data, |r| q.unreceived_acks(r)).await,
                "NextSequenceReceive" => call(s, data, |r| q.next_sequence_receive(r)).await,
                "NextSequenceSend" => call(s, data, |r| q.next_sequence_send(r)).await,
                "UpgradeError" => call(s, data, |r| q.upgrade_error(r)).await,
                "Upgrade" => call(s, data, |r| q.upgrade(r)).await,
                "ChannelParams" => call(s, data, |r| q.channel_params(r)).await,
                _ => return None,
            }
        }
        "ibc.applications.transfer.v1.Query" => {
            let q = TransferQuery::new(storage.clone());
            match method {
                "DenomTrace" => call(s, data, |r| q.denom_trace(r)).await,
                "DenomTraces" => call(s, data, |r| q.denom_traces(r)).await,
                "DenomHash" => call(s, data, |r| q.denom_hash(r)).await,
                "EscrowAddress" => call(s, data, |r| q.escrow_address(r)).await,
                "Params" => call(s, data, |r| q.params(r)).await,
                "TotalEscrowForDenom" => call(s, data, |r| q.total_escrow_for_denom(r)).await,
                _ => return None,
            }
        }
        "cosmos.staking.v1beta1.Query" => {
            let q = StakingQuery::new(storage.clone());
            match method {
                "Params" => call(s, data, |r| q.params(r)).await,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The snapshot's height as IBC names it: the revision from the chain id,
/// the block height the snapshot was committed at.
pub(crate) async fn self_height(snapshot: &Snapshot) -> Result<Height, Status> {
    let chain_id = snapshot.chain_id().await.map_err(to_status)?;
    let chain = ChainId::new(&chain_id).map_err(|e| Status::internal(format!("chain id {chain_id}: {e}")))?;
    Ok(Height { revision_number: chain.revision_number(), revision_height: snapshot.version() })
}

fn parse_id<T: FromStr>(what: &str, s: &str) -> Result<T, Status>
where
    T::Err: std::fmt::Display,
{
    T::from_str(s).map_err(|e| Status::invalid_argument(format!("invalid {what} {s:?}: {e}")))
}

pub(crate) fn client_id(s: &str) -> Result<ClientId, Status> {
    parse_id("client id", s)
}

pub(crate) fn connection_id(s: &str) -> Result<ConnectionId, Status> {
    parse_id("connection id", s)
}

/// A (port, channel) argument pair, as the path of the channel end.
pub(crate) fn channel_path(port: &str, channel: &str) -> Result<ChannelEndPath, Status> {
    Ok(ChannelEndPath::new(&parse_id::<PortId>("port id", port)?, &parse_id::<ChannelId>("channel id", channel)?))
}

pub(crate) fn no_sequence_zero(sequences: &[u64]) -> Result<(), Status> {
    match sequences.iter().position(|s| *s == 0) {
        Some(i) => Err(Status::invalid_argument(format!("packet sequence at index {i} is 0: sequences start at 1"))),
        None => Ok(()),
    }
}

pub(crate) async fn get(snapshot: &Snapshot, key: &str) -> Result<Option<Vec<u8>>, Status> {
    read_raw(snapshot, key).await.map_err(to_status)
}

pub(crate) async fn scan(snapshot: &Snapshot, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, Status> {
    scan_raw(snapshot, prefix).await.map_err(to_status)
}

pub(crate) fn decode<M: Message + Default>(key: &str, bytes: &[u8]) -> Result<M, Status> {
    M::decode(bytes).map_err(|e| Status::internal(format!("corrupt value at {key}: {e}")))
}

pub(crate) fn decode_u64(key: &str, bytes: &[u8]) -> Result<u64, Status> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| Status::internal(format!("corrupt value at {key}: not an 8-byte big-endian integer")))?;
    Ok(u64::from_be_bytes(arr))
}

/// A client's state, as stored (`Any`).
pub(crate) async fn client_state(snapshot: &Snapshot, id: &ClientId) -> Result<Any, Status> {
    let key = keys::path(ClientStatePath::new(id.clone()));
    let bytes = get(snapshot, &key).await?.ok_or_else(|| Status::not_found(format!("client {id} not found")))?;
    decode(&key, &bytes)
}

/// A client's consensus state at a height, as stored (`Any`).
pub(crate) async fn consensus_state(snapshot: &Snapshot, id: &ClientId, revision: u64, height: u64) -> Result<Any, Status> {
    let key = keys::path(ClientConsensusStatePath::new(id.clone(), revision, height));
    let bytes = get(snapshot, &key)
        .await?
        .ok_or_else(|| Status::not_found(format!("client {id} has no consensus state at height {revision}-{height}")))?;
    decode(&key, &bytes)
}

/// The heights of a client's consensus states, ascending.
pub(crate) async fn consensus_heights(snapshot: &Snapshot, id: &ClientId) -> Result<Vec<Height>, Status> {
    let prefix = keys::consensus_heights(id.as_str());
    scan(snapshot, &prefix)
        .await?
        .into_iter()
        .map(|(suffix, _)| {
            let (revision_number, revision_height) = keys::parse_consensus_height(&suffix)
                .ok_or_else(|| Status::internal(format!("corrupt consensus height key {prefix}{suffix}")))?;
            Ok(Height { revision_number, revision_height })
        })
        .collect()
}

pub(crate) async fn connection_end(snapshot: &Snapshot, id: &ConnectionId) -> Result<ConnectionEnd, Status> {
    let key = keys::path(ConnectionPath::new(id));
    let bytes = get(snapshot, &key).await?.ok_or_else(|| Status::not_found(format!("connection {id} not found")))?;
    decode(&key, &bytes)
}

pub(crate) async fn channel_end(snapshot: &Snapshot, path: &ChannelEndPath) -> Result<Channel, Status> {
    let key = keys::path(path);
    let bytes = get(snapshot, &key).await?.ok_or_else(|| Status::not_found(format!("channel {}/{} not found", path.0, path.1)))?;
    decode(&key, &bytes)
}

/// Every channel end, ordered by port then channel id (key order).
pub(crate) async fn all_channels(snapshot: &Snapshot) -> Result<Vec<IdentifiedChannel>, Status> {
    let mut out = Vec::new();
    for (suffix, bytes) in scan(snapshot, keys::CHANNEL_ENDS).await? {
        let key = format!("{}{suffix}", keys::CHANNEL_ENDS);
        let (port, channel) = suffix.split_once(keys::CHANNELS_INFIX).ok_or_else(|| Status::internal(format!("corrupt channel key {key}")))?;
        let c: Channel = decode(&key, &bytes)?;
        out.push(IdentifiedChannel {
            state: c.state,
            ordering: c.ordering,
            counterparty: c.counterparty,
            connection_hops: c.connection_hops,
            version: c.version,
            port_id: port.to_string(),
            channel_id: channel.to_string(),
            upgrade_sequence: c.upgrade_sequence,
        });
    }
    Ok(out)
}

/// The client under a channel: that of its (single) connection hop.
pub(crate) async fn channel_client(snapshot: &Snapshot, path: &ChannelEndPath) -> Result<ClientId, Status> {
    let channel = channel_end(snapshot, path).await?;
    let hop = channel
        .connection_hops
        .first()
        .ok_or_else(|| Status::internal(format!("channel {}/{} has no connection hops", path.0, path.1)))?;
    let connection = connection_end(snapshot, &connection_id(hop)?).await?;
    client_id(&connection.client_id)
}

/// One page of `items`, each with its page key, in the order given
/// (Cosmos `PageRequest` semantics: `key` is the key of the page's first
/// item, `next_key` that of the next page's; `limit` 0 means 100).
/// Everything is already read, so `total` is always filled.
pub(crate) fn paginate<T>(items: Vec<(Vec<u8>, T)>, page: Option<&PageRequest>) -> Result<(Vec<T>, PageResponse), Status> {
    let total = items.len() as u64;
    let (key, offset, limit, reverse) = match page {
        Some(p) => (p.key.as_slice(), p.offset, if p.limit == 0 { 100 } else { p.limit }, p.reverse),
        None => (&[][..], 0, 100, false),
    };
    if !key.is_empty() && offset > 0 {
        return Err(Status::invalid_argument("pagination: set either key or offset, not both"));
    }
    let mut items = items;
    if reverse {
        items.reverse();
    }
    let start = if key.is_empty() {
        usize::try_from(offset).unwrap_or(usize::MAX).min(items.len())
    } else {
        items.iter().position(|(k, _)| if reverse { k.as_slice() <= key } else { k.as_slice() >= key }).unwrap_or(items.len())
    };
    let end = start.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(items.len());
    let next_key = items.get(end).map(|(k, _)| k.clone()).unwrap_or_default();
    let page_items = items.drain(start..end).map(|(_, v)| v).collect();
    Ok((page_items, PageResponse { next_key, total }))
}

/// Page keys of packet sequences: 8-byte big-endian, so that key order is
/// numeric order (the store's decimal keys are not zero-padded).
pub(crate) fn sequence_key(sequence: u64) -> Vec<u8> {
    sequence.to_be_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u64) -> Vec<(Vec<u8>, u64)> {
        (1..=n).map(|i| (sequence_key(i), i)).collect()
    }

    #[test]
    fn pages_follow_keys_and_offsets_and_report_the_total() {
        let first = PageRequest { limit: 2, ..Default::default() };
        let (got, p) = paginate(items(5), Some(&first)).unwrap();
        assert_eq!((got, p.total), (vec![1, 2], 5));
        let next = PageRequest { key: p.next_key, limit: 2, ..Default::default() };
        let (got, p) = paginate(items(5), Some(&next)).unwrap();
        assert_eq!((got, p.next_key), (vec![3, 4], sequence_key(5)));
        let by_offset = PageRequest { offset: 4, limit: 2, ..Default::default() };
        let (got, p) = paginate(items(5), Some(&by_offset)).unwrap();
        assert_eq!((got, p.next_key), (vec![5], vec![]));
        let reversed = PageRequest { limit: 2, reverse: true, ..Default::default() };
        assert_eq!(paginate(items(5), Some(&reversed)).unwrap().0, vec![5, 4]);
        assert_eq!(paginate(items(150), None).unwrap().0.len(), 100);
        let both = PageRequest { key: sequence_key(1), offset: 1, ..Default::default() };
        assert_eq!(paginate(items(5), Some(&both)).unwrap_err().code(), tonic::Code::InvalidArgument);
    }
}
