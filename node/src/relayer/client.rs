//! Light-client plumbing: create a 07-tendermint client of one chain on the
//! other, and the client update that makes a height of the source provable
//! on the destination (batched by the caller with the messages needing it).

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use ibc_client_tendermint::types::{AllowUpdate, ClientState as TmClientState, ConsensusState as TmConsensusState, Header as TmHeader, TrustThreshold};
use ibc_core::client::types::Height;
use ibc_core::host::types::identifiers::ChainId;
use ibc_core::primitives::proto::{Any as IbcAny, Protobuf};
use ibc_proto::ibc::core::client::v1 as cl;
use ibc_proto::ibc::lightclients::tendermint::v1::ClientState as RawTmClientState;
use prost::Message;

use super::chain::Chain;
use aegis_app::signer::pack;

/// The unbonding period `chain` advertises (`cosmos.staking.v1beta1.Query/Params`).
pub async fn unbonding_period(chain: &Chain) -> Result<Duration> {
    use cosmos_sdk_proto::cosmos::staking::v1beta1::{QueryParamsRequest, QueryParamsResponse};
    let r: QueryParamsResponse = chain.query("/cosmos.staking.v1beta1.Query/Params", &QueryParamsRequest {}, None).await?;
    let d = r.params.and_then(|p| p.unbonding_time).ok_or_else(|| anyhow!("{}: staking params carry no unbonding time", chain.id))?;
    Ok(Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
}

/// MsgCreateClient, signed by `host`'s relayer, for a client of `src` at
/// its latest height: trust 1/3, trusting period 2/3 of `src`'s unbonding
/// period (ibc-go's and Hermes's defaults), `src`'s proof specs.
pub async fn create_client_msg(src: &Chain, host: &Chain, max_clock_drift: Duration) -> Result<cosmrs::Any> {
    let unbonding = unbonding_period(src).await?;
    let h = src.latest_height().await?;
    let (sh, _) = src.header(h).await?;
    let cs = TmClientState::new(
        ChainId::new(&src.id)?,
        TrustThreshold::ONE_THIRD,
        unbonding * 2 / 3,
        unbonding,
        max_clock_drift,
        Height::new(src.revision, h)?,
        aegis_app::ibc::proof_specs(),
        vec!["upgrade".into(), "upgradedIBCState".into()],
        AllowUpdate { after_expiry: false, after_misbehaviour: false },
    )?;
    let client_state = ibc_client_tendermint::client_state::ClientState::from(cs);
    let consensus_state = ibc_client_tendermint::consensus_state::ConsensusState::from(TmConsensusState::from(sh.header));
    Ok(pack(
        "/ibc.core.client.v1.MsgCreateClient",
        &cl::MsgCreateClient {
            client_state: Some(IbcAny::decode(Protobuf::<IbcAny>::encode_vec(client_state).as_slice())?),
            consensus_state: Some(IbcAny::decode(Protobuf::<IbcAny>::encode_vec(consensus_state).as_slice())?),
            signer: host.signer.address.to_string(),
        },
    ))
}

/// The tendermint client state of `client_id` on `host`.
pub async fn client_state(host: &Chain, client_id: &str) -> Result<RawTmClientState> {
    let bytes = host.raw(&format!("clients/{client_id}/clientState")).await?.ok_or_else(|| anyhow!("{}: client {client_id} does not exist", host.id))?;
    let any = IbcAny::decode(bytes.as_slice())?;
    RawTmClientState::decode(any.value.as_slice()).context("client state is not a tendermint client state")
}

/// The latest height `host`'s client `client_id` has verified.
pub async fn client_height(host: &Chain, client_id: &str) -> Result<u64> {
    Ok(client_state(host, client_id).await?.latest_height.map(|h| h.revision_height).unwrap_or(0))
}

/// MsgUpdateClient moving `host`'s client of `src` from its latest height
/// to `target`, skipping the heights between (the light client's trust
/// rule decides whether the skip is safe).
pub async fn update_msg(src: &Chain, host: &Chain, client_id: &str, target: u64) -> Result<cosmrs::Any> {
    let trusted = client_height(host, client_id).await?;
    let (sh, validators) = src.header(target).await?;
    let trusted_next = src.validators(trusted + 1).await?;
    let header = TmHeader {
        signed_header: sh,
        validator_set: validators,
        trusted_height: Height::new(src.revision, trusted)?,
        trusted_next_validator_set: trusted_next,
    };
    let any: IbcAny = header.into();
    Ok(pack("/ibc.core.client.v1.MsgUpdateClient", &cl::MsgUpdateClient { client_id: client_id.into(), client_message: Some(any), signer: host.signer.address.to_string() }))
}

/// What proving `src`'s state on `dst` needs now: the state height `q`
/// (at least the height of everything the caller has just read),
/// the proof height `p = q + 1` (whose header carries `q`'s app hash) and
/// the client update to `p` when `dst`'s client is not there yet.
pub struct Proven {
    pub q: u64,
    pub p: u64,
    pub update: Option<cosmrs::Any>,
}

pub async fn prepare(src: &Chain, dst: &Chain, client_on_dst: &str) -> Result<Proven> {
    // What the caller saw is in the state of the latest block `l`: prove
    // at `l`, against the header of `l + 1` (waiting for it if needed).
    let l = src.latest_height().await?;
    src.wait_past(l, std::time::Duration::from_secs(30)).await?;
    let (q, p) = (l, l + 1);
    let current = client_height(dst, client_on_dst).await?;
    let update = if current < p { Some(update_msg(src, dst, client_on_dst, p).await?) } else { None };
    // A client already past p has no consensus state at p: prove at its height.
    if current > p {
        return Ok(Proven { q: current - 1, p: current, update: None });
    }
    Ok(Proven { q, p, update })
}
