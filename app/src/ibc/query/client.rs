//! `ibc.core.client.v1.Query`.

use cnidarium::{Snapshot, Storage};
use ibc_core::host::types::identifiers::ClientId;
use ibc_proto_052::google::protobuf::Any;
use ibc_proto_052::ibc::core::client::v1::{query_server::Query, *};
use ibc_proto_052::ibc::lightclients::tendermint::v1 as tm;
use prost::{Message, Name};
use tonic::{Request, Response, Status};

use super::{client_id, client_state, consensus_heights, consensus_state, decode, paginate, scan, self_height};
use crate::ibc::state::keys;
use crate::query::{request_snapshot, to_status};

/// The only light client Aegis hosts.
pub const TENDERMINT_CLIENT_TYPE: &str = "07-tendermint";

#[derive(Clone)]
pub struct ClientQuery {
    storage: Storage,
}

impl ClientQuery {
    pub fn new(storage: Storage) -> Self {
        ClientQuery { storage }
    }
}

/// The status ibc-go reports for a client (`exported.Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    Frozen,
    Expired,
    Unauthorized,
}

impl ClientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => "Active",
            ClientStatus::Frozen => "Frozen",
            ClientStatus::Expired => "Expired",
            ClientStatus::Unauthorized => "Unauthorized",
        }
    }
}

fn tendermint_client_state(id: &ClientId, any: &Any) -> Result<Option<tm::ClientState>, Status> {
    if any.type_url != tm::ClientState::type_url() {
        return Ok(None);
    }
    tm::ClientState::decode(any.value.as_slice()).map(Some).map_err(|e| Status::internal(format!("client {id}: corrupt client state: {e}")))
}

/// A client's status at a snapshot, judged as the 07-tendermint client
/// does: frozen if it has a frozen height; expired if its latest consensus
/// state is missing or older than the trusting period at the last block's
/// time; active otherwise.
pub(crate) async fn client_status(snapshot: &Snapshot, id: &ClientId) -> Result<ClientStatus, Status> {
    let any = client_state(snapshot, id).await?;
    let Some(cs) = tendermint_client_state(id, &any)? else {
        return Ok(ClientStatus::Unauthorized);
    };
    if cs.frozen_height.is_some_and(|h| h.revision_number != 0 || h.revision_height != 0) {
        return Ok(ClientStatus::Frozen);
    }
    let latest = cs.latest_height.unwrap_or_default();
    let consensus = match consensus_state(snapshot, id, latest.revision_number, latest.revision_height).await {
        Ok(any) => any,
        Err(e) if e.code() == tonic::Code::NotFound => return Ok(ClientStatus::Expired),
        Err(e) => return Err(e),
    };
    let consensus = tm::ConsensusState::decode(consensus.value.as_slice())
        .map_err(|e| Status::internal(format!("client {id}: corrupt consensus state at {latest:?}: {e}")))?;
    let nanos = |secs: i64, nanos: i32| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    let timestamp = consensus.timestamp.map_or(0, |t| nanos(t.seconds, t.nanos));
    let trusting = cs.trusting_period.map_or(0, |d| nanos(d.seconds, d.nanos));
    let (now_secs, now_nanos) = crate::app::last_block_timestamp(snapshot).await.map_err(to_status)?;
    let now = nanos(now_secs, now_nanos as i32);
    Ok(if timestamp + trusting <= now { ClientStatus::Expired } else { ClientStatus::Active })
}

