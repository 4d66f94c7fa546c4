//! `ibc.core.connection.v1.Query`.

use cnidarium::Storage;
use ibc_core::host::types::path::ClientConnectionPath;
use ibc_proto_052::ibc::core::client::v1::IdentifiedClientState;
use ibc_proto_052::ibc::core::connection::v1::{query_server::Query, *};
use tonic::{Request, Response, Status};

use super::{client_id, client_state, connection_end, connection_id, consensus_state, decode, get, paginate, scan, self_height};
use crate::ibc::state::keys;
use crate::ibc::IbcRead;
use crate::query::{request_snapshot, to_status};

#[derive(Clone)]
pub struct ConnectionQuery {
    storage: Storage,
}

impl ConnectionQuery {
    pub fn new(storage: Storage) -> Self {
        ConnectionQuery { storage }
    }
}

#[tonic::async_trait]
impl Query for ConnectionQuery {
    async fn connection(&self, req: Request<QueryConnectionRequest>) -> Result<Response<QueryConnectionResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = connection_id(&req.get_ref().connection_id)?;
        let connection = connection_end(&snapshot, &id).await?;
        Ok(Response::new(QueryConnectionResponse { connection: Some(connection), proof: vec![], proof_height: Some(self_height(&snapshot).await?) }))
    }

    async fn connections(&self, req: Request<QueryConnectionsRequest>) -> Result<Response<QueryConnectionsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let mut items = Vec::new();
        for (id, bytes) in scan(&snapshot, keys::CONNECTIONS).await? {
            let c: ConnectionEnd = decode(&format!("{}{id}", keys::CONNECTIONS), &bytes)?;
            let identified = IdentifiedConnection {
                id: id.clone(),
                client_id: c.client_id,
                versions: c.versions,
                state: c.state,
                counterparty: c.counterparty,
                delay_period: c.delay_period,
            };
            items.push((id.into_bytes(), identified));
        }
        let (connections, pagination) = paginate(items, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryConnectionsResponse { connections, pagination: Some(pagination), height: Some(self_height(&snapshot).await?) }))
    }

    async fn client_connections(&self, req: Request<QueryClientConnectionsRequest>) -> Result<Response<QueryClientConnectionsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = client_id(&req.get_ref().client_id)?;
        let key = keys::path(ClientConnectionPath::new(id.clone()));
        let bytes = get(&snapshot, &key).await?.ok_or_else(|| Status::not_found(format!("client {id} has no connections")))?;
        let paths: ClientPaths = decode(&key, &bytes)?;
        Ok(Response::new(QueryClientConnectionsResponse {
            connection_paths: paths.paths,
            proof: vec![],
            proof_height: Some(self_height(&snapshot).await?),
        }))
    }

    async fn connection_client_state(
        &self,
        req: Request<QueryConnectionClientStateRequest>,
    ) -> Result<Response<QueryConnectionClientStateResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = connection_id(&req.get_ref().connection_id)?;
        let client = client_id(&connection_end(&snapshot, &id).await?.client_id)?;
        let state = client_state(&snapshot, &client).await?;
        Ok(Response::new(QueryConnectionClientStateResponse {
            identified_client_state: Some(IdentifiedClientState { client_id: client.to_string(), client_state: Some(state) }),
            proof: vec![],
            proof_height: Some(self_height(&snapshot).await?),
        }))
    }

    async fn connection_consensus_state(
        &self,
        req: Request<QueryConnectionConsensusStateRequest>,
    ) -> Result<Response<QueryConnectionConsensusStateResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let id = connection_id(&r.connection_id)?;
        let client = client_id(&connection_end(&snapshot, &id).await?.client_id)?;
        let state = consensus_state(&snapshot, &client, r.revision_number, r.revision_height).await?;
        Ok(Response::new(QueryConnectionConsensusStateResponse {
            consensus_state: Some(state),
            client_id: client.to_string(),
            proof: vec![],
            proof_height: Some(self_height(&snapshot).await?),
        }))
    }

    async fn connection_params(&self, req: Request<QueryConnectionParamsRequest>) -> Result<Response<QueryConnectionParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.ibc_params().await.map_err(to_status)?;
        let max_expected_time_per_block = p.max_expected_time_per_block_seconds.saturating_mul(1_000_000_000);
        Ok(Response::new(QueryConnectionParamsResponse { params: Some(Params { max_expected_time_per_block }) }))
    }
}
