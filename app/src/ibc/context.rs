//! The host side of ibc-rs: its validation and execution contexts over
//! Aegis's store. Mostly reads and writes of ibc-go-encoded values at
//! ICS-24 paths (see `state.rs`), plus the facts only the host knows: its
//! height and time, its own consensus states, and what a counterparty's
//! client of Aegis must look like.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ibc_client_tendermint::client_state::ClientState as TmClientState;
use ibc_client_tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc_client_tendermint::types::ConsensusState as TmConsensusStateType;
use ibc_core::channel::types::channel::ChannelEnd;
use ibc_core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc_core::channel::types::packet::Receipt;
use ibc_core::client::context::prelude::*;
use ibc_core::client::types::Height;
use ibc_core::commitment_types::commitment::CommitmentPrefix;
use ibc_core::commitment_types::specs::ProofSpecs;
use ibc_core::connection::types::ConnectionEnd;
use ibc_core::handler::types::events::IbcEvent;
use ibc_core::host::types::error::HostError;
use ibc_core::host::types::identifiers::{ChainId, ClientId, ConnectionId, Sequence};
use ibc_core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath, ClientUpdateHeightPath, ClientUpdateTimePath,
    CommitmentPath, ConnectionPath, NextChannelSequencePath, NextClientSequencePath, NextConnectionSequencePath, ReceiptPath, SeqAckPath,
    SeqRecvPath, SeqSendPath,
};
use ibc_core::host::{ExecutionContext, ValidationContext};
use ibc_core::primitives::proto::Protobuf;
use ibc_core::primitives::{Signer, Timestamp};
use tendermint::abci::{Event, EventAttribute};

use super::params::IbcParams;
use super::state::{keys, SyncStore};
use crate::error::AppError;
use crate::store::{BlockContext, StoreWrite};
use crate::types::Address;

/// The proof specs of a value in Aegis's store: the key's proof in the
/// `ibc` substore, then the substore root's proof in the main store. Both
/// are Jellyfish Merkle tree proofs.
pub fn proof_specs() -> ProofSpecs {
    vec![cnidarium::ics23_spec(), cnidarium::ics23_spec()].try_into().expect("JMT proof specs are valid")
}

/// The IBC host context for one message: shared (through `Rc<RefCell>`)
/// with the application modules on the router, because ibc-rs hands the
/// context and the router to its handlers as two separate `&mut`.
pub struct IbcContext<'a, S> {
    pub(crate) state: Rc<RefCell<&'a mut S>>,
    pub(crate) params: IbcParams,
    pub(crate) block: BlockContext,
    pub(crate) chain_id: ChainId,
    /// Aegis's unbonding period: how long stake that leaves stays
    /// slashable (the restaking withdrawal delay; a consumer chain's is
    /// its CCV params' unbonding period).
    pub(crate) unbonding: Duration,
    /// The error an application module refused a callback with, in its own
    /// codespace: ibc-rs flattens module errors into a string, so the
    /// module leaves the typed error here for the message's result.
    pub(crate) module_error: Rc<RefCell<Option<AppError>>>,
}

impl<S> Clone for IbcContext<'_, S> {
    fn clone(&self) -> Self {
        IbcContext {
            state: self.state.clone(),
            params: self.params.clone(),
            block: self.block.clone(),
            chain_id: self.chain_id.clone(),
            unbonding: self.unbonding,
            module_error: self.module_error.clone(),
        }
    }
}

fn host_err(e: AppError) -> HostError {
    HostError::failed_to_retrieve(e.message)
}

fn decode_err(key: &str, e: impl std::fmt::Display) -> HostError {
    HostError::invalid_state(format!("corrupt value at {key}: {e}"))
}

impl<'a, S: StoreWrite + Send + Sync> IbcContext<'a, S> {
    pub fn new(state: &'a mut S, params: IbcParams, block: BlockContext, unbonding: Duration) -> Result<Self, AppError> {
        let chain_id = ChainId::new(&block.chain_id).map_err(|e| AppError::internal(format!("chain id {}: {e}", block.chain_id)))?;
        Ok(IbcContext { state: Rc::new(RefCell::new(state)), params, block, chain_id, unbonding, module_error: Rc::default() })
    }

