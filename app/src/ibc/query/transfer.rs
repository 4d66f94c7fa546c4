//! `ibc.applications.transfer.v1.Query`: ICS-20 denom traces, escrow
//! accounts and params.

use std::str::FromStr;

use cnidarium::Storage;
use ibc_app_transfer::types::PrefixedDenom;
use ibc_proto_052::ibc::applications::transfer::v1::{query_server::Query, *};
use tonic::{Request, Response, Status};

use super::{all_channels, channel_path, decode, get, paginate, scan};
use crate::bank::BankRead;
use crate::ibc::state::keys;
use crate::ibc::transfer::{denom_hash, escrow_address, PORT};
use crate::query::{request_snapshot, to_status};
use crate::types::{validate_denom, Amount, Coin};

#[derive(Clone)]
pub struct TransferQuery {
    storage: Storage,
}

impl TransferQuery {
    pub fn new(storage: Storage) -> Self {
        TransferQuery { storage }
    }
}

/// The hash of `HASH` or `ibc/HASH`, upper-case as the traces are stored.
fn parse_hash(s: &str) -> Result<String, Status> {
    let hash = s.strip_prefix("ibc/").unwrap_or(s);
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Status::invalid_argument(format!("invalid denom trace hash {s:?}: want 64 hex digits, optionally after ibc/")));
    }
    Ok(hash.to_ascii_uppercase())
}

#[tonic::async_trait]
impl Query for TransferQuery {
    async fn denom_trace(&self, req: Request<QueryDenomTraceRequest>) -> Result<Response<QueryDenomTraceResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let hash = parse_hash(&req.get_ref().hash)?;
        let key = keys::denom_trace(&hash);
        let bytes = get(&snapshot, &key).await?.ok_or_else(|| Status::not_found(format!("denomination trace not found for hash {hash}")))?;
        Ok(Response::new(QueryDenomTraceResponse { denom_trace: Some(decode(&key, &bytes)?) }))
    }

    async fn denom_traces(&self, req: Request<QueryDenomTracesRequest>) -> Result<Response<QueryDenomTracesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let mut items = Vec::new();
        for (hash, bytes) in scan(&snapshot, keys::DENOM_TRACES).await? {
            let trace: DenomTrace = decode(&keys::denom_trace(&hash), &bytes)?;
            items.push((hash.into_bytes(), trace));
        }
        let (denom_traces, pagination) = paginate(items, req.get_ref().pagination.as_ref())?;
        Ok(Response::new(QueryDenomTracesResponse { denom_traces, pagination: Some(pagination) }))
    }

    async fn params(&self, _req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        Ok(Response::new(QueryParamsResponse { params: Some(Params { send_enabled: true, receive_enabled: true }) }))
    }

    /// The hash of a trace (`transfer/channel-0/uatom`) this chain knows.
    async fn denom_hash(&self, req: Request<QueryDenomHashRequest>) -> Result<Response<QueryDenomHashResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let trace = &req.get_ref().trace;
        let denom = PrefixedDenom::from_str(trace).map_err(|e| Status::invalid_argument(format!("invalid denom trace {trace:?}: {e}")))?;
        let hash = denom_hash(&denom.to_string());
        if get(&snapshot, &keys::denom_trace(&hash)).await?.is_none() {
            return Err(Status::not_found(format!("denomination not found for trace {trace}")));
        }
        Ok(Response::new(QueryDenomHashResponse { hash }))
    }

    async fn escrow_address(&self, req: Request<QueryEscrowAddressRequest>) -> Result<Response<QueryEscrowAddressResponse>, Status> {
        let chan = channel_path(&req.get_ref().port_id, &req.get_ref().channel_id)?;
        Ok(Response::new(QueryEscrowAddressResponse { escrow_address: escrow_address(chan.0.as_str(), chan.1.as_str()).to_string() }))
    }

    /// What the escrow accounts of all `transfer` channels hold of a denom.
    async fn total_escrow_for_denom(
        &self,
        req: Request<QueryTotalEscrowForDenomRequest>,
    ) -> Result<Response<QueryTotalEscrowForDenomResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let denom = req.get_ref().denom.clone();
        validate_denom(&denom).map_err(to_status)?;
        let mut total = Amount::ZERO;
        for channel in all_channels(&snapshot).await?.into_iter().filter(|c| c.port_id == PORT) {
            let held = snapshot.balance(&escrow_address(PORT, &channel.channel_id), &denom).await.map_err(to_status)?;
            total = total.checked_add(held).ok_or_else(|| Status::internal(format!("total escrow of {denom} overflows")))?;
        }
        Ok(Response::new(QueryTotalEscrowForDenomResponse { amount: Some(Coin { denom, amount: total }.to_proto()) }))
    }
}
