//! The `consumer` port's module on the IBC router: ICS's
//! `x/ccv/consumer/ibc_module.go`. The consumer opens the one ORDERED CCV
//! channel to the provider's `provider` port over the provider client
//! created at genesis; the provider answers with its fee-pool address in
//! the handshake metadata; VSC packets then carry the provider's validator
//! set changes, which this chain hands to CometBFT at the end of the block.
//!
//! Nothing the provider (or a relayer) sends may halt this chain: a packet
//! that cannot be applied is answered with an error acknowledgement and
//! changes nothing.

use std::collections::BTreeMap;

use ibc_core::channel::types::acknowledgement::Acknowledgement;
use ibc_core::channel::types::channel::{Counterparty, Order};
use ibc_core::channel::types::error::ChannelError;
use ibc_core::channel::types::packet::Packet;
use ibc_core::channel::types::Version;
use ibc_core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc_core::host::ValidationContext;
use ibc_core::primitives::Signer;
use ibc_core::router::module::Module;
use ibc_core::router::types::module::ModuleExtras;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::{ConsumerRead, ConsumerWrite};
use super::ConsumerError;
use crate::ccv;
use crate::error::{AppError, AppResult};
use crate::ibc::context::IbcContext;
use crate::ibc::state::block_on;
use crate::store::StoreWrite;

pub const MODULE_ID: &str = "consumer";

/// CometBFT's bound on the total voting power of a validator set
/// (`types.MaxTotalVotingPower`).
pub const MAX_TOTAL_POWER: i64 = i64::MAX / 8;

pub struct ConsumerModule<'a, S> {
    ctx: IbcContext<'a, S>,
}

impl<'a, S> ConsumerModule<'a, S> {
    pub fn new(ctx: IbcContext<'a, S>) -> Self {
        ConsumerModule { ctx }
    }
}

impl<S> std::fmt::Debug for ConsumerModule<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsumerModule")
    }
}

/// Why a key/power pair cannot be handed to CometBFT, if it cannot.
pub fn invalid_update(pubkey: &[u8; 32], power: i64) -> Option<String> {
    if power < 0 {
        return Some(format!("validator {} has negative power {power}", hex::encode(pubkey)));
    }
    if tendermint::PublicKey::from_raw_ed25519(pubkey).is_none() {
        return Some(format!("validator key {} is not a valid ed25519 public key", hex::encode(pubkey)));
    }
    None
}

/// The set `current` becomes with `changes` applied (power 0 removes), or
/// why CometBFT would refuse it: empty, or above its total-power bound.
pub fn resulting_set(current: &[(String, i64)], changes: &BTreeMap<String, i64>) -> Result<BTreeMap<String, i64>, String> {
    let mut set: BTreeMap<String, i64> = current.iter().cloned().collect();
    for (k, p) in changes {
        if *p == 0 {
            set.remove(k);
        } else {
            set.insert(k.clone(), *p);
        }
    }
    if set.is_empty() {
        return Err("the validator set would be empty".into());
    }
    let total: i128 = set.values().map(|p| *p as i128).sum();
    if total > MAX_TOTAL_POWER as i128 {
        return Err(format!("total voting power {total} would exceed CometBFT's maximum {MAX_TOTAL_POWER}"));
    }
    Ok(set)
}

/// A slash ack's bech32 consensus address (any prefix, ICS's
/// `GetConsAddrFromBech32`) as hex, if it is one.
fn slash_ack_address(ack: &str) -> Option<String> {
    let id: cosmrs::AccountId = ack.trim().parse().ok()?;
    Some(hex::encode_upper(id.to_bytes()))
}

