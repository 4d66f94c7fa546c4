//! ICS-20 fungible token transfer on port `transfer`: ibc-rs's handlers
//! over Aegis's bank.
//!
//! Native tokens leaving Aegis are escrowed in the channel's escrow account
//! (ibc-go's address derivation, so explorers recognise it); vouchers
//! arriving are minted as ordinary bank denoms `ibc/<SHA256(trace)>` with
//! their trace stored (and queryable); vouchers going home are burned.
//! Failure acknowledgements and timeouts refund the sender (ibc-rs).

use ibc_app_transfer::context::{TokenTransferExecutionContext, TokenTransferValidationContext};
use ibc_app_transfer::types::events::RecvEvent;
use ibc_app_transfer::types::packet::PacketData;
use ibc_app_transfer::types::{Memo, PrefixedCoin, PrefixedDenom, MODULE_ID_STR, PORT_ID_STR};
use ibc_core::channel::types::acknowledgement::Acknowledgement;
use ibc_core::channel::types::channel::{Counterparty, Order};
use ibc_core::channel::types::error::ChannelError;
use ibc_core::channel::types::packet::Packet;
use ibc_core::channel::types::Version;
use ibc_core::host::types::error::HostError;
use ibc_core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc_core::primitives::Signer;
use ibc_core::router::module::Module;
use ibc_core::router::types::module::ModuleExtras;
use sha2::{Digest, Sha256};

use super::context::IbcContext;
use super::state::{block_on, keys};
use crate::bank::{BankRead, BankWrite};
use crate::store::StoreWrite;
use crate::types::{Address, Coin};

/// ibc-go's `GetEscrowAddress`: sha256("ics20-1" || 0x00 || port/channel),
/// truncated to 20 bytes.
pub fn escrow_address(port: &str, channel: &str) -> Address {
    let mut h = Sha256::new();
    h.update(b"ics20-1");
    h.update([0u8]);
    h.update(format!("{port}/{channel}").as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&digest[..20]);
    Address(bytes)
}

/// `ibc/<HASH>` for a traced denom (ibc-go's `DenomTrace.IBCDenom`); a
/// denom with no trace is itself.
pub fn bank_denom(denom: &PrefixedDenom) -> String {
    if denom.trace_path.is_empty() {
        denom.base_denom.to_string()
    } else {
        format!("ibc/{}", denom_hash(&denom.to_string()))
    }
}

/// Upper-case hex SHA-256 of a full trace (`transfer/channel-0/uatom`).
pub fn denom_hash(full_path: &str) -> String {
    hex::encode_upper(Sha256::digest(full_path.as_bytes()))
}

fn amount(coin: &PrefixedCoin) -> Result<u128, HostError> {
    coin.amount
        .to_string()
        .parse::<u128>()
        .map_err(|_| HostError::invalid_state(format!("amount {} does not fit 128 bits", coin.amount)))
}

fn bank_coin(coin: &PrefixedCoin) -> Result<Coin, HostError> {
    Ok(Coin::new(bank_denom(&coin.denom), amount(coin)?))
}

fn bank_err(e: crate::error::AppError) -> HostError {
    HostError::invalid_state(e.message)
}

impl<S: StoreWrite + Send + Sync> IbcContext<'_, S> {
    fn check_balance(&self, from: &Address, coin: &Coin) -> Result<(), HostError> {
        let have = block_on(self.state.borrow().balance(from, &coin.denom)).map_err(bank_err)?;
        if have.0 < coin.amount.0 {
            return Err(HostError::invalid_state(format!("insufficient funds: have {have}{}, need {coin}", coin.denom)));
        }
        Ok(())
    }
}

