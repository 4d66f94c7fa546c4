//! The gRPC server of `aegisd start`: the app's query services (bank,
//! auth, restaking, delegation, rewards, avs, slashing, consumer; IBC client,
//! connection, channel and transfer, and staking params for relayers), `cosmos.tx.v1beta1.Service` and `cosmos.base.tendermint.v1beta1.Service`
//! (which need this node's CometBFT RPC), and server reflection so that
//! grpcurl works with no proto files.

use std::net::SocketAddr;
use std::str::FromStr;

use aegis_app::auth::query::{AegisAuthQuery, AuthQuery};
use aegis_app::avs::query::AvsQuery;
use aegis_app::bank::query::BankQuery;
use aegis_app::consumer::query::ConsumerQuery;
use aegis_app::delegation::query::DelegationQuery;
use aegis_app::ibc::query::{ChannelQuery, ClientQuery, ConnectionQuery, StakingQuery, TransferQuery};
use aegis_app::restaking::query::RestakingQuery;
use aegis_app::rewards::query::RewardsQuery;
use aegis_app::slashing::query::SlashingQuery;
use aegis_app::query::{abci_query, simulate_response, simulation_response, to_status};
use cnidarium::Storage;
use cosmos_sdk_proto::cosmos::auth::v1beta1::query_server::QueryServer as AuthServer;
use cosmos_sdk_proto::cosmos::bank::v1beta1::query_server::QueryServer as BankServer;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as tmsvc;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txsvc;
use prost::Message;
use tendermint_rpc::{Client, HttpClient};
use tonic::{Request, Response, Status};

/// The largest gRPC request any service decodes (tonic's default, made
/// explicit): above it tonic answers `OutOfRange` "decoded message length
/// too large: found N bytes, the limit is: M bytes". Four times the largest
/// tx the app takes, so an oversized tx still reaches `BroadcastTx`, which
/// names the tx limit.
pub const MAX_REQUEST_BYTES: usize = 4 << 20;

/// Largest response any service encodes (tonic's default is unbounded).
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// The services this server runs, each registered with the same request and
/// response limits and named to reflection: reflection advertises exactly
/// these (plus itself), not every service of the descriptor set.
macro_rules! served {
    ($router:ident, $names:ident; $($svc:expr),+ $(,)?) => {{
        let mut $names: Vec<&'static str> = vec![];
        let mut $router = tonic::transport::Server::builder().add_routes(tonic::service::Routes::default());
        $(
            let svc = $svc.max_decoding_message_size(MAX_REQUEST_BYTES).max_encoding_message_size(MAX_RESPONSE_BYTES);
            $names.push(service_name(&svc));
            $router = $router.add_service(svc);
        )+
        ($router, $names)
    }};
}

fn service_name<S: tonic::server::NamedService>(_: &S) -> &'static str {
    S::NAME
}

