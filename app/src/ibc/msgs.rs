//! The IBC messages: `/ibc.core.client.v1.*`, `/ibc.core.connection.v1.*`,
//! `/ibc.core.channel.v1.*` (handled by ibc-rs's entry point with Aegis's
//! contexts and router) and `/ibc.applications.transfer.v1.MsgTransfer`.
//!
//! Each runs synchronously inside one message of a transaction, so a
//! failure reverts exactly like any other message. A relayer's usual batch
//! (a client update, then N receives) is N+1 messages of one transaction.

use ibc_app_transfer::types::msgs::transfer::MsgTransfer;
use ibc_core::channel::types::channel::Order;
use ibc_core::channel::types::msgs::PacketMsg;
use ibc_core::client::types::msgs::ClientMsg;
use ibc_core::handler::types::msgs::MsgEnvelope;
use ibc_core::host::types::identifiers::{ChannelId, PortId, Sequence};
use ibc_core::host::types::path::{ChannelEndPath, CommitmentPath, ReceiptPath, SeqRecvPath, SeqSendPath};
use ibc_core::host::ValidationContext;
use ibc_proto::ibc::applications::transfer::v1::MsgTransfer as RawMsgTransfer;
use prost::Message;
use tendermint_proto::google::protobuf::Any;

use super::context::IbcContext;
use super::{IbcError, IbcRead};
use crate::error::{AppError, AppResult, SdkError};
use crate::router::response;
use crate::store::StoreWrite;
use crate::types::Address;

pub const MODULE: &str = "ibc";
pub const MSG_TRANSFER_URL: &str = "/ibc.applications.transfer.v1.MsgTransfer";

/// A decoded IBC message that passed its stateless checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Core { envelope: Box<MsgEnvelope>, type_url: &'static str, signer: Address },
    Transfer { raw: RawMsgTransfer, signer: Address },
}

// prost does not derive `Eq` for MsgTransfer, but it holds only strings,
// integers and messages of those: equality is total.
impl Eq for Msg {}

/// The signer every IBC message carries.
#[allow(deprecated)]
fn envelope_signer(m: &MsgEnvelope) -> &str {
    use ibc_core::channel::types::msgs::ChannelMsg as Ch;
    use ibc_core::connection::types::msgs::ConnectionMsg as Co;
    use MsgEnvelope as E;
    match m {
        E::Client(ClientMsg::CreateClient(m)) => m.signer.as_ref(),
        E::Client(ClientMsg::UpdateClient(m)) => m.signer.as_ref(),
        E::Client(ClientMsg::Misbehaviour(m)) => m.signer.as_ref(),
        E::Client(ClientMsg::UpgradeClient(m)) => m.signer.as_ref(),
        E::Client(ClientMsg::RecoverClient(m)) => m.signer.as_ref(),
        E::Connection(Co::OpenInit(m)) => m.signer.as_ref(),
        E::Connection(Co::OpenTry(m)) => m.signer.as_ref(),
        E::Connection(Co::OpenAck(m)) => m.signer.as_ref(),
        E::Connection(Co::OpenConfirm(m)) => m.signer.as_ref(),
        E::Channel(Ch::OpenInit(m)) => m.signer.as_ref(),
        E::Channel(Ch::OpenTry(m)) => m.signer.as_ref(),
        E::Channel(Ch::OpenAck(m)) => m.signer.as_ref(),
        E::Channel(Ch::OpenConfirm(m)) => m.signer.as_ref(),
        E::Channel(Ch::CloseInit(m)) => m.signer.as_ref(),
        E::Channel(Ch::CloseConfirm(m)) => m.signer.as_ref(),
        E::Packet(PacketMsg::Recv(m)) => m.signer.as_ref(),
        E::Packet(PacketMsg::Ack(m)) => m.signer.as_ref(),
        E::Packet(PacketMsg::Timeout(m)) => m.signer.as_ref(),
        E::Packet(PacketMsg::TimeoutOnClose(m)) => m.signer.as_ref(),
    }
}

