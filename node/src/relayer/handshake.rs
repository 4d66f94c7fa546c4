//! `create-path`: the ICS-03 connection and ICS-04 channel handshakes, each
//! step proven against the client update batched in front of it. A generic
//! path first creates a client of each chain on the other; a CCV path
//! (Interchain Security) starts from the clients the provider and the
//! consumer already have, and opens ICS's CCV channel from the consumer.
//! The channel steps are also what `start` uses to finish handshakes it
//! finds half done (`channels.rs`).

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
use super::client::{client_state, create_client_msg, prepare};
use super::config::{End, PathKind, RelayerConfig};
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
    if cfg.path.is_established() {
        let p = &cfg.path;
        bail!("the path is already established (channel {} on {}, {} on {}); remove the ids from the config to create a new one", p.channel_a, a.id, p.channel_b, b.id);
    }
    let (mut ea, mut eb) = (cfg.path.end(0), cfg.path.end(1));
    let ordering = if cfg.path.ordered() { ch::Order::Ordered } else { ch::Order::Unordered };
    let version = cfg.path.version.clone();
    match cfg.path.kind {
        PathKind::Generic => {
            let drift = |i: usize| Duration::from_secs(cfg.chains[i].max_clock_drift_seconds);
            let msg = create_client_msg(b, a, drift(1)).await?;
            let tx = send_ok(a, None, vec![msg], "create client of the counterparty").await?;
            ea.client = event_attr(&tx, "create_client", "client_id")?;
            let msg = create_client_msg(a, b, drift(0)).await?;
            let tx = send_ok(b, None, vec![msg], "create client of the counterparty").await?;
            eb.client = event_attr(&tx, "create_client", "client_id")?;
            open_connection(a, &mut ea, b, &mut eb).await?;
            open_channel(a, &mut ea, b, &mut eb, ordering, &version).await?;
        }
        PathKind::Ccv => {
            let consumer_id = cfg.path.consumer_id;
            // The consumer initiates both handshakes.
            if cfg.consumer_index()? == 0 {
                ccv_clients(b, &mut eb, a, &mut ea, consumer_id).await?;
                open_connection(a, &mut ea, b, &mut eb).await?;
                open_channel(a, &mut ea, b, &mut eb, ordering, &version).await?;
            } else {
                ccv_clients(a, &mut ea, b, &mut eb, consumer_id).await?;
                open_connection(b, &mut eb, a, &mut ea).await?;
                open_channel(b, &mut eb, a, &mut ea, ordering, &version).await?;
            }
        }
    }
    cfg.path.set_end(0, ea);
    cfg.path.set_end(1, eb);
    let p = &cfg.path;
    info!("path established: {} {}/{} {} <-> {} {}/{} {}", a.id, p.client_a, p.connection_a, p.channel_a, b.id, p.client_b, p.connection_b, p.channel_b);
    Ok(())
}

/// The two clients of a CCV path: the provider's client of the consumer
/// (made at launch, named by the provider's `Consumer` query) and the
/// consumer's client of the provider (made at its genesis: the consumer
/// module's `Status` names it; an ICS consumer's is `07-tendermint-0`).
/// Each must track the other chain.
async fn ccv_clients(provider: &Chain, ep: &mut End, consumer: &Chain, ec: &mut End, consumer_id: u64) -> Result<()> {
    use aegis_proto::aegis::consumer::v1 as cpb;
    use aegis_proto::aegis::provider::v1 as ppb;
    let r: ppb::QueryConsumerResponse = provider
        .query("/aegis.provider.v1.Query/Consumer", &ppb::QueryConsumerRequest { consumer_id }, None)
        .await
        .with_context(|| format!("consumer {consumer_id} on the provider {}", provider.id))?;
    let c = r.consumer.ok_or_else(|| anyhow!("{}: consumer {consumer_id} does not exist", provider.id))?;
    let chain_id = c.parameters.as_ref().map(|p| p.chain_id.clone()).unwrap_or_default();
    if chain_id != consumer.id {
        bail!("consumer {consumer_id} on {} is chain {chain_id:?}, not {} (check consumer_id)", provider.id, consumer.id);
    }
    if c.client_id.is_empty() {
        bail!("consumer {consumer_id} ({}) is {} on {}: it has no client until it launches", consumer.id, c.phase, provider.id);
    }
    if !c.channel_id.is_empty() {
        bail!("consumer {consumer_id} already has its CCV channel {} on {}", c.channel_id, provider.id);
    }
    if ep.client.is_empty() {
        ep.client = c.client_id;
    } else if ep.client != c.client_id {
        bail!("the config names client {} on {}, but consumer {consumer_id}'s client there is {}", ep.client, provider.id, c.client_id);
    }
    if ec.client.is_empty() {
        ec.client = match consumer.query::<_, cpb::QueryStatusResponse>("/aegis.consumer.v1.Query/Status", &cpb::QueryStatusRequest {}, None).await {
            Ok(s) => s.provider_client_id,
            Err(_) => "07-tendermint-0".into(),
        };
    }
    for (host, client, of) in [(provider, &ep.client, consumer), (consumer, &ec.client, provider)] {
        let cs = client_state(host, client).await?;
        if cs.chain_id != of.id {
            bail!("client {client} on {} tracks {}, not {}", host.id, cs.chain_id, of.id);
        }
    }
    info!(provider = %provider.id, provider_client = %ep.client, consumer = %consumer.id, consumer_client = %ec.client, "CCV path over existing clients");
    Ok(())
}