/// Serve gRPC on `addr` until the future is dropped. `max_tx_bytes` is the
/// largest transaction BroadcastTx forwards (see [`max_tx_bytes`]).
pub async fn serve(storage: Storage, mempool: aegis_app::abci::MempoolView, addr: SocketAddr, rpc_url: &str, max_tx_bytes: usize) -> anyhow::Result<()> {
    let rpc = HttpClient::new(rpc_url)?;
    let (router, names) = served!(router, names;
        BankServer::new(BankQuery::new(storage.clone())),
        AuthServer::new(AuthQuery::new(storage.clone())),
        aegis_proto::aegis::auth::v1::query_server::QueryServer::new(AegisAuthQuery::with_mempool(storage.clone(), mempool.clone())),
        aegis_proto::aegis::restaking::v1::query_server::QueryServer::new(RestakingQuery::new(storage.clone())),
        aegis_proto::aegis::delegation::v1::query_server::QueryServer::new(DelegationQuery::new(storage.clone())),
        aegis_proto::aegis::rewards::v1::query_server::QueryServer::new(RewardsQuery::new(storage.clone())),
        aegis_proto::aegis::avs::v1::query_server::QueryServer::new(AvsQuery::new(storage.clone())),
        aegis_proto::aegis::slashing::v1::query_server::QueryServer::new(SlashingQuery::new(storage.clone())),
        aegis_proto::aegis::consumer::v1::query_server::QueryServer::new(ConsumerQuery::new(storage.clone())),
        ibc_proto_052::interchain_security::ccv::consumer::v1::query_server::QueryServer::new(
            aegis_app::consumer::query::IcsConsumerQuery::new(storage.clone()),
        ),
        aegis_proto::aegis::provider::v1::query_server::QueryServer::new(aegis_app::provider::query::ProviderQuery::new(storage.clone())),
        ibc_proto_052::ibc::core::client::v1::query_server::QueryServer::new(ClientQuery::new(storage.clone())),
        ibc_proto_052::ibc::core::connection::v1::query_server::QueryServer::new(ConnectionQuery::new(storage.clone())),
        ibc_proto_052::ibc::core::channel::v1::query_server::QueryServer::new(ChannelQuery::new(storage.clone())),
        ibc_proto_052::ibc::applications::transfer::v1::query_server::QueryServer::new(TransferQuery::new(storage.clone())),
        cosmos_sdk_proto::cosmos::staking::v1beta1::query_server::QueryServer::new(StakingQuery::new(storage.clone())),
        txsvc::service_server::ServiceServer::new(TxService { storage: storage.clone(), mempool, rpc: rpc.clone(), max_tx_bytes }),
        tmsvc::service_server::ServiceServer::new(TendermintService { storage, rpc }),
    );
    let reflection = || {
        names.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(aegis_proto::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.reflection.v1.ServerReflection")
                .with_service_name("grpc.reflection.v1alpha.ServerReflection"),
            |b, name| b.with_service_name(*name),
        )
    };
    router.add_service(reflection().build_v1()?).add_service(reflection().build_v1alpha()?).serve(addr).await?;
    Ok(())
}

/// The largest tx this node's BroadcastTx forwards: CometBFT's mempool
/// `max_tx_bytes` from `<home>/config/config.toml` (CometBFT's default,
/// 1048576, when the file does not set it), and never more than the app
/// accepts ([`aegis_app::tx::MAX_TX_BYTES`]).
pub fn max_tx_bytes(home: &std::path::Path) -> anyhow::Result<usize> {
    const COMETBFT_DEFAULT: usize = 1_048_576;
    let path = home.join("config").join("config.toml");
    let configured = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let v: toml::Value = toml::from_str(&text).map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?;
            match v.get("mempool").and_then(|m| m.get("max_tx_bytes")) {
                None => COMETBFT_DEFAULT,
                Some(n) => n
                    .as_integer()
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow::anyhow!("{}: mempool.max_tx_bytes = {n} is not a positive integer", path.display()))?,
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => COMETBFT_DEFAULT,
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    };
    Ok(configured.min(aegis_app::tx::MAX_TX_BYTES))
}

/// One line naming what went wrong. tendermint-rpc's `Display` is an eyre
/// report: the message, "Caused by:" and its causes, then "Location:" and a
/// ~100-line backtrace; its `detail()` alone drops the cause (for a JSON-RPC
/// error, CometBFT's own message). This keeps the message and the causes,
/// joined by ": ", and nothing from "Location:" on.
fn rpc_message(e: &tendermint_rpc::Error) -> String {
    one_line_report(&e.to_string())
}

fn one_line_report(report: &str) -> String {
    let mut parts: Vec<&str> = vec![];
    for line in report.lines().map(str::trim) {
        if line == "Location:" || line == "Stack backtrace:" || line == "Backtrace:" {
            break;
        }
        if line.is_empty() || line == "Caused by:" {
            continue;
        }
        // Numbered causes ("0: ...") when there are several.
        let line = line.split_once(": ").filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit())).map(|(_, rest)| rest).unwrap_or(line);
        parts.push(line);
    }
    parts.join(": ")
}

fn rpc_err(e: tendermint_rpc::Error) -> Status {
    Status::unavailable(format!("CometBFT RPC: {}", rpc_message(&e)))
}

/// The bytes of a tx result's `data` as `/tx` returned it. CometBFT's JSON
/// carries them base64-encoded and tendermint-rpc 0.40 hands over that
/// base64 text undecoded; anything that is not base64 is taken as is.
fn rpc_tx_data(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_else(|_| data.to_vec())
}

