//! `aegis.provider.v1.Query`, served over gRPC and ABCI query.

use aegis_proto::aegis::provider::v1::{query_server::Query, *};
use cnidarium::Storage;
use tonic::{Request, Response, Status};

use super::msgs::consumer_key;
use super::state::{ConsumerParams, CONSUMER_SET};
use super::{Consumer as Stored, ProviderRead};
use crate::avs::AvsRead;
use crate::delegation::DelegationRead;
use crate::query::{parse_address, request_snapshot, to_status};

#[derive(Clone)]
pub struct ProviderQuery {
    storage: Storage,
}

impl ProviderQuery {
    pub fn new(storage: Storage) -> Self {
        ProviderQuery { storage }
    }
}

pub fn params_view(p: &ConsumerParams) -> ConsumerParameters {
    ConsumerParameters {
        chain_id: p.chain_id.clone(),
        metadata: Some(ConsumerMetadata { name: p.metadata.name.clone(), description: p.metadata.description.clone(), metadata: p.metadata.metadata.clone() }),
        spawn_time: p.spawn_time,
        power_shaping: Some(PowerShaping {
            min_stake: p.min_stake.to_string(),
            max_validators: p.max_validators,
            power_cap_percent: p.power_cap_percent,
            allowlist: p.allowlist.iter().map(|a| a.to_string()).collect(),
            denylist: p.denylist.iter().map(|a| a.to_string()).collect(),
        }),
        strategies: p.strategies.iter().map(|(denom, weight_bps)| StrategyWeight { denom: denom.clone(), weight_bps: *weight_bps }).collect(),
        reward_fraction: crate::math::wad_to_decimal(p.reward_fraction),
        infractions: Some(InfractionParameters {
            double_sign_fraction: p.infractions.double_sign_fraction.to_string(),
            downtime_fraction: p.infractions.downtime_fraction.to_string(),
            downtime_jail_seconds: p.infractions.downtime_jail_seconds,
        }),
        unbonding_period_seconds: p.unbonding_period_seconds,
        commission_bps: p.commission_bps,
        proof_specs: p.proof_specs.as_str().into(),
        blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
    }
}

fn view(c: &Stored, opted_in: u64) -> Consumer {
    Consumer {
        consumer_id: c.id,
        owner: c.owner.to_string(),
        phase: c.phase.as_str().into(),
        parameters: Some(params_view(&c.params)),
        client_id: c.client_id.clone().unwrap_or_default(),
        channel_id: c.channel_id.clone().unwrap_or_default(),
        launch_height: c.launch_height,
        stopped_at: c.stopped_at,
        valset_update_id: c.valset_update_id,
        opted_in,
    }
}

fn not_found(id: u64) -> Status {
    Status::not_found(format!("consumer {id} does not exist"))
}