/// ICS-03 from `a` (Init) to `b` (Try), then Ack on `a` and Confirm on `b`.
pub async fn open_connection(a: &mut Chain, ea: &mut End, b: &mut Chain, eb: &mut End) -> Result<()> {
    let prefix = Some(MerklePrefix { key_prefix: b"ibc".to_vec() });
    let version = co::Version { identifier: "1".into(), features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()] };
    let init = co::MsgConnectionOpenInit {
        client_id: ea.client.clone(),
        counterparty: Some(co::Counterparty { client_id: eb.client.clone(), connection_id: String::new(), prefix: prefix.clone() }),
        version: Some(version.clone()),
        delay_period: 0,
        signer: a.signer.address.to_string(),
    };
    let tx = send_ok(a, None, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenInit", &init)], "connection open init").await?;
    ea.connection = event_attr(&tx, "connection_open_init", "connection_id")?;
    settle(a, tx.height.value()).await?;

    let pr = prepare(a, b, &eb.client).await?;
    let held = client_proofs(a, &ea.client, pr.q).await?;
    let (_, proof_init) = a.prove(&format!("connections/{}", ea.connection), pr.q).await?;
    let try_ = co::MsgConnectionOpenTry {
        client_id: eb.client.clone(),
        previous_connection_id: String::new(),
        client_state: Some(held.client_state),
        counterparty: Some(co::Counterparty { client_id: ea.client.clone(), connection_id: ea.connection.clone(), prefix: prefix.clone() }),
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
    eb.connection = event_attr(&tx, "connection_open_try", "connection_id")?;
    settle(b, tx.height.value()).await?;

    let pr = prepare(b, a, &ea.client).await?;
    let held = client_proofs(b, &eb.client, pr.q).await?;
    let (_, proof_try) = b.prove(&format!("connections/{}", eb.connection), pr.q).await?;
    let ack = co::MsgConnectionOpenAck {
        connection_id: ea.connection.clone(),
        counterparty_connection_id: eb.connection.clone(),
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

    let pr = prepare(a, b, &eb.client).await?;
    let (_, proof_ack) = a.prove(&format!("connections/{}", ea.connection), pr.q).await?;
    let confirm = co::MsgConnectionOpenConfirm { connection_id: eb.connection.clone(), proof_ack, proof_height: Some(a.height(pr.p)), signer: b.signer.address.to_string() };
    send_ok(b, pr.update, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenConfirm", &confirm)], "connection open confirm").await?;
    Ok(())
}

/// ICS-04 from `a`'s port (Init, proposing `version`) to `b`'s, over the
/// path's connection; the ids land in `ea.channel` and `eb.channel`.
pub async fn open_channel(a: &mut Chain, ea: &mut End, b: &mut Chain, eb: &mut End, ordering: ch::Order, version: &str) -> Result<()> {
    let init = ch::MsgChannelOpenInit {
        port_id: ea.port.clone(),
        channel: Some(ch::Channel {
            state: ch::State::Init as i32,
            ordering: ordering as i32,
            counterparty: Some(ch::Counterparty { port_id: eb.port.clone(), channel_id: String::new() }),
            connection_hops: vec![ea.connection.clone()],
            version: version.into(),
            upgrade_sequence: 0,
        }),
        signer: a.signer.address.to_string(),
    };
    let tx = send_ok(a, None, vec![pack("/ibc.core.channel.v1.MsgChannelOpenInit", &init)], "channel open init").await?;
    ea.channel = event_attr(&tx, "channel_open_init", "channel_id")?;
    let version_a = event_attr(&tx, "channel_open_init", "version").unwrap_or_else(|_| version.to_string());
    settle(a, tx.height.value()).await?;

    let at_a = ChannelAt { port: ea.port.clone(), channel: ea.channel.clone(), ordering, version: version_a };
    let (channel_b, version_b) = chan_open_try(a, &at_a, b, &eb.client, &eb.connection, &eb.port).await?;
    eb.channel = channel_b.clone();
    let at_b = ChannelAt { port: eb.port.clone(), channel: channel_b, ordering, version: version_b };
    chan_open_ack(b, &at_b, a, &ea.client, &ea.port, &ea.channel).await?;
    chan_open_confirm(a, &at_a, b, &eb.client, &eb.port, &eb.channel).await?;
    Ok(())
}

/// A channel end as the other side's handshake step names it.
#[derive(Clone, Debug)]
pub struct ChannelAt {
    pub port: String,
    pub channel: String,
    pub ordering: ch::Order,
    pub version: String,
}

/// ChanOpenTry on `dst` (port `dst_port`, over `dst_connection`) answering
/// `src`'s channel in INIT, proven against `dst`'s client `dst_client` of
/// `src`. Returns the new channel's id and the version `dst` chose.
pub async fn chan_open_try(src: &Chain, at_src: &ChannelAt, dst: &mut Chain, dst_client: &str, dst_connection: &str, dst_port: &str) -> Result<(String, String)> {
    let pr = prepare(src, dst, dst_client).await?;
    let (_, proof_init) = src.prove(&format!("channelEnds/ports/{}/channels/{}", at_src.port, at_src.channel), pr.q).await?;
    let try_ = ch::MsgChannelOpenTry {
        port_id: dst_port.into(),
        previous_channel_id: String::new(),
        channel: Some(ch::Channel {
            state: ch::State::Tryopen as i32,
            ordering: at_src.ordering as i32,
            counterparty: Some(ch::Counterparty { port_id: at_src.port.clone(), channel_id: at_src.channel.clone() }),
            connection_hops: vec![dst_connection.into()],
            version: at_src.version.clone(),
            upgrade_sequence: 0,
        }),
        counterparty_version: at_src.version.clone(),
        proof_init,
        proof_height: Some(src.height(pr.p)),
        signer: dst.signer.address.to_string(),
    };
    let what = format!("channel open try ({dst_port} <- {} {}/{})", src.id, at_src.port, at_src.channel);
    let tx = send_ok(dst, pr.update, vec![pack("/ibc.core.channel.v1.MsgChannelOpenTry", &try_)], &what).await?;
    let channel = event_attr(&tx, "channel_open_try", "channel_id")?;
    let version = event_attr(&tx, "channel_open_try", "version").unwrap_or_else(|_| at_src.version.clone());
    settle(dst, tx.height.value()).await?;
    Ok((channel, version))
}

/// ChanOpenAck on `dst`'s channel `dst_channel` (in INIT) for `src`'s
/// answer in TRYOPEN.
pub async fn chan_open_ack(src: &Chain, at_src: &ChannelAt, dst: &mut Chain, dst_client: &str, dst_port: &str, dst_channel: &str) -> Result<()> {
    let pr = prepare(src, dst, dst_client).await?;
    let (_, proof_try) = src.prove(&format!("channelEnds/ports/{}/channels/{}", at_src.port, at_src.channel), pr.q).await?;
    let ack = ch::MsgChannelOpenAck {
        port_id: dst_port.into(),
        channel_id: dst_channel.into(),
        counterparty_channel_id: at_src.channel.clone(),
        counterparty_version: at_src.version.clone(),
        proof_try,
        proof_height: Some(src.height(pr.p)),
        signer: dst.signer.address.to_string(),
    };
    let what = format!("channel open ack ({dst_port}/{dst_channel} <- {} {}/{})", src.id, at_src.port, at_src.channel);
    let tx = send_ok(dst, pr.update, vec![pack("/ibc.core.channel.v1.MsgChannelOpenAck", &ack)], &what).await?;
    settle(dst, tx.height.value()).await
}

/// ChanOpenConfirm on `dst`'s channel `dst_channel` (in TRYOPEN) once
/// `src`'s end is OPEN.
pub async fn chan_open_confirm(src: &Chain, at_src: &ChannelAt, dst: &mut Chain, dst_client: &str, dst_port: &str, dst_channel: &str) -> Result<()> {
    let pr = prepare(src, dst, dst_client).await?;
    let (_, proof_ack) = src.prove(&format!("channelEnds/ports/{}/channels/{}", at_src.port, at_src.channel), pr.q).await?;
    let confirm = ch::MsgChannelOpenConfirm {
        port_id: dst_port.into(),
        channel_id: dst_channel.into(),
        proof_ack,
        proof_height: Some(src.height(pr.p)),
        signer: dst.signer.address.to_string(),
    };
    let what = format!("channel open confirm ({dst_port}/{dst_channel} <- {} {}/{})", src.id, at_src.port, at_src.channel);
    send_ok(dst, pr.update, vec![pack("/ibc.core.channel.v1.MsgChannelOpenConfirm", &confirm)], &what).await?;
    Ok(())
}
