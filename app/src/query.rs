//! Queries: the gRPC services (tonic) and ABCI `Query`, served by one
//! implementation.
//!
//! Each module's `query.rs` implements its Cosmos gRPC service trait over a
//! `Storage`. ABCI `Query` at a gRPC method path (how CometBFT-RPC clients
//! such as cosmjs query a Cosmos chain) decodes the request, calls the same
//! trait method with the snapshot of the requested height attached, and
//! encodes the response. Raw keys, with ICS23 proofs, are served at
//! `/store/key`, and IBC paths (proven through the `ibc` substore) at
//! `store/ibc/key`.

use cnidarium::{Snapshot, Storage};
use prost::Message;
use tendermint::abci::{request, response, Code};
use tonic::{Request, Response, Status};

use crate::error::{AppError, SdkError};

/// The gRPC metadata key Cosmos uses to ask for state at a height.
pub const HEIGHT_METADATA: &str = "x-cosmos-block-height";

/// Snapshot at `height` (0 = latest): cnidarium's 10 latest, or the node's
/// window of recent heights (`store::retained`); older heights are reported
/// as no longer retained.
pub fn snapshot_at(storage: &Storage, height: u64) -> Result<Snapshot, AppError> {
    if height == 0 {
        return Ok(storage.latest_snapshot());
    }
    let latest = storage.latest_version();
    if latest == u64::MAX {
        return Err(SdkError::InvalidHeight(format!("height {height} is not committed yet (no state is committed)")).into());
    }
    if height > latest {
        return Err(SdkError::InvalidHeight(format!("height {height} is not committed yet (latest is {latest})")).into());
    }
    storage.snapshot(height).or_else(|| crate::store::retained::snapshot(height)).ok_or_else(|| {
        let keep = crate::store::retained::keep_recent();
        SdkError::InvalidHeight(format!(
            "state at height {height} is no longer retained (latest is {latest}; this node keeps the {keep} most recent heights, \
             pruning_keep_recent in config/app.toml, and none from before its last restart)"
        ))
        .into()
    })
}

/// The snapshot a gRPC request is about: the one attached by the ABCI
/// router, else the height in `x-cosmos-block-height`, else the latest.
pub fn request_snapshot<T>(storage: &Storage, req: &Request<T>) -> Result<Snapshot, Status> {
    if let Some(s) = req.extensions().get::<Snapshot>() {
        return Ok(s.clone());
    }
    let height = match req.metadata().get(HEIGHT_METADATA) {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| Status::invalid_argument(format!("{HEIGHT_METADATA} must be a decimal height")))?,
        None => 0,
    };
    snapshot_at(storage, height).map_err(to_status)
}

/// A bech32 address argument of a query.
pub fn parse_address(s: &str) -> Result<crate::types::Address, Status> {
    if s.is_empty() {
        return Err(Status::invalid_argument("empty address string is not allowed"));
    }
    crate::types::Address::parse(s).map_err(to_status)
}

/// Map an application error onto a gRPC status (the ABCI router maps it
/// back to a code for clients that read `code`).
pub fn to_status(e: AppError) -> Status {
    use tonic::Code as G;
    let code = match (e.codespace, e.code) {
        ("sdk", 22) | ("sdk", 38) | ("sdk", 9) => G::NotFound,
        ("sdk", 7) | ("sdk", 10) | ("sdk", 18) | ("sdk", 26) | ("sdk", 2) => G::InvalidArgument,
        ("sdk", 37) => G::Unimplemented,
        ("undefined", _) => G::Internal,
        _ => G::InvalidArgument,
    };
    Status::new(code, e.message)
}

fn status_to_abci(s: &Status) -> (u32, &'static str) {
    use tonic::Code as G;
    match s.code() {
        G::NotFound => (22, "sdk"),
        G::InvalidArgument => (18, "sdk"),
        G::Unimplemented => (6, "sdk"),
        _ => (1, "undefined"),
    }
}