impl<S: StoreWrite + Send + Sync> TokenTransferValidationContext for IbcContext<'_, S> {
    type AccountId = Address;

    fn sender_account(&self, sender: &Signer) -> Result<Address, HostError> {
        Address::parse(sender.as_ref()).map_err(bank_err)
    }

    fn receiver_account(&self, receiver: &Signer) -> Result<Address, HostError> {
        Address::parse(receiver.as_ref()).map_err(bank_err)
    }

    fn get_port(&self) -> Result<PortId, HostError> {
        Ok(PortId::transfer())
    }

    fn can_send_coins(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn can_receive_coins(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn escrow_coins_validate(&self, from: &Address, _port: &PortId, _channel: &ChannelId, coin: &PrefixedCoin, _memo: &Memo) -> Result<(), HostError> {
        self.check_balance(from, &bank_coin(coin)?)
    }

    fn unescrow_coins_validate(&self, _to: &Address, port: &PortId, channel: &ChannelId, coin: &PrefixedCoin) -> Result<(), HostError> {
        self.check_balance(&escrow_address(port.as_str(), channel.as_str()), &bank_coin(coin)?)
    }

    fn mint_coins_validate(&self, _account: &Address, coin: &PrefixedCoin) -> Result<(), HostError> {
        let coin = bank_coin(coin)?;
        let supply = block_on(self.state.borrow().supply(&coin.denom)).map_err(bank_err)?;
        supply.checked_add(coin.amount).ok_or_else(|| HostError::invalid_state(format!("supply of {} would overflow", coin.denom)))?;
        Ok(())
    }

    fn burn_coins_validate(&self, account: &Address, coin: &PrefixedCoin, _memo: &Memo) -> Result<(), HostError> {
        self.check_balance(account, &bank_coin(coin)?)
    }

    fn denom_hash_string(&self, denom: &PrefixedDenom) -> Option<String> {
        (!denom.trace_path.is_empty()).then(|| denom_hash(&denom.to_string()))
    }
}

impl<S: StoreWrite + Send + Sync> TokenTransferExecutionContext for IbcContext<'_, S> {
    fn escrow_coins_execute(&mut self, from: &Address, port: &PortId, channel: &ChannelId, coin: &PrefixedCoin, _memo: &Memo) -> Result<(), HostError> {
        let escrow = escrow_address(port.as_str(), channel.as_str());
        let coin = bank_coin(coin)?;
        block_on(self.state.borrow_mut().send_coin(from, &escrow, &coin)).map_err(bank_err)
    }

    fn unescrow_coins_execute(&mut self, to: &Address, port: &PortId, channel: &ChannelId, coin: &PrefixedCoin) -> Result<(), HostError> {
        let escrow = escrow_address(port.as_str(), channel.as_str());
        let coin = bank_coin(coin)?;
        block_on(self.state.borrow_mut().send_coin(&escrow, to, &coin)).map_err(bank_err)
    }

    fn mint_coins_execute(&mut self, account: &Address, coin: &PrefixedCoin) -> Result<(), HostError> {
        let bank = bank_coin(coin)?;
        if !coin.denom.trace_path.is_empty() {
            let hash = denom_hash(&coin.denom.to_string());
            let key = keys::denom_trace(&hash);
            if self.get(&key)?.is_none() {
                let trace = ibc_proto::ibc::applications::transfer::v1::DenomTrace::from(coin.denom.clone());
                self.put(key, prost::Message::encode_to_vec(&trace))?;
            }
        }
        block_on(self.state.borrow_mut().mint(account, &bank)).map_err(bank_err)
    }

    fn burn_coins_execute(&mut self, account: &Address, coin: &PrefixedCoin, _memo: &Memo) -> Result<(), HostError> {
        let coin = bank_coin(coin)?;
        block_on(self.state.borrow_mut().burn(account, &coin)).map_err(bank_err)
    }
}

/// ibc-go's `FungibleTokenPacketData.ValidateBasic`, which ibc-rs does not
/// run on receipt: without it a packet with no amount (or `"0"`) and no
/// sender was acknowledged as a success while moving nothing. Data that
/// does not parse is left to ibc-rs, which acknowledges it with an error.
fn refused_packet_data(data: &[u8]) -> Option<(PacketData, String)> {
    let d = serde_json::from_slice::<PacketData>(data).ok()?;
    let why = if d.token.amount.as_ref().is_zero() {
        format!("transfer amount must be positive, got {}", d.token.amount)
    } else if d.sender.as_ref().trim().is_empty() {
        "sender address cannot be blank".into()
    } else if d.receiver.as_ref().trim().is_empty() {
        "receiver address cannot be blank".into()
    } else if d.receiver.as_ref().len() > 2048 {
        format!("receiver of {} bytes exceeds 2048", d.receiver.as_ref().len())
    } else if d.memo.as_ref().len() > 32_768 {
        format!("memo of {} bytes exceeds 32768", d.memo.as_ref().len())
    } else {
        return None;
    };
    Some((d, why))
}

fn error_ack(message: &str) -> Acknowledgement {
    let json = serde_json::to_vec(&serde_json::json!({ "error": message })).expect("a JSON object");
    Acknowledgement::try_from(json).expect("a non-empty acknowledgement")
}

