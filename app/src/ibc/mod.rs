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
