//! `create-path`: a client of each chain on the other, then the ICS-03
//! connection and ICS-04 channel handshakes, each step proven against the
//! client update batched in front of it.

#![allow(deprecated)] // ibc-go still wants the deprecated `previous_*_id` fields sent empty.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::ibc::core::commitment::v1::MerklePrefix;
use ibc_proto::ibc::core::connection::v1 as co;
use ibc_proto::ibc::lightclients::tendermint::v1::ClientState as RawTmClientState;
use prost::Message;
use tracing::info;

use super::chain::Chain;
use super::client::{create_client_msg, prepare};
use super::config::{PathConfig, RelayerConfig};
use aegis_app::signer::pack;

/// The value of `key` in the first `kind` event of a committed tx.
pub fn event_attr(tx: &tendermint_rpc::endpoint::tx::Response, kind: &str, key: &str) -> Result<String> {
    tx.tx_result
        .events
        .iter()
        .filter(|e| e.kind == kind)
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key_str().ok() == Some(key))
        .and_then(|a| a.value_str().ok().map(str::to_string))
        .ok_or_else(|| anyhow!("no {kind}.{key} in the tx events"))
}

/// Send `msgs` (after the update, if any) and require success.
async fn send_ok(chain: &mut Chain, update: Option<cosmrs::Any>, msgs: Vec<cosmrs::Any>, what: &str) -> Result<tendermint_rpc::endpoint::tx::Response> {
    let mut all: Vec<cosmrs::Any> = update.into_iter().collect();
    all.extend(msgs);
    let tx = chain.send(all).await.with_context(|| format!("{what} on {}", chain.id))?;
    if tx.tx_result.code.is_err() {
        bail!("{what} on {} failed: {}", chain.id, tx.tx_result.log);
    }
    info!(chain = %chain.id, height = %tx.height, "{what}");
    Ok(tx)
}

/// What a connection handshake's Try and Ack prove about the sender's
/// client of the receiver: its state, and its consensus state at its
/// latest height, both at state height `q`.
struct HeldClient {
    client_state: ibc_proto::google::protobuf::Any,
    proof_client: Vec<u8>,
    consensus_height: ibc_proto::ibc::core::client::v1::Height,
    proof_consensus: Vec<u8>,
}

async fn client_proofs(chain: &Chain, client_id: &str, q: u64) -> Result<HeldClient> {
    let (bytes, proof_client) = chain.prove(&format!("clients/{client_id}/clientState"), q).await?;
    let client_state = ibc_proto::google::protobuf::Any::decode(bytes.as_slice())?;
    let consensus_height = RawTmClientState::decode(client_state.value.as_slice())?.latest_height.ok_or_else(|| anyhow!("client state without a height"))?;
    let (_, proof_consensus) =
        chain.prove(&format!("clients/{client_id}/consensusStates/{}-{}", consensus_height.revision_number, consensus_height.revision_height), q).await?;
    Ok(HeldClient { client_state, proof_client, consensus_height, proof_consensus })
}

/// Make sure the header after `h` exists, so state at `h` can be proven.
async fn settle(chain: &Chain, h: u64) -> Result<()> {
    chain.wait_past(h, Duration::from_secs(30)).await.map(|_| ())
}