/// ibc-rs writes an error acknowledgement as `{"error":"<message>"}`
/// without escaping the message. A message with a quote or a backslash
/// (every refused receiver's does: `invalid address "..."`) then makes an
/// acknowledgement that is not JSON, which no sending chain (ibc-go or
/// ibc-rs) can parse: the ack is refused forever, and since the packet was
/// received it cannot time out either, so the sender's tokens stay in
/// escrow for good. Re-encode the message as a JSON string; a success
/// acknowledgement (and an error one that needs no escaping) is unchanged.
fn json_error_ack(ack: Acknowledgement) -> Acknowledgement {
    const PREFIX: &[u8] = br#"{"error":""#;
    const SUFFIX: &[u8] = br#""}"#;
    let Some(message) = ack.as_bytes().strip_prefix(PREFIX).and_then(|b| b.strip_suffix(SUFFIX)) else {
        return ack;
    };
    error_ack(&String::from_utf8_lossy(message))
}

/// The `transfer` port's module on the IBC router.
pub struct TransferModule<'a, S> {
    ctx: IbcContext<'a, S>,
}

impl<'a, S> TransferModule<'a, S> {
    pub fn new(ctx: IbcContext<'a, S>) -> Self {
        TransferModule { ctx }
    }
}

impl<S> std::fmt::Debug for TransferModule<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferModule")
    }
}

pub const MODULE_ID: &str = MODULE_ID_STR;
pub const PORT: &str = PORT_ID_STR;

fn chan_err(e: ibc_app_transfer::types::error::TokenTransferError) -> ChannelError {
    ChannelError::AppSpecific { description: e.to_string() }
}

fn extras(r: Result<ModuleExtras, ibc_app_transfer::types::error::TokenTransferError>) -> Result<ModuleExtras, ChannelError> {
    r.map_err(chan_err)
}

impl<S: StoreWrite + Send + Sync> TransferModule<'_, S> {
    /// The consumer (not removed) whose CCV connection this packet's
    /// channel is on: channel -> connection -> client -> consumer.
    fn consumer_of_channel(&self, packet: &Packet) -> Option<u64> {
        use crate::provider::ProviderRead;
        let chan = super::host::channel_end(&self.ctx, packet.port_id_on_b.as_str(), packet.chan_id_on_b.as_str()).ok()?;
        let conn = super::host::connection_end(&self.ctx, chan.connection_hops.first()?.as_str()).ok()?;
        let st = self.ctx.state.borrow();
        let id = block_on(st.consumer_by_client(conn.client_id().as_str())).ok()??;
        let c = block_on(st.consumer(id)).ok()??;
        (c.phase != crate::provider::state::Phase::Removed).then_some(id)
    }

    /// Record received rewards in the consumer's pool, under the denom
    /// they arrived as here.
    fn credit_reward(&mut self, packet: &Packet, d: &PacketData, id: u64) {
        use ibc_app_transfer::types::{is_receiver_chain_source, TracePrefix};
        let mut denom = d.token.denom.clone();
        if is_receiver_chain_source(packet.port_id_on_a.clone(), packet.chan_id_on_a.clone(), &denom) {
            denom.remove_trace_prefix(&TracePrefix::new(packet.port_id_on_a.clone(), packet.chan_id_on_a.clone()));
        } else {
            denom.add_trace_prefix(TracePrefix::new(packet.port_id_on_b.clone(), packet.chan_id_on_b.clone()));
        }
        let Ok(amount) = d.token.amount.to_string().parse::<u128>() else { return };
        let mut st = self.ctx.state.borrow_mut();
        if let Err(e) = block_on(crate::provider::rewards::credit_received(&mut **st, id, &bank_denom(&denom), amount)) {
            tracing::error!(target: "provider", "crediting consumer {id}'s rewards: {}", e.message);
        }
    }
}