/// A committed tx as the SDK shows it: decoded `Tx` and `TxResponse` with
/// its events; `time` is its block's time.
fn tx_response(found: tendermint_rpc::endpoint::tx::Response, time: String) -> (Option<txsvc::Tx>, TxResponse) {
    let tx = tx_of_raw(&found.tx);
    let r = found.tx_result;
    let tx_response = TxResponse {
        height: found.height.value() as i64,
        txhash: found.hash.to_string(),
        codespace: r.codespace,
        code: r.code.value(),
        data: hex::encode_upper(rpc_tx_data(&r.data)),
        raw_log: r.log,
        logs: vec![],
        info: r.info,
        gas_wanted: r.gas_wanted,
        gas_used: r.gas_used,
        tx: tx.as_ref().map(|t| tendermint_proto::google::protobuf::Any { type_url: "/cosmos.tx.v1beta1.Tx".into(), value: t.encode_to_vec() }),
        timestamp: time,
        events: r.events.into_iter().map(Into::into).collect(),
    };
    (tx, tx_response)
}

pub struct TxService {
    storage: Storage,
    mempool: aegis_app::abci::MempoolView,
    rpc: HttpClient,
    max_tx_bytes: usize,
}

/// The Cosmos `Tx` (decoded body, auth info, signatures) of `TxRaw` bytes.
fn tx_of_raw(bytes: &[u8]) -> Option<txsvc::Tx> {
    let raw = txsvc::TxRaw::decode(bytes).ok()?;
    Some(txsvc::Tx {
        body: Some(txsvc::TxBody::decode(raw.body_bytes.as_slice()).ok()?),
        auth_info: Some(txsvc::AuthInfo::decode(raw.auth_info_bytes.as_slice()).ok()?),
        signatures: raw.signatures,
    })
}

/// `TxRaw` of a decoded `Tx` (re-encoding its body and auth info).
fn raw_of_tx(tx: txsvc::Tx) -> txsvc::TxRaw {
    txsvc::TxRaw {
        body_bytes: tx.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
        auth_info_bytes: tx.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
        signatures: tx.signatures,
    }
}

#[tonic::async_trait]
impl txsvc::service_server::Service for TxService {
    async fn simulate(&self, req: Request<txsvc::SimulateRequest>) -> Result<Response<txsvc::SimulateResponse>, Status> {
        #[allow(deprecated)]
        let r = req.into_inner();
        #[allow(deprecated)]
        let bytes = if !r.tx_bytes.is_empty() {
            r.tx_bytes
        } else if let Some(tx) = r.tx {
            // Deprecated form: re-encode the decoded Tx as TxRaw.
            raw_of_tx(tx).encode_to_vec()
        } else {
            vec![]
        };
        // On the CheckTx state, as the Cosmos SDK simulates on its check
        // state: a tx following others still in the mempool simulates with
        // the sequence and balances they leave.
        let result = match bytes.is_empty() {
            true => simulate_response(&self.storage, &bytes).await,
            false => match self.mempool.simulate(bytes.clone()).await {
                Some(outcome) => simulation_response(outcome),
                None => simulate_response(&self.storage, &bytes).await,
            },
        };
        result.map(Response::new).map_err(|e| {
            // Keep the app error's codespace and code in the message, as the
            // Cosmos SDK does, so clients can tell what failed.
            let (codespace, code) = (e.codespace, e.code);
            let status = to_status(e);
            Status::new(status.code(), format!("{}: codespace {codespace} code {code}", status.message()))
        })
    }

    async fn get_tx(&self, req: Request<txsvc::GetTxRequest>) -> Result<Response<txsvc::GetTxResponse>, Status> {
        let hash = tendermint::Hash::from_str(&req.get_ref().hash)
            .map_err(|e| Status::invalid_argument(format!("invalid tx hash {:?}: {e}", req.get_ref().hash)))?;
        let found = self.rpc.tx(hash, false).await.map_err(|e| {
            if rpc_message(&e).contains("not found") {
                Status::not_found(format!("tx not found: {}", req.get_ref().hash))
            } else {
                rpc_err(e)
            }
        })?;
        let block = self.rpc.block(found.height).await.map_err(rpc_err)?;
        let (tx, tx_response) = tx_response(found, block.block.header.time.to_rfc3339());
        Ok(Response::new(txsvc::GetTxResponse { tx, tx_response: Some(tx_response) }))
    }