pub async fn create_path(cfg: &mut RelayerConfig, a: &mut Chain, b: &mut Chain) -> Result<()> {
    let drift = |i: usize| Duration::from_secs(cfg.chains[i].max_clock_drift_seconds);
    let path: &mut PathConfig = &mut cfg.path;
    if path.is_established() {
        bail!("the path is already established (channel {} on {}, {} on {}); remove the ids from the config to create a new one", path.channel_a, a.id, path.channel_b, b.id);
    }
    // Clients.
    let msg = create_client_msg(b, a, drift(1)).await?;
    let tx = send_ok(a, None, vec![msg], "create client of the counterparty").await?;
    path.client_a = event_attr(&tx, "create_client", "client_id")?;
    let msg = create_client_msg(a, b, drift(0)).await?;
    let tx = send_ok(b, None, vec![msg], "create client of the counterparty").await?;
    path.client_b = event_attr(&tx, "create_client", "client_id")?;

    // Connection.
    let prefix = Some(MerklePrefix { key_prefix: b"ibc".to_vec() });
    let version = co::Version { identifier: "1".into(), features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()] };
    let init = co::MsgConnectionOpenInit {
        client_id: path.client_a.clone(),
        counterparty: Some(co::Counterparty { client_id: path.client_b.clone(), connection_id: String::new(), prefix: prefix.clone() }),
        version: Some(version.clone()),
        delay_period: 0,
        signer: a.signer.address.to_string(),
    };
    let tx = send_ok(a, None, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenInit", &init)], "connection open init").await?;
    path.connection_a = event_attr(&tx, "connection_open_init", "connection_id")?;
    settle(a, tx.height.value()).await?;

    let pr = prepare(a, b, &path.client_b).await?;
    let held = client_proofs(a, &path.client_a, pr.q).await?;
    let (_, proof_init) = a.prove(&format!("connections/{}", path.connection_a), pr.q).await?;
    let try_ = co::MsgConnectionOpenTry {
        client_id: path.client_b.clone(),
        previous_connection_id: String::new(),
        client_state: Some(held.client_state),
        counterparty: Some(co::Counterparty { client_id: path.client_a.clone(), connection_id: path.connection_a.clone(), prefix: prefix.clone() }),
        delay_period: 0,
        counterparty_versions: vec![version.clone()],
        proof_height: Some(a.height(pr.p)),
        proof_init,
        proof_client: held.proof_client,
        proof_consensus: held.proof_consensus,
        consensus_height: Some(held.consensus_height),
        signer: b.signer.address.to_string(),
        host_consensus_state_proof: vec![],
    };
    let tx = send_ok(b, pr.update, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenTry", &try_)], "connection open try").await?;
    path.connection_b = event_attr(&tx, "connection_open_try", "connection_id")?;
    settle(b, tx.height.value()).await?;

    let pr = prepare(b, a, &path.client_a).await?;
    let held = client_proofs(b, &path.client_b, pr.q).await?;
    let (_, proof_try) = b.prove(&format!("connections/{}", path.connection_b), pr.q).await?;
    let ack = co::MsgConnectionOpenAck {
        connection_id: path.connection_a.clone(),
        counterparty_connection_id: path.connection_b.clone(),
        version: Some(version),
        client_state: Some(held.client_state),
        proof_height: Some(b.height(pr.p)),
        proof_try,
        proof_client: held.proof_client,
        proof_consensus: held.proof_consensus,
        consensus_height: Some(held.consensus_height),
        signer: a.signer.address.to_string(),
        host_consensus_state_proof: vec![],
    };
    let tx = send_ok(a, pr.update, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenAck", &ack)], "connection open ack").await?;
    settle(a, tx.height.value()).await?;

    let pr = prepare(a, b, &path.client_b).await?;
    let (_, proof_ack) = a.prove(&format!("connections/{}", path.connection_a), pr.q).await?;
    let confirm = co::MsgConnectionOpenConfirm { connection_id: path.connection_b.clone(), proof_ack, proof_height: Some(a.height(pr.p)), signer: b.signer.address.to_string() };
    send_ok(b, pr.update, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenConfirm", &confirm)], "connection open confirm").await?;

    // Channel.
    let ordering = if path.ordering == "ordered" { ch::Order::Ordered } else { ch::Order::Unordered };
    let port = path.port.clone();
    let init = ch::MsgChannelOpenInit {
        port_id: port.clone(),
        channel: Some(ch::Channel {
            state: ch::State::Init as i32,
            ordering: ordering as i32,
            counterparty: Some(ch::Counterparty { port_id: port.clone(), channel_id: String::new() }),
            connection_hops: vec![path.connection_a.clone()],
            version: path.version.clone(),
            upgrade_sequence: 0,
        }),
        signer: a.signer.address.to_string(),
    };
    let tx = send_ok(a, None, vec![pack("/ibc.core.channel.v1.MsgChannelOpenInit", &init)], "channel open init").await?;
    path.channel_a = event_attr(&tx, "channel_open_init", "channel_id")?;
    let version_a = event_attr(&tx, "channel_open_init", "version").unwrap_or_else(|_| path.version.clone());
    settle(a, tx.height.value()).await?;

    let pr = prepare(a, b, &path.client_b).await?;
    let (_, proof_init) = a.prove(&format!("channelEnds/ports/{port}/channels/{}", path.channel_a), pr.q).await?;
    let try_ = ch::MsgChannelOpenTry {
        port_id: port.clone(),
        previous_channel_id: String::new(),
        channel: Some(ch::Channel {
            state: ch::State::Tryopen as i32,
            ordering: ordering as i32,
            counterparty: Some(ch::Counterparty { port_id: port.clone(), channel_id: path.channel_a.clone() }),
            connection_hops: vec![path.connection_b.clone()],
            version: version_a.clone(),
            upgrade_sequence: 0,
        }),
        counterparty_version: version_a,
        proof_init,
        proof_height: Some(a.height(pr.p)),
        signer: b.signer.address.to_string(),
    };
    let tx = send_ok(b, pr.update, vec![pack("/ibc.core.channel.v1.MsgChannelOpenTry", &try_)], "channel open try").await?;
    path.channel_b = event_attr(&tx, "channel_open_try", "channel_id")?;
    let version_b = event_attr(&tx, "channel_open_try", "version").unwrap_or_else(|_| path.version.clone());
    settle(b, tx.height.value()).await?;

    let pr = prepare(b, a, &path.client_a).await?;
    let (_, proof_try) = b.prove(&format!("channelEnds/ports/{port}/channels/{}", path.channel_b), pr.q).await?;
    let ack = ch::MsgChannelOpenAck {
        port_id: port.clone(),
        channel_id: path.channel_a.clone(),
        counterparty_channel_id: path.channel_b.clone(),
        counterparty_version: version_b,
        proof_try,
        proof_height: Some(b.height(pr.p)),
        signer: a.signer.address.to_string(),
    };
    let tx = send_ok(a, pr.update, vec![pack("/ibc.core.channel.v1.MsgChannelOpenAck", &ack)], "channel open ack").await?;
    settle(a, tx.height.value()).await?;

    let pr = prepare(a, b, &path.client_b).await?;
    let (_, proof_ack) = a.prove(&format!("channelEnds/ports/{port}/channels/{}", path.channel_a), pr.q).await?;
    let confirm = ch::MsgChannelOpenConfirm {
        port_id: port.clone(),
        channel_id: path.channel_b.clone(),
        proof_ack,
        proof_height: Some(a.height(pr.p)),
        signer: b.signer.address.to_string(),
    };
    send_ok(b, pr.update, vec![pack("/ibc.core.channel.v1.MsgChannelOpenConfirm", &confirm)], "channel open confirm").await?;
    info!(
        "path established: {} {}/{} {} <-> {} {}/{} {}",
        a.id, path.client_a, path.connection_a, path.channel_a, b.id, path.client_b, path.connection_b, path.channel_b
    );
    Ok(())
}