impl<S: StoreWrite + Send + Sync> ConsumerModule<'_, S> {
    /// Refuse a callback: the typed error goes to the message's result, its
    /// text to ibc-rs.
    fn refuse(&self, e: ConsumerError) -> ChannelError {
        let description = e.to_string();
        self.ctx.set_module_error(e.into());
        ChannelError::AppSpecific { description }
    }

    fn read<T>(&self, f: impl std::future::Future<Output = AppResult<T>>) -> Result<T, ChannelError> {
        block_on(f).map_err(|e| self.fail(e))
    }

    /// A store failure (not the counterparty's fault) fails the message.
    fn fail(&self, e: AppError) -> ChannelError {
        let description = e.message.clone();
        self.ctx.set_module_error(e);
        ChannelError::AppSpecific { description }
    }

    /// ICS's `OnChanOpenInit` checks; the version the channel gets.
    fn check_open_init(&self, order: Order, hops: &[ConnectionId], port_id: &PortId, counterparty: &Counterparty, version: &Version) -> Result<Version, ChannelError> {
        // ICS-26: an empty version means the default one.
        let version = if version.as_str().trim().is_empty() { ccv::VERSION.to_string() } else { version.to_string() };
        if let Some(channel) = self.read(self.ctx.state.borrow().provider_channel())? {
            return Err(self.refuse(ConsumerError::DuplicateChannel { channel }));
        }
        if order != Order::Ordered {
            return Err(self.refuse(ConsumerError::Ordering { got: order.to_string() }));
        }
        if port_id.as_str() != ccv::CONSUMER_PORT {
            return Err(self.refuse(ConsumerError::Port { got: port_id.to_string(), want: ccv::CONSUMER_PORT }));
        }
        if version != ccv::VERSION {
            return Err(self.refuse(ConsumerError::Version { got: version, want: ccv::VERSION }));
        }
        if counterparty.port_id.as_str() != ccv::PROVIDER_PORT {
            return Err(self.refuse(ConsumerError::CounterpartyPort { got: counterparty.port_id.to_string(), want: ccv::PROVIDER_PORT }));
        }
        // ICS's VerifyProviderChain: one hop, over the genesis client.
        if hops.len() != 1 {
            return Err(self.refuse(ConsumerError::ConnectionHops { hops: hops.len() }));
        }
        let conn = self.ctx.connection_end(&hops[0]).map_err(|e| self.refuse(ConsumerError::Connection(e.to_string())))?;
        let Some(want) = self.read(self.ctx.state.borrow().provider_client_id())? else {
            return Err(self.refuse(ConsumerError::NotConsumer));
        };
        if conn.client_id().as_str() != want {
            return Err(self.refuse(ConsumerError::WrongClient { got: conn.client_id().to_string(), want }));
        }
        Ok(Version::new(version))
    }

    fn record(&self, event: Event) {
        self.ctx.state.borrow_mut().record(event);
    }

    /// ICS's `OnRecvVSCPacket`, with every check before the first write.
    fn recv_vsc(&self, packet: &Packet) -> Result<u64, ConsumerError> {
        let data = ccv::VscPacket::decode(&packet.data).map_err(|e| ConsumerError::InvalidPacket(format!("cannot unmarshal VSCPacket data: {e}")))?;
        if data.valset_update_id == 0 {
            return Err(ConsumerError::InvalidPacket("valset update id cannot be equal to zero".into()));
        }
        let internal = |e: AppError| ConsumerError::InvalidPacket(e.message);
        let channel = packet.chan_id_on_b.to_string();
        let state = self.ctx.state.borrow();
        let provider_channel = block_on(state.provider_channel()).map_err(internal)?;
        if block_on(state.ccv_channel_state()).map_err(internal)? == super::CcvChannelState::Closed {
            return Err(ConsumerError::ChannelClosed { channel: provider_channel.unwrap_or(channel) });
        }
        if let Some(p) = &provider_channel {
            if *p != channel {
                // ICS panics here; a packet must never halt this chain.
                return Err(ConsumerError::InvalidPacket(format!("VSC packet received on channel {channel}, the CCV channel is {p}")));
            }
        }
        let mut pending = block_on(state.pending_changes()).map_err(internal)?;
        for u in &data.updates {
            if let Some(why) = invalid_update(&u.pubkey, u.power) {
                return Err(ConsumerError::InvalidPacket(why));
            }
            pending.insert(hex::encode(u.pubkey), u.power);
        }
        let current: Vec<(String, i64)> =
            block_on(state.consumer_validators()).map_err(internal)?.into_iter().map(|v| (hex::encode(v.pubkey), v.power)).collect();
        resulting_set(&current, &pending).map_err(|why| ConsumerError::InvalidPacket(format!("valset update {} refused: {why}", data.valset_update_id)))?;
        drop(state);

        let mut state = self.ctx.state.borrow_mut();
        if provider_channel.is_none() {
            state.put_provider_channel(&channel).map_err(internal)?;
            tracing::info!(target: "consumer", port = %packet.port_id_on_b, channel = %channel, "CCV channel established");
            state.record(Event::new(
                "channel_established",
                [("module", "consumer").index(), ("channel_id", channel.as_str()).index(), ("port_id", packet.port_id_on_b.as_str()).index()],
            ));
        }
        state.put_pending_changes(&pending).map_err(internal)?;
        // ICS maps the next height: infractions from then on are judged
        // against the set this packet brings.
        let height = self.ctx.block.height + 1;
        state.put_height_valset_update_id(height, data.valset_update_id).map_err(internal)?;
        state.put_last_valset_update_id(data.valset_update_id).map_err(internal)?;
        // Slash acks (which an Aegis provider never sends, ICS v6+ consumers
        // reading the slash packet's own ack): those validators' downtime
        // is no longer outstanding. One that does not parse is logged and
        // skipped, as ICS skips it.
        for ack in &data.slash_acks {
            match slash_ack_address(ack) {
                Some(cons) => state.put_outstanding_downtime(&cons, false).map_err(internal)?,
                None => tracing::error!(target: "consumer", vsc_id = data.valset_update_id, "invalid consensus address {ack:?} in the VSC packet's slash acks"),
            }
        }
        tracing::info!(target: "consumer", vsc_id = data.valset_update_id, updates = data.updates.len(), "received VSC packet");
        Ok(data.valset_update_id)
    }

    /// ICS's `OnChanOpenAck` tail: unless the distribution channel named in
    /// the params exists, start a `transfer` channel (UNORDERED, `ics20-1`)
    /// over the CCV channel's connection and make it the distribution
    /// channel; a relayer completes its handshake. ICS fails the CCV
    /// handshake if this cannot start; Aegis logs it and opens the CCV
    /// channel anyway (rewards can be pointed at a channel later, the
    /// validator set cannot wait).
    fn open_distribution_channel(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        let Some(mut params) = self.read(self.ctx.state.borrow().consumer_params())? else { return Ok(()) };
        let existing = params.distribution_transmission_channel.clone();
        if !existing.is_empty() && crate::ibc::host::channel_end(&self.ctx, "transfer", &existing).is_ok() {
            return Ok(());
        }
        let opened = crate::ibc::host::channel_end(&self.ctx, port_id.as_str(), channel_id.as_str()).and_then(|ccv| {
            let hop = ccv.connection_hops.first().cloned().ok_or_else(|| AppError::internal("the CCV channel has no connection"))?;
            crate::ibc::host::channel_open_init(&self.ctx, "transfer", &hop, "transfer", "ics20-1", Order::Unordered, &crate::types::Address::module(super::MODULE))
        });
        match opened {
            Ok(transfer) => {
                params.distribution_transmission_channel = transfer.clone();
                self.ctx.state.borrow_mut().put_consumer_params(&params).map_err(|e| self.fail(e))?;
                tracing::info!(target: "consumer", channel = %transfer, "distribution channel opened (INIT) for rewards to the provider");
                self.record(Event::new(
                    "fee_transfer_channel_opened",
                    [("module", "consumer".to_string()).index(), ("channel_id", transfer).index(), ("port_id", "transfer".to_string()).index()],
                ));
            }
            Err(e) => {
                tracing::error!(target: "consumer", "cannot open the distribution channel; rewards wait until one is set: {}", e.message);
                self.record(Event::new("fee_transfer_channel_failed", [("module", "consumer".to_string()).index(), ("error", e.message).no_index()]));
            }
        }
        Ok(())
    }

    fn close_ccv_channel(&self, channel: &ChannelId, why: &str) -> Result<(), ChannelError> {
        let provider = self.read(self.ctx.state.borrow().provider_channel())?;
        if provider.as_deref() == Some(channel.as_str()) {
            tracing::error!(target: "consumer", channel = %channel, "CCV channel closed ({why}): this chain accepts no more validator set changes from the provider");
            self.ctx.state.borrow_mut().mark_ccv_channel_closed().map_err(|e| self.fail(e))?;
            self.record(Event::new("ccv_channel_closed", [("module", "consumer").index(), ("channel_id", channel.as_str()).index(), ("reason", why).index()]));
        }
        Ok(())
    }
}