fn core_type_url(m: &MsgEnvelope) -> &'static str {
    use ibc_core::channel::types::msgs::ChannelMsg as Ch;
    use ibc_core::connection::types::msgs::ConnectionMsg as Co;
    use MsgEnvelope as E;
    match m {
        E::Client(ClientMsg::CreateClient(_)) => "/ibc.core.client.v1.MsgCreateClient",
        E::Client(ClientMsg::UpdateClient(_)) => "/ibc.core.client.v1.MsgUpdateClient",
        E::Client(ClientMsg::Misbehaviour(_)) => "/ibc.core.client.v1.MsgSubmitMisbehaviour",
        E::Client(ClientMsg::UpgradeClient(_)) => "/ibc.core.client.v1.MsgUpgradeClient",
        E::Client(ClientMsg::RecoverClient(_)) => "/ibc.core.client.v1.MsgRecoverClient",
        E::Connection(Co::OpenInit(_)) => "/ibc.core.connection.v1.MsgConnectionOpenInit",
        E::Connection(Co::OpenTry(_)) => "/ibc.core.connection.v1.MsgConnectionOpenTry",
        E::Connection(Co::OpenAck(_)) => "/ibc.core.connection.v1.MsgConnectionOpenAck",
        E::Connection(Co::OpenConfirm(_)) => "/ibc.core.connection.v1.MsgConnectionOpenConfirm",
        E::Channel(Ch::OpenInit(_)) => "/ibc.core.channel.v1.MsgChannelOpenInit",
        E::Channel(Ch::OpenTry(_)) => "/ibc.core.channel.v1.MsgChannelOpenTry",
        E::Channel(Ch::OpenAck(_)) => "/ibc.core.channel.v1.MsgChannelOpenAck",
        E::Channel(Ch::OpenConfirm(_)) => "/ibc.core.channel.v1.MsgChannelOpenConfirm",
        E::Channel(Ch::CloseInit(_)) => "/ibc.core.channel.v1.MsgChannelCloseInit",
        E::Channel(Ch::CloseConfirm(_)) => "/ibc.core.channel.v1.MsgChannelCloseConfirm",
        E::Packet(PacketMsg::Recv(_)) => "/ibc.core.channel.v1.MsgRecvPacket",
        E::Packet(PacketMsg::Ack(_)) => "/ibc.core.channel.v1.MsgAcknowledgement",
        E::Packet(PacketMsg::Timeout(_)) => "/ibc.core.channel.v1.MsgTimeout",
        E::Packet(PacketMsg::TimeoutOnClose(_)) => "/ibc.core.channel.v1.MsgTimeoutOnClose",
    }
}

/// Decode an IBC message (`None` if the type URL is not IBC's) and run its
/// stateless checks: well-formed identifiers, heights and proofs (ibc-rs's
/// decoding), and a signer that is an Aegis address.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    let url = any.type_url.as_str();
    if url == MSG_TRANSFER_URL {
        return Some(decode_transfer(any));
    }
    if !url.starts_with("/ibc.core.") {
        return None;
    }
    Some((|| {
        let envelope = MsgEnvelope::try_from(any.clone()).map_err(|e| SdkError::TxDecode(format!("cannot decode {url}: {e}")))?;
        if let MsgEnvelope::Client(ClientMsg::UpgradeClient(_) | ClientMsg::RecoverClient(_)) = envelope {
            return Err(IbcError::NotSupported(format!("{url}: client upgrades and recovery need governance, which Aegis does not have")).into());
        }
        let signer = Address::parse(envelope_signer(&envelope))?;
        Ok(Msg::Core { type_url: core_type_url(&envelope), envelope: Box::new(envelope), signer })
    })())
}