/// Adapt an async gRPC handler into an ABCI query handler.
pub async fn call<Req, Resp, F, Fut>(snapshot: Snapshot, data: &[u8], f: F) -> Result<Vec<u8>, Status>
where
    Req: Message + Default,
    Resp: Message,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Resp>, Status>>,
{
    let msg = Req::decode(data).map_err(|e| Status::invalid_argument(format!("cannot decode request: {e}")))?;
    let mut req = Request::new(msg);
    req.extensions_mut().insert(snapshot);
    Ok(f(req).await?.into_inner().encode_to_vec())
}

/// Serve an ABCI `Query`.
pub async fn abci_query(storage: &Storage, req: request::Query) -> response::Query {
    let height = req.height.value();
    let snapshot = match snapshot_at(storage, height) {
        Ok(s) => s,
        Err(e) => return error_response(e.code, e.codespace, e.message, height),
    };
    let height = snapshot.version();
    let path = req.path.as_str();

    if path == "/store/key" || path == "store/key" || path == "key" {
        return key_query(snapshot, &req.data, req.prove).await;
    }
    if path == "/store/ibc/key" || path == "store/ibc/key" {
        return ibc_key_query(snapshot, &req.data, req.prove).await;
    }
    if path == "/cosmos.tx.v1beta1.Service/Simulate" {
        return simulate_query(storage, &req.data, height).await;
    }
    let result = route(storage, snapshot, path, &req.data).await;
    match result {
        Some(Ok(value)) => response::Query { code: Code::Ok, value: value.into(), height: height.try_into().unwrap_or_default(), ..Default::default() },
        Some(Err(status)) => {
            let (code, codespace) = status_to_abci(&status);
            error_response(code, codespace, format!("rpc error: code = {:?} desc = {}", status.code(), status.message()), height)
        }
        None => error_response(6, "sdk", format!("unknown query path {path:?}"), height),
    }
}

fn error_response(code: u32, codespace: &str, log: String, height: u64) -> response::Query {
    response::Query {
        code: Code::from(code),
        codespace: codespace.to_string(),
        log,
        height: height.try_into().unwrap_or_default(),
        ..Default::default()
    }
}

async fn key_query(snapshot: Snapshot, key: &[u8], prove: bool) -> response::Query {
    let height = snapshot.version();
    let Ok(key_str) = std::str::from_utf8(key) else {
        return error_response(18, "sdk", "store keys are UTF-8 strings".into(), height);
    };
    if key.is_empty() {
        return error_response(18, "sdk", "empty key".into(), height);
    }
    let (value, proof) = if prove {
        match snapshot.get_with_proof(key.to_vec()).await {
            Ok((v, p)) => (v, Some(crate::store::proof_ops(&p.proofs, key))),
            Err(e) => return error_response(1, "undefined", format!("proof of {key_str}: {e:#}"), height),
        }
    } else {
        use cnidarium::StateRead;
        match snapshot.get_raw(key_str).await {
            Ok(v) => (v, None),
            Err(e) => return error_response(1, "undefined", format!("{e:#}"), height),
        }
    };
    response::Query {
        code: Code::Ok,
        key: key.to_vec().into(),
        value: value.unwrap_or_default().into(),
        proof,
        height: height.try_into().unwrap_or_default(),
        ..Default::default()
    }
}

/// ibc-go's `store/ibc/key`: `data` is an ICS-24 path (as relayers send
/// it), read at state key `ibc/<path>`. With `prove`, the proof is the
/// path's ICS23 proof in the `ibc` substore, then the substore root's under
/// key `ibc` in the main store: what a counterparty's 07-tendermint client
/// verifies against the app hash with commitment prefix `ibc`.
async fn ibc_key_query(snapshot: Snapshot, data: &[u8], prove: bool) -> response::Query {
    let height = snapshot.version();
    let Ok(path) = std::str::from_utf8(data) else {
        return error_response(18, "sdk", "IBC paths are UTF-8 strings".into(), height);
    };
    if path.is_empty() {
        return error_response(18, "sdk", "empty IBC path".into(), height);
    }
    let key = crate::ibc::state::path_key(path);
    let mut r = key_query(snapshot, key.as_bytes(), prove).await;
    if let Some(proof) = r.proof.as_mut() {
        // Name each op's key within its own store, as ibc-go does.
        if let [substore, main] = proof.ops.as_mut_slice() {
            substore.key = data.to_vec();
            main.key = crate::ibc::state::SUBSTORE.as_bytes().to_vec();
        }
    }
    if r.code.is_ok() {
        r.key = data.to_vec().into();
    }
    r
}

