//! IBC core queries: clients, connections, channels and packets, from the
//! standard `ibc.core.*.v1.Query` services.

use aegis_node::client::GrpcClient;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::ibc::core::client::v1 as cl;
use ibc_proto::ibc::core::connection::v1 as co;
use ibc_proto::ibc::lightclients::tendermint::v1::ClientState as TmClientState;
use prost::Message;
use serde_json::{json, Value};

use super::common::{print_json, NodeArgs};

#[derive(Subcommand)]
pub enum IbcQueryCmd {
    /// Every light client on this chain, with the chain it tracks and its latest height.
    ClientStates {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One light client, with its status (Active, Frozen or Expired).
    ClientState {
        client_id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every connection end.
    Connections {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every channel end.
    Channels {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Sequences of packets sent on a channel and not yet acknowledged or timed out.
    PacketCommitments {
        port: String,
        channel: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Of the given sequences sent by the counterparty, those this chain (the receiver) has not received.
    UnreceivedPackets {
        port: String,
        channel: String,
        /// Comma-separated sequences, e.g. 1,2,3.
        sequences: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn height(h: Option<cl::Height>) -> String {
    h.map(|h| format!("{}-{}", h.revision_number, h.revision_height)).unwrap_or_default()
}

fn client_json(id: &str, any: Option<ibc_proto::google::protobuf::Any>) -> Value {
    match any.as_ref().map(|a| (a.type_url.as_str(), TmClientState::decode(a.value.as_slice()))) {
        Some((_, Ok(cs))) => json!({
            "client_id": id,
            "chain_id": cs.chain_id,
            "latest_height": height(cs.latest_height),
            "frozen_height": height(cs.frozen_height),
            "trusting_period_seconds": cs.trusting_period.map(|d| d.seconds).unwrap_or_default(),
            "unbonding_period_seconds": cs.unbonding_period.map(|d| d.seconds).unwrap_or_default(),
        }),
        Some((url, Err(_))) => json!({"client_id": id, "type_url": url}),
        None => json!({"client_id": id}),
    }
}

fn state_name(s: i32, kind: &str) -> String {
    match kind {
        "connection" => co::State::try_from(s).map(|s| s.as_str_name().to_string()).unwrap_or_else(|_| s.to_string()),
        _ => ch::State::try_from(s).map(|s| s.as_str_name().to_string()).unwrap_or_else(|_| s.to_string()),
    }
}

fn channel_json(c: &ch::IdentifiedChannel) -> Value {
    json!({
        "port_id": c.port_id,
        "channel_id": c.channel_id,
        "state": state_name(c.state, "channel"),
        "ordering": ch::Order::try_from(c.ordering).map(|o| o.as_str_name().to_string()).unwrap_or_default(),
        "counterparty": c.counterparty.as_ref().map(|p| json!({"port_id": p.port_id, "channel_id": p.channel_id})),
        "connection_hops": c.connection_hops,
        "version": c.version,
    })
}

pub async fn query(cmd: IbcQueryCmd) -> Result<()> {
    match cmd {
        IbcQueryCmd::ClientStates { node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: cl::QueryClientStatesResponse = c.query("/ibc.core.client.v1.Query/ClientStates", &cl::QueryClientStatesRequest { pagination: None }).await?;
            print_json(json!({"client_states": r.client_states.into_iter().map(|s| client_json(&s.client_id, s.client_state)).collect::<Vec<_>>()}));
        }
        IbcQueryCmd::ClientState { client_id, node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: cl::QueryClientStateResponse =
                c.query("/ibc.core.client.v1.Query/ClientState", &cl::QueryClientStateRequest { client_id: client_id.clone() }).await?;
            let status: cl::QueryClientStatusResponse =
                c.query("/ibc.core.client.v1.Query/ClientStatus", &cl::QueryClientStatusRequest { client_id: client_id.clone() }).await?;
            let mut v = client_json(&client_id, r.client_state);
            v["status"] = json!(status.status);
            print_json(v);
        }
        IbcQueryCmd::Connections { node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: co::QueryConnectionsResponse = c.query("/ibc.core.connection.v1.Query/Connections", &co::QueryConnectionsRequest { pagination: None }).await?;
            let list: Vec<Value> = r
                .connections
                .iter()
                .map(|c| {
                    json!({
                        "connection_id": c.id,
                        "client_id": c.client_id,
                        "state": state_name(c.state, "connection"),
                        "counterparty": c.counterparty.as_ref().map(|p| json!({"client_id": p.client_id, "connection_id": p.connection_id})),
                        "delay_period": c.delay_period,
                    })
                })
                .collect();
            print_json(json!({"connections": list}));
        }
        IbcQueryCmd::Channels { node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: ch::QueryChannelsResponse = c.query("/ibc.core.channel.v1.Query/Channels", &ch::QueryChannelsRequest { pagination: None }).await?;
            print_json(json!({"channels": r.channels.iter().map(channel_json).collect::<Vec<_>>()}));
        }
        IbcQueryCmd::PacketCommitments { port, channel, node } => {
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: ch::QueryPacketCommitmentsResponse = c
                .query("/ibc.core.channel.v1.Query/PacketCommitments", &ch::QueryPacketCommitmentsRequest { port_id: port, channel_id: channel, pagination: None })
                .await?;
            print_json(json!({"sequences": r.commitments.iter().map(|p| p.sequence).collect::<Vec<_>>()}));
        }
        IbcQueryCmd::UnreceivedPackets { port, channel, sequences, node } => {
            let seqs = sequences
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u64>().map_err(|_| anyhow!("{s:?} is not a sequence number")))
                .collect::<Result<Vec<_>>>()?;
            let c = GrpcClient::connect(&node.grpc).await?;
            let r: ch::QueryUnreceivedPacketsResponse = c
                .query(
                    "/ibc.core.channel.v1.Query/UnreceivedPackets",
                    &ch::QueryUnreceivedPacketsRequest { port_id: port, channel_id: channel, packet_commitment_sequences: seqs },
                )
                .await?;
            print_json(json!({"sequences": r.sequences}));
        }
    }
    Ok(())
}
