//! IBC state keys and typed access. The only place IBC keys are spelled.
//!
//! Everything IBC lives in the cnidarium substore `ibc` (key prefix
//! `ibc/`), so that a counterparty verifies a value with two ICS23 proofs:
//! key -> substore root, then `ibc` -> app hash. The ICS-24 paths hold
//! values encoded exactly as ibc-go encodes them (client and consensus
//! states as `Any`, connection and channel ends as their protobuf,
//! commitments as 32-byte hashes, receipts as `0x01`, sequences as 8-byte
//! big-endian). Beside them, as ibc-go keeps bookkeeping in its own store,
//! sit a few Aegis keys: an ordered index of each client's consensus
//! heights, this chain's own recent consensus states, ICS-20 denom traces
//! and the module's params.
//!
//! ## The sync bridge
//!
//! ibc-rs's handler contexts are synchronous; cnidarium's reads are
//! futures (a snapshot read runs on tokio's blocking pool). [`block_on`]
//! is the one place a read is driven to completion from synchronous code:
//! it parks the calling thread until the read's future resolves. That is
//! sound on any tokio runtime, current-thread included, because the
//! futures it drives never need the calling thread to make progress: a
//! `StateDelta` read is answered from its cache or by a `spawn_blocking`
//! task on another thread, and it runs outside tokio's cooperative budget
//! (which would otherwise defer a wake-up until the parked task yields).
//! Block execution is sequential anyway, so parking the executing thread
//! costs nothing a `.await` would have saved.

use std::future::Future;

use cnidarium::StateRead;
use futures::StreamExt;

use crate::error::AppResult;
use crate::store::StoreWrite;

/// The substore's name: also the IBC commitment prefix.
pub const SUBSTORE: &str = "ibc";

pub mod keys {
    use std::fmt::Display;

    use ibc_core::host::types::path::ChannelEndPath;

    /// The state key of an ICS-24 path.
    pub fn path(p: impl Display) -> String {
        format!("ibc/{p}")
    }

    /// Ordered index of a client's consensus-state heights (ibc-go keeps
    /// `iterateConsensusStates` for the same purpose).
    pub fn consensus_heights(client_id: &str) -> String {
        format!("ibc/clients/{client_id}/consensusHeights/")
    }

    pub fn consensus_height(client_id: &str, revision: u64, height: u64) -> String {
        format!("{}{revision:020}-{height:020}", consensus_heights(client_id))
    }

    /// This chain's consensus state at a height (timestamp, app hash,
    /// next validators hash), for connection handshakes.
    pub fn host_consensus_state(height: u64) -> String {
        format!("ibc/hostConsensusStates/{height:020}")
    }

    pub fn denom_trace(hash: &str) -> String {
        format!("ibc/denomTraces/{hash}")
    }

    pub const DENOM_TRACES: &str = "ibc/denomTraces/";
    pub const PARAMS: &str = "ibc/params";

    /// The (revision, height) of a key suffix under [`consensus_heights`].
    pub fn parse_consensus_height(suffix: &str) -> Option<(u64, u64)> {
        let (rev, h) = suffix.split_once('-')?;
        Some((rev.parse().ok()?, h.parse().ok()?))
    }

    // Prefixes the list queries scan. Under `clients/` sit each client's
    // state, consensus states, connections and update metadata; the
    // others hold one object per key.

    /// Under it, `<client-id>/clientState` (and the rest of each client).
    pub const CLIENTS: &str = "ibc/clients/";
    pub const CLIENT_STATE_LEAF: &str = "/clientState";
    /// Under it, `<connection-id>`.
    pub const CONNECTIONS: &str = "ibc/connections/";
    /// Under it, `<port>/channels/<channel>`.
    pub const CHANNEL_ENDS: &str = "ibc/channelEnds/ports/";
    pub const CHANNELS_INFIX: &str = "/channels/";

    /// Under it, `<sequence>` (decimal, not zero-padded) of every packet
    /// commitment of a channel.
    pub fn commitments(channel: &ChannelEndPath) -> String {
        format!("ibc/{}/", channel.commitments_path())
    }

    /// Under it, `<sequence>` of every acknowledgement a channel wrote.
    pub fn acks(channel: &ChannelEndPath) -> String {
        format!("ibc/{}/", channel.acks_path())
    }
}

pub use keys::path as path_key;

/// Drive a future to completion on the calling thread (see the module
/// docs for why this is sound here).
///
/// The future runs outside tokio's cooperative budget (`unconstrained`):
/// a tokio task that has spent its budget gets `Pending` from a
/// `JoinHandle` with the wake-up deferred until the task yields to the
/// scheduler, which a thread parked here never does. Without this, a
/// message doing more than about a hundred reads would park forever.
pub fn block_on<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(tokio::task::unconstrained(f))
}

/// Synchronous, metered access to the store for the ibc-rs contexts.
pub trait SyncStore {
    fn get(&self, key: &str) -> AppResult<Option<Vec<u8>>>;
    fn put(&mut self, key: String, value: Vec<u8>) -> AppResult<()>;
    fn remove(&mut self, key: String) -> AppResult<()>;
    /// The (key, value) pairs under a prefix, in key order, up to and
    /// including the first for which `stop` says so (or `limit` of them);
    /// see [`crate::store::StoreRead::read_prefix_until`].
    fn scan_until(&self, prefix: &str, limit: usize, stop: &mut (dyn FnMut(&str) -> bool + Send)) -> AppResult<Vec<(String, Vec<u8>)>>;
}

impl<S: StoreWrite + Send + Sync> SyncStore for S {
    fn get(&self, key: &str) -> AppResult<Option<Vec<u8>>> {
        block_on(self.read_bytes(key))
    }

    fn put(&mut self, key: String, value: Vec<u8>) -> AppResult<()> {
        self.write_bytes(key, value)
    }

    fn remove(&mut self, key: String) -> AppResult<()> {
        self.delete_key(key)
    }

    fn scan_until(&self, prefix: &str, limit: usize, stop: &mut (dyn FnMut(&str) -> bool + Send)) -> AppResult<Vec<(String, Vec<u8>)>> {
        block_on(self.read_prefix_until(prefix, limit, stop))
    }
}

/// Read-only async access for queries.
pub async fn read_raw<S: StateRead + ?Sized>(state: &S, key: &str) -> AppResult<Option<Vec<u8>>> {
    state.get_raw(key).await.map_err(Into::into)
}

/// Every (key suffix after `prefix`, value) under `prefix`, in key order.
pub async fn scan_raw<S: StateRead + ?Sized>(state: &S, prefix: &str) -> AppResult<Vec<(String, Vec<u8>)>> {
    let mut stream = Box::pin(state.prefix_raw(prefix));
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        let (k, v) = item?;
        out.push((k[prefix.len()..].to_string(), v));
    }
    Ok(out)
}
