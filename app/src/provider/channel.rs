//! The `provider` port on the IBC router: ICS's CCV channel, provider side.
//! The consumer opens it (ORDERED, version "1", over a connection on the
//! client the provider created for that consumer at launch); the provider
//! answers with ICS's `HandshakeMetadata` (its fee-pool address) as the
//! version and binds the channel to the consumer at ChanOpenConfirm.
//! Nothing a consumer sends can fail a block: a bad packet gets an error
//! acknowledgement.

use ibc_core::channel::types::acknowledgement::{Acknowledgement, AcknowledgementStatus, StatusValue};
use ibc_core::channel::types::channel::{Counterparty, Order};
use ibc_core::channel::types::error::ChannelError;
use ibc_core::channel::types::packet::Packet;
use ibc_core::channel::types::Version;
use ibc_core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc_core::primitives::Signer;
use ibc_core::router::module::Module;
use ibc_core::router::types::module::ModuleExtras;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::state::Phase;
use super::{Consumer, ProviderRead, ProviderWrite};
use crate::ccv;
use crate::ibc::context::IbcContext;
use crate::ibc::state::block_on;
use crate::store::StoreWrite;

pub const MODULE_ID: &str = "provider";

pub struct ProviderModule<'a, S> {
    ctx: IbcContext<'a, S>,
}

impl<'a, S> ProviderModule<'a, S> {
    pub fn new(ctx: IbcContext<'a, S>) -> Self {
        ProviderModule { ctx }
    }
}

impl<S> std::fmt::Debug for ProviderModule<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderModule")
    }
}

fn refuse(msg: impl Into<String>) -> ChannelError {
    ChannelError::AppSpecific { description: msg.into() }
}

impl<S: StoreWrite + Send + Sync> ProviderModule<'_, S> {
    /// Fail the message with `provider` 16 (invalid CCV channel) rather
    /// than ibc-rs's flattened channel error.
    fn typed<T>(&self, r: Result<T, ChannelError>) -> Result<T, ChannelError> {
        r.inspect_err(|e| {
            let description = match e {
                ChannelError::AppSpecific { description } => description.clone(),
                other => other.to_string(),
            };
            self.ctx.set_module_error(super::ProviderError::InvalidChannel(description).into());
        })
    }

    fn consumer(&self, id: u64) -> Result<Option<Consumer>, ChannelError> {
        let st = self.ctx.state.borrow();
        block_on(st.consumer(id)).map_err(|e| refuse(e.message))
    }

    /// The launched consumer whose client the (single-hop) connection is on.
    fn consumer_of_connection(&self, hops: &[ConnectionId]) -> Result<Consumer, ChannelError> {
        let [hop] = hops else { return Err(refuse(format!("a CCV channel has one connection hop, got {}", hops.len()))) };
        let conn = crate::ibc::host::connection_end(&self.ctx, hop.as_str()).map_err(|e| refuse(e.message))?;
        let client = conn.client_id().to_string();
        let id = {
            let st = self.ctx.state.borrow();
            block_on(st.consumer_by_client(&client)).map_err(|e| refuse(e.message))?
        };
        let id = id.ok_or_else(|| refuse(format!("connection {hop} is on client {client}, which is no consumer's client")))?;
        let c = self.consumer(id)?.ok_or_else(|| refuse(format!("consumer {id} does not exist")))?;
        if c.phase != Phase::Launched {
            return Err(refuse(format!("consumer {id} is {}, not launched", c.phase.as_str())));
        }
        if let Some(existing) = &c.channel_id {
            return Err(refuse(format!("consumer {id} already has CCV channel {existing}")));
        }
        Ok(c)
    }

    fn check_try(&self, order: Order, hops: &[ConnectionId], port_id: &PortId, counterparty: &Counterparty, version: &Version) -> Result<Version, ChannelError> {
        if order != Order::Ordered {
            return Err(refuse(format!("a CCV channel is ORDERED, got {order}")));
        }
        if port_id.as_str() != ccv::PROVIDER_PORT {
            return Err(refuse(format!("invalid port {port_id}, expected {}", ccv::PROVIDER_PORT)));
        }
        if counterparty.port_id().as_str() != ccv::CONSUMER_PORT {
            return Err(refuse(format!("invalid counterparty port {}, expected {}", counterparty.port_id(), ccv::CONSUMER_PORT)));
        }
        if version.as_str() != ccv::VERSION {
            return Err(refuse(format!("invalid counterparty version {:?}, expected {:?}", version.as_str(), ccv::VERSION)));
        }
        self.consumer_of_connection(hops)?;
        let md = ccv::handshake_metadata(&super::msgs::module_address().to_string()).map_err(refuse)?;
        Ok(Version::new(md))
    }

    fn channel_consumer(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<Consumer, ChannelError> {
        let chan = crate::ibc::host::channel_end(&self.ctx, port_id.as_str(), channel_id.as_str()).map_err(|e| refuse(e.message))?;
        self.consumer_of_connection(&chan.connection_hops)
    }

    /// The consumer bound to a channel (after ChanOpenConfirm).
    fn bound_consumer(&self, channel_id: &ChannelId) -> Result<Option<Consumer>, ChannelError> {
        let id = {
            let st = self.ctx.state.borrow();
            block_on(st.consumer_by_channel(channel_id.as_str())).map_err(|e| refuse(e.message))?
        };
        match id {
            Some(id) => self.consumer(id),
            None => Ok(None),
        }
    }

    /// Stop the consumer bound to `channel_id` (its channel closed, a VSC
    /// packet timed out or was refused), as ICS does.
    fn stop_bound(&mut self, channel_id: &ChannelId, why: &str) -> ModuleExtras {
        let Ok(Some(mut c)) = self.bound_consumer(channel_id) else { return ModuleExtras::empty() };
        let mut st = self.ctx.state.borrow_mut();
        if let Err(e) = super::hooks::stop(&mut **st, &mut c) {
            tracing::error!(target: "provider", "stopping consumer {}: {}", c.id, e.message);
            return ModuleExtras::empty();
        }
        tracing::warn!(target: "provider", "consumer {} stopped: {why}", c.id);
        st.record(Event::new("consumer_stopped", [("consumer_id", c.id.to_string()).index(), ("reason", why.to_string()).no_index()]));
        ModuleExtras::empty()
    }
}