    async fn broadcast_tx(&self, req: Request<txsvc::BroadcastTxRequest>) -> Result<Response<txsvc::BroadcastTxResponse>, Status> {
        let r = req.into_inner();
        if r.tx_bytes.is_empty() {
            return Err(Status::invalid_argument("empty tx_bytes"));
        }
        if r.tx_bytes.len() > self.max_tx_bytes {
            return Err(Status::invalid_argument(format!("tx too large: {} bytes, max {}", r.tx_bytes.len(), self.max_tx_bytes)));
        }

        let mode = txsvc::BroadcastMode::try_from(r.mode).unwrap_or(txsvc::BroadcastMode::Unspecified);
        let tx_hash = hex::encode_upper(<sha2::Sha256 as sha2::Digest>::digest(&r.tx_bytes));
        // CometBFT refuses a tx it has already seen with an RPC error; Cosmos
        // clients expect that as code 19 (ErrTxInMempoolCache).
        let cached = |e: tendermint_rpc::Error| {
            if rpc_message(&e).contains("tx already exists in cache") {
                Ok(TxResponse { txhash: tx_hash.clone(), code: 19, codespace: "sdk".into(), raw_log: "tx already in mempool or already committed: tx already exists in cache".into(), ..Default::default() })
            } else {
                Err(rpc_err(e))
            }
        };
        let (hash, code, codespace, data, log) = match mode {
            txsvc::BroadcastMode::Sync => {
                let r = match self.rpc.broadcast_tx_sync(r.tx_bytes).await {
                    Ok(r) => r,
                    Err(e) => return cached(e).map(|t| Response::new(txsvc::BroadcastTxResponse { tx_response: Some(t) })),
                };
                (r.hash, r.code, r.codespace, r.data, r.log)
            }
            txsvc::BroadcastMode::Async => {
                let r = match self.rpc.broadcast_tx_async(r.tx_bytes).await {
                    Ok(r) => r,
                    Err(e) => return cached(e).map(|t| Response::new(txsvc::BroadcastTxResponse { tx_response: Some(t) })),
                };
                (r.hash, r.code, r.codespace, r.data, r.log)
            }
            other => {
                return Err(Status::invalid_argument(format!(
                    "unsupported broadcast mode {}: use BROADCAST_MODE_SYNC or BROADCAST_MODE_ASYNC",
                    other.as_str_name()
                )))
            }
        };
        Ok(Response::new(txsvc::BroadcastTxResponse {
            tx_response: Some(TxResponse {
                txhash: hash.to_string(),
                codespace,
                code: code.value(),
                data: hex::encode_upper(&data),
                raw_log: log,
                ..Default::default()
            }),
        }))
    }

    /// CometBFT's `/tx_search` with the SDK's request shape: `query` (or
    /// the deprecated `events`, joined with AND), 1-based `page` (default 1)
    /// and `limit` (default 100, at most 100), oldest first unless
    /// `order_by` is DESC.
    async fn get_txs_event(&self, req: Request<txsvc::GetTxsEventRequest>) -> Result<Response<txsvc::GetTxsEventResponse>, Status> {
        let r = req.into_inner();
        #[allow(deprecated)]
        let text = if !r.query.is_empty() { r.query.clone() } else { r.events.join(" AND ") };
        if text.trim().is_empty() {
            return Err(Status::invalid_argument("query must not be empty: give events such as message.sender='aegis1...'"));
        }
        let query = tendermint_rpc::query::Query::from_str(&text)
            .map_err(|e| Status::invalid_argument(format!("invalid tx query {text:?}: {e}")))?;
        let page = if r.page == 0 { 1 } else { r.page };
        let limit = if r.limit == 0 { 100 } else { r.limit };
        if limit > 100 {
            return Err(Status::invalid_argument(format!("limit {limit} is above the maximum 100")));
        }
        let page = u32::try_from(page).map_err(|_| Status::invalid_argument(format!("page {page} is too large")))?;
        let order = if r.order_by == txsvc::OrderBy::Desc as i32 { tendermint_rpc::Order::Descending } else { tendermint_rpc::Order::Ascending };
        let found = self.rpc.tx_search(query, false, page, limit as u8, order).await.map_err(|e| {
            if e.to_string().contains("page should be within") {
                Status::invalid_argument(format!("page {page} is past the last page of results for {text:?}"))
            } else {
                rpc_err(e)
            }
        })?;
        let mut times = std::collections::BTreeMap::new();
        let (mut txs, mut tx_responses) = (vec![], vec![]);
        for t in found.txs {
            let time = match times.get(&t.height) {
                Some(time) => String::clone(time),
                None => {
                    let time = self.rpc.block(t.height).await.map_err(rpc_err)?.block.header.time.to_rfc3339();
                    times.insert(t.height, time.clone());
                    time
                }
            };
            let (tx, resp) = tx_response(t, time);
            txs.push(tx.unwrap_or_default());
            tx_responses.push(resp);
        }
        let total = u64::from(found.total_count);
        #[allow(deprecated)]
        Ok(Response::new(txsvc::GetTxsEventResponse {
            txs,
            tx_responses,
            pagination: Some(cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse { next_key: vec![], total }),
            total,
        }))
    }

