//! `cosmos.bank.v1beta1.Query`, served over gRPC and ABCI query.

use cnidarium::{Snapshot, Storage};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_server::Query, *};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use tonic::{Request, Response, Status};

use super::BankRead;
use crate::query::{parse_address, request_snapshot, to_status};
use crate::types::{validate_denom, Coin};

#[derive(Clone)]
pub struct BankQuery {
    storage: Storage,
}

impl BankQuery {
    pub fn new(storage: Storage) -> Self {
        BankQuery { storage }
    }
}


fn check_denom(d: &str) -> Result<(), Status> {
    validate_denom(d).map_err(to_status)
}

/// Page through `items` (sorted by denom) as Cosmos does: `key` is the
/// first denom of the page, `next_key` the first denom of the next one.
pub fn paginate(items: Vec<ProtoCoin>, page: Option<&PageRequest>) -> Result<(Vec<ProtoCoin>, PageResponse), Status> {
    let total = items.len() as u64;
    let (key, offset, limit, count_total, reverse) = match page {
        Some(p) => (p.key.clone(), p.offset, if p.limit == 0 { 100 } else { p.limit }, p.count_total, p.reverse),
        None => (vec![], 0, 100, false, false),
    };
    if !key.is_empty() && offset > 0 {
        return Err(Status::invalid_argument("pagination: set either key or offset, not both"));
    }
    let mut items = items;
    if reverse {
        items.reverse();
    }
    let start = if key.is_empty() {
        offset.min(total) as usize
    } else {
        let key = String::from_utf8_lossy(&key).to_string();
        items.iter().position(|c| if reverse { c.denom <= key } else { c.denom >= key }).unwrap_or(items.len())
    };
    let end = start.saturating_add(limit as usize).min(items.len());
    let next_key = items.get(end).map(|c| c.denom.as_bytes().to_vec()).unwrap_or_default();
    let page_items = items[start..end].to_vec();
    Ok((page_items, PageResponse { next_key, total: if count_total { total } else { 0 } }))
}

/// `address`'s balance of `denom`, as a coin (zero if it holds none).
async fn denom_balance(snapshot: &Snapshot, address: &str, denom: String) -> Result<ProtoCoin, Status> {
    let addr = parse_address(address)?;
    check_denom(&denom)?;
    let amount = snapshot.balance(&addr, &denom).await.map_err(to_status)?;
    Ok(Coin { denom, amount }.to_proto())
}

/// One page of `address`'s balances, sorted by denom.
async fn balances_page(snapshot: &Snapshot, address: &str, page: Option<&PageRequest>) -> Result<(Vec<ProtoCoin>, PageResponse), Status> {
    let addr = parse_address(address)?;
    let all = snapshot.all_balances(&addr).await.map_err(to_status)?.to_proto();
    paginate(all, page)
}

#[tonic::async_trait]
impl Query for BankQuery {
    async fn balance(&self, req: Request<QueryBalanceRequest>) -> Result<Response<QueryBalanceResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.into_inner();
        Ok(Response::new(QueryBalanceResponse { balance: Some(denom_balance(&snapshot, &r.address, r.denom).await?) }))
    }

    async fn all_balances(&self, req: Request<QueryAllBalancesRequest>) -> Result<Response<QueryAllBalancesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let (balances, pagination) = balances_page(&snapshot, &r.address, r.pagination.as_ref()).await?;
        Ok(Response::new(QueryAllBalancesResponse { balances, pagination: Some(pagination) }))
    }

    // No vesting or locks: everything held is spendable.
    async fn spendable_balances(&self, req: Request<QuerySpendableBalancesRequest>) -> Result<Response<QuerySpendableBalancesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.get_ref();
        let (balances, pagination) = balances_page(&snapshot, &r.address, r.pagination.as_ref()).await?;
        Ok(Response::new(QuerySpendableBalancesResponse { balances, pagination: Some(pagination) }))
    }

    async fn spendable_balance_by_denom(
        &self,
        req: Request<QuerySpendableBalanceByDenomRequest>,
    ) -> Result<Response<QuerySpendableBalanceByDenomResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.into_inner();
        Ok(Response::new(QuerySpendableBalanceByDenomResponse { balance: Some(denom_balance(&snapshot, &r.address, r.denom).await?) }))
    }

    async fn total_supply(&self, req: Request<QueryTotalSupplyRequest>) -> Result<Response<QueryTotalSupplyResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.into_inner();
        let all = snapshot.total_supply().await.map_err(to_status)?.to_proto();
        let (supply, pagination) = paginate(all, r.pagination.as_ref())?;
        Ok(Response::new(QueryTotalSupplyResponse { supply, pagination: Some(pagination) }))
    }

    async fn supply_of(&self, req: Request<QuerySupplyOfRequest>) -> Result<Response<QuerySupplyOfResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let r = req.into_inner();
        check_denom(&r.denom)?;
        let amount = snapshot.supply(&r.denom).await.map_err(to_status)?;
        Ok(Response::new(QuerySupplyOfResponse { amount: Some(Coin { denom: r.denom, amount }.to_proto()) }))
    }

    async fn params(&self, _req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        #[allow(deprecated)]
        let params = Params { send_enabled: vec![], default_send_enabled: true };
        Ok(Response::new(QueryParamsResponse { params: Some(params) }))
    }

    async fn denom_metadata(&self, _req: Request<QueryDenomMetadataRequest>) -> Result<Response<QueryDenomMetadataResponse>, Status> {
        Err(Status::unimplemented("denom metadata is not kept by Aegis"))
    }

    async fn denom_metadata_by_query_string(
        &self,
        _req: Request<QueryDenomMetadataByQueryStringRequest>,
    ) -> Result<Response<QueryDenomMetadataByQueryStringResponse>, Status> {
        Err(Status::unimplemented("denom metadata is not kept by Aegis"))
    }

    async fn denoms_metadata(&self, _req: Request<QueryDenomsMetadataRequest>) -> Result<Response<QueryDenomsMetadataResponse>, Status> {
        Ok(Response::new(QueryDenomsMetadataResponse { metadatas: vec![], pagination: Some(PageResponse::default()) }))
    }

    async fn denom_owners(&self, _req: Request<QueryDenomOwnersRequest>) -> Result<Response<QueryDenomOwnersResponse>, Status> {
        Err(Status::unimplemented("denom owners would iterate every account; not served"))
    }

    async fn denom_owners_by_query(
        &self,
        _req: Request<QueryDenomOwnersByQueryRequest>,
    ) -> Result<Response<QueryDenomOwnersByQueryResponse>, Status> {
        Err(Status::unimplemented("denom owners would iterate every account; not served"))
    }

    async fn send_enabled(&self, _req: Request<QuerySendEnabledRequest>) -> Result<Response<QuerySendEnabledResponse>, Status> {
        Ok(Response::new(QuerySendEnabledResponse { send_enabled: vec![], pagination: Some(PageResponse::default()) }))
    }
}
