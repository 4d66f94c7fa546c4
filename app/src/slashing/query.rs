//! `aegis.slashing.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::slashing::v1::{query_server::Query, *};
use cnidarium::Storage;
use tonic::{Request, Response, Status};

use super::state::pending_prefix;
use super::{PendingSlash as Stored, SlashingRead};
use crate::delegation::DelegationRead;
use crate::query::{page_keys, parse_address, request_snapshot, to_status};

#[derive(Clone)]
pub struct SlashingQuery {
    storage: Storage,
}

impl SlashingQuery {
    pub fn new(storage: Storage) -> Self {
        SlashingQuery { storage }
    }
}

fn view(p: &Stored) -> PendingSlash {
    PendingSlash {
        id: p.id,
        operator: p.operator.to_string(),
        avs_id: p.avs_id,
        operator_set_id: p.set_id,
        strategies: p.strategies.clone(),
        wad_to_slash: p.wad_to_slash.to_string(),
        description: p.description.clone(),
        evidence_ref: p.evidence_ref.clone(),
        submitted_at: p.submitted_at,
        executable_at: p.executable_at,
        vetoes: p.vetoes.iter().map(|v| v.to_string()).collect(),
    }
}

#[tonic::async_trait]
impl Query for SlashingQuery {
    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.slashing_params().await.map_err(to_status)?;
        Ok(Response::new(QueryParamsResponse {
            params: Some(Params {
                signed_blocks_window: p.signed_blocks_window,
                min_signed_per_window: p.min_signed_per_window.to_string(),
                downtime_jail_duration_seconds: p.downtime_jail_duration_seconds,
                slash_fraction_double_sign: p.slash_fraction_double_sign.to_string(),
                slash_fraction_downtime: p.slash_fraction_downtime.to_string(),
                max_slash_per_epoch: p.max_slash_per_epoch.to_string(),
            }),
        }))
    }

    async fn pending_slash(&self, req: Request<QueryPendingSlashRequest>) -> Result<Response<QueryPendingSlashResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().slash_id;
        let p = snapshot.pending_slash(id).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("pending slash {id} does not exist")))?;
        Ok(Response::new(QueryPendingSlashResponse { slash: Some(view(&p)) }))
    }

    async fn pending_slashes(&self, req: Request<QueryPendingSlashesRequest>) -> Result<Response<QueryPendingSlashesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let (keys, page) = page_keys(&snapshot, pending_prefix(), req.get_ref().pagination.as_ref()).await?;
        let mut slashes = Vec::new();
        for k in keys {
            let id: u64 = k.parse().map_err(|_| Status::internal(format!("corrupt pending slash key {k}")))?;
            if let Some(p) = snapshot.pending_slash(id).await.map_err(to_status)? {
                slashes.push(view(&p));
            }
        }
        Ok(Response::new(QueryPendingSlashesResponse { slashes, pagination: Some(page) }))
    }

    async fn signing_info(&self, req: Request<QuerySigningInfoRequest>) -> Result<Response<QuerySigningInfoResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let addr = parse_address(&req.get_ref().operator)?;
        let op = snapshot.operator(&addr).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("{addr} is not a registered operator")))?;
        let cons = op.consensus_address().ok_or_else(|| Status::not_found(format!("operator {addr} has no consensus key")))?;
        let info = snapshot.signing_info(&cons).await.map_err(to_status)?;
        Ok(Response::new(QuerySigningInfoResponse {
            info: Some(SigningInfo {
                operator: addr.to_string(),
                consensus_address: cons,
                start_height: info.as_ref().map_or(0, |i| i.start_height),
                index_offset: info.as_ref().map_or(0, |i| i.index_offset),
                missed_blocks_counter: info.as_ref().map_or(0, |i| i.missed_blocks_counter),
                jailed: op.jailed,
                jailed_until: info.as_ref().map_or(0, |i| i.jailed_until),
                tombstoned: op.tombstoned,
            }),
        }))
    }
}