    async fn get_block_with_txs(&self, _req: Request<txsvc::GetBlockWithTxsRequest>) -> Result<Response<txsvc::GetBlockWithTxsResponse>, Status> {
        Err(Status::unimplemented("use cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight"))
    }

    async fn tx_decode(&self, req: Request<txsvc::TxDecodeRequest>) -> Result<Response<txsvc::TxDecodeResponse>, Status> {
        let tx = tx_of_raw(&req.get_ref().tx_bytes).ok_or_else(|| Status::invalid_argument("tx_bytes are not a TxRaw"))?;
        Ok(Response::new(txsvc::TxDecodeResponse { tx: Some(tx) }))
    }

    async fn tx_encode(&self, req: Request<txsvc::TxEncodeRequest>) -> Result<Response<txsvc::TxEncodeResponse>, Status> {
        let tx = req.into_inner().tx.ok_or_else(|| Status::invalid_argument("missing tx"))?;
        Ok(Response::new(txsvc::TxEncodeResponse { tx_bytes: raw_of_tx(tx).encode_to_vec() }))
    }

    async fn tx_encode_amino(&self, _req: Request<txsvc::TxEncodeAminoRequest>) -> Result<Response<txsvc::TxEncodeAminoResponse>, Status> {
        Err(Status::unimplemented("amino JSON is not supported; use SIGN_MODE_DIRECT"))
    }

    async fn tx_decode_amino(&self, _req: Request<txsvc::TxDecodeAminoRequest>) -> Result<Response<txsvc::TxDecodeAminoResponse>, Status> {
        Err(Status::unimplemented("amino JSON is not supported; use SIGN_MODE_DIRECT"))
    }
}

pub struct TendermintService {
    storage: Storage,
    rpc: HttpClient,
}

/// A block as CometBFT's proto (`block`) and in the SDK's shape (`sdk_block`,
/// whose header names the proposer by bech32 consensus address).
#[allow(clippy::type_complexity)]
fn block_response(
    r: tendermint_rpc::endpoint::block::Response,
) -> (Option<tendermint_proto::types::BlockId>, Option<tendermint_proto::types::Block>, Option<tmsvc::Block>) {
    let block: tendermint_proto::types::Block = r.block.into();
    let sdk_block = block.header.clone().map(|h| tmsvc::Block {
        header: Some(tmsvc::Header {
            version: h.version,
            chain_id: h.chain_id,
            height: h.height,
            time: h.time,
            last_block_id: h.last_block_id,
            last_commit_hash: h.last_commit_hash,
            data_hash: h.data_hash,
            validators_hash: h.validators_hash,
            next_validators_hash: h.next_validators_hash,
            consensus_hash: h.consensus_hash,
            app_hash: h.app_hash,
            last_results_hash: h.last_results_hash,
            evidence_hash: h.evidence_hash,
            proposer_address: valcons_address(&h.proposer_address),
        }),
        data: block.data.clone(),
        evidence: block.evidence.clone(),
        last_commit: block.last_commit.clone(),
    });
    (Some(r.block_id.into()), Some(block), sdk_block)
}

