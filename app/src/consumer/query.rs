//! `aegis.consumer.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::consumer::v1::{query_server::Query, *};
use cnidarium::Storage;
use tonic::{Request, Response, Status};

use super::ConsumerRead;
use crate::query::{request_snapshot, to_status};

#[derive(Clone)]
pub struct ConsumerQuery {
    storage: Storage,
}

impl ConsumerQuery {
    pub fn new(storage: Storage) -> Self {
        ConsumerQuery { storage }
    }
}

fn seconds(d: &Option<tendermint_proto::google::protobuf::Duration>) -> i64 {
    d.as_ref().map_or(0, |d| d.seconds)
}

fn params_view(p: &ibc_proto::interchain_security::ccv::v1::ConsumerParams) -> Params {
    Params {
        enabled: p.enabled,
        blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
        distribution_transmission_channel: p.distribution_transmission_channel.clone(),
        provider_fee_pool_addr_str: p.provider_fee_pool_addr_str.clone(),
        ccv_timeout_period_seconds: seconds(&p.ccv_timeout_period),
        transfer_timeout_period_seconds: seconds(&p.transfer_timeout_period),
        consumer_redistribution_fraction: p.consumer_redistribution_fraction.clone(),
        historical_entries: p.historical_entries,
        unbonding_period_seconds: seconds(&p.unbonding_period),
        reward_denoms: p.reward_denoms.clone(),
        provider_reward_denoms: p.provider_reward_denoms.clone(),
        retry_delay_period_seconds: seconds(&p.retry_delay_period),
    }
}

#[tonic::async_trait]
impl Query for ConsumerQuery {
    async fn status(&self, req: Request<QueryStatusRequest>) -> Result<Response<QueryStatusResponse>, Status> {
        let s = request_snapshot(&self.storage, &req)?;
        let Some(provider_client_id) = s.provider_client_id().await.map_err(to_status)? else {
            return Err(Status::not_found("this chain is not a consumer chain (its genesis has no consumer section)"));
        };
        let validators: Vec<Validator> =
            s.consumer_validators().await.map_err(to_status)?.into_iter().map(|v| Validator { pubkey: hex::encode(v.pubkey), power: v.power }).collect();
        let total_power = validators.iter().map(|v| v.power).fold(0i64, i64::saturating_add);
        Ok(Response::new(QueryStatusResponse {
            provider_client_id,
            ccv_channel_id: s.provider_channel().await.map_err(to_status)?.unwrap_or_default(),
            ccv_channel_state: s.ccv_channel_state().await.map_err(to_status)?.as_str().into(),
            provider_fee_pool_addr: s.provider_fee_pool_addr().await.map_err(to_status)?.unwrap_or_default(),
            validators,
            total_power,
            last_valset_update_id: s.last_valset_update_id().await.map_err(to_status)?,
            params: s.consumer_params().await.map_err(to_status)?.as_ref().map(params_view),
        }))
    }
}