fn decode_transfer(any: &Any) -> AppResult<Msg> {
    let raw = RawMsgTransfer::decode(any.value.as_slice()).map_err(|e| SdkError::TxDecode(format!("cannot decode {}: {e}", any.type_url)))?;
    let signer = Address::parse(&raw.sender)?;
    if raw.receiver.is_empty() || raw.receiver.len() > 2048 {
        return Err(IbcError::Transfer(format!("receiver must be 1 to 2048 characters, got {}", raw.receiver.len())).into());
    }
    if raw.memo.len() > 32_768 {
        return Err(IbcError::Transfer(format!("memo of {} bytes exceeds 32768", raw.memo.len())).into());
    }
    let token = raw.token.as_ref().ok_or_else(|| IbcError::Transfer("no token".into()))?;
    let coin = crate::types::Coin::from_proto(&cosmos_sdk_proto::cosmos::base::v1beta1::Coin { denom: token.denom.clone(), amount: token.amount.clone() })?;
    if coin.amount.0 == 0 {
        return Err(SdkError::InvalidCoins(format!("cannot transfer zero {}", coin.denom)).into());
    }
    // The rest (port and channel ids, timeouts) is checked by ibc-rs's
    // decoding; run it now so garbage never reaches the state.
    MsgTransfer::try_from(raw.clone()).map_err(|e| SdkError::TxDecode(format!("cannot decode {}: {e}", any.type_url)))?;
    Ok(Msg::Transfer { raw, signer })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        match self {
            Msg::Core { signer, .. } | Msg::Transfer { signer, .. } => vec![*signer],
        }
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::Core { type_url, .. } => type_url,
            Msg::Transfer { .. } => MSG_TRANSFER_URL,
        }
    }

    pub async fn execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<Any> {
        let params = state.ibc_params().await?;
        let unbonding = crate::consumer::host_unbonding_period(state).await?;
        let block = state.block_context().ok_or_else(|| AppError::internal("IBC message outside a block"))?;
        match self {
            Msg::Core { envelope, type_url, .. } => {
                let sigs = header_signatures(envelope);
                if sigs > 0 {
                    let per_sig = state.gas_meter().map(|m| m.costs().sig_verify_secp256k1).unwrap_or(0);
                    state.consume_gas(per_sig.saturating_mul(sigs), "light client signature checks")?;
                }
                let ctx = IbcContext::new(state, params, block, unbonding)?;
                contain(type_url, || execute_core(ctx, envelope, type_url))
            }
            Msg::Transfer { raw, .. } => {
                let mut raw = raw.clone();
                // `ibc/<HASH>` names a voucher: send it under its full trace.
                if let Some(token) = raw.token.as_mut() {
                    if let Some(hash) = token.denom.strip_prefix("ibc/") {
                        let trace = state.denom_trace(&hash.to_uppercase()).await?.ok_or_else(|| IbcError::UnknownDenomTrace(token.denom.clone()))?;
                        token.denom = if trace.path.is_empty() { trace.base_denom } else { format!("{}/{}", trace.path, trace.base_denom) };
                    }
                }
                let msg = MsgTransfer::try_from(raw).map_err(|e| IbcError::Transfer(e.to_string()))?;
                let ctx = IbcContext::new(state, params, block, unbonding)?;
                contain(MSG_TRANSFER_URL, || execute_transfer(ctx, msg))
            }
        }
    }
}

/// Run a handler so that a panic inside it (a bug in a dependency reached
/// by some counterparty's input) fails this message instead of halting the
/// chain. The message's writes are in its own fork, which a failed message
/// discards, so nothing half-done survives; the outcome is the same on
/// every node, because the panic is a deterministic function of the input.
fn contain(type_url: &str, f: impl FnOnce() -> AppResult<Any>) -> AppResult<Any> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            tracing::error!(target: "ibc", "{type_url} handler panicked: {what}");
            Err(AppError::internal(format!("{type_url} could not be handled: {what}")))
        }
    }
}

/// Commit signatures carried by a client update or misbehaviour (both
/// headers), each charged like a transaction signature: verifying them is
/// most of an update's work (ed25519 costs about what secp256k1 does), and
/// the light client may check every one.
fn header_signatures(envelope: &MsgEnvelope) -> u64 {
    use ibc_proto::ibc::lightclients::tendermint::v1::{Header, Misbehaviour};
    let count = |h: &Option<Header>| -> u64 {
        h.as_ref()
            .and_then(|h| h.signed_header.as_ref())
            .and_then(|sh| sh.commit.as_ref())
            .map_or(0, |c| c.signatures.iter().filter(|s| !s.signature.is_empty()).count() as u64)
    };
    #[allow(deprecated)]
    let any = match envelope {
        MsgEnvelope::Client(ClientMsg::UpdateClient(m)) => &m.client_message,
        MsgEnvelope::Client(ClientMsg::Misbehaviour(m)) => &m.misbehaviour,
        _ => return 0,
    };
    match any.type_url.as_str() {
        "/ibc.lightclients.tendermint.v1.Header" => Header::decode(any.value.as_slice()).map(|h| count(&Some(h))).unwrap_or(0),
        "/ibc.lightclients.tendermint.v1.Misbehaviour" => {
            Misbehaviour::decode(any.value.as_slice()).map(|m| count(&m.header_1) + count(&m.header_2)).unwrap_or(0)
        }
        _ => 0,
    }
}