/// Bech32 consensus address (`aegisvalcons1...`) of a validator address.
fn valcons_address(bytes: &[u8]) -> String {
    cosmrs::AccountId::new("aegisvalcons", bytes).map(|a| a.to_string()).unwrap_or_default()
}

fn validators_of(vals: Vec<tendermint::validator::Info>) -> Vec<tmsvc::Validator> {
    vals.into_iter()
        .map(|v| {
            let key = v.pub_key.to_bytes();
            tmsvc::Validator {
                address: valcons_address(v.address.as_bytes()),
                pub_key: Some(tendermint_proto::google::protobuf::Any {
                    type_url: "/cosmos.crypto.ed25519.PubKey".into(),
                    value: cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key }.encode_to_vec(),
                }),
                voting_power: v.power.value() as i64,
                proposer_priority: v.proposer_priority.value(),
            }
        })
        .collect()
}

#[tonic::async_trait]
impl tmsvc::service_server::Service for TendermintService {
    async fn get_node_info(&self, _req: Request<tmsvc::GetNodeInfoRequest>) -> Result<Response<tmsvc::GetNodeInfoResponse>, Status> {
        let s = self.rpc.status().await.map_err(rpc_err)?;
        let n = s.node_info;
        let info = tendermint_proto::p2p::DefaultNodeInfo {
            protocol_version: Some(tendermint_proto::p2p::ProtocolVersion {
                p2p: n.protocol_version.p2p,
                block: n.protocol_version.block,
                app: n.protocol_version.app,
            }),
            default_node_id: n.id.to_string(),
            listen_addr: n.listen_addr.to_string(),
            network: n.network.to_string(),
            version: n.version.to_string(),
            channels: n.channels.to_string().into_bytes(),
            moniker: n.moniker.to_string(),
            other: Some(tendermint_proto::p2p::DefaultNodeInfoOther { tx_index: format!("{:?}", n.other.tx_index).to_lowercase(), rpc_address: n.other.rpc_address.to_string() }),
        };
        Ok(Response::new(tmsvc::GetNodeInfoResponse {
            default_node_info: Some(info),
            application_version: Some(tmsvc::VersionInfo {
                name: "aegis".into(),
                app_name: "aegisd".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }),
        }))
    }

    async fn get_syncing(&self, _req: Request<tmsvc::GetSyncingRequest>) -> Result<Response<tmsvc::GetSyncingResponse>, Status> {
        let s = self.rpc.status().await.map_err(rpc_err)?;
        Ok(Response::new(tmsvc::GetSyncingResponse { syncing: s.sync_info.catching_up }))
    }

    async fn get_latest_block(&self, _req: Request<tmsvc::GetLatestBlockRequest>) -> Result<Response<tmsvc::GetLatestBlockResponse>, Status> {
        let (block_id, block, sdk_block) = block_response(self.rpc.latest_block().await.map_err(rpc_err)?);
        Ok(Response::new(tmsvc::GetLatestBlockResponse { block_id, block, sdk_block }))
    }

    async fn get_block_by_height(&self, req: Request<tmsvc::GetBlockByHeightRequest>) -> Result<Response<tmsvc::GetBlockByHeightResponse>, Status> {
        let h = u32::try_from(req.get_ref().height).map_err(|_| Status::invalid_argument("height must be positive"))?;
        let (block_id, block, sdk_block) = block_response(self.rpc.block(h).await.map_err(rpc_err)?);
        Ok(Response::new(tmsvc::GetBlockByHeightResponse { block_id, block, sdk_block }))
    }

    async fn get_latest_validator_set(
        &self,
        _req: Request<tmsvc::GetLatestValidatorSetRequest>,
    ) -> Result<Response<tmsvc::GetLatestValidatorSetResponse>, Status> {
        let height = self.rpc.status().await.map_err(rpc_err)?.sync_info.latest_block_height;
        let v = self.rpc.validators(height, tendermint_rpc::Paging::All).await.map_err(rpc_err)?;
        Ok(Response::new(tmsvc::GetLatestValidatorSetResponse {
            block_height: v.block_height.value() as i64,
            validators: validators_of(v.validators),
            pagination: None,
        }))
    }

