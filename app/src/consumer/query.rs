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

/// ICS's own consumer query service, `interchain_security.ccv.consumer.v1.Query`,
/// which ICS tooling asks a consumer chain (Hermes reads `QueryParams`
/// for the CCV timeout). Served only on a consumer chain; elsewhere every
/// method is NOT_FOUND.
#[derive(Clone)]
pub struct IcsConsumerQuery {
    storage: Storage,
}

impl IcsConsumerQuery {
    pub fn new(storage: Storage) -> Self {
        IcsConsumerQuery { storage }
    }
}

mod ics {
    pub use ibc_proto_052::interchain_security::ccv::consumer::v1::*;
    pub use ibc_proto_052::interchain_security::ccv::v1 as ccv;
}

async fn consumer_params_052(s: &cnidarium::Snapshot) -> Result<ics::ccv::ConsumerParams, Status> {
    let Some(p) = s.consumer_params().await.map_err(to_status)? else {
        return Err(Status::not_found("this chain is not a consumer chain (its genesis has no consumer section)"));
    };
    // The same message in ibc-proto 0.51 and 0.52: the bytes carry over.
    <ics::ccv::ConsumerParams as prost::Message>::decode(prost::Message::encode_to_vec(&p).as_slice()).map_err(|e| Status::internal(e.to_string()))
}

/// Coins as the Cosmos SDK prints `DecCoins` (18 decimals, comma-separated).
fn dec_coins(coins: &[(String, u128)]) -> String {
    coins.iter().filter(|(_, a)| *a > 0).map(|(d, a)| format!("{a}.{:018}{d}", 0)).collect::<Vec<_>>().join(",")
}

/// A queued packet as ICS's `ConsumerPacketData` protobuf.
fn packet_proto(data: &[u8]) -> Option<ics::ccv::ConsumerPacketData> {
    use ics::ccv::consumer_packet_data::Data;
    Some(match crate::ccv::ConsumerPacket::decode(data).ok()? {
        crate::ccv::ConsumerPacket::Slash(p) => ics::ccv::ConsumerPacketData {
            r#type: ics::ccv::ConsumerPacketDataType::ConsumerPacketTypeSlash as i32,
            data: Some(Data::SlashPacketData(ics::ccv::SlashPacketData {
                validator: Some(tendermint_proto::abci::Validator { address: p.validator_address.to_vec().into(), power: p.power }),
                valset_update_id: p.valset_update_id,
                infraction: match p.infraction {
                    crate::ccv::Infraction::DoubleSign => 1,
                    crate::ccv::Infraction::Downtime => 2,
                },
            })),
        },
        crate::ccv::ConsumerPacket::VscMatured { valset_update_id } => ics::ccv::ConsumerPacketData {
            r#type: ics::ccv::ConsumerPacketDataType::ConsumerPacketTypeVscm as i32,
            data: Some(Data::VscMaturedPacketData(ics::ccv::VscMaturedPacketData { valset_update_id })),
        },
    })
}

#[tonic::async_trait]
impl ics::query_server::Query for IcsConsumerQuery {
    async fn query_next_fee_distribution(
        &self,
        req: Request<ics::QueryNextFeeDistributionEstimateRequest>,
    ) -> Result<Response<ics::QueryNextFeeDistributionEstimateResponse>, Status> {
        use crate::bank::BankRead;
        let s = request_snapshot(&self.storage, &req)?;
        let p = consumer_params_052(&s).await?;
        let last = s.last_transmission_height().await.map_err(to_status)? as i64;
        let fraction = crate::math::parse_decimal_wad(&p.consumer_redistribution_fraction).unwrap_or(0);
        let collector = crate::types::Address::module(crate::auth::FEE_COLLECTOR);
        let total: Vec<(String, u128)> = s.all_balances(&collector).await.map_err(to_status)?.iter().map(|c| (c.denom.clone(), c.amount.0)).collect();
        let to_consumer: Vec<(String, u128)> = total.iter().map(|(d, a)| (d.clone(), super::distribution::consumer_share(*a, fraction))).collect();
        let to_provider: Vec<(String, u128)> = total.iter().zip(&to_consumer).map(|((d, a), (_, c))| (d.clone(), a - c)).collect();
        let height = if s.version() == u64::MAX { 0 } else { s.version() as i64 };
        Ok(Response::new(ics::QueryNextFeeDistributionEstimateResponse {
            data: Some(ics::NextFeeDistributionEstimate {
                current_height: height,
                last_height: last,
                next_height: last + p.blocks_per_distribution_transmission,
                distribution_fraction: p.consumer_redistribution_fraction.clone(),
                total: dec_coins(&total),
                to_provider: dec_coins(&to_provider),
                to_consumer: dec_coins(&to_consumer),
            }),
        }))
    }

