//! IBC: ibc-rs's core handlers (ICS-02 clients with the 07-tendermint light
//! client, ICS-03 connections, ICS-04 channels and packets, ICS-26 routing)
//! and ICS-20 transfers, hosted on Aegis's store.
//!
//! Aegis speaks the protocol ibc-go chains and relayers speak: values at
//! the ICS-24 paths of the `ibc` substore, encoded as ibc-go encodes them,
//! proven with two ICS23 JMT proofs (substore, then main store) against the
//! app hash; the standard `/ibc.core.*` and
//! `/ibc.applications.transfer.v1.MsgTransfer` messages in ordinary
//! transactions; ibc-go's event names and attributes.

pub mod context;
pub mod error;
pub mod genesis;
pub mod hooks;
pub mod host;
pub mod msgs;
pub mod params;
pub mod ports;
pub mod query;
pub mod state;
pub mod transfer;

use async_trait::async_trait;

pub use context::proof_specs;
pub use error::IbcError;
pub use params::IbcParams;
use state::keys;

use crate::error::AppResult;
use crate::store::StoreRead;

#[async_trait]
pub trait IbcRead: StoreRead {
    async fn ibc_params(&self) -> AppResult<IbcParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    /// The trace behind an `ibc/<HASH>` denom, if this chain minted it.
    async fn denom_trace(&self, hash: &str) -> AppResult<Option<ibc_proto::ibc::applications::transfer::v1::DenomTrace>> {
        self.read_proto(&keys::denom_trace(hash)).await
    }
}

impl<T: StoreRead + ?Sized> IbcRead for T {}

/// A packet (and, for `write_acknowledgement`, its acknowledgement) read
/// back from a packet event's ibc-go attributes, as relayers read them:
/// `packet_sequence`, `packet_src_port`, ..., `packet_data_hex`,
/// `packet_timeout_height` (`<revision>-<height>`), `packet_ack_hex`.
/// `None` if the event lacks a sequence or its hex does not decode.
pub fn packet_from_event(e: &tendermint::abci::Event) -> Option<(ibc_proto::ibc::core::channel::v1::Packet, Vec<u8>)> {
    let get = |k: &str| -> String {
        e.attributes.iter().find(|a| a.key_str().ok() == Some(k)).and_then(|a| a.value_str().ok().map(str::to_string)).unwrap_or_default()
    };
    let (revision_number, revision_height) =
        get("packet_timeout_height").split_once('-').map(|(r, h)| (r.parse().unwrap_or(0), h.parse().unwrap_or(0))).unwrap_or((0, 0));
    let packet = ibc_proto::ibc::core::channel::v1::Packet {
        sequence: get("packet_sequence").parse().ok()?,
        source_port: get("packet_src_port"),
        source_channel: get("packet_src_channel"),
        destination_port: get("packet_dst_port"),
        destination_channel: get("packet_dst_channel"),
        data: hex::decode(get("packet_data_hex")).ok()?,
        timeout_height: Some(ibc_proto::ibc::core::client::v1::Height { revision_number, revision_height }),
        timeout_timestamp: get("packet_timeout_timestamp").parse().unwrap_or(0),
    };
    let ack = hex::decode(get("packet_ack_hex")).ok()?;
    Some((packet, ack))
}