async fn simulate_query(storage: &Storage, data: &[u8], height: u64) -> response::Query {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
    let req = match SimulateRequest::decode(data) {
        Ok(r) => r,
        Err(e) => return error_response(2, "sdk", format!("cannot decode SimulateRequest: {e}"), height),
    };
    match simulate_response(storage, &req.tx_bytes).await {
        Ok(resp) => response::Query {
            code: Code::Ok,
            value: SimulateResponse::encode_to_vec(&resp).into(),
            height: height.try_into().unwrap_or_default(),
            ..Default::default()
        },
        Err(e) => error_response(e.code, e.codespace, e.message, height),
    }
}

/// Simulate and shape the outcome as the Cosmos `SimulateResponse`.
pub async fn simulate_response(
    storage: &Storage,
    tx_bytes: &[u8],
) -> Result<cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateResponse, AppError> {
    if tx_bytes.is_empty() {
        return Err(SdkError::InvalidRequest("empty tx_bytes".into()).into());
    }
    simulation_response(crate::app::simulate(storage, tx_bytes).await)
}

/// A simulation's outcome as the Cosmos `SimulateResponse`, or its error.
pub fn simulation_response(
    outcome: crate::app::TxOutcome,
) -> Result<cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateResponse, AppError> {
    use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
    use cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateResponse;
    outcome.result.clone()?;
    let msg_responses = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(outcome.data.as_slice())
        .map(|d| d.msg_responses)
        .unwrap_or_default();
    Ok(SimulateResponse {
        gas_info: Some(GasInfo { gas_wanted: outcome.gas_wanted, gas_used: outcome.gas_used }),
        result: Some(AbciResult {
            #[allow(deprecated)]
            data: outcome.data.clone(),
            log: String::new(),
            events: outcome.events.into_iter().map(Into::into).collect(),
            msg_responses,
        }),
    })
}