    /// Record why an application module refused a callback (see
    /// `module_error`); the message fails with this error.
    pub(crate) fn set_module_error(&self, e: AppError) {
        *self.module_error.borrow_mut() = Some(e);
    }

    pub(crate) fn take_module_error(&self) -> Option<AppError> {
        self.module_error.borrow_mut().take()
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        self.state.borrow().get(key).map_err(host_err)
    }

    pub(crate) fn put(&self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        self.state.borrow_mut().put(key, value).map_err(|e| HostError::failed_to_store(e.message))
    }

    pub(crate) fn remove(&self, key: String) -> Result<(), HostError> {
        self.state.borrow_mut().remove(key).map_err(|e| HostError::failed_to_store(e.message))
    }

    fn get_required(&self, key: &str, what: impl FnOnce() -> String) -> Result<Vec<u8>, HostError> {
        self.get(key)?.ok_or_else(|| HostError::missing_state(what()))
    }

    fn get_u64(&self, key: &str) -> Result<Option<u64>, HostError> {
        match self.get(key)? {
            None => Ok(None),
            Some(b) => {
                let arr: [u8; 8] = b.as_slice().try_into().map_err(|_| decode_err(key, "not an 8-byte big-endian integer"))?;
                Ok(Some(u64::from_be_bytes(arr)))
            }
        }
    }

    fn put_u64(&self, key: String, v: u64) -> Result<(), HostError> {
        self.put(key, v.to_be_bytes().to_vec())
    }

    fn increase_counter(&self, key: String) -> Result<(), HostError> {
        let n = self.get_u64(&key)?.unwrap_or(0);
        let next = n.checked_add(1).ok_or_else(|| HostError::invalid_state(format!("{key} overflows")))?;
        self.put_u64(key, next)
    }

    /// Record an event, every attribute indexed (relayers search them).
    pub(crate) fn record(&self, event: Event) {
        let attributes = event
            .attributes
            .into_iter()
            .map(|a| match a {
                EventAttribute::V037(mut a) => {
                    a.index = true;
                    EventAttribute::V037(a)
                }
                EventAttribute::V034(mut a) => {
                    a.index = true;
                    EventAttribute::V034(a)
                }
            })
            .collect();
        self.state.borrow_mut().record(Event { kind: event.kind, attributes });
    }

    /// Heights of a client's stored consensus states, ascending, read from
    /// the ordered index until `stop` says so or `limit` are read.
    fn consensus_heights_until(&self, client_id: &ClientId, limit: usize, mut stop: impl FnMut(&Height) -> bool + Send) -> Result<Vec<Height>, HostError> {
        let prefix = keys::consensus_heights(client_id.as_str());
        let parse = |k: &str| -> Option<Height> {
            let (rev, h) = keys::parse_consensus_height(&k[prefix.len()..])?;
            Height::new(rev, h).ok()
        };
        let mut stop_at = |k: &str| parse(k).map(|h| stop(&h)).unwrap_or(true);
        let entries = self.state.borrow().scan_until(&prefix, limit, &mut stop_at).map_err(host_err)?;
        entries.iter().map(|(k, _)| parse(k).ok_or_else(|| decode_err(k, "bad height key"))).collect()
    }

    /// The client's consensus state at `h`, if it holds one (one read).
    fn stored_consensus_state(&self, client_id: &ClientId, h: &Height) -> Result<Option<TmConsensusState>, HostError> {
        let key = keys::path(ClientConsensusStatePath::new(client_id.clone(), h.revision_number(), h.revision_height()));
        match self.get(&key)? {
            Some(bytes) => <TmConsensusState as Protobuf<ibc_core::primitives::proto::Any>>::decode_vec(&bytes).map(Some).map_err(|e| decode_err(&key, e)),
            None => Ok(None),
        }
    }