    async fn query_params(&self, req: Request<ics::QueryParamsRequest>) -> Result<Response<ics::QueryParamsResponse>, Status> {
        let s = request_snapshot(&self.storage, &req)?;
        let mut params = consumer_params_052(&s).await?;
        // ICS keeps the fee pool address the handshake brought in the params.
        if let Some(addr) = s.provider_fee_pool_addr().await.map_err(to_status)? {
            params.provider_fee_pool_addr_str = addr;
        }
        Ok(Response::new(ics::QueryParamsResponse { params: Some(params) }))
    }

    /// ICS's `GetProviderInfo`: both ends of the established CCV channel.
    async fn query_provider_info(&self, req: Request<ics::QueryProviderInfoRequest>) -> Result<Response<ics::QueryProviderInfoResponse>, Status> {
        use ibc_proto_052::ibc::core::channel::v1::Channel;
        use ibc_proto_052::ibc::core::connection::v1::ConnectionEnd;
        use prost::Message;
        let s = request_snapshot(&self.storage, &req)?;
        consumer_params_052(&s).await?;
        let Some(channel_id) = s.provider_channel().await.map_err(to_status)? else {
            return Err(Status::not_found("channel not found: the CCV channel is not established yet"));
        };
        let raw = |key: String| {
            let s = s.clone();
            async move { crate::ibc::state::read_raw(&s, &key).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("{key} not found"))) }
        };
        let channel = Channel::decode(raw(format!("ibc/channelEnds/ports/{}/channels/{channel_id}", crate::ccv::CONSUMER_PORT)).await?.as_slice()).map_err(|e| Status::internal(e.to_string()))?;
        let connection_id = channel.connection_hops.first().cloned().ok_or_else(|| Status::internal("the CCV channel has no connection"))?;
        let connection = ConnectionEnd::decode(raw(format!("ibc/connections/{connection_id}")).await?.as_slice()).map_err(|e| Status::internal(e.to_string()))?;
        let client_state = tendermint_proto::google::protobuf::Any::decode(raw(format!("ibc/clients/{}/clientState", connection.client_id)).await?.as_slice())
            .map_err(|e| Status::internal(e.to_string()))?;
        let provider_chain_id = ibc_proto::ibc::lightclients::tendermint::v1::ClientState::decode(client_state.value.as_slice()).map_err(|e| Status::internal(e.to_string()))?.chain_id;
        let counterparty = connection.counterparty.clone().unwrap_or_default();
        let chain_id = crate::auth::AuthRead::chain_id(&s).await.map_err(to_status)?;
        Ok(Response::new(ics::QueryProviderInfoResponse {
            consumer: Some(ics::ChainInfo { chain_id, client_id: connection.client_id.clone(), connection_id, channel_id }),
            provider: Some(ics::ChainInfo {
                chain_id: provider_chain_id,
                client_id: counterparty.client_id,
                connection_id: counterparty.connection_id,
                channel_id: channel.counterparty.map(|c| c.channel_id).unwrap_or_default(),
            }),
        }))
    }

    async fn query_throttle_state(&self, req: Request<ics::QueryThrottleStateRequest>) -> Result<Response<ics::QueryThrottleStateResponse>, Status> {
        let s = request_snapshot(&self.storage, &req)?;
        consumer_params_052(&s).await?;
        let record = s.slash_record().await.map_err(to_status)?;
        let packets = s.pending_packets().await.map_err(to_status)?;
        Ok(Response::new(ics::QueryThrottleStateResponse {
            slash_record: record.map(|r| ics::SlashRecord {
                waiting_on_reply: r.waiting_on_reply,
                send_time: Some(tendermint_proto::google::protobuf::Timestamp { seconds: r.send_time, nanos: 0 }),
            }),
            packet_data_queue: packets.iter().filter_map(|(_, d)| packet_proto(d)).collect(),
        }))
    }
}
