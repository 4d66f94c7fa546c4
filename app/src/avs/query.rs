//! `aegis.avs.v1.Query`, served over gRPC and ABCI query: AVSs, operator
//! sets, allocations, and the risk view.

use std::collections::BTreeMap;

use aegis_proto::aegis::avs::v1::{query_server::Query, *};
use cnidarium::{Snapshot, Storage};
use tonic::{Request, Response, Status};

use super::state::{avss_prefix, members_prefix};
use super::{AvsRead, OperatorSet as StoredSet};
use crate::delegation::DelegationRead;
use crate::math::{mul_div_down, mul_wad_down, WAD};
use crate::query::{page_keys, parse_address, request_snapshot, to_status};
use crate::restaking::RestakingRead;
use crate::slashing::SlashingRead;
use crate::types::Address;

#[derive(Clone)]
pub struct AvsQuery {
    storage: Storage,
}

impl AvsQuery {
    pub fn new(storage: Storage) -> Self {
        AvsQuery { storage }
    }
}

fn avs_view(a: &super::Avs) -> Avs {
    Avs {
        id: a.id,
        owner: a.owner.to_string(),
        metadata_uri: a.metadata_uri.clone(),
        redistribution_recipient: a.redistribution_recipient.map(|r| r.to_string()).unwrap_or_default(),
        operator_set_count: a.operator_set_count,
    }
}

fn set_view(s: &StoredSet) -> OperatorSet {
    OperatorSet {
        avs_id: s.avs_id,
        id: s.id,
        strategies: s.strategies.clone(),
        slasher: s.slasher.to_string(),
        veto_committee: s.veto_committee.iter().map(|a| a.to_string()).collect(),
        veto_threshold: s.veto_threshold,
        veto_window_seconds: s.veto_window_seconds,
        allowlist: s.allowlist.iter().map(|a| a.to_string()).collect(),
        member_count: s.member_count,
    }
}

/// Tokens that `magnitude` of an operator's stake in `denom` stands for
/// (delegated stake plus escrowed withdrawals when `with_queued`).
async fn magnitude_tokens(snapshot: &Snapshot, op: &Address, denom: &str, magnitude: u128, with_queued: bool) -> Result<u128, Status> {
    let stake = snapshot.operator_stake(op, denom).await.map_err(to_status)?;
    let scaled = if with_queued { stake.total_scaled.saturating_add(stake.queued_scaled) } else { stake.total_scaled };
    let shares = mul_wad_down(scaled, magnitude).unwrap_or(u128::MAX);
    snapshot.shares_to_tokens(denom, shares).await.map_err(to_status)
}

async fn allocation_views(snapshot: &Snapshot, op: &Address) -> Result<Vec<Allocation>, Status> {
    let now = crate::app::last_block_time(snapshot).await.map_err(to_status)?;
    let mut out = Vec::new();
    for (denom, avs_id, set_id, a) in snapshot.allocations_of(op).await.map_err(to_status)? {
        let reg = snapshot.registration(op, avs_id, set_id).await.map_err(to_status)?;
        out.push(Allocation {
            avs_id,
            operator_set_id: set_id,
            strategy: denom.clone(),
            magnitude: a.magnitude.to_string(),
            pending_magnitude: if a.has_pending() { a.target().to_string() } else { String::new() },
            effective_at: if a.has_pending() { a.effective_at } else { 0 },
            slashable: reg.slashable(now) && a.magnitude > 0,
            allocated_tokens: magnitude_tokens(snapshot, op, &denom, a.magnitude, false).await?.to_string(),
        });
    }
    Ok(out)
}