fn response_url(type_url: &str) -> String {
    format!("{type_url}Response")
}

/// ibc-go's `ResponseResultType`: a redundant relay succeeds as a no-op.
const RESULT_NOOP: i32 = 1;
const RESULT_SUCCESS: i32 = 2;

fn execute_core<S: StoreWrite + Send + Sync>(mut ctx: IbcContext<'_, S>, envelope: &MsgEnvelope, type_url: &str) -> AppResult<Any> {
    use ibc_proto::ibc::core::channel::v1 as ch;
    let result = match envelope {
        MsgEnvelope::Packet(PacketMsg::Recv(m)) => Some(packet_result(already_received(&ctx, &m.packet.port_id_on_b, &m.packet.chan_id_on_b, m.packet.seq_on_a)?)),
        MsgEnvelope::Packet(PacketMsg::Ack(m)) => Some(packet_result(!commitment_pending(&ctx, &m.packet.port_id_on_a, &m.packet.chan_id_on_a, m.packet.seq_on_a)?)),
        MsgEnvelope::Packet(PacketMsg::Timeout(m)) => Some(packet_result(!commitment_pending(&ctx, &m.packet.port_id_on_a, &m.packet.chan_id_on_a, m.packet.seq_on_a)?)),
        MsgEnvelope::Packet(PacketMsg::TimeoutOnClose(m)) => {
            Some(packet_result(!commitment_pending(&ctx, &m.packet.port_id_on_a, &m.packet.chan_id_on_a, m.packet.seq_on_a)?))
        }
        _ => None,
    };
    let url = response_url(type_url);
    // A redundant relay (the packet already received, or already
    // acknowledged or timed out) succeeds as a no-op, as in ibc-go, so that
    // competing relayers do not fail each other's transactions.
    if result == Some(RESULT_NOOP) {
        return Ok(match envelope {
            MsgEnvelope::Packet(PacketMsg::Recv(_)) => response(&url, &ch::MsgRecvPacketResponse { result: RESULT_NOOP }),
            MsgEnvelope::Packet(PacketMsg::Ack(_)) => response(&url, &ch::MsgAcknowledgementResponse { result: RESULT_NOOP }),
            MsgEnvelope::Packet(PacketMsg::Timeout(_)) => response(&url, &ch::MsgTimeoutResponse { result: RESULT_NOOP }),
            _ => response(&url, &ch::MsgTimeoutOnCloseResponse { result: RESULT_NOOP }),
        });
    }
    let mut router = super::ports::router(&ctx);
    if let Err(e) = ibc_core::entrypoint::dispatch(&mut ctx, &mut router, (*envelope).clone()) {
        // A module's refusal keeps its own codespace and code.
        return Err(ctx.take_module_error().unwrap_or_else(|| IbcError::from(e).into()));
    }
    Ok(match envelope {
        MsgEnvelope::Packet(PacketMsg::Recv(_)) => response(&url, &ch::MsgRecvPacketResponse { result: result.unwrap_or(RESULT_SUCCESS) }),
        MsgEnvelope::Packet(PacketMsg::Ack(_)) => response(&url, &ch::MsgAcknowledgementResponse { result: result.unwrap_or(RESULT_SUCCESS) }),
        MsgEnvelope::Packet(PacketMsg::Timeout(_)) => response(&url, &ch::MsgTimeoutResponse { result: result.unwrap_or(RESULT_SUCCESS) }),
        MsgEnvelope::Packet(PacketMsg::TimeoutOnClose(_)) => response(&url, &ch::MsgTimeoutOnCloseResponse { result: result.unwrap_or(RESULT_SUCCESS) }),
        MsgEnvelope::Channel(ibc_core::channel::types::msgs::ChannelMsg::OpenInit(m)) => {
            let channel_id = ChannelId::new(ctx.channel_counter().map_err(|e| AppError::internal(e.to_string()))? - 1).to_string();
            let version = ctx
                .channel_end(&ChannelEndPath::new(&m.port_id_on_a, &channel_id.parse().expect("a channel id")))
                .map(|c| c.version.to_string())
                .unwrap_or_default();
            response(&url, &ch::MsgChannelOpenInitResponse { channel_id, version })
        }
        MsgEnvelope::Channel(ibc_core::channel::types::msgs::ChannelMsg::OpenTry(m)) => {
            let channel_id = ChannelId::new(ctx.channel_counter().map_err(|e| AppError::internal(e.to_string()))? - 1).to_string();
            let version = ctx
                .channel_end(&ChannelEndPath::new(&m.port_id_on_b, &channel_id.parse().expect("a channel id")))
                .map(|c| c.version.to_string())
                .unwrap_or_default();
            response(&url, &ch::MsgChannelOpenTryResponse { channel_id, version })
        }
        // Every other response is an empty message.
        _ => Any { type_url: url, value: vec![] },
    })
}

