//! `aegis.delegation.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::delegation::v1::{query_server::Query, *};
use cnidarium::{Snapshot, Storage};
use tonic::{Request, Response, Status};

use super::state::{delegators_prefix, operators_prefix};
use super::{DelegationRead, Operator as StoredOperator};
use crate::query::{page_keys, parse_address, request_snapshot, to_status};
use crate::restaking::RestakingRead;
use crate::types::Address;

#[derive(Clone)]
pub struct DelegationQuery {
    storage: Storage,
}

impl DelegationQuery {
    pub fn new(storage: Storage) -> Self {
        DelegationQuery { storage }
    }
}

fn addr_of_hex(h: &str) -> Result<Address, Status> {
    Address::from_hex(h).ok_or_else(|| Status::internal(format!("corrupt index key {h}")))
}

async fn operator_view(snapshot: &Snapshot, op: &StoredOperator) -> Result<Operator, Status> {
    let mut stake = Vec::new();
    for (denom, s) in snapshot.operator_stakes(&op.address).await.map_err(to_status)? {
        let shares = s.active_shares();
        let tokens = snapshot.shares_to_tokens(&denom, shares).await.map_err(to_status)?;
        stake.push(OperatorStake {
            denom,
            shares: shares.to_string(),
            tokens: tokens.to_string(),
            max_magnitude: s.max_magnitude.to_string(),
            queued_scaled_shares: s.queued_scaled.to_string(),
        });
    }
    let set = snapshot.validator_set().await.map_err(to_status)?;
    let power = set.validators.iter().find(|v| v.operator == op.address).map(|v| v.power).unwrap_or(0);
    let m = &op.metadata;
    Ok(Operator {
        address: op.address.to_string(),
        metadata: Some(OperatorMetadata { moniker: m.moniker.clone(), website: m.website.clone(), details: m.details.clone(), metadata_uri: m.metadata_uri.clone() }),
        commission_rate_bps: op.commission_rate_bps,
        max_commission_rate_bps: op.max_commission_rate_bps,
        max_commission_change_rate_bps: op.max_commission_change_rate_bps,
        commission_updated_at: op.commission_updated_at,
        consensus_pubkey: op.consensus_pubkey.clone().unwrap_or_default(),
        stake,
        delegator_count: op.delegator_count,
        voting_power: power,
        is_validator: power > 0,
    })
}

#[tonic::async_trait]
impl Query for DelegationQuery {
    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.delegation_params().await.map_err(to_status)?;
        Ok(Response::new(QueryParamsResponse {
            params: Some(Params { blocks_per_epoch: p.blocks_per_epoch, max_validators: p.max_validators, power_reduction: p.power_reduction.to_string() }),
        }))
    }

    async fn operator(&self, req: Request<QueryOperatorRequest>) -> Result<Response<QueryOperatorResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let addr = parse_address(&req.get_ref().operator)?;
        let op = snapshot.operator(&addr).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("{addr} is not a registered operator")))?;
        Ok(Response::new(QueryOperatorResponse { operator: Some(operator_view(&snapshot, &op).await?) }))
    }

    async fn operators(&self, req: Request<QueryOperatorsRequest>) -> Result<Response<QueryOperatorsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let (keys, page) = page_keys(&snapshot, operators_prefix(), req.get_ref().pagination.as_ref()).await?;
        let mut operators = Vec::new();
        for k in keys {
            if let Some(op) = snapshot.operator(&addr_of_hex(&k)?).await.map_err(to_status)? {
                operators.push(operator_view(&snapshot, &op).await?);
            }
        }
        Ok(Response::new(QueryOperatorsResponse { operators, pagination: Some(page) }))
    }

    async fn operator_delegators(&self, req: Request<QueryOperatorDelegatorsRequest>) -> Result<Response<QueryOperatorDelegatorsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let op = parse_address(&req.get_ref().operator)?;
        if snapshot.operator(&op).await.map_err(to_status)?.is_none() {
            return Err(Status::not_found(format!("{op} is not a registered operator")));
        }
        let (keys, page) = page_keys(&snapshot, &delegators_prefix(&op), req.get_ref().pagination.as_ref()).await?;
        let delegators = keys.iter().map(|k| addr_of_hex(k).map(|a| a.to_string())).collect::<Result<_, _>>()?;
        Ok(Response::new(QueryOperatorDelegatorsResponse { delegators, pagination: Some(page) }))
    }

    async fn delegation(&self, req: Request<QueryDelegationRequest>) -> Result<Response<QueryDelegationResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let staker = parse_address(&req.get_ref().staker)?;
        let op = snapshot.delegated_operator(&staker).await.map_err(to_status)?;
        Ok(Response::new(QueryDelegationResponse { operator: op.map(|o| o.to_string()).unwrap_or_default() }))
    }

    async fn validator_set(&self, req: Request<QueryValidatorSetRequest>) -> Result<Response<QueryValidatorSetResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let set = snapshot.validator_set().await.map_err(to_status)?;
        Ok(Response::new(QueryValidatorSetResponse {
            validators: set
                .validators
                .iter()
                .map(|v| Validator { operator: v.operator.to_string(), consensus_pubkey: v.consensus_pubkey.clone(), power: v.power, tokens: v.tokens.to_string() })
                .collect(),
            epoch_height: set.epoch_height,
        }))
    }
}
