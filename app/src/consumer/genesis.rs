//! `app_state.consumer`: ICS's `ConsumerGenesisState`, as the provider
//! exposes it at the consumer's spawn time. Its presence makes the chain a
//! consumer chain: InitChain creates the provider's 07-tendermint client
//! (`07-tendermint-0`, through ibc-rs's create-client handler, so it is
//! stored exactly as a `MsgCreateClient` would store it), and the initial
//! validator set is the set CometBFT starts with.

use std::collections::BTreeSet;
use std::time::Duration;

use ibc_client_tendermint::types::{ClientState as TmClientStateType, ConsensusState as TmConsensusStateType};
use ibc_core::client::types::msgs::MsgCreateClient;
use ibc_proto::interchain_security::ccv::v1::{ConsumerGenesisState, ConsumerParams};
use prost::Message;

use super::channel::{invalid_update, MAX_TOTAL_POWER};
use super::state::ConsumerWrite;
use super::ConsumerError;
use crate::error::AppResult;
use crate::ibc::context::IbcContext;
use crate::ibc::IbcRead;
use crate::store::{BlockContext, StoreWrite};
use crate::types::Address;

/// The provider client's id on a consumer chain: the first client created.
pub const PROVIDER_CLIENT_ID: &str = "07-tendermint-0";

fn bad(msg: impl Into<String>) -> ConsumerError {
    ConsumerError::Genesis(msg.into())
}

/// The initial validators (ed25519 key, power), or why they cannot start
/// a CometBFT chain.
pub fn initial_validators(g: &ConsumerGenesisState) -> Result<Vec<([u8; 32], i64)>, ConsumerError> {
    use tendermint_proto::crypto::public_key::Sum;
    let provider = g.provider.as_ref().ok_or_else(|| bad("provider is missing"))?;
    if provider.initial_val_set.is_empty() {
        return Err(bad("initial validator set is empty"));
    }
    let mut seen = BTreeSet::new();
    let mut total: i128 = 0;
    let mut out = Vec::with_capacity(provider.initial_val_set.len());
    for (i, v) in provider.initial_val_set.iter().enumerate() {
        let key: [u8; 32] = match v.pub_key.as_ref().and_then(|k| k.sum.as_ref()) {
            Some(Sum::Ed25519(bytes)) => {
                bytes.as_slice().try_into().map_err(|_| bad(format!("initial validator {i}: ed25519 key of {} bytes, want 32", bytes.len())))?
            }
            Some(Sum::Secp256k1(_)) => return Err(bad(format!("initial validator {i}: secp256k1 keys are not supported, want ed25519"))),
            None => return Err(bad(format!("initial validator {i}: no public key"))),
        };
        if v.power <= 0 {
            return Err(bad(format!("initial validator {i} ({}): power {} must be positive", hex::encode(key), v.power)));
        }
        if let Some(why) = invalid_update(&key, v.power) {
            return Err(bad(format!("initial validator {i}: {why}")));
        }
        if !seen.insert(key) {
            return Err(bad(format!("initial validator {i}: key {} appears twice", hex::encode(key))));
        }
        total += v.power as i128;
        out.push((key, v.power));
    }
    if total > MAX_TOTAL_POWER as i128 {
        return Err(bad(format!("initial validator set's total power {total} exceeds CometBFT's maximum {MAX_TOTAL_POWER}")));
    }
    Ok(out)
}

fn duration(d: &Option<tendermint_proto::google::protobuf::Duration>) -> Option<Duration> {
    let d = d.as_ref()?;
    (d.seconds > 0 || (d.seconds == 0 && d.nanos > 0)).then(|| Duration::new(d.seconds as u64, d.nanos.max(0) as u32))
}

/// The params this chain needs to run, checked.
pub fn check_params(p: &ConsumerParams) -> Result<(), ConsumerError> {
    if !p.enabled {
        return Err(bad("params.enabled is false: a consumer genesis must enable CCV"));
    }
    for (name, d) in [
        ("unbonding_period", &p.unbonding_period),
        ("ccv_timeout_period", &p.ccv_timeout_period),
        ("transfer_timeout_period", &p.transfer_timeout_period),
        ("retry_delay_period", &p.retry_delay_period),
    ] {
        if duration(d).is_none() {
            return Err(bad(format!("params.{name} must be positive")));
        }
    }
    if p.blocks_per_distribution_transmission <= 0 {
        return Err(bad(format!("params.blocks_per_distribution_transmission {} must be positive", p.blocks_per_distribution_transmission)));
    }
    if p.historical_entries < 0 {
        return Err(bad(format!("params.historical_entries {} must not be negative", p.historical_entries)));
    }
    Ok(())
}

