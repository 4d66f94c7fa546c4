//! What other modules ask of IBC outside a relayer's message: create a
//! client the chain itself trusts (a consumer's, at launch; the provider's,
//! from a consumer genesis), send a packet from a block hook, read channel
//! and connection ends, and describe this chain to a counterparty (its own
//! client state and consensus state at a height). Everything goes through
//! ibc-rs's own handlers and Aegis's host context, exactly as the messages
//! do.

use std::time::Duration;

use ibc_client_tendermint::types::{AllowUpdate, ClientState as TmClientStateType, ConsensusState as TmConsensusStateType, TrustThreshold};
use ibc_core::channel::types::channel::ChannelEnd;
use ibc_core::channel::types::packet::Packet;
use ibc_core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc_core::client::types::msgs::MsgCreateClient;
use ibc_core::client::types::Height;
use ibc_core::connection::types::ConnectionEnd;
use ibc_core::host::types::identifiers::{ChainId, ChannelId, ConnectionId, PortId};
use ibc_core::host::types::path::{ChannelEndPath, SeqSendPath};
use ibc_core::host::ValidationContext;
use ibc_core::primitives::proto::{Any, Protobuf};
use ibc_core::primitives::Timestamp;

use super::context::IbcContext;
use super::state::keys;
use super::{IbcError, IbcRead};
use crate::error::{AppError, AppResult};
use crate::restaking::RestakingRead;
use crate::store::StoreWrite;
use crate::types::Address;

/// The host context for a module's own use of IBC, with this chain's
/// unbonding period (the restaking withdrawal delay; a consumer chain's
/// CCV unbonding period).
pub async fn context<S: StoreWrite + Send + Sync>(state: &mut S) -> AppResult<IbcContext<'_, S>> {
    let params = state.ibc_params().await?;
    let unbonding = crate::consumer::host_unbonding_period(state).await?;
    let block = state.block_context().ok_or_else(|| AppError::internal("IBC use outside a block"))?;
    IbcContext::new(state, params, block, unbonding)
}

/// A 07-tendermint client state as Aegis creates them: trust 1/3, the given
/// trusting and unbonding periods, 10 s of clock drift, no recovery after
/// expiry or misbehaviour.
pub fn tendermint_client_state(
    chain_id: &str,
    latest_height: u64,
    trusting: Duration,
    unbonding: Duration,
    proof_specs: ibc_core::commitment_types::specs::ProofSpecs,
) -> AppResult<TmClientStateType> {
    let chain = ChainId::new(chain_id).map_err(|e| IbcError::Client(format!("chain id {chain_id}: {e}")))?;
    let height = Height::new(chain.revision_number(), latest_height).map_err(|e| IbcError::Client(e.to_string()))?;
    TmClientStateType::new(
        chain,
        TrustThreshold::ONE_THIRD,
        trusting,
        unbonding,
        Duration::from_secs(10),
        height,
        proof_specs,
        vec!["upgrade".into(), "upgradedIBCState".into()],
        AllowUpdate { after_expiry: false, after_misbehaviour: false },
    )
    .map_err(|e| IbcError::Client(e.to_string()).into())
}

/// Create a client through ibc-rs's create-client handler (validation
/// included), signed by `signer` (a module account); returns its id.
pub fn create_client<S: StoreWrite + Send + Sync>(
    mut ctx: IbcContext<'_, S>,
    client_state: TmClientStateType,
    consensus_state: TmConsensusStateType,
    signer: &Address,
) -> AppResult<String> {
    let counter = ctx.client_counter().map_err(|e| AppError::internal(e.to_string()))?;
    let cs: Any = ibc_client_tendermint::client_state::ClientState::from(client_state).into();
    let cons: Any = ibc_client_tendermint::consensus_state::ConsensusState::from(consensus_state).into();
    let msg = MsgCreateClient::new(cs, cons, signer.to_string().into());
    ibc_core::client::handler::create_client::validate(&ctx, msg.clone()).map_err(|e| IbcError::Client(e.to_string()))?;
    ibc_core::client::handler::create_client::execute(&mut ctx, msg).map_err(|e| IbcError::Client(e.to_string()))?;
    Ok(format!("07-tendermint-{counter}"))
}

pub fn channel_end<S: StoreWrite + Send + Sync>(ctx: &IbcContext<'_, S>, port: &str, channel: &str) -> AppResult<ChannelEnd> {
    let (port, channel) = ids(port, channel)?;
    ctx.channel_end(&ChannelEndPath::new(&port, &channel)).map_err(|e| IbcError::Channel(e.to_string()).into())
}

pub fn connection_end<S: StoreWrite + Send + Sync>(ctx: &IbcContext<'_, S>, connection: &str) -> AppResult<ConnectionEnd> {
    let id: ConnectionId = connection.parse().map_err(|e| IbcError::Connection(format!("{connection}: {e}")))?;
    ctx.connection_end(&id).map_err(|e| IbcError::Connection(e.to_string()).into())
}

fn ids(port: &str, channel: &str) -> AppResult<(PortId, ChannelId)> {
    let p: PortId = port.parse().map_err(|e| IbcError::Channel(format!("port {port}: {e}")))?;
    let c: ChannelId = channel.parse().map_err(|e| IbcError::Channel(format!("channel {channel}: {e}")))?;
    Ok((p, c))
}