#[tonic::async_trait]
impl Query for AvsQuery {
    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.avs_params().await.map_err(to_status)?;
        Ok(Response::new(QueryParamsResponse {
            params: Some(Params {
                default_allocation_delay_seconds: p.default_allocation_delay_seconds,
                deallocation_delay_seconds: p.deallocation_delay_seconds,
                allocation_configuration_delay_seconds: p.allocation_configuration_delay_seconds,
                max_strategies_per_set: p.max_strategies_per_set,
            }),
        }))
    }

    async fn avs(&self, req: Request<QueryAvsRequest>) -> Result<Response<QueryAvsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let id = req.get_ref().avs_id;
        let a = snapshot.avs(id).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("AVS {id} does not exist")))?;
        Ok(Response::new(QueryAvsResponse { avs: Some(avs_view(&a)) }))
    }

    async fn avss(&self, req: Request<QueryAvssRequest>) -> Result<Response<QueryAvssResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let (keys, page) = page_keys(&snapshot, avss_prefix(), req.get_ref().pagination.as_ref()).await?;
        let mut avss = Vec::new();
        for k in keys {
            let id: u64 = k.parse().map_err(|_| Status::internal(format!("corrupt AVS key {k}")))?;
            if let Some(a) = snapshot.avs(id).await.map_err(to_status)? {
                avss.push(avs_view(&a));
            }
        }
        Ok(Response::new(QueryAvssResponse { avss, pagination: Some(page) }))
    }

    async fn operator_set(&self, req: Request<QueryOperatorSetRequest>) -> Result<Response<QueryOperatorSetResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let (a, s) = (req.get_ref().avs_id, req.get_ref().operator_set_id);
        let set = snapshot.operator_set(a, s).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("operator set {a}/{s} does not exist")))?;
        Ok(Response::new(QueryOperatorSetResponse { operator_set: Some(set_view(&set)) }))
    }

    async fn operator_set_members(&self, req: Request<QueryOperatorSetMembersRequest>) -> Result<Response<QueryOperatorSetMembersResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let (a, s) = (req.get_ref().avs_id, req.get_ref().operator_set_id);
        if snapshot.operator_set(a, s).await.map_err(to_status)?.is_none() {
            return Err(Status::not_found(format!("operator set {a}/{s} does not exist")));
        }
        let (keys, page) = page_keys(&snapshot, &members_prefix(a, s), req.get_ref().pagination.as_ref()).await?;
        let operators =
            keys.iter().map(|k| Address::from_hex(k).map(|a| a.to_string()).ok_or_else(|| Status::internal(format!("corrupt member key {k}")))).collect::<Result<_, _>>()?;
        Ok(Response::new(QueryOperatorSetMembersResponse { operators, pagination: Some(page) }))
    }

    async fn allocations(&self, req: Request<QueryAllocationsRequest>) -> Result<Response<QueryAllocationsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let op = parse_address(&req.get_ref().operator)?;
        if snapshot.operator(&op).await.map_err(to_status)?.is_none() {
            return Err(Status::not_found(format!("{op} is not a registered operator")));
        }
        let params = snapshot.avs_params().await.map_err(to_status)?;
        let now = crate::app::last_block_time(&snapshot).await.map_err(to_status)?;
        let d = snapshot.allocation_delay(&op).await.map_err(to_status)?;
        let (pending, at) = match d.pending {
            Some((p, at)) if now < at => (p, at),
            _ => (0, 0),
        };
        Ok(Response::new(QueryAllocationsResponse {
            allocations: allocation_views(&snapshot, &op).await?,
            allocation_delay_seconds: d.current(now, params.default_allocation_delay_seconds),
            pending_allocation_delay_seconds: pending,
            pending_allocation_delay_effective_at: at,
        }))
    }

    async fn operator_risk(&self, req: Request<QueryOperatorRiskRequest>) -> Result<Response<QueryOperatorRiskResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let op_addr = parse_address(&req.get_ref().operator)?;
        let op = snapshot.operator(&op_addr).await.map_err(to_status)?.ok_or_else(|| Status::not_found(format!("{op_addr} is not a registered operator")))?;
        let cap = snapshot.slashing_params().await.map_err(to_status)?.max_slash_per_epoch;
        let allocations = allocation_views(&snapshot, &op_addr).await?;
        let mut slashable: BTreeMap<String, u128> = BTreeMap::new();
        for a in &allocations {
            if a.slashable {
                *slashable.entry(a.strategy.clone()).or_default() += a.magnitude.parse::<u128>().unwrap_or(0);
            }
        }
        let mut strategies = Vec::new();
        for (denom, stake) in snapshot.operator_stakes(&op_addr).await.map_err(to_status)? {
            let shares = stake.active_shares();
            let tokens = snapshot.shares_to_tokens(&denom, shares).await.map_err(to_status)?;
            let queued = mul_wad_down(stake.queued_scaled, stake.max_magnitude).unwrap_or(0);
            let queued_tokens = snapshot.shares_to_tokens(&denom, queued).await.map_err(to_status)?;
            let enc = snapshot.encumbered_magnitude(&op_addr, &denom).await.map_err(to_status)?;
            let at_risk = slashable.get(&denom).copied().unwrap_or(0);
            let worst = magnitude_tokens(&snapshot, &op_addr, &denom, at_risk, true).await?;
            let per_epoch = magnitude_tokens(&snapshot, &op_addr, &denom, at_risk.min(cap), true).await?;
            strategies.push(StrategyRisk {
                strategy: denom,
                shares: shares.to_string(),
                tokens: tokens.to_string(),
                queued_tokens: queued_tokens.to_string(),
                max_magnitude: stake.max_magnitude.to_string(),
                encumbered_magnitude: enc.to_string(),
                slashable_magnitude: at_risk.to_string(),
                worst_case_loss_tokens: worst.to_string(),
                worst_case_loss_per_epoch_tokens: per_epoch.to_string(),
            });
        }
        let pending_slashes = snapshot
            .pending_slashes_of(&op_addr)
            .await
            .map_err(to_status)?
            .into_iter()
            .map(|p| PendingSlashRef { id: p.id, avs_id: p.avs_id, operator_set_id: p.set_id, wad_to_slash: p.wad_to_slash.to_string(), executable_at: p.executable_at })
            .collect();
        Ok(Response::new(QueryOperatorRiskResponse {
            operator: op_addr.to_string(),
            strategies,
            allocations,
            pending_slashes,
            jailed: op.jailed,
            tombstoned: op.tombstoned,
        }))
    }

    async fn staker_exposure(&self, req: Request<QueryStakerExposureRequest>) -> Result<Response<QueryStakerExposureResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let staker = parse_address(&req.get_ref().staker)?;
        let Some(op) = snapshot.delegated_operator(&staker).await.map_err(to_status)? else {
            return Ok(Response::new(QueryStakerExposureResponse { operator: String::new(), exposures: vec![] }));
        };
        let now = crate::app::last_block_time(&snapshot).await.map_err(to_status)?;
        // (avs, strategy) -> slashable magnitude allocated to its sets.
        let mut per_avs: BTreeMap<(u64, String), u128> = BTreeMap::new();
        for (denom, avs_id, set_id, a) in snapshot.allocations_of(&op).await.map_err(to_status)? {
            if a.magnitude > 0 && snapshot.registration(&op, avs_id, set_id).await.map_err(to_status)?.slashable(now) {
                *per_avs.entry((avs_id, denom)).or_default() += a.magnitude;
            }
        }
        let mut exposures = Vec::new();
        for ((avs_id, denom), magnitude) in per_avs {
            let (_, tokens) = snapshot.withdrawable(&staker, &denom).await.map_err(to_status)?;
            let max = snapshot.operator_stake(&op, &denom).await.map_err(to_status)?.max_magnitude;
            // The staker's tokens are its share of the max magnitude.
            let at_risk = mul_div_down(tokens, magnitude, max.max(1)).unwrap_or(0).min(tokens);
            exposures.push(AvsExposure { avs_id, strategy: denom, magnitude: magnitude.min(WAD).to_string(), tokens_at_risk: at_risk.to_string() });
        }
        Ok(Response::new(QueryStakerExposureResponse { operator: op.to_string(), exposures }))
    }
}