/// The unbonding period a consumer chain's params give it.
pub fn unbonding_period(p: &ConsumerParams) -> Option<Duration> {
    duration(&p.unbonding_period)
}

/// Check the genesis and write it: the provider client, params, and the
/// initial validator set. Runs after the `ibc` genesis (it needs the
/// client counter); `genesis_time` is the chain's genesis time, which the
/// provider consensus state must not have expired at.
pub async fn apply<S: StoreWrite + Send + Sync>(genesis: &crate::ccv::ConsumerGenesis, state: &mut S, chain_id: &str, genesis_time: (i64, u32)) -> AppResult<()> {
    let g = genesis.to_proto();
    if genesis.pre_ccv == Some(true) {
        return Err(bad("preCCV is true: a standalone-to-consumer changeover is not supported yet").into());
    }
    if genesis.connection_id.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(bad("connection_id is set: a new consumer creates its provider client at genesis and needs none").into());
    }
    if !g.new_chain {
        return Err(bad("new_chain is false: starting as a consumer from an existing chain (a changeover) is not supported yet").into());
    }
    let params = g.params.clone().ok_or_else(|| bad("params are missing"))?;
    check_params(&params)?;
    let validators = initial_validators(&g)?;
    let provider = g.provider.as_ref().ok_or_else(|| bad("provider is missing"))?;
    let raw_cs = provider.client_state.clone().ok_or_else(|| bad("provider client state is missing"))?;
    let raw_cons = provider.consensus_state.clone().ok_or_else(|| bad("provider consensus state is missing"))?;
    if raw_cs.chain_id.trim().is_empty() {
        return Err(bad("provider client state has an empty chain id").into());
    }
    let cs = TmClientStateType::try_from(raw_cs.clone()).map_err(|e| bad(format!("provider client state: {e}")))?;
    if cs.is_frozen() {
        return Err(bad("provider client state is frozen").into());
    }
    TmConsensusStateType::try_from(raw_cons.clone()).map_err(|e| bad(format!("provider consensus state: {e}")))?;

    let ibc_params = state.ibc_params().await?;
    create_provider_client(state, ibc_params, chain_id, genesis_time, &raw_cs, &raw_cons, &params)?;
    state.put_provider_client_id(PROVIDER_CLIENT_ID)?;
    state.put_consumer_params(&params)?;
    if let Some(id) = genesis.params.consumer_id.as_deref().filter(|id| !id.is_empty()) {
        state.put_ccv_consumer_id(id)?;
    }
    for (key, power) in &validators {
        state.put_consumer_validator(key, *power)?;
    }
    // ICS: the genesis height maps to valset update id 0.
    state.put_height_valset_update_id(0, 0)?;
    state.put_last_valset_update_id(0)?;
    Ok(())
}

/// ibc-rs's create-client handler (validate, then execute), as a
/// `MsgCreateClient` runs it, at the first block's height (what ibc-go's
/// InitGenesis context says) and the genesis time.
fn create_provider_client<S: StoreWrite + Send + Sync>(
    state: &mut S,
    ibc_params: crate::ibc::IbcParams,
    chain_id: &str,
    genesis_time: (i64, u32),
    raw_cs: &ibc_proto::ibc::lightclients::tendermint::v1::ClientState,
    raw_cons: &ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState,
    params: &ConsumerParams,
) -> AppResult<()> {
    let block = BlockContext { chain_id: chain_id.into(), height: 1, time_seconds: genesis_time.0, time_nanos: genesis_time.1 };
    let unbonding = unbonding_period(params).unwrap_or_default();
    let mut ctx = IbcContext::new(state, ibc_params, block, unbonding)?;
    let any = |type_url: &str, value: Vec<u8>| ibc_core::primitives::proto::Any { type_url: type_url.into(), value };
    let msg = MsgCreateClient {
        client_state: any("/ibc.lightclients.tendermint.v1.ClientState", raw_cs.encode_to_vec()),
        consensus_state: any("/ibc.lightclients.tendermint.v1.ConsensusState", raw_cons.encode_to_vec()),
        signer: Address::module(super::MODULE).to_string().into(),
    };
    {
        use ibc_core::host::ValidationContext;
        let counter = ctx.client_counter().map_err(|e| bad(format!("client counter: {e}")))?;
        if counter != 0 {
            return Err(bad(format!("the provider client must be the first client, but {counter} exist")).into());
        }
    }
    ibc_core::client::handler::create_client::validate(&ctx, msg.clone()).map_err(|e| bad(format!("provider client: {e}")))?;
    ibc_core::client::handler::create_client::execute(&mut ctx, msg).map_err(|e| bad(format!("provider client: {e}")))?;
    Ok(())
}
