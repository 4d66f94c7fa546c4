//! `aegis.rewards.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::rewards::v1::{query_server::Query, *};
use cnidarium::Storage;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use tonic::{Request, Response, Status};

use super::state::submissions_prefix;
use super::RewardsRead;
use crate::avs::AvsRead;
use crate::delegation::DelegationRead;
use crate::query::{page_keys, parse_address, request_snapshot, to_status};

#[derive(Clone)]
pub struct RewardsQuery {
    storage: Storage,
}

impl RewardsQuery {
    pub fn new(storage: Storage) -> Self {
        RewardsQuery { storage }
    }
}

fn coins(amounts: std::collections::BTreeMap<String, u128>) -> Vec<ProtoCoin> {
    amounts.into_iter().filter(|(_, a)| *a > 0).map(|(denom, a)| ProtoCoin { denom, amount: a.to_string() }).collect()
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
        let rewards = snapshot.pending_rewards_all(&addr).await.map_err(to_status)?;
        let commission = snapshot.commissions(&addr).await.map_err(to_status)?;
        Ok(Response::new(QueryPendingRewardsResponse { rewards: coins(rewards), commission: coins(commission) }))
    }

    async fn avs_reward_submissions(&self, req: Request<QueryAvsRewardSubmissionsRequest>) -> Result<Response<QueryAvsRewardSubmissionsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let (keys, page) = page_keys(&snapshot, submissions_prefix(), req.get_ref().pagination.as_ref()).await?;
        let mut submissions = Vec::new();
        for k in keys {
            let id: u64 = k.parse().map_err(|_| Status::internal(format!("corrupt submission key {k}")))?;
            if let Some(s) = snapshot.submission(id).await.map_err(to_status)? {
                submissions.push(AvsRewardSubmission {
                    id: s.id,
                    avs_id: s.avs_id,
                    operator_set_id: s.set_id,
                    submitter: s.submitter.to_string(),
                    remaining: Some(ProtoCoin { denom: s.denom.clone(), amount: s.remaining.to_string() }),
                    remaining_epochs: s.remaining_epochs,
                    strategies: s.strategies.iter().map(|(d, m)| StrategyMultiplier { strategy: d.clone(), multiplier: *m }).collect(),
                });
            }
        }
        Ok(Response::new(QueryAvsRewardSubmissionsResponse { submissions, pagination: Some(page) }))
    }

    async fn avs_commission(&self, req: Request<QueryAvsCommissionRequest>) -> Result<Response<QueryAvsCommissionResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let op = parse_address(&req.get_ref().operator)?;
        let stored = snapshot.operator(&op).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("{op} is not a registered operator")))?;
        let avs_id = req.get_ref().avs_id;
        if snapshot.avs(avs_id).await.map_err(to_status)?.is_none() {
            return Err(Status::not_found(format!("AVS {avs_id} does not exist")));
        }
        let bps = snapshot.avs_commission(&op, avs_id).await.map_err(to_status)?.unwrap_or(stored.commission_rate_bps);
        Ok(Response::new(QueryAvsCommissionResponse { commission_bps: bps }))
    }
}