    /// The client's latest verified height (its consensus state there is
    /// the newest one it holds).
    fn latest_height(&self, client_id: &ClientId) -> Result<Height, HostError> {
        Ok(ClientValidationContext::client_state(self, client_id)?.inner().latest_height)
    }

    /// This chain's height as IBC sees it (revision from the chain id).
    pub fn ibc_height(&self) -> Result<Height, HostError> {
        Height::new(self.chain_id.revision_number(), self.block.height).map_err(HostError::invalid_state)
    }
}

impl<S: StoreWrite + Send + Sync> ClientValidationContext for IbcContext<'_, S> {
    type ClientStateRef = TmClientState;
    type ConsensusStateRef = TmConsensusState;

    fn client_state(&self, client_id: &ClientId) -> Result<TmClientState, HostError> {
        let key = keys::path(ClientStatePath::new(client_id.clone()));
        let bytes = self.get_required(&key, || format!("client {client_id} does not exist"))?;
        <TmClientState as Protobuf<ibc_core::primitives::proto::Any>>::decode_vec(&bytes).map_err(|e| decode_err(&key, e))
    }

    fn consensus_state(&self, path: &ClientConsensusStatePath) -> Result<TmConsensusState, HostError> {
        let height = Height::new(path.revision_number, path.revision_height).map_err(HostError::invalid_state)?;
        self.stored_consensus_state(&path.client_id, &height)?.ok_or_else(|| {
            HostError::missing_state(format!("client {} has no consensus state at height {}-{}", path.client_id, path.revision_number, path.revision_height))
        })
    }

    fn client_update_meta(&self, client_id: &ClientId, height: &Height) -> Result<(Timestamp, Height), HostError> {
        let time_key = keys::path(ClientUpdateTimePath::new(client_id.clone(), height.revision_number(), height.revision_height()));
        let height_key = keys::path(ClientUpdateHeightPath::new(client_id.clone(), height.revision_number(), height.revision_height()));
        let missing = || HostError::missing_state(format!("client {client_id} has no update metadata at height {height}"));
        let t = self.get_u64(&time_key)?.ok_or_else(missing)?;
        let h = self.get(&height_key)?.ok_or_else(missing)?;
        let h = <Height as Protobuf<ibc_proto::ibc::core::client::v1::Height>>::decode_vec(&h).map_err(|e| decode_err(&height_key, e))?;
        Ok((Timestamp::from_nanoseconds(t), h))
    }
}

impl<S: StoreWrite + Send + Sync> ClientExecutionContext for IbcContext<'_, S> {
    type ClientStateMut = TmClientState;

    fn store_client_state(&mut self, path: ClientStatePath, client_state: TmClientState) -> Result<(), HostError> {
        self.put(keys::path(path), Protobuf::<ibc_core::primitives::proto::Any>::encode_vec(client_state))
    }

    fn store_consensus_state(&mut self, path: ClientConsensusStatePath, consensus_state: TmConsensusState) -> Result<(), HostError> {
        self.put(keys::consensus_height(path.client_id.as_str(), path.revision_number, path.revision_height), vec![])?;
        self.put(keys::path(&path), Protobuf::<ibc_core::primitives::proto::Any>::encode_vec(consensus_state))
    }

    fn delete_consensus_state(&mut self, path: ClientConsensusStatePath) -> Result<(), HostError> {
        self.remove(keys::consensus_height(path.client_id.as_str(), path.revision_number, path.revision_height))?;
        self.remove(keys::path(&path))
    }

    fn store_update_meta(&mut self, client_id: ClientId, height: Height, host_timestamp: Timestamp, host_height: Height) -> Result<(), HostError> {
        let time_key = keys::path(ClientUpdateTimePath::new(client_id.clone(), height.revision_number(), height.revision_height()));
        let height_key = keys::path(ClientUpdateHeightPath::new(client_id, height.revision_number(), height.revision_height()));
        self.put_u64(time_key, host_timestamp.nanoseconds())?;
        self.put(height_key, Protobuf::<ibc_proto::ibc::core::client::v1::Height>::encode_vec(host_height))
    }

    fn delete_update_meta(&mut self, client_id: ClientId, height: Height) -> Result<(), HostError> {
        self.remove(keys::path(ClientUpdateTimePath::new(client_id.clone(), height.revision_number(), height.revision_height())))?;
        self.remove(keys::path(ClientUpdateHeightPath::new(client_id, height.revision_number(), height.revision_height())))
    }
}