impl<S: StoreWrite + Send + Sync> ProviderModule<'_, S> {
    /// Handle a slash packet in a fork: applied whole or not at all. An
    /// internal failure becomes an error ack, never a failed block.
    fn slash_packet(&mut self, packet: &Packet, p: &ccv::SlashPacket) -> Vec<u8> {
        let mut st = self.ctx.state.borrow_mut();
        let mut fork = cnidarium::StateDelta::new(&mut **st);
        match block_on(super::infractions::on_slash_packet(&mut fork, packet.chan_id_on_b.as_str(), packet.seq_on_a.value(), p)) {
            Ok(ack) => {
                crate::store::keep_fork(fork);
                ack
            }
            Err(e) => {
                drop(fork);
                tracing::error!(target: "provider", "slash packet {} could not be handled: {}", packet.seq_on_a, e.message);
                ccv::error_ack(&format!("slash packet could not be handled: {}", e.message))
            }
        }
    }
}

impl<S: StoreWrite + Send + Sync> Module for ProviderModule<'_, S> {
    fn on_chan_open_init_validate(&self, _: Order, _: &[ConnectionId], _: &PortId, _: &ChannelId, _: &Counterparty, _: &Version) -> Result<Version, ChannelError> {
        self.typed(Err(refuse("the CCV channel handshake must be initiated by the consumer chain")))
    }

    fn on_chan_open_init_execute(
        &mut self,
        _: Order,
        _: &[ConnectionId],
        _: &PortId,
        _: &ChannelId,
        _: &Counterparty,
        _: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        Err(refuse("the CCV channel handshake must be initiated by the consumer chain"))
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        self.typed(self.check_try(order, hops, port_id, counterparty, counterparty_version))
    }

    fn on_chan_open_try_execute(
        &mut self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        Ok((ModuleExtras::empty(), self.check_try(order, hops, port_id, counterparty, counterparty_version)?))
    }

    fn on_chan_open_ack_validate(&self, _: &PortId, _: &ChannelId, _: &Version) -> Result<(), ChannelError> {
        self.typed(Err(refuse("the CCV channel handshake must be initiated by the consumer chain")))
    }

    fn on_chan_open_ack_execute(&mut self, _: &PortId, _: &ChannelId, _: &Version) -> Result<ModuleExtras, ChannelError> {
        Err(refuse("the CCV channel handshake must be initiated by the consumer chain"))
    }

    fn on_chan_open_confirm_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        self.typed(self.channel_consumer(port_id, channel_id).map(|_| ()))
    }

    /// Bind the channel to its consumer; changes since launch go out at the
    /// next epoch end.
    fn on_chan_open_confirm_execute(&mut self, port_id: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        let mut c = self.channel_consumer(port_id, channel_id)?;
        c.channel_id = Some(channel_id.to_string());
        let mut st = self.ctx.state.borrow_mut();
        let r = (|| {
            st.put_channel(channel_id.as_str(), c.id)?;
            st.put_consumer(&c)?;
            st.mark_unsent(c.id, true)
        })();
        r.map_err(|e| refuse(e.message))?;
        st.record(Event::new("consumer_channel_open", [("consumer_id", c.id.to_string()).index(), ("channel_id", channel_id.to_string()).index()]));
        Ok(ModuleExtras::empty())
    }

    fn on_chan_close_init_validate(&self, _: &PortId, _: &ChannelId) -> Result<(), ChannelError> {
        self.typed(Err(refuse("the CCV channel cannot be closed by a user")))
    }

    fn on_chan_close_init_execute(&mut self, _: &PortId, _: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        Err(refuse("the CCV channel cannot be closed by a user"))
    }

    fn on_chan_close_confirm_validate(&self, _: &PortId, _: &ChannelId) -> Result<(), ChannelError> {
        Ok(())
    }

    fn on_chan_close_confirm_execute(&mut self, _: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        Ok(self.stop_bound(channel_id, "the consumer closed the CCV channel"))
    }

    fn on_recv_packet_execute(&mut self, packet: &Packet, _relayer: &Signer) -> (ModuleExtras, Option<Acknowledgement>) {
        let ack = match ccv::ConsumerPacket::decode(&packet.data) {
            Err(e) => ccv::error_ack(&format!("cannot decode consumer packet: {e}")),
            Ok(ccv::ConsumerPacket::VscMatured { .. }) => ccv::result_ack(ccv::ACK_RESULT_V1),
            Ok(ccv::ConsumerPacket::Slash(p)) => self.slash_packet(packet, &p),
        };
        let ack = Acknowledgement::try_from(ack).unwrap_or_else(|_| {
            AcknowledgementStatus::error(StatusValue::new("empty acknowledgement").expect("non-empty")).into()
        });
        (ModuleExtras::empty(), Some(ack))
    }

    fn on_acknowledgement_packet_validate(&self, _: &Packet, _: &Acknowledgement, _: &Signer) -> Result<(), ChannelError> {
        Ok(())
    }

    /// A consumer that refuses a VSC packet is stopped, as ICS stops it.
    fn on_acknowledgement_packet_execute(&mut self, packet: &Packet, ack: &Acknowledgement, _: &Signer) -> (ModuleExtras, Result<(), ChannelError>) {
        match ccv::decode_ack(ack.as_bytes()) {
            Ok(ccv::Ack::Result(_)) => (ModuleExtras::empty(), Ok(())),
            Ok(ccv::Ack::Error(e)) => (self.stop_bound(&packet.chan_id_on_a, &format!("the consumer refused VSC packet {}: {e}", packet.seq_on_a)), Ok(())),
            Err(e) => (self.stop_bound(&packet.chan_id_on_a, &format!("unreadable acknowledgement of packet {}: {e}", packet.seq_on_a)), Ok(())),
        }
    }

    fn on_timeout_packet_validate(&self, _: &Packet, _: &Signer) -> Result<(), ChannelError> {
        Ok(())
    }

    fn on_timeout_packet_execute(&mut self, packet: &Packet, _: &Signer) -> (ModuleExtras, Result<(), ChannelError>) {
        (self.stop_bound(&packet.chan_id_on_a, &format!("VSC packet {} timed out", packet.seq_on_a)), Ok(()))
    }
}