#[tonic::async_trait]
impl Query for ProviderQuery {
    async fn consumer(&self, req: Request<QueryConsumerRequest>) -> Result<Response<QueryConsumerResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().consumer_id;
        let c = snapshot.consumer(id).await.map_err(to_status)?.ok_or_else(|| not_found(id))?;
        let opted_in = snapshot.operator_set(id, CONSUMER_SET).await.map_err(to_status)?.map_or(0, |s| s.member_count);
        Ok(Response::new(QueryConsumerResponse { consumer: Some(view(&c, opted_in)) }))
    }

    async fn consumers(&self, req: Request<QueryConsumersRequest>) -> Result<Response<QueryConsumersResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let mut out = Vec::new();
        for c in snapshot.consumers().await.map_err(to_status)? {
            let opted_in = snapshot.operator_set(c.id, CONSUMER_SET).await.map_err(to_status)?.map_or(0, |s| s.member_count);
            out.push(view(&c, opted_in));
        }
        Ok(Response::new(QueryConsumersResponse { consumers: out }))
    }

    async fn consumer_genesis(&self, req: Request<QueryConsumerGenesisRequest>) -> Result<Response<QueryConsumerGenesisResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().consumer_id;
        let c = snapshot.consumer(id).await.map_err(to_status)?.ok_or_else(|| not_found(id))?;
        let genesis = snapshot
            .consumer_genesis(id)
            .await
            .map_err(to_status)?
            .ok_or_else(|| Status::failed_precondition(format!("consumer {id} is {}: it has no genesis until it launches", c.phase.as_str())))?;
        let json = serde_json::to_string_pretty(&genesis).map_err(|e| Status::internal(format!("stored genesis: {e}")))?;
        Ok(Response::new(QueryConsumerGenesisResponse { genesis: prost::Message::encode_to_vec(&genesis.to_proto()), genesis_json: json }))
    }

    async fn consumer_validators(&self, req: Request<QueryConsumerValidatorsRequest>) -> Result<Response<QueryConsumerValidatorsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().consumer_id;
        snapshot.consumer(id).await.map_err(to_status)?.ok_or_else(|| not_found(id))?;
        let validators = snapshot
            .consumer_validators(id)
            .await
            .map_err(to_status)?
            .into_iter()
            .map(|v| ConsumerValidator {
                operator: v.operator.to_string(),
                consumer_address: crate::delegation::state::consensus_address_of(&v.key).unwrap_or_default(),
                consumer_key: v.key,
                power: v.power,
            })
            .collect();
        Ok(Response::new(QueryConsumerValidatorsResponse { validators }))
    }

    async fn consumer_rewards(&self, req: Request<QueryConsumerRewardsRequest>) -> Result<Response<QueryConsumerRewardsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().consumer_id;
        snapshot.consumer(id).await.map_err(to_status)?.ok_or_else(|| not_found(id))?;
        let coin = |denom: String, amount: u128| cosmos_sdk_proto::cosmos::base::v1beta1::Coin { denom, amount: amount.to_string() };
        let undistributed = snapshot.reward_pools().await.map_err(to_status)?.into_iter().filter(|(c, _, _)| *c == id).map(|(_, d, a)| coin(d, a)).collect();
        let mut operators = Vec::new();
        for v in snapshot.consumer_validators(id).await.map_err(to_status)? {
            let earned = snapshot.consumer_earned_all(id, &v.operator).await.map_err(to_status)?.into_iter().map(|(d, a)| coin(d, a)).collect();
            operators.push(OperatorEarned { operator: v.operator.to_string(), earned });
        }
        Ok(Response::new(QueryConsumerRewardsResponse { undistributed, operators }))
    }

    async fn operator_consumers(&self, req: Request<QueryOperatorConsumersRequest>) -> Result<Response<QueryOperatorConsumersResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let op = parse_address(&req.get_ref().operator)?;
        if snapshot.operator(&op).await.map_err(to_status)?.is_none() {
            return Err(Status::not_found(format!("{op} is not a registered operator")));
        }
        let mut opt_ins = Vec::new();
        for (avs_id, set_id, reg) in snapshot.registrations(&op).await.map_err(to_status)? {
            if set_id != CONSUMER_SET || !reg.registered || snapshot.consumer(avs_id).await.map_err(to_status)?.is_none() {
                continue;
            }
            let key = consumer_key(&snapshot, avs_id, &op).await.map_err(to_status)?.unwrap_or_default();
            let power = snapshot.consumer_validators(avs_id).await.map_err(to_status)?.iter().find(|v| v.operator == op).map_or(0, |v| v.power);
            let jail = snapshot.consumer_jail(avs_id, &op).await.map_err(to_status)?;
            let jailed_until = if jail.until > 0 && !jail.unjailed { jail.until } else { 0 };
            opt_ins.push(OptIn { consumer_id: avs_id, consumer_key: key, power, jailed_until, tombstoned: jail.tombstoned });
        }
        Ok(Response::new(QueryOperatorConsumersResponse { opt_ins }))
    }
}
