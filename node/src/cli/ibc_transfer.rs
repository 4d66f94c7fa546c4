//! ICS-20 commands: send tokens over an IBC channel; denom traces.

use std::path::Path;

use aegis_node::client::GrpcClient;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use ibc_proto::ibc::applications::transfer::v1 as tr;
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::ibc::core::client::v1 as cl;
use ibc_proto::ibc::lightclients::tendermint::v1::ClientState as TmClientState;
use prost::Message;

use super::common::{parse_amount_denom, print_json, run_tx, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum IbcTransferTx {
    /// Send tokens to an address on the chain at the other end of a transfer channel,
    /// e.g. `aegisd tx ibc-transfer transfer channel-0 aegis1... 1000uaegis --from faucet`.
    /// Vouchers are sent by their `ibc/<hash>` denom.
    Transfer {
        channel: String,
        receiver: String,
        /// Tokens (base units): <amount><denom>, e.g. 1000uaegis or 5ibc/27A6...
        amount: String,
        /// Absolute timeout height on the receiving chain, `<revision>-<height>` (0-0 disables).
        /// (--timeout-height is the tx's own, as in the Cosmos SDK.)
        #[arg(long = "packet-timeout-height", id = "packet_timeout_height", conflicts_with = "timeout_blocks")]
        timeout_height: Option<String>,
        /// Timeout this many blocks after the receiving chain's latest height this chain's client knows.
        #[arg(long, default_value_t = 1000)]
        timeout_blocks: u64,
        /// Timeout this many seconds after this chain's latest block time (0 disables).
        #[arg(long, default_value_t = 600)]
        timeout_seconds: u64,
        /// Memo carried in the packet.
        #[arg(long, default_value = "")]
        packet_memo: String,
        #[arg(long, default_value = "transfer")]
        port: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum IbcTransferQueryCmd {
    /// The trace (path and base denom) behind an `ibc/<hash>` denom (or the bare hash).
    DenomTrace {
        denom: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every denom trace this chain has minted vouchers for.
    DenomTraces {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The escrow account of a transfer channel.
    EscrowAddress {
        channel: String,
        #[arg(long, default_value = "transfer")]
        port: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// The receiving chain's height (`<revision>-<height>`) `blocks` past what
/// this chain's client of it has seen, through the channel's connection.
async fn relative_timeout_height(c: &GrpcClient, port: &str, channel: &str, blocks: u64) -> Result<cl::Height> {
    let r: ch::QueryChannelClientStateResponse = c
        .query("/ibc.core.channel.v1.Query/ChannelClientState", &ch::QueryChannelClientStateRequest { port_id: port.into(), channel_id: channel.into() })
        .await
        .with_context(|| format!("looking up the client behind {port}/{channel}"))?;
    let any = r.identified_client_state.and_then(|s| s.client_state).ok_or_else(|| anyhow!("{port}/{channel} has no client state"))?;
    let cs = TmClientState::decode(any.value.as_slice()).context("the channel's client is not a tendermint client")?;
    let h = cs.latest_height.ok_or_else(|| anyhow!("client state without a height"))?;
    Ok(cl::Height { revision_number: h.revision_number, revision_height: h.revision_height + blocks })
}

fn parse_height(s: &str) -> Result<cl::Height> {
    let (r, h) = s.split_once('-').ok_or_else(|| anyhow!("{s:?}: write <revision>-<height>, e.g. 0-1200"))?;
    Ok(cl::Height { revision_number: r.parse().map_err(|_| anyhow!("{s:?}: bad revision"))?, revision_height: h.parse().map_err(|_| anyhow!("{s:?}: bad height"))? })
}

pub async fn tx(cmd: IbcTransferTx, home: &Path) -> Result<()> {
    match cmd {
        IbcTransferTx::Transfer { channel, receiver, amount, timeout_height, timeout_blocks, timeout_seconds, packet_memo, port, tx } => {
            let (amount, denom) = parse_amount_denom(&amount)?;
            if receiver.is_empty() {
                bail!("the receiver is empty");
            }
            let c = GrpcClient::connect(&tx.node.grpc).await?;
            let timeout_height = match timeout_height {
                Some(h) => parse_height(&h)?,
                None if timeout_blocks == 0 => cl::Height::default(),
                None => relative_timeout_height(&c, &port, &channel, timeout_blocks).await?,
            };
            let timeout_timestamp = if timeout_seconds == 0 { 0 } else { c.latest_block().await?.1 + timeout_seconds * 1_000_000_000 };
            run_tx(&tx, home, |s| {
                vec![aegis_app::signer::pack(
                    "/ibc.applications.transfer.v1.MsgTransfer",
                    &tr::MsgTransfer {
                        source_port: port.clone(),
                        source_channel: channel.clone(),
                        token: Some(ibc_proto::cosmos::base::v1beta1::Coin { denom: denom.clone(), amount: amount.to_string() }),
                        sender: s.address.to_string(),
                        receiver: receiver.clone(),
                        timeout_height: Some(timeout_height),
                        timeout_timestamp,
                        memo: packet_memo.clone(),
                    },
                )]
            })
            .await
        }
    }
}

fn trace_json(t: &tr::DenomTrace) -> serde_json::Value {
    let full = if t.path.is_empty() { t.base_denom.clone() } else { format!("{}/{}", t.path, t.base_denom) };
    serde_json::json!({"path": t.path, "base_denom": t.base_denom, "denom": format!("ibc/{}", aegis_app::ibc::transfer::denom_hash(&full))})
}

pub async fn query(cmd: IbcTransferQueryCmd) -> Result<()> {
    match cmd {
        IbcTransferQueryCmd::DenomTrace { denom, node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let hash = denom.strip_prefix("ibc/").unwrap_or(&denom).to_string();
            let r: tr::QueryDenomTraceResponse = c.query("/ibc.applications.transfer.v1.Query/DenomTrace", &tr::QueryDenomTraceRequest { hash }).await?;
            print_json(trace_json(&r.denom_trace.ok_or_else(|| anyhow!("no denom trace for {denom}"))?));
        }
        IbcTransferQueryCmd::DenomTraces { node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: tr::QueryDenomTracesResponse = c.query("/ibc.applications.transfer.v1.Query/DenomTraces", &tr::QueryDenomTracesRequest { pagination: None }).await?;
            print_json(serde_json::json!({"denom_traces": r.denom_traces.iter().map(trace_json).collect::<Vec<_>>()}));
        }
        IbcTransferQueryCmd::EscrowAddress { channel, port, node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: tr::QueryEscrowAddressResponse =
                c.query("/ibc.applications.transfer.v1.Query/EscrowAddress", &tr::QueryEscrowAddressRequest { port_id: port, channel_id: channel }).await?;
            print_json(serde_json::json!({"escrow_address": r.escrow_address}));
        }
    }
    Ok(())
}