/// Send `data` on an open channel from a block hook or a module, with a
/// timeout `timeout_seconds` after this block's time; returns the sequence.
/// The `send_packet` event goes to wherever the caller's state records
/// events (a block hook's land in FinalizeBlock's events).
pub fn send_packet<S: StoreWrite + Send + Sync>(
    mut ctx: IbcContext<'_, S>,
    port: &str,
    channel: &str,
    data: Vec<u8>,
    timeout_seconds: u64,
) -> AppResult<u64> {
    let (port_id, chan_id) = ids(port, channel)?;
    let chan = ctx.channel_end(&ChannelEndPath::new(&port_id, &chan_id)).map_err(|e| IbcError::Channel(e.to_string()))?;
    let counterparty_channel = chan
        .counterparty()
        .channel_id()
        .cloned()
        .ok_or_else(|| IbcError::Channel(format!("channel {channel} on {port} has no counterparty channel yet")))?;
    let seq = ctx.get_next_sequence_send(&SeqSendPath::new(&port_id, &chan_id)).map_err(|e| IbcError::Channel(e.to_string()))?;
    let block = ctx.block.clone();
    let nanos = (block.time_seconds as u128 * 1_000_000_000 + block.time_nanos as u128).saturating_add(timeout_seconds as u128 * 1_000_000_000);
    let timeout = Timestamp::from_nanoseconds(u64::try_from(nanos).map_err(|_| AppError::internal("packet timeout overflows"))?);
    let packet = Packet {
        seq_on_a: seq,
        port_id_on_a: port_id,
        chan_id_on_a: chan_id,
        port_id_on_b: chan.counterparty().port_id().clone(),
        chan_id_on_b: counterparty_channel,
        data,
        timeout_height_on_b: TimeoutHeight::Never,
        timeout_timestamp_on_b: TimeoutTimestamp::At(timeout),
    };
    ibc_core::channel::handler::send_packet(&mut ctx, packet).map_err(|e| IbcError::Channel(e.to_string()))?;
    Ok(seq.value())
}

/// Start a channel handshake from a module (ICS's consumer opens its reward
/// `transfer` channel this way): ibc-rs's ChanOpenInit handler with the
/// port's module callbacks, as a `MsgChannelOpenInit` signed by `signer`
/// runs it, over `connection`. Returns the new channel's id. ibc-rs
/// validates the whole message before it writes, so a refusal changes
/// nothing; it is this call's error, not the caller's message's.
pub fn channel_open_init<S: StoreWrite + Send + Sync>(
    ctx: &IbcContext<'_, S>,
    port: &str,
    connection: &ConnectionId,
    counterparty_port: &str,
    version: &str,
    ordering: ibc_core::channel::types::channel::Order,
    signer: &Address,
) -> AppResult<String> {
    use ibc_core::channel::types::msgs::{ChannelMsg, MsgChannelOpenInit};
    use ibc_core::handler::types::msgs::MsgEnvelope;
    let bad = |e: String| -> AppError { IbcError::Channel(e).into() };
    let msg = MsgChannelOpenInit {
        port_id_on_a: port.parse().map_err(|e| bad(format!("port {port}: {e}")))?,
        connection_hops_on_a: vec![connection.clone()],
        port_id_on_b: counterparty_port.parse().map_err(|e| bad(format!("port {counterparty_port}: {e}")))?,
        ordering,
        signer: signer.to_string().into(),
        version_proposal: ibc_core::channel::types::Version::new(version.to_string()),
    };
    let mut ctx = ctx.clone();
    let id = ChannelId::new(ctx.channel_counter().map_err(|e| bad(e.to_string()))?).to_string();
    let mut router = super::ports::router(&ctx);
    let outcome = ibc_core::entrypoint::dispatch(&mut ctx, &mut router, MsgEnvelope::Channel(ChannelMsg::OpenInit(msg)));
    // A refusal by the port's module must not become the caller's.
    let module_error = ctx.take_module_error();
    outcome.map_err(|e| module_error.unwrap_or_else(|| bad(e.to_string())))?;
    Ok(id)
}

/// This chain as a counterparty's client must describe it at `height`:
/// Aegis's proof specs and its unbonding period, trusting 2/3 of it.
pub async fn self_client_state<S: StoreWrite + Send + Sync>(state: &S, height: u64) -> AppResult<TmClientStateType> {
    let chain_id = state.block_context().map(|b| b.chain_id).ok_or_else(|| AppError::internal("no block context"))?;
    let unbonding = Duration::from_secs(state.restaking_params().await?.withdrawal_delay_seconds);
    tendermint_client_state(&chain_id, height, unbonding * 2 / 3, unbonding, super::proof_specs())
}

/// This chain's consensus state at `height` (recorded by the begin-block
/// hook: that block's time, the app hash its header carries and its next
/// validators' hash).
pub async fn self_consensus_state<S: StoreWrite + Send + Sync>(state: &S, height: u64) -> AppResult<TmConsensusStateType> {
    let key = keys::host_consensus_state(height);
    let bytes = state.read_bytes(&key).await?.ok_or_else(|| AppError::internal(format!("no host consensus state at {height}")))?;
    <TmConsensusStateType as Protobuf<ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState>>::decode_vec(&bytes)
        .map_err(|e| AppError::internal(format!("corrupt value at {key}: {e}")))
}