#[tonic::async_trait]
impl Query for ClientQuery {
    async fn client_state(&self, req: Request<QueryClientStateRequest>) -> Result<Response<QueryClientStateResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = client_id(&req.get_ref().client_id)?;
        let client_state = client_state(&snapshot, &id).await?;
        Ok(Response::new(QueryClientStateResponse { client_state: Some(client_state), proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn client_states(&self, req: Request<QueryClientStatesRequest>) -> Result<Response<QueryClientStatesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let mut items = Vec::new();
        for (suffix, bytes) in scan(&snapshot, keys::CLIENTS).await? {
            let Some(id) = suffix.strip_suffix(keys::CLIENT_STATE_LEAF).filter(|id| !id.contains('/')) else { continue };
            let key = format!("{}{suffix}", keys::CLIENTS);
            let client_state: Any = decode(&key, &bytes)?;
            items.push((id.as_bytes().to_vec(), IdentifiedClientState { client_id: id.to_string(), client_state: Some(client_state) }));
        }
        let (client_states, pagination) = paginate(items, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryClientStatesResponse { client_states, pagination: Some(pagination) }))
    }

    async fn consensus_state(&self, req: Request<QueryConsensusStateRequest>) -> Result<Response<QueryConsensusStateResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let id = client_id(&r.client_id)?;
        let (revision, height) = if r.latest_height {
            let any = client_state(&snapshot, &id).await?;
            let cs = tendermint_client_state(&id, &any)?
                .ok_or_else(|| Status::invalid_argument(format!("client {id} is not a {TENDERMINT_CLIENT_TYPE} client ({})", any.type_url)))?;
            let latest = cs.latest_height.unwrap_or_default();
            (latest.revision_number, latest.revision_height)
        } else {
            if r.revision_height == 0 {
                return Err(Status::invalid_argument("consensus state height cannot be 0 (set latest_height to ask for the latest)"));
            }
            (r.revision_number, r.revision_height)
        };
        let consensus_state = consensus_state(&snapshot, &id, revision, height).await?;
        Ok(Response::new(QueryConsensusStateResponse {
            consensus_state: Some(consensus_state),
            proof: vec![],
            proof_height: Some(self_height(&snapshot).await?),
        }))
    }

    async fn consensus_states(&self, req: Request<QueryConsensusStatesRequest>) -> Result<Response<QueryConsensusStatesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = client_id(&req.get_ref().client_id)?;
        let heights = consensus_heights(&snapshot, &id).await?;
        let keyed = heights.into_iter().map(|h| (height_key(&h), h)).collect();
        let (page, pagination) = paginate(keyed, req.get_ref().pagination.as_ref())?;
        let mut consensus_states = Vec::with_capacity(page.len());
        for h in page {
            let consensus_state = consensus_state(&snapshot, &id, h.revision_number, h.revision_height).await?;
            consensus_states.push(ConsensusStateWithHeight { height: Some(h), consensus_state: Some(consensus_state) });
        }
        Ok(Response::new(QueryConsensusStatesResponse { consensus_states, pagination: Some(pagination) }))
    }

    async fn consensus_state_heights(
        &self,
        req: Request<QueryConsensusStateHeightsRequest>,
    ) -> Result<Response<QueryConsensusStateHeightsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = client_id(&req.get_ref().client_id)?;
        let heights = consensus_heights(&snapshot, &id).await?;
        let keyed = heights.into_iter().map(|h| (height_key(&h), h)).collect();
        let (consensus_state_heights, pagination) = paginate(keyed, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryConsensusStateHeightsResponse { consensus_state_heights, pagination: Some(pagination) }))
    }

    async fn client_status(&self, req: Request<QueryClientStatusRequest>) -> Result<Response<QueryClientStatusResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = client_id(&req.get_ref().client_id)?;
        let status = client_status(&snapshot, &id).await?;
        Ok(Response::new(QueryClientStatusResponse { status: status.as_str().to_string() }))
    }

    async fn client_params(&self, _req: Request<QueryClientParamsRequest>) -> Result<Response<QueryClientParamsResponse>, Status> {
        Ok(Response::new(QueryClientParamsResponse { params: Some(Params { allowed_clients: vec![TENDERMINT_CLIENT_TYPE.to_string()] }) }))
    }

    async fn upgraded_client_state(&self, _req: Request<QueryUpgradedClientStateRequest>) -> Result<Response<QueryUpgradedClientStateResponse>, Status> {
        Err(Status::unimplemented("Aegis has no upgrade module: no upgraded client state is ever scheduled"))
    }

    async fn upgraded_consensus_state(
        &self,
        _req: Request<QueryUpgradedConsensusStateRequest>,
    ) -> Result<Response<QueryUpgradedConsensusStateResponse>, Status> {
        Err(Status::unimplemented("Aegis has no upgrade module: no upgraded consensus state is ever scheduled"))
    }
}

/// Page key of a height: big-endian revision then height, so key order is
/// height order.
fn height_key(h: &Height) -> Vec<u8> {
    [h.revision_number.to_be_bytes(), h.revision_height.to_be_bytes()].concat()
}
