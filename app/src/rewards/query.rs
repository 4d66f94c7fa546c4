//! `aegis.rewards.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::rewards::v1::{query_server::Query, *};
use cnidarium::Storage;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use tonic::{Request, Response, Status};

use super::RewardsRead;
use crate::query::{parse_address, request_snapshot, to_status};
use crate::types::NATIVE_DENOM;

#[derive(Clone)]
pub struct RewardsQuery {
    storage: Storage,
}

impl RewardsQuery {
    pub fn new(storage: Storage) -> Self {
        RewardsQuery { storage }
    }
}

fn native(amount: u128) -> Vec<ProtoCoin> {
    if amount == 0 {
        vec![]
    } else {
        vec![ProtoCoin { denom: NATIVE_DENOM.into(), amount: amount.to_string() }]
    }
}

#[tonic::async_trait]
impl Query for RewardsQuery {
    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.rewards_params().await.map_err(to_status)?;
        Ok(Response::new(QueryParamsResponse { params: Some(Params { inflation_rate_bps: p.inflation_rate_bps, blocks_per_year: p.blocks_per_year }) }))
    }

    async fn pending_rewards(&self, req: Request<QueryPendingRewardsRequest>) -> Result<Response<QueryPendingRewardsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let addr = parse_address(&req.get_ref().address)?;
        let rewards = snapshot.pending_rewards(&addr).await.map_err(to_status)?;
        let commission = snapshot.commission(&addr).await.map_err(to_status)?;
        Ok(Response::new(QueryPendingRewardsResponse { rewards: native(rewards), commission: native(commission) }))
    }
}