impl<S: StoreWrite + Send + Sync> ExtClientValidationContext for IbcContext<'_, S> {
    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        ValidationContext::host_timestamp(self)
    }

    fn host_height(&self) -> Result<Height, HostError> {
        ValidationContext::host_height(self)
    }

    /// The oldest [`PRUNE_BATCH`] heights, not all of them. ibc-rs asks for
    /// this list only to prune expired consensus states after an update,
    /// oldest first, stopping at the first live one; listing every height
    /// would make each update cost more with every state a client keeps
    /// (up to trusting period / block time of them). So at most
    /// `PRUNE_BATCH` expired states go per update (one does in the steady
    /// state of an update per block), and a backlog goes over the next
    /// updates.
    fn consensus_state_heights(&self, client_id: &ClientId) -> Result<Vec<Height>, HostError> {
        self.consensus_heights_until(client_id, PRUNE_BATCH, |_| false)
    }

    /// The consensus state just above `height`. A header above the client's
    /// latest height (the usual update) has none, known without a scan;
    /// filling in an older height scans the index from the oldest up to it.
    fn next_consensus_state(&self, client_id: &ClientId, height: &Height) -> Result<Option<TmConsensusState>, HostError> {
        if *height >= self.latest_height(client_id)? {
            return Ok(None);
        }
        let heights = self.consensus_heights_until(client_id, usize::MAX, |h| h > height)?;
        match heights.last().filter(|h| *h > height) {
            Some(h) => self.stored_consensus_state(client_id, h),
            None => Ok(None),
        }
    }

    /// The consensus state just below `height`: for a header above the
    /// client's latest height, the latest one (no scan).
    fn prev_consensus_state(&self, client_id: &ClientId, height: &Height) -> Result<Option<TmConsensusState>, HostError> {
        let latest = self.latest_height(client_id)?;
        let below = if *height > latest {
            Some(latest)
        } else {
            let heights = self.consensus_heights_until(client_id, usize::MAX, |h| h >= height)?;
            heights.into_iter().rev().find(|h| h < height)
        };
        match below {
            Some(h) => self.stored_consensus_state(client_id, &h),
            None => Ok(None),
        }
    }
}

/// How many expired consensus states one client update may prune.
pub const PRUNE_BATCH: usize = 16;