    async fn get_validator_set_by_height(
        &self,
        req: Request<tmsvc::GetValidatorSetByHeightRequest>,
    ) -> Result<Response<tmsvc::GetValidatorSetByHeightResponse>, Status> {
        let h = u32::try_from(req.get_ref().height).map_err(|_| Status::invalid_argument("height must be positive"))?;
        let v = self.rpc.validators(h, tendermint_rpc::Paging::All).await.map_err(rpc_err)?;
        Ok(Response::new(tmsvc::GetValidatorSetByHeightResponse {
            block_height: v.block_height.value() as i64,
            validators: validators_of(v.validators),
            pagination: None,
        }))
    }

    async fn abci_query(&self, req: Request<tmsvc::AbciQueryRequest>) -> Result<Response<tmsvc::AbciQueryResponse>, Status> {
        let r = req.into_inner();
        let q = tendermint::abci::request::Query {
            data: r.data.into(),
            path: r.path,
            height: u32::try_from(r.height).map_err(|_| Status::invalid_argument("negative height"))?.into(),
            prove: r.prove,
        };
        let resp = abci_query(&self.storage, q).await;
        Ok(Response::new(tmsvc::AbciQueryResponse {
            code: resp.code.value(),
            log: resp.log,
            info: resp.info,
            index: resp.index,
            key: resp.key.to_vec(),
            value: resp.value.to_vec(),
            proof_ops: resp.proof.map(|p| tmsvc::ProofOps {
                ops: p.ops.into_iter().map(|o| tmsvc::ProofOp { r#type: o.field_type, key: o.key, data: o.data }).collect(),
            }),
            height: resp.height.value() as i64,
            codespace: resp.codespace,
        }))
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use tendermint_rpc::response_error::{Code, ResponseError};

    #[test]
    fn rpc_errors_are_one_line_with_cometbft_s_message() {
        let e = tendermint_rpc::Error::response(ResponseError::new(Code::InternalError, Some("tx already exists in cache".into())));
        assert_eq!(rpc_message(&e), "response error: Internal error: tx already exists in cache (code: -32603)");
        let e = tendermint_rpc::Error::response(ResponseError::new(Code::InternalError, Some("tx (ABCD) not found".into())));
        assert_eq!(rpc_err(e).message(), "CometBFT RPC: response error: Internal error: tx (ABCD) not found (code: -32603)");
    }

    #[tokio::test]
    async fn an_unreachable_cometbft_is_one_line_too() {
        let c = HttpClient::new("http://127.0.0.1:1").unwrap();
        let s = rpc_err(c.status().await.unwrap_err());
        assert_eq!(s.code(), tonic::Code::Unavailable);
        assert!(s.message().starts_with("CometBFT RPC: HTTP error: error sending request for url (http://127.0.0.1:1/)"), "{}", s.message());
        assert!(s.message().ends_with("Connection refused (os error 111)"), "{}", s.message());
        assert!(!s.message().contains('\n'), "{}", s.message());
    }

    #[test]
    fn max_tx_bytes_comes_from_cometbft_s_mempool_config_capped_by_the_app() {
        let home = tempfile::tempdir().unwrap();
        // No config.toml, or one without the key: CometBFT's default.
        assert_eq!(max_tx_bytes(home.path()).unwrap(), 1_048_576);
        std::fs::create_dir_all(home.path().join("config")).unwrap();
        let write = |text: &str| std::fs::write(home.path().join("config/config.toml"), text).unwrap();
        write("[mempool]\nsize = 5000\n");
        assert_eq!(max_tx_bytes(home.path()).unwrap(), 1_048_576);
        write("[mempool]\nmax_tx_bytes = 65536\n");
        assert_eq!(max_tx_bytes(home.path()).unwrap(), 65_536);
        // Above what the app accepts: the app's limit.
        write("[mempool]\nmax_tx_bytes = 4194304\n");
        assert_eq!(max_tx_bytes(home.path()).unwrap(), aegis_app::tx::MAX_TX_BYTES);
        write("[mempool]\nmax_tx_bytes = -1\n");
        let err = max_tx_bytes(home.path()).unwrap_err().to_string();
        assert!(err.ends_with("config/config.toml: mempool.max_tx_bytes = -1 is not a positive integer"), "{err}");
    }
}
