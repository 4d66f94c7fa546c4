//! `cosmos.staking.v1beta1.Query/Params`, which relayers read for a
//! chain's unbonding period (a client's trusting period must be shorter)
//! and `historical_entries`. Aegis has no x/staking, so the values come
//! from the modules that play its parts: the unbonding period is the
//! restaking withdrawal delay (how long leaving stake stays slashable),
//! the validator cap is delegation's, and the kept history is IBC's.
//! Every other staking method answers `Unimplemented`.

use cnidarium::Storage;
use cosmos_sdk_proto::cosmos::staking::v1beta1::{query_server::Query, *};
use tendermint_proto::google::protobuf::Duration;
use tonic::{Request, Response, Status};

use crate::delegation::DelegationRead;
use crate::ibc::IbcRead;
use crate::query::{request_snapshot, to_status};
use crate::restaking::RestakingRead;
use crate::types::NATIVE_DENOM;

#[derive(Clone)]
pub struct StakingQuery {
    storage: Storage,
}

impl StakingQuery {
    pub fn new(storage: Storage) -> Self {
        StakingQuery { storage }
    }
}

fn not_served(method: &str) -> Status {
    Status::unimplemented(format!(
        "cosmos.staking.v1beta1.Query/{method} is not served: Aegis has no x/staking (see aegis.delegation.v1.Query); only Params is, for relayers"
    ))
}

#[tonic::async_trait]
impl Query for StakingQuery {
    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let restaking = snapshot.restaking_params().await.map_err(to_status)?;
        let delegation = snapshot.delegation_params().await.map_err(to_status)?;
        let ibc = snapshot.ibc_params().await.map_err(to_status)?;
        let params = Params {
            unbonding_time: Some(Duration { seconds: i64::try_from(restaking.withdrawal_delay_seconds).unwrap_or(i64::MAX), nanos: 0 }),
            max_validators: delegation.max_validators,
            // The SDK's default; Aegis does not cap queued withdrawals.
            max_entries: 7,
            historical_entries: u32::try_from(ibc.historical_entries).unwrap_or(u32::MAX),
            bond_denom: NATIVE_DENOM.to_string(),
            min_commission_rate: "0.000000000000000000".to_string(),
        };
        Ok(Response::new(QueryParamsResponse { params: Some(params) }))
    }

    async fn validators(&self, _req: Request<QueryValidatorsRequest>) -> Result<Response<QueryValidatorsResponse>, Status> {
        Err(not_served("Validators"))
    }

    async fn validator(&self, _req: Request<QueryValidatorRequest>) -> Result<Response<QueryValidatorResponse>, Status> {
        Err(not_served("Validator"))
    }

    async fn validator_delegations(&self, _req: Request<QueryValidatorDelegationsRequest>) -> Result<Response<QueryValidatorDelegationsResponse>, Status> {
        Err(not_served("ValidatorDelegations"))
    }

    async fn validator_unbonding_delegations(
        &self,
        _req: Request<QueryValidatorUnbondingDelegationsRequest>,
    ) -> Result<Response<QueryValidatorUnbondingDelegationsResponse>, Status> {
        Err(not_served("ValidatorUnbondingDelegations"))
    }

    async fn delegation(&self, _req: Request<QueryDelegationRequest>) -> Result<Response<QueryDelegationResponse>, Status> {
        Err(not_served("Delegation"))
    }

    async fn unbonding_delegation(&self, _req: Request<QueryUnbondingDelegationRequest>) -> Result<Response<QueryUnbondingDelegationResponse>, Status> {
        Err(not_served("UnbondingDelegation"))
    }

    async fn delegator_delegations(&self, _req: Request<QueryDelegatorDelegationsRequest>) -> Result<Response<QueryDelegatorDelegationsResponse>, Status> {
        Err(not_served("DelegatorDelegations"))
    }

    async fn delegator_unbonding_delegations(
        &self,
        _req: Request<QueryDelegatorUnbondingDelegationsRequest>,
    ) -> Result<Response<QueryDelegatorUnbondingDelegationsResponse>, Status> {
        Err(not_served("DelegatorUnbondingDelegations"))
    }

    async fn redelegations(&self, _req: Request<QueryRedelegationsRequest>) -> Result<Response<QueryRedelegationsResponse>, Status> {
        Err(not_served("Redelegations"))
    }

    async fn delegator_validators(&self, _req: Request<QueryDelegatorValidatorsRequest>) -> Result<Response<QueryDelegatorValidatorsResponse>, Status> {
        Err(not_served("DelegatorValidators"))
    }

    async fn delegator_validator(&self, _req: Request<QueryDelegatorValidatorRequest>) -> Result<Response<QueryDelegatorValidatorResponse>, Status> {
        Err(not_served("DelegatorValidator"))
    }

    async fn historical_info(&self, _req: Request<QueryHistoricalInfoRequest>) -> Result<Response<QueryHistoricalInfoResponse>, Status> {
        Err(not_served("HistoricalInfo"))
    }

    async fn pool(&self, _req: Request<QueryPoolRequest>) -> Result<Response<QueryPoolResponse>, Status> {
        Err(not_served("Pool"))
    }
}