/// ABCI paths of the gRPC query methods Aegis serves.
async fn route(storage: &Storage, snapshot: Snapshot, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, Status>> {
    use cosmos_sdk_proto::cosmos::auth::v1beta1::query_server::Query as _;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::query_server::Query as _;
    let bank = crate::bank::query::BankQuery::new(storage.clone());
    let auth = crate::auth::query::AuthQuery::new(storage.clone());
    let aegis_auth = crate::auth::query::AegisAuthQuery::new(storage.clone());
    use aegis_proto::aegis::delegation::v1::query_server::Query as _;
    use aegis_proto::aegis::restaking::v1::query_server::Query as _;
    use aegis_proto::aegis::rewards::v1::query_server::Query as _;
    use aegis_proto::aegis::avs::v1::query_server::Query as _;
    use aegis_proto::aegis::slashing::v1::query_server::Query as _;
    use aegis_proto::aegis::provider::v1::query_server::Query as _;
    let restaking = crate::restaking::query::RestakingQuery::new(storage.clone());
    let delegation = crate::delegation::query::DelegationQuery::new(storage.clone());
    let rewards = crate::rewards::query::RewardsQuery::new(storage.clone());
    let avs = crate::avs::query::AvsQuery::new(storage.clone());
    let slashing = crate::slashing::query::SlashingQuery::new(storage.clone());
    use aegis_proto::aegis::consumer::v1::query_server::Query as _;
    let consumer = crate::consumer::query::ConsumerQuery::new(storage.clone());
    use ibc_proto_052::interchain_security::ccv::consumer::v1::query_server::Query as _;
    let ics_consumer = crate::consumer::query::IcsConsumerQuery::new(storage.clone());
    let provider = crate::provider::query::ProviderQuery::new(storage.clone());
    if path.starts_with("/ibc.") || path.starts_with("/cosmos.staking.") {
        return crate::ibc::query::route(storage, snapshot, path, data).await;
    }
    let s = snapshot;
    Some(match path {
        "/cosmos.bank.v1beta1.Query/Balance" => call(s, data, |r| bank.balance(r)).await,
        "/cosmos.bank.v1beta1.Query/AllBalances" => call(s, data, |r| bank.all_balances(r)).await,
        "/cosmos.bank.v1beta1.Query/SpendableBalances" => call(s, data, |r| bank.spendable_balances(r)).await,
        "/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom" => call(s, data, |r| bank.spendable_balance_by_denom(r)).await,
        "/cosmos.bank.v1beta1.Query/TotalSupply" => call(s, data, |r| bank.total_supply(r)).await,
        "/cosmos.bank.v1beta1.Query/SupplyOf" => call(s, data, |r| bank.supply_of(r)).await,
        "/cosmos.bank.v1beta1.Query/Params" => call(s, data, |r| bank.params(r)).await,
        "/cosmos.auth.v1beta1.Query/Account" => call(s, data, |r| auth.account(r)).await,
        "/cosmos.auth.v1beta1.Query/AccountInfo" => call(s, data, |r| auth.account_info(r)).await,
        "/cosmos.auth.v1beta1.Query/Params" => call(s, data, |r| auth.params(r)).await,
        "/cosmos.auth.v1beta1.Query/Bech32Prefix" => call(s, data, |r| auth.bech32_prefix(r)).await,
        "/cosmos.auth.v1beta1.Query/ModuleAccountByName" => call(s, data, |r| auth.module_account_by_name(r)).await,
        "/aegis.restaking.v1.Query/Params" => call(s, data, |r| restaking.params(r)).await,
        "/aegis.restaking.v1.Query/Strategies" => call(s, data, |r| restaking.strategies(r)).await,
        "/aegis.restaking.v1.Query/Strategy" => call(s, data, |r| restaking.strategy(r)).await,
        "/aegis.restaking.v1.Query/StakerDeposits" => call(s, data, |r| restaking.staker_deposits(r)).await,
        "/aegis.restaking.v1.Query/QueuedWithdrawals" => call(s, data, |r| restaking.queued_withdrawals(r)).await,
        "/aegis.delegation.v1.Query/Params" => call(s, data, |r| delegation.params(r)).await,
        "/aegis.delegation.v1.Query/Operator" => call(s, data, |r| delegation.operator(r)).await,
        "/aegis.delegation.v1.Query/Operators" => call(s, data, |r| delegation.operators(r)).await,
        "/aegis.delegation.v1.Query/OperatorDelegators" => call(s, data, |r| delegation.operator_delegators(r)).await,
        "/aegis.delegation.v1.Query/Delegation" => call(s, data, |r| delegation.delegation(r)).await,
        "/aegis.delegation.v1.Query/ValidatorSet" => call(s, data, |r| delegation.validator_set(r)).await,
        "/aegis.rewards.v1.Query/Params" => call(s, data, |r| rewards.params(r)).await,
        "/aegis.rewards.v1.Query/PendingRewards" => call(s, data, |r| rewards.pending_rewards(r)).await,
        "/aegis.rewards.v1.Query/AvsRewardSubmissions" => call(s, data, |r| rewards.avs_reward_submissions(r)).await,
        "/aegis.rewards.v1.Query/AvsCommission" => call(s, data, |r| rewards.avs_commission(r)).await,
        "/aegis.avs.v1.Query/Params" => call(s, data, |r| avs.params(r)).await,
        "/aegis.avs.v1.Query/Avs" => call(s, data, |r| avs.avs(r)).await,
        "/aegis.avs.v1.Query/Avss" => call(s, data, |r| avs.avss(r)).await,
        "/aegis.avs.v1.Query/OperatorSet" => call(s, data, |r| avs.operator_set(r)).await,
        "/aegis.avs.v1.Query/OperatorSetMembers" => call(s, data, |r| avs.operator_set_members(r)).await,
        "/aegis.avs.v1.Query/Allocations" => call(s, data, |r| avs.allocations(r)).await,
        "/aegis.avs.v1.Query/OperatorRisk" => call(s, data, |r| avs.operator_risk(r)).await,
        "/aegis.avs.v1.Query/StakerExposure" => call(s, data, |r| avs.staker_exposure(r)).await,
        "/aegis.slashing.v1.Query/Params" => call(s, data, |r| slashing.params(r)).await,
        "/aegis.slashing.v1.Query/PendingSlash" => call(s, data, |r| slashing.pending_slash(r)).await,
        "/aegis.slashing.v1.Query/PendingSlashes" => call(s, data, |r| slashing.pending_slashes(r)).await,
        "/aegis.slashing.v1.Query/SigningInfo" => call(s, data, |r| slashing.signing_info(r)).await,
        "/aegis.slashing.v1.Query/Slash" => call(s, data, |r| slashing.slash(r)).await,
        "/aegis.slashing.v1.Query/Slashes" => call(s, data, |r| slashing.slashes(r)).await,
        "/aegis.consumer.v1.Query/Status" => call(s, data, |r| consumer.status(r)).await,
        "/interchain_security.ccv.consumer.v1.Query/QueryParams" => call(s, data, |r| ics_consumer.query_params(r)).await,
        "/interchain_security.ccv.consumer.v1.Query/QueryProviderInfo" => call(s, data, |r| ics_consumer.query_provider_info(r)).await,
        "/interchain_security.ccv.consumer.v1.Query/QueryNextFeeDistribution" => call(s, data, |r| ics_consumer.query_next_fee_distribution(r)).await,
        "/interchain_security.ccv.consumer.v1.Query/QueryThrottleState" => call(s, data, |r| ics_consumer.query_throttle_state(r)).await,
        "/aegis.provider.v1.Query/Consumer" => call(s, data, |r| provider.consumer(r)).await,
        "/aegis.provider.v1.Query/Consumers" => call(s, data, |r| provider.consumers(r)).await,
        "/aegis.provider.v1.Query/ConsumerGenesis" => call(s, data, |r| provider.consumer_genesis(r)).await,
        "/aegis.provider.v1.Query/ConsumerValidators" => call(s, data, |r| provider.consumer_validators(r)).await,
        "/aegis.provider.v1.Query/OperatorConsumers" => call(s, data, |r| provider.operator_consumers(r)).await,
        "/aegis.provider.v1.Query/ConsumerRewards" => call(s, data, |r| provider.consumer_rewards(r)).await,
        "/aegis.auth.v1.Query/Params" => {
            call(s, data, |r| aegis_proto::aegis::auth::v1::query_server::Query::params(&aegis_auth, r)).await
        }
        "/aegis.auth.v1.Query/NextSequence" => {
            call(s, data, |r| aegis_proto::aegis::auth::v1::query_server::Query::next_sequence(&aegis_auth, r)).await
        }
        _ => return None,
    })
}

/// Key pagination over the keys under `prefix` (Cosmos `PageRequest`
/// semantics: `key` is the first key suffix of the page, `next_key` that
/// of the next page). Streams, so a page costs O(offset + limit) reads.
pub async fn page_keys(
    snapshot: &Snapshot,
    prefix: &str,
    page: Option<&cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<(Vec<String>, cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse), Status> {
    use cnidarium::StateRead;
    use futures::StreamExt;
    let (key, offset, limit, count_total) = match page {
        Some(p) => (String::from_utf8_lossy(&p.key).to_string(), p.offset, if p.limit == 0 { 100 } else { p.limit.min(1000) }, p.count_total),
        None => (String::new(), 0, 100, false),
    };
    if page.is_some_and(|p| p.reverse) {
        return Err(Status::invalid_argument("pagination: reverse is not supported here"));
    }
    if !key.is_empty() && offset > 0 {
        return Err(Status::invalid_argument("pagination: set either key or offset, not both"));
    }
    let mut stream = Box::pin(snapshot.prefix_keys(prefix));
    let mut out = Vec::new();
    let mut next_key = Vec::new();
    let mut seen = 0u64;
    let mut total = 0u64;
    while let Some(item) = stream.next().await {
        let k = item.map_err(|e| Status::internal(format!("{e:#}")))?;
        let suffix = k[prefix.len()..].to_string();
        total += 1;
        if suffix.as_str() < key.as_str() {
            continue;
        }
        seen += 1;
        if seen <= offset {
            continue;
        }
        if (out.len() as u64) < limit {
            out.push(suffix);
        } else if next_key.is_empty() {
            next_key = suffix.into_bytes();
            if !count_total {
                break;
            }
        }
    }
    Ok((out, cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse { next_key, total: if count_total { total } else { 0 } }))
}
