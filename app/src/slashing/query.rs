//! `aegis.slashing.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::slashing::v1::{query_server::Query, *};
use cnidarium::Storage;
use tonic::{Request, Response, Status};

use super::msgs::slashed_to_proto;
use super::state::slashes_prefix;
use super::{AvsSlash as Stored, SlashStatus as StoredStatus, SlashingRead};
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

fn status_view(s: StoredStatus) -> SlashStatus {
    match s {
        StoredStatus::Pending => SlashStatus::Pending,
        StoredStatus::Vetoed => SlashStatus::Vetoed,
        StoredStatus::Executed => SlashStatus::Executed,
        StoredStatus::Expired => SlashStatus::Expired,
    }
}

fn record_view(p: &Stored) -> Slash {
    Slash {
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
        status: status_view(p.status) as i32,
        resolved_height: p.resolved_height,
        resolved_at: p.resolved_at,
        resolved_by: p.resolved_by.map(|a| a.to_string()).unwrap_or_default(),
        slashed: slashed_to_proto(&p.slashed),
        submitted_height: p.submitted_height,
    }
}

fn unknown_slash(id: u64) -> Status {
    Status::not_found(format!("slash {id} does not exist"))
}

/// Records under `prefix` (keys ending in a slash id), one page.
async fn page_records(snapshot: &cnidarium::Snapshot, prefix: &str, page: Option<&cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest>) -> Result<(Vec<Stored>, cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse), Status> {
    let (keys, page) = page_keys(snapshot, prefix, page).await?;
    let mut out = Vec::new();
    for k in keys {
        let id: u64 = k.parse().map_err(|_| Status::internal(format!("corrupt slash key {k}")))?;
        if let Some(p) = snapshot.avs_slash(id).await.map_err(to_status)? {
            out.push(p);
        }
    }
    Ok((out, page))
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
        let p = snapshot.avs_slash(id).await.map_err(to_status)?.ok_or_else(|| unknown_slash(id))?;
        if p.status != StoredStatus::Pending {
            return Err(Status::not_found(format!("slash {id} is no longer pending: {}", p.resolved_error())));
        }
        Ok(Response::new(QueryPendingSlashResponse { slash: Some(view(&p)) }))
    }

    async fn pending_slashes(&self, req: Request<QueryPendingSlashesRequest>) -> Result<Response<QueryPendingSlashesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let prefix = slashes_prefix(None, None, Some(StoredStatus::Pending));
        let (records, page) = page_records(&snapshot, &prefix, req.get_ref().pagination.as_ref()).await?;
        Ok(Response::new(QueryPendingSlashesResponse { slashes: records.iter().map(view).collect(), pagination: Some(page) }))
    }

    async fn slash(&self, req: Request<QuerySlashRequest>) -> Result<Response<QuerySlashResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().slash_id;
        let p = snapshot.avs_slash(id).await.map_err(to_status)?.ok_or_else(|| unknown_slash(id))?;
        Ok(Response::new(QuerySlashResponse { slash: Some(record_view(&p)) }))
    }

    async fn slashes(&self, req: Request<QuerySlashesRequest>) -> Result<Response<QuerySlashesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let status = match SlashStatus::try_from(r.status) {
            Ok(SlashStatus::Unspecified) => None,
            Ok(SlashStatus::Pending) => Some(StoredStatus::Pending),
            Ok(SlashStatus::Vetoed) => Some(StoredStatus::Vetoed),
            Ok(SlashStatus::Executed) => Some(StoredStatus::Executed),
            Ok(SlashStatus::Expired) => Some(StoredStatus::Expired),
            Err(_) => return Err(Status::invalid_argument(format!("unknown slash status {}: use 0 (any) to 4", r.status))),
        };
        let op = if r.operator.is_empty() { None } else { Some(parse_address(&r.operator)?) };
        let avs = (r.avs_id != 0).then_some(r.avs_id);
        let prefix = slashes_prefix(op.as_ref(), avs, status);
        let (records, page) = page_records(&snapshot, &prefix, r.pagination.as_ref()).await?;
        Ok(Response::new(QuerySlashesResponse { slashes: records.iter().map(record_view).collect(), pagination: Some(page) }))
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