impl<S: StoreWrite + Send + Sync> Module for TransferModule<'_, S> {
    fn on_chan_open_init_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<Version, ChannelError> {
        ibc_app_transfer::module::on_chan_open_init_validate(&self.ctx, order, hops, port_id, channel_id, counterparty, version).map_err(chan_err)?;
        Ok(Version::new(ibc_app_transfer::types::VERSION.to_string()))
    }

    fn on_chan_open_init_execute(
        &mut self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ibc_app_transfer::module::on_chan_open_init_execute(&mut self.ctx, order, hops, port_id, channel_id, counterparty, version).map_err(chan_err)
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        ibc_app_transfer::module::on_chan_open_try_validate(&self.ctx, order, hops, port_id, channel_id, counterparty, counterparty_version)
            .map_err(chan_err)?;
        Ok(Version::new(ibc_app_transfer::types::VERSION.to_string()))
    }

    fn on_chan_open_try_execute(
        &mut self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ibc_app_transfer::module::on_chan_open_try_execute(&mut self.ctx, order, hops, port_id, channel_id, counterparty, counterparty_version)
            .map_err(chan_err)
    }

    fn on_chan_open_ack_validate(&self, port_id: &PortId, channel_id: &ChannelId, counterparty_version: &Version) -> Result<(), ChannelError> {
        ibc_app_transfer::module::on_chan_open_ack_validate(&self.ctx, port_id, channel_id, counterparty_version).map_err(chan_err)
    }

    fn on_chan_open_ack_execute(&mut self, port_id: &PortId, channel_id: &ChannelId, counterparty_version: &Version) -> Result<ModuleExtras, ChannelError> {
        extras(ibc_app_transfer::module::on_chan_open_ack_execute(&mut self.ctx, port_id, channel_id, counterparty_version))
    }

    fn on_chan_open_confirm_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        ibc_app_transfer::module::on_chan_open_confirm_validate(&self.ctx, port_id, channel_id).map_err(chan_err)
    }

    fn on_chan_open_confirm_execute(&mut self, port_id: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        extras(ibc_app_transfer::module::on_chan_open_confirm_execute(&mut self.ctx, port_id, channel_id))
    }

    fn on_chan_close_init_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        ibc_app_transfer::module::on_chan_close_init_validate(&self.ctx, port_id, channel_id).map_err(chan_err)
    }

    fn on_chan_close_init_execute(&mut self, port_id: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        extras(ibc_app_transfer::module::on_chan_close_init_execute(&mut self.ctx, port_id, channel_id))
    }

    fn on_chan_close_confirm_validate(&self, port_id: &PortId, channel_id: &ChannelId) -> Result<(), ChannelError> {
        ibc_app_transfer::module::on_chan_close_confirm_validate(&self.ctx, port_id, channel_id).map_err(chan_err)
    }

    fn on_chan_close_confirm_execute(&mut self, port_id: &PortId, channel_id: &ChannelId) -> Result<ModuleExtras, ChannelError> {
        extras(ibc_app_transfer::module::on_chan_close_confirm_execute(&mut self.ctx, port_id, channel_id))
    }

    fn on_recv_packet_execute(&mut self, packet: &Packet, _relayer: &Signer) -> (ModuleExtras, Option<Acknowledgement>) {
        if let Some((d, why)) = refused_packet_data(&packet.data) {
            let event = RecvEvent { sender: d.sender, receiver: d.receiver, denom: d.token.denom, amount: d.token.amount, memo: d.memo, success: false };
            return (ModuleExtras { events: vec![event.into()], log: vec![] }, Some(error_ack(&why)));
        }
        // Transfers to the provider's fee pool are consumer rewards: only a
        // consumer's CCV connection may carry them (see provider/rewards.rs).
        let fee_pool = crate::provider::msgs::module_address().to_string();
        let reward = serde_json::from_slice::<PacketData>(&packet.data).ok().filter(|d| d.receiver.as_ref() == fee_pool);
        let consumer = match &reward {
            Some(_) => match self.consumer_of_channel(packet) {
                Some(id) => Some(id),
                None => return (ModuleExtras::empty(), Some(error_ack("the provider fee pool accepts only consumer rewards sent over a consumer's CCV connection"))),
            },
            None => None,
        };
        let (extras, ack) = ibc_app_transfer::module::on_recv_packet_execute(&mut self.ctx, packet);
        if let (Some(d), Some(id)) = (reward, consumer) {
            if ack.as_bytes().starts_with(br#"{"result""#) {
                self.credit_reward(packet, &d, id);
            }
        }
        (extras, Some(json_error_ack(ack)))
    }

    fn on_acknowledgement_packet_validate(&self, packet: &Packet, ack: &Acknowledgement, relayer: &Signer) -> Result<(), ChannelError> {
        ibc_app_transfer::module::on_acknowledgement_packet_validate(&self.ctx, packet, ack, relayer).map_err(chan_err)
    }

    fn on_acknowledgement_packet_execute(&mut self, packet: &Packet, ack: &Acknowledgement, relayer: &Signer) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, r) = ibc_app_transfer::module::on_acknowledgement_packet_execute(&mut self.ctx, packet, ack, relayer);
        (extras, r.map_err(chan_err))
    }

    fn on_timeout_packet_validate(&self, packet: &Packet, relayer: &Signer) -> Result<(), ChannelError> {
        ibc_app_transfer::module::on_timeout_packet_validate(&self.ctx, packet, relayer).map_err(chan_err)
    }

    fn on_timeout_packet_execute(&mut self, packet: &Packet, relayer: &Signer) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, r) = ibc_app_transfer::module::on_timeout_packet_execute(&mut self.ctx, packet, relayer);
        (extras, r.map_err(chan_err))
    }
}