impl<S: StoreWrite + Send + Sync> Module for ConsumerModule<'_, S> {
    fn on_chan_open_init_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<Version, ChannelError> {
        self.check_open_init(order, hops, port_id, counterparty, version)
    }

    fn on_chan_open_init_execute(
        &mut self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        Ok((ModuleExtras::empty(), self.check_open_init(order, hops, port_id, counterparty, version)?))
    }

    fn on_chan_open_try_validate(&self, _: Order, _: &[ConnectionId], _: &PortId, _: &ChannelId, _: &Counterparty, _: &Version) -> Result<Version, ChannelError> {
        Err(self.refuse(ConsumerError::InvalidChannelFlow))
    }

    fn on_chan_open_try_execute(
        &mut self,
        _: Order,
        _: &[ConnectionId],
        _: &PortId,
        _: &ChannelId,
        _: &Counterparty,
        _: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        Err(self.refuse(ConsumerError::InvalidChannelFlow))
    }

    fn on_chan_open_ack_validate(&self, _port_id: &PortId, _channel_id: &ChannelId, counterparty_version: &Version) -> Result<(), ChannelError> {
        if let Some(channel) = self.read(self.ctx.state.borrow().provider_channel())? {
            return Err(self.refuse(ConsumerError::DuplicateChannel { channel }));
        }
        ccv::parse_handshake_metadata(counterparty_version.as_str()).map_err(|e| self.refuse(ConsumerError::HandshakeMetadata(e)))?;
        Ok(())
    }

    fn on_chan_open_ack_execute(&mut self, port_id: &PortId, channel_id: &ChannelId, counterparty_version: &Version) -> Result<ModuleExtras, ChannelError> {
        let addr = ccv::parse_handshake_metadata(counterparty_version.as_str()).map_err(|e| self.refuse(ConsumerError::HandshakeMetadata(e)))?;
        self.ctx.state.borrow_mut().put_provider_fee_pool_addr(&addr).map_err(|e| self.fail(e))?;
        tracing::info!(target: "consumer", channel = %channel_id, fee_pool = %addr, "CCV channel handshake acknowledged by the provider");
        self.open_distribution_channel(port_id, channel_id)?;
        Ok(ModuleExtras::empty())
    }

    fn on_chan_open_confirm_validate(&self, _port_id: &PortId, _channel_id: &ChannelId) -> Result<(), ChannelError> {
        Err(self.refuse(ConsumerError::InvalidChannelFlow))
    }

    fn on_chan_open_confirm_execute(&mut self, _port_id: &PortId, _channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        Err(self.refuse(ConsumerError::InvalidChannelFlow))
    }

    /// Relayers may close duplicate channels once the CCV channel is
    /// established; nobody may close the CCV channel (ICS).
    fn on_chan_close_init_validate(&self, _port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        match self.read(self.ctx.state.borrow().provider_channel())? {
            Some(p) if p != channel_id.as_str() => Ok(()),
            _ => Err(self.refuse(ConsumerError::CloseRefused)),
        }
    }

    fn on_chan_close_init_execute(&mut self, port_id: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        self.on_chan_close_init_validate(port_id, channel_id)?;
        Ok(ModuleExtras::empty())
    }

    fn on_chan_close_confirm_validate(&self, _port_id: &PortId, _channel_id: &ChannelId) -> Result<(), ChannelError> {
        Ok(())
    }

    fn on_chan_close_confirm_execute(&mut self, _port_id: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        self.close_ccv_channel(channel_id, "closed by the provider")?;
        Ok(ModuleExtras::empty())
    }

    fn on_recv_packet_execute(&mut self, packet: &Packet, _relayer: &Signer) -> (ModuleExtras, Option<Acknowledgement>) {
        let (ack, vsc_id, error) = match self.recv_vsc(packet) {
            Ok(id) => (ccv::result_ack(ccv::ACK_RESULT_V1), id, None),
            Err(e) => {
                tracing::error!(target: "consumer", sequence = packet.seq_on_a.value(), "{e}");
                let id = ccv::VscPacket::decode(&packet.data).map(|d| d.valset_update_id).unwrap_or(0);
                (ccv::error_ack(&e.to_string()), id, Some(e.to_string()))
            }
        };
        let mut attrs: Vec<tendermint::abci::EventAttribute> =
            vec![("module", "consumer").index().into(), ("valset_update_id", vsc_id.to_string()).index().into(), ("success", error.is_none().to_string()).index().into()];
        if let Some(e) = error {
            attrs.push(("error", e).index().into());
        }
        self.record(Event::new("ccv_packet", attrs));
        (ModuleExtras::empty(), Some(Acknowledgement::try_from(ack).expect("CCV acknowledgements are not empty")))
    }

    /// Any acknowledgement is accepted: what it says is handled (or logged)
    /// at execution, and refusing it would leave the packet committed for
    /// ever.
    fn on_acknowledgement_packet_validate(&self, _packet: &Packet, _ack: &Acknowledgement, _relayer: &Signer) -> Result<(), ChannelError> {
        Ok(())
    }

    /// The provider's answer to a slash packet (`relay.rs`), applied in a
    /// fork: whole or not at all, and a store failure is logged rather than
    /// failing the relayer's message.
    fn on_acknowledgement_packet_execute(&mut self, packet: &Packet, ack: &Acknowledgement, _relayer: &Signer) -> (ModuleExtras, Result<(), ChannelError>) {
        let mut st = self.ctx.state.borrow_mut();
        let mut fork = cnidarium::StateDelta::new(&mut **st);
        match block_on(super::relay::on_acknowledgement(&mut fork, packet.seq_on_a.value(), &packet.data, ack.as_bytes())) {
            Ok(()) => {
                crate::store::keep_fork(fork);
            }
            Err(e) => {
                drop(fork);
                tracing::error!(target: "consumer", sequence = packet.seq_on_a.value(), "acknowledgement could not be handled: {}", e.message);
            }
        }
        (ModuleExtras::empty(), Ok(()))
    }

    fn on_timeout_packet_validate(&self, _packet: &Packet, _relayer: &Signer) -> Result<(), ChannelError> {
        Ok(())
    }

    /// On an ORDERED channel a timeout closes the channel (ibc-rs does it).
    fn on_timeout_packet_execute(&mut self, packet: &Packet, _relayer: &Signer) -> (ModuleExtras, Result<(), ChannelError>) {
        (ModuleExtras::empty(), self.close_ccv_channel(&packet.chan_id_on_a, "a packet timed out"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(c: &[(&str, i64)]) -> BTreeMap<String, i64> {
        c.iter().map(|(k, p)| (k.to_string(), *p)).collect()
    }

    #[test]
    fn resulting_set_applies_changes_by_key_and_refuses_what_cometbft_would() {
        let current = vec![("aa".to_string(), 10), ("bb".to_string(), 20)];
        let set = resulting_set(&current, &changes(&[("aa", 0), ("cc", 5), ("bb", 21)])).unwrap();
        assert_eq!(set, changes(&[("bb", 21), ("cc", 5)]));
        assert_eq!(resulting_set(&current, &changes(&[("aa", 0), ("bb", 0)])), Err("the validator set would be empty".into()));
        let err = resulting_set(&current, &changes(&[("cc", MAX_TOTAL_POWER - 29)])).unwrap_err();
        assert_eq!(err, format!("total voting power {} would exceed CometBFT's maximum {MAX_TOTAL_POWER}", MAX_TOTAL_POWER as i128 + 1));
        assert!(resulting_set(&current, &changes(&[("cc", MAX_TOTAL_POWER - 30)])).is_ok(), "exactly the bound is allowed");
    }

    #[test]
    fn slash_acks_are_bech32_consensus_addresses_of_any_prefix() {
        let addr = cosmrs::AccountId::new("cosmosvalcons", &[7u8; 20]).unwrap().to_string();
        assert_eq!(slash_ack_address(&format!(" {addr} ")), Some(hex::encode_upper([7u8; 20])));
        let other = cosmrs::AccountId::new("aegisvalcons", &[8u8; 20]).unwrap().to_string();
        assert_eq!(slash_ack_address(&other), Some(hex::encode_upper([8u8; 20])));
        assert_eq!(slash_ack_address("not bech32"), None);
        assert_eq!(slash_ack_address(""), None);
    }

    #[test]
    fn negative_powers_are_refused() {
        assert_eq!(invalid_update(&[1; 32], -1), Some(format!("validator {} has negative power -1", hex::encode([1u8; 32]))));
        assert_eq!(invalid_update(&[1; 32], 0), None);
    }
}