impl<S: StoreWrite + Send + Sync> ValidationContext for IbcContext<'_, S> {
    type V = Self;
    type HostClientState = TmClientState;
    type HostConsensusState = TmConsensusState;

    fn get_client_validation_context(&self) -> &Self {
        self
    }

    fn host_height(&self) -> Result<Height, HostError> {
        self.ibc_height()
    }

    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        let secs = u64::try_from(self.block.time_seconds).map_err(|_| HostError::invalid_state("block time before 1970"))?;
        Timestamp::from_unix_timestamp(secs, self.block.time_nanos).map_err(HostError::invalid_state)
    }

    fn host_consensus_state(&self, height: &Height) -> Result<TmConsensusState, HostError> {
        if height.revision_number() != self.chain_id.revision_number() {
            return Err(HostError::missing_state(format!(
                "no consensus state of this chain at {height}: its revision is {}",
                self.chain_id.revision_number()
            )));
        }
        let key = keys::host_consensus_state(height.revision_height());
        let bytes = self.get_required(&key, || {
            format!(
                "no consensus state of this chain at height {height}: only the last {} blocks are kept",
                self.params.historical_entries
            )
        })?;
        let raw = <TmConsensusStateType as Protobuf<ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState>>::decode_vec(&bytes)
            .map_err(|e| decode_err(&key, e))?;
        Ok(raw.into())
    }

    fn client_counter(&self) -> Result<u64, HostError> {
        Ok(self.get_u64(&keys::path(NextClientSequencePath))?.unwrap_or(0))
    }

    fn connection_end(&self, conn_id: &ConnectionId) -> Result<ConnectionEnd, HostError> {
        let key = keys::path(ConnectionPath::new(conn_id));
        let bytes = self.get_required(&key, || format!("connection {conn_id} does not exist"))?;
        ConnectionEnd::decode_vec(&bytes).map_err(|e| decode_err(&key, e))
    }

    /// The counterparty's client of Aegis must track this chain, at this
    /// revision, below the current height, unfrozen, with Aegis's proof
    /// specs, and with a trusting period shorter than Aegis's unbonding
    /// period (otherwise a validator could leave and sign lies unpunished).
    fn validate_self_client(&self, cs: TmClientState) -> Result<(), HostError> {
        let cs = cs.inner();
        if cs.is_frozen() {
            return Err(HostError::invalid_state("the counterparty's client of this chain is frozen"));
        }
        if cs.chain_id != self.chain_id {
            return Err(HostError::invalid_state(format!(
                "the counterparty's client tracks chain {}, this chain is {}",
                cs.chain_id, self.chain_id
            )));
        }
        let host = self.ibc_height()?;
        if cs.latest_height.revision_number() != host.revision_number() {
            return Err(HostError::invalid_state(format!(
                "the counterparty's client is at revision {}, this chain at {}",
                cs.latest_height.revision_number(),
                host.revision_number()
            )));
        }
        if cs.latest_height >= host {
            return Err(HostError::invalid_state(format!(
                "the counterparty's client is at height {}, not below this chain's height {host}",
                cs.latest_height
            )));
        }
        if cs.proof_specs != proof_specs() {
            return Err(HostError::invalid_state("the counterparty's client of this chain has the wrong proof specs (want two JMT specs)"));
        }
        let unbonding = self.unbonding;
        if cs.unbonding_period != unbonding {
            return Err(HostError::invalid_state(format!(
                "the counterparty's client has unbonding period {:?}, this chain's is {unbonding:?}",
                cs.unbonding_period
            )));
        }
        if cs.trusting_period >= unbonding {
            return Err(HostError::invalid_state(format!(
                "the counterparty's client has trusting period {:?}, which must be below this chain's unbonding period {unbonding:?}",
                cs.trusting_period
            )));
        }
        Ok(())
    }

    fn commitment_prefix(&self) -> CommitmentPrefix {
        CommitmentPrefix::from(super::state::SUBSTORE.as_bytes().to_vec())
    }

    fn connection_counter(&self) -> Result<u64, HostError> {
        Ok(self.get_u64(&keys::path(NextConnectionSequencePath))?.unwrap_or(0))
    }

    fn channel_end(&self, path: &ChannelEndPath) -> Result<ChannelEnd, HostError> {
        let key = keys::path(path);
        let bytes = self.get_required(&key, || format!("channel {} on port {} does not exist", path.1, path.0))?;
        ChannelEnd::decode_vec(&bytes).map_err(|e| decode_err(&key, e))
    }

    fn get_next_sequence_send(&self, path: &SeqSendPath) -> Result<Sequence, HostError> {
        let key = keys::path(path);
        self.get_u64(&key)?.map(Sequence::from).ok_or_else(|| HostError::missing_state(format!("no send sequence for {}/{}", path.0, path.1)))
    }

    fn get_next_sequence_recv(&self, path: &SeqRecvPath) -> Result<Sequence, HostError> {
        let key = keys::path(path);
        self.get_u64(&key)?.map(Sequence::from).ok_or_else(|| HostError::missing_state(format!("no receive sequence for {}/{}", path.0, path.1)))
    }

    fn get_next_sequence_ack(&self, path: &SeqAckPath) -> Result<Sequence, HostError> {
        let key = keys::path(path);
        self.get_u64(&key)?.map(Sequence::from).ok_or_else(|| HostError::missing_state(format!("no ack sequence for {}/{}", path.0, path.1)))
    }

    fn get_packet_commitment(&self, path: &CommitmentPath) -> Result<PacketCommitment, HostError> {
        let key = keys::path(path);
        let bytes = self.get_required(&key, || {
            format!("no commitment for packet {} on {}/{} (never sent, or already acknowledged or timed out)", path.sequence, path.port_id, path.channel_id)
        })?;
        Ok(bytes.into())
    }

    fn get_packet_receipt(&self, path: &ReceiptPath) -> Result<Receipt, HostError> {
        Ok(match self.get(&keys::path(path))? {
            Some(_) => Receipt::Ok,
            None => Receipt::None,
        })
    }

    fn get_packet_acknowledgement(&self, path: &AckPath) -> Result<AcknowledgementCommitment, HostError> {
        let key = keys::path(path);
        let bytes = self.get_required(&key, || format!("no acknowledgement for packet {} on {}/{}", path.sequence, path.port_id, path.channel_id))?;
        Ok(bytes.into())
    }

    fn channel_counter(&self) -> Result<u64, HostError> {
        Ok(self.get_u64(&keys::path(NextChannelSequencePath))?.unwrap_or(0))
    }

    fn max_expected_time_per_block(&self) -> Duration {
        Duration::from_secs(self.params.max_expected_time_per_block_seconds)
    }

    fn validate_message_signer(&self, signer: &Signer) -> Result<(), HostError> {
        Address::parse(signer.as_ref()).map(|_| ()).map_err(|e| HostError::invalid_state(e.message))
    }
}