fn packet_result(noop: bool) -> i32 {
    if noop {
        RESULT_NOOP
    } else {
        RESULT_SUCCESS
    }
}

fn host<T>(r: Result<T, ibc_core::host::types::error::HostError>) -> AppResult<T> {
    r.map_err(|e| IbcError::Channel(e.to_string()).into())
}

/// Whether this chain already received the packet (a redundant relay,
/// answered as a no-op as ibc-go answers it).
fn already_received<S: StoreWrite + Send + Sync>(ctx: &IbcContext<'_, S>, port: &PortId, channel: &ChannelId, seq: Sequence) -> AppResult<bool> {
    let Ok(chan) = ctx.channel_end(&ChannelEndPath::new(port, channel)) else {
        return Ok(false); // the handler reports the missing channel
    };
    Ok(match chan.ordering {
        Order::Ordered => seq < host(ctx.get_next_sequence_recv(&SeqRecvPath::new(port, channel)))?,
        _ => host(ctx.get_packet_receipt(&ReceiptPath::new(port, channel, seq)))?.is_ok(),
    })
}

/// Whether a packet this chain sent still awaits its ack or timeout. A
/// sequence this chain never sent is an error, not a no-op: ibc-go cannot
/// tell the two apart, Aegis can (the next send sequence).
fn commitment_pending<S: StoreWrite + Send + Sync>(ctx: &IbcContext<'_, S>, port: &PortId, channel: &ChannelId, seq: Sequence) -> AppResult<bool> {
    if ctx.channel_end(&ChannelEndPath::new(port, channel)).is_err() {
        return Ok(true); // the handler reports the missing channel
    }
    let next = host(ctx.get_next_sequence_send(&SeqSendPath::new(port, channel)))?;
    if seq >= next {
        return Err(IbcError::PacketNeverSent { port: port.to_string(), channel: channel.to_string(), sequence: seq.value(), next: next.value() }.into());
    }
    Ok(ctx.get(&super::state::keys::path(CommitmentPath::new(port, channel, seq))).map_err(|e| AppError::internal(e.to_string()))?.is_some())
}

fn execute_transfer<S: StoreWrite + Send + Sync>(ctx: IbcContext<'_, S>, msg: MsgTransfer) -> AppResult<Any> {
    use ibc_proto::ibc::applications::transfer::v1::MsgTransferResponse;
    let seq_path = SeqSendPath::new(&msg.port_id_on_a, &msg.chan_id_on_a);
    let mut packet_ctx = ctx.clone();
    let mut token_ctx = ctx.clone();
    ibc_app_transfer::handler::send_transfer(&mut packet_ctx, &mut token_ctx, msg).map_err(|e| IbcError::Transfer(e.to_string()))?;
    let next = host(ctx.get_next_sequence_send(&seq_path))?;
    Ok(response(&response_url(MSG_TRANSFER_URL), &MsgTransferResponse { sequence: next.value() - 1 }))
}
