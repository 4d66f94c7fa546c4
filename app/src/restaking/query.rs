//! `aegis.restaking.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::restaking::v1::{query_server::Query, *};
use cnidarium::{Snapshot, Storage};
use tonic::{Request, Response, Status};

use super::{pool_address, RestakingRead, Strategy as StoredStrategy};
use crate::delegation::DelegationRead;
use crate::math::WAD;
use crate::query::{page_keys, parse_address, request_snapshot, to_status};
use crate::types::validate_denom;

#[derive(Clone)]
pub struct RestakingQuery {
    storage: Storage,
}

impl RestakingQuery {
    pub fn new(storage: Storage) -> Self {
        RestakingQuery { storage }
    }
}

async fn strategy_view(snapshot: &Snapshot, s: &StoredStrategy) -> Result<Strategy, Status> {
    let tvl = snapshot.pool_tokens(&s.denom).await.map_err(to_status)?;
    Ok(Strategy {
        denom: s.denom.clone(),
        pool_address: pool_address(&s.denom).to_string(),
        total_shares: s.total_shares.to_string(),
        tvl: tvl.to_string(),
        tokens_per_share_wad: s.tokens_for_shares(WAD, tvl).unwrap_or(0).to_string(),
        deposit_cap: s.deposit_cap.map(|c| c.to_string()).unwrap_or_default(),
    })
}

/// A withdrawal as clients see it: each entry valued now.
pub async fn withdrawal_view(snapshot: &Snapshot, w: &super::Withdrawal) -> Result<Withdrawal, Status> {
    let mut entries = Vec::new();
    for (denom, scaled) in &w.entries {
        let m = snapshot.slashing_factor(w.operator.as_ref(), denom).await.map_err(to_status)?;
        let shares = crate::math::mul_wad_down(*scaled, m).unwrap_or(u128::MAX);
        let tokens = snapshot.shares_to_tokens(denom, shares).await.map_err(to_status)?;
        entries.push(WithdrawalEntry {
            denom: denom.clone(),
            scaled_shares: scaled.to_string(),
            withdrawable_shares: shares.to_string(),
            withdrawable_tokens: tokens.to_string(),
        });
    }
    Ok(Withdrawal {
        id: w.id,
        staker: w.staker.to_string(),
        operator: w.operator.map(|o| o.to_string()).unwrap_or_default(),
        start_time: w.start_time,
        completable_time: w.completable_time,
        entries,
    })
}

#[tonic::async_trait]
impl Query for RestakingQuery {
    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.restaking_params().await.map_err(to_status)?;
        Ok(Response::new(QueryParamsResponse {
            params: Some(Params { withdrawal_delay_seconds: p.withdrawal_delay_seconds, authority: p.authority.to_string() }),
        }))
    }

    async fn strategies(&self, req: Request<QueryStrategiesRequest>) -> Result<Response<QueryStrategiesResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let mut strategies = Vec::new();
        for s in snapshot.strategies().await.map_err(to_status)? {
            strategies.push(strategy_view(&snapshot, &s).await?);
        }
        Ok(Response::new(QueryStrategiesResponse { strategies }))
    }

    async fn strategy(&self, req: Request<QueryStrategyRequest>) -> Result<Response<QueryStrategyResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let denom = &req.get_ref().denom;
        validate_denom(denom).map_err(to_status)?;
        let s = snapshot.strategy(denom).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("no strategy accepts denom {denom}")))?;
        Ok(Response::new(QueryStrategyResponse { strategy: Some(strategy_view(&snapshot, &s).await?) }))
    }

    async fn staker_deposits(&self, req: Request<QueryStakerDepositsRequest>) -> Result<Response<QueryStakerDepositsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let staker = parse_address(&req.get_ref().staker)?;
        let op = snapshot.delegated_operator(&staker).await.map_err(to_status)?;
        let mut deposits = Vec::new();
        for (denom, dep) in snapshot.staker_deposits(&staker).await.map_err(to_status)? {
            let m = snapshot.slashing_factor(op.as_ref(), &denom).await.map_err(to_status)?;
            let shares = dep.withdrawable(m);
            let tokens = snapshot.shares_to_tokens(&denom, shares).await.map_err(to_status)?;
            deposits.push(StakerDeposit {
                denom,
                deposit_shares: dep.deposit_shares.to_string(),
                deposit_scaling_factor: dep.scaling_factor.to_string(),
                slashing_factor: m.to_string(),
                withdrawable_shares: shares.to_string(),
                withdrawable_tokens: tokens.to_string(),
            });
        }
        Ok(Response::new(QueryStakerDepositsResponse { operator: op.map(|o| o.to_string()).unwrap_or_default(), deposits }))
    }

    async fn queued_withdrawals(&self, req: Request<QueryQueuedWithdrawalsRequest>) -> Result<Response<QueryQueuedWithdrawalsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let staker = parse_address(&req.get_ref().staker)?;
        let prefix = super::state::staker_withdrawals_prefix(&staker);
        let (ids, page) = page_keys(&snapshot, &prefix, req.get_ref().pagination.as_ref()).await?;
        let mut withdrawals = Vec::new();
        for id in ids {
            let id: u64 = id.parse().map_err(|_| Status::internal("corrupt withdrawal index"))?;
            if let Some(w) = snapshot.withdrawal(id).await.map_err(to_status)? {
                withdrawals.push(withdrawal_view(&snapshot, &w).await?);
            }
        }
        Ok(Response::new(QueryQueuedWithdrawalsResponse { withdrawals, pagination: Some(page) }))
    }
}