impl<S: StoreWrite + Send + Sync> ExecutionContext for IbcContext<'_, S> {
    type E = Self;

    fn get_client_execution_context(&mut self) -> &mut Self {
        self
    }

    fn increase_client_counter(&mut self) -> Result<(), HostError> {
        self.increase_counter(keys::path(NextClientSequencePath))
    }

    fn store_connection(&mut self, path: &ConnectionPath, connection_end: ConnectionEnd) -> Result<(), HostError> {
        self.put(keys::path(path), connection_end.encode_vec())
    }

    /// A client's connections, as ibc-go stores them: a `ClientPaths`
    /// message listing connection paths (ids).
    fn store_connection_to_client(&mut self, path: &ClientConnectionPath, conn_id: ConnectionId) -> Result<(), HostError> {
        use prost::Message;
        let key = keys::path(path);
        let mut paths = match self.get(&key)? {
            Some(b) => ibc_proto::ibc::core::connection::v1::ClientPaths::decode(b.as_slice()).map_err(|e| decode_err(&key, e))?,
            None => Default::default(),
        };
        paths.paths.push(conn_id.to_string());
        self.put(key, paths.encode_to_vec())
    }

    fn increase_connection_counter(&mut self) -> Result<(), HostError> {
        self.increase_counter(keys::path(NextConnectionSequencePath))
    }

    fn store_packet_commitment(&mut self, path: &CommitmentPath, commitment: PacketCommitment) -> Result<(), HostError> {
        self.put(keys::path(path), commitment.into_vec())
    }

    fn delete_packet_commitment(&mut self, path: &CommitmentPath) -> Result<(), HostError> {
        self.remove(keys::path(path))
    }

    fn store_packet_receipt(&mut self, path: &ReceiptPath, _receipt: Receipt) -> Result<(), HostError> {
        self.put(keys::path(path), vec![1])
    }

    fn store_packet_acknowledgement(&mut self, path: &AckPath, ack_commitment: AcknowledgementCommitment) -> Result<(), HostError> {
        self.put(keys::path(path), ack_commitment.into_vec())
    }

    fn delete_packet_acknowledgement(&mut self, path: &AckPath) -> Result<(), HostError> {
        self.remove(keys::path(path))
    }

    fn store_channel(&mut self, path: &ChannelEndPath, channel_end: ChannelEnd) -> Result<(), HostError> {
        self.put(keys::path(path), channel_end.encode_vec())
    }

    fn store_next_sequence_send(&mut self, path: &SeqSendPath, seq: Sequence) -> Result<(), HostError> {
        self.put_u64(keys::path(path), seq.value())
    }

    fn store_next_sequence_recv(&mut self, path: &SeqRecvPath, seq: Sequence) -> Result<(), HostError> {
        self.put_u64(keys::path(path), seq.value())
    }

    fn store_next_sequence_ack(&mut self, path: &SeqAckPath, seq: Sequence) -> Result<(), HostError> {
        self.put_u64(keys::path(path), seq.value())
    }

    fn increase_channel_counter(&mut self) -> Result<(), HostError> {
        self.increase_counter(keys::path(NextChannelSequencePath))
    }

    fn emit_ibc_event(&mut self, event: IbcEvent) -> Result<(), HostError> {
        let event: Event = match packet_event_with_binary_data(&event) {
            Some(e) => e,
            None => event.try_into().map_err(|e| HostError::invalid_state(format!("cannot encode IBC event: {e:?}")))?,
        };
        self.record(event);
        Ok(())
    }

    fn log_message(&mut self, message: String) -> Result<(), HostError> {
        tracing::debug!(target: "ibc", "{message}");
        Ok(())
    }
}

/// ibc-rs cannot encode the event of a packet whose data is not UTF-8 (its
/// deprecated `packet_data` attribute is a string), which would make such a
/// packet impossible to send, receive or acknowledge. ibc-go emits the
/// bytes as they are; Aegis emits `packet_data` lossily and
/// `packet_data_hex` exactly (what relayers read). `None` when the event
/// needs no such care.
fn packet_event_with_binary_data(event: &IbcEvent) -> Option<Event> {
    use ibc_core::channel::types::events::{ReceivePacket, SendPacket, WriteAcknowledgement};
    use ibc_core::channel::types::packet::Packet;
    // The getters name the sides from each event's point of view
    // (`ReceivePacket::port_id_on_b` is the *source* port), so each case
    // says which getter holds the source and which the destination.
    macro_rules! lossy {
        ($e:expr, $seq:ident, $src_port:ident, $src_chan:ident, $dst_port:ident, $dst_chan:ident) => {{
            if std::str::from_utf8($e.packet_data()).is_ok() {
                return None;
            }
            let packet = Packet {
                seq_on_a: *$e.$seq(),
                port_id_on_a: $e.$src_port().clone(),
                chan_id_on_a: $e.$src_chan().clone(),
                port_id_on_b: $e.$dst_port().clone(),
                chan_id_on_b: $e.$dst_chan().clone(),
                data: String::from_utf8_lossy($e.packet_data()).into_owned().into_bytes(),
                timeout_height_on_b: *$e.timeout_height_on_b(),
                timeout_timestamp_on_b: *$e.timeout_timestamp_on_b(),
            };
            (packet, $e.packet_data().to_vec())
        }};
    }
    let (rebuilt, data) = match event {
        IbcEvent::SendPacket(e) => {
            let (p, d) = lossy!(e, seq_on_a, port_id_on_a, chan_id_on_a, port_id_on_b, chan_id_on_b);
            (IbcEvent::SendPacket(SendPacket::new(p, *e.channel_ordering(), e.conn_id_on_a().clone())), d)
        }
        IbcEvent::ReceivePacket(e) => {
            let (p, d) = lossy!(e, seq_on_b, port_id_on_b, chan_id_on_b, port_id_on_a, chan_id_on_a);
            (IbcEvent::ReceivePacket(ReceivePacket::new(p, *e.channel_ordering(), e.conn_id_on_a().clone())), d)
        }
        IbcEvent::WriteAcknowledgement(e) => {
            let (p, d) = lossy!(e, seq_on_a, port_id_on_a, chan_id_on_a, port_id_on_b, chan_id_on_b);
            (IbcEvent::WriteAcknowledgement(WriteAcknowledgement::new(p, e.acknowledgement().clone(), e.conn_id_on_b().clone())), d)
        }
        _ => return None,
    };
    let mut event: Event = rebuilt.try_into().ok()?;
    for a in event.attributes.iter_mut() {
        if a.key_str().ok() == Some("packet_data_hex") {
            *a = ("packet_data_hex", hex::encode(&data)).into();
        }
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use ibc_core::channel::types::acknowledgement::Acknowledgement;
    use ibc_core::channel::types::channel::Order;
    use ibc_core::channel::types::events::{ReceivePacket, SendPacket, WriteAcknowledgement};
    use ibc_core::channel::types::packet::Packet;
    use ibc_core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
    use ibc_core::client::types::Height;

    use super::*;

    fn packet(data: Vec<u8>) -> Packet {
        Packet {
            seq_on_a: 5u64.into(),
            port_id_on_a: "transfer".parse().unwrap(),
            chan_id_on_a: "channel-1".parse().unwrap(),
            port_id_on_b: "other".parse().unwrap(),
            chan_id_on_b: "channel-7".parse().unwrap(),
            data,
            timeout_height_on_b: TimeoutHeight::At(Height::new(0, 99).unwrap()),
            timeout_timestamp_on_b: TimeoutTimestamp::Never,
        }
    }

    fn attrs(e: &Event) -> Vec<(String, String)> {
        e.attributes.iter().map(|a| (a.key_str().unwrap().to_string(), a.value_str().unwrap().to_string())).collect()
    }

    /// Binary packet data gets the same event as text data would, except
    /// `packet_data` (lossy) and `packet_data_hex` (the exact bytes).
    #[test]
    fn packet_events_of_binary_data_keep_every_other_attribute() {
        let conn: ConnectionId = "connection-3".parse().unwrap();
        let ack = Acknowledgement::try_from(b"{}".to_vec()).unwrap();
        let cases: Vec<fn(Packet) -> IbcEvent> = vec![
            |p| IbcEvent::SendPacket(SendPacket::new(p, Order::Unordered, "connection-3".parse().unwrap())),
            |p| IbcEvent::ReceivePacket(ReceivePacket::new(p, Order::Unordered, "connection-3".parse().unwrap())),
        ];
        let binary = vec![0xff, 0x00, 0x41];
        let text = String::from_utf8_lossy(&binary).into_owned().into_bytes();
        let mut events: Vec<(IbcEvent, IbcEvent)> = cases.iter().map(|make| (make(packet(binary.clone())), make(packet(text.clone())))).collect();
        events.push((
            IbcEvent::WriteAcknowledgement(WriteAcknowledgement::new(packet(binary.clone()), ack.clone(), conn.clone())),
            IbcEvent::WriteAcknowledgement(WriteAcknowledgement::new(packet(text.clone()), ack, conn)),
        ));
        for (bin, txt) in events {
            let got = packet_event_with_binary_data(&bin).expect("binary data needs the fallback");
            let want: Event = txt.try_into().unwrap();
            assert_eq!(got.kind, want.kind);
            let (got, want) = (attrs(&got), attrs(&want));
            for ((gk, gv), (wk, wv)) in got.iter().zip(want.iter()) {
                assert_eq!(gk, wk);
                if gk == "packet_data_hex" {
                    assert_eq!(gv, "ff0041");
                } else {
                    assert_eq!(gv, wv, "{gk}");
                }
            }
            assert_eq!(got.len(), want.len());
            assert!(got.iter().any(|(k, v)| k == "packet_src_channel" && v == "channel-1"));
            assert!(got.iter().any(|(k, v)| k == "packet_dst_channel" && v == "channel-7"));
        }
        assert!(packet_event_with_binary_data(&IbcEvent::SendPacket(SendPacket::new(packet(b"text".to_vec()), Order::Unordered, "connection-0".parse().unwrap()))).is_none());
    }
}
