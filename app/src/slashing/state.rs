//! Slashing state keys, typed access, and the two slash paths (one
//! operator set's allocation; the whole native stake). The only place
//! slashing keys are spelled.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::{SlashingError, SlashingParams};
use crate::avs::{AvsRead, AvsWrite};
use crate::delegation::DelegationRead;
use crate::error::AppResult;
use crate::math::{mul_div_up, WAD};
use crate::restaking::RestakingWrite;
use crate::store::{StoreRead, StoreWrite};
use crate::types::{Address, NATIVE_DENOM};

mod keys {
    use crate::types::Address;

    pub const PARAMS: &str = "slashing/params";
    pub const NEXT_ID: &str = "slashing/next_slash_id";
    pub const SLASH: &str = "slashing/slash/";

    pub fn slash(id: u64) -> String {
        format!("{SLASH}{id:020}")
    }
    /// Index prefix of the slashes matching a filter (each part `*` when
    /// unfiltered). Every slash is written under all seven filtered
    /// combinations, so any filter is one prefix scan.
    pub fn slash_index(op: Option<&Address>, avs: Option<u64>, status: Option<&str>) -> String {
        let op = op.map_or("*".to_string(), |o| o.to_hex());
        let avs = avs.map_or("*".to_string(), |a| format!("{a:020}"));
        format!("slashing/slash_index/{op}/{avs}/{}/", status.unwrap_or("*"))
    }
    pub fn evidence(avs: u64, evidence_ref: &str) -> String {
        use sha2::{Digest, Sha256};
        format!("slashing/evidence/{avs:020}/{}", hex::encode(Sha256::digest(evidence_ref.as_bytes())))
    }
    pub fn epoch_slashed(op: &Address, denom: &str) -> String {
        format!("slashing/epoch_slashed/{}/{denom}", op.to_hex())
    }
    pub fn signing_info(cons_addr: &str) -> String {
        format!("slashing/signing_info/{cons_addr}")
    }
    pub fn missed_of(cons_addr: &str) -> String {
        format!("slashing/missed/{cons_addr}/")
    }
    pub fn missed(cons_addr: &str, index: u64) -> String {
        format!("slashing/missed/{cons_addr}/{index:020}")
    }
}

/// The key prefix to page over for the slashes matching a filter; keys
/// under it end in the zero-padded slash id.
pub fn slashes_prefix(op: Option<&Address>, avs: Option<u64>, status: Option<SlashStatus>) -> String {
    if op.is_none() && avs.is_none() && status.is_none() {
        return keys::SLASH.to_string();
    }
    keys::slash_index(op, avs, status.map(|s| s.as_str()))
}

/// Where a slash request stands. Pending until vetoed, executed or
/// expired; the last three are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlashStatus {
    Pending,
    Vetoed,
    Executed,
    Expired,
}

impl SlashStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlashStatus::Pending => "pending",
            SlashStatus::Vetoed => "vetoed",
            SlashStatus::Executed => "executed",
            SlashStatus::Expired => "expired",
        }
    }
}

/// One AVS slash request that went through a veto window, from request to
/// outcome: a single record per id, updated in place when it resolves
/// (never copied per staker). Its vetoes, and for an executed slash what
/// it took, stay with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvsSlash {
    pub id: u64,
    pub operator: Address,
    pub avs_id: u64,
    pub set_id: u32,
    pub strategies: Vec<String>,
    pub wad_to_slash: u128,
    pub description: String,
    pub evidence_ref: String,
    pub submitted_at: i64,
    pub executable_at: i64,
    pub vetoes: Vec<Address>,
    pub submitted_height: u64,
    pub status: SlashStatus,
    /// Height and block time of the veto, execution or expiry (0 while
    /// pending).
    pub resolved_height: u64,
    pub resolved_at: i64,
    /// The sender of the MsgExecuteSlash that executed or expired it.
    pub resolved_by: Option<Address>,
    /// What an executed slash took, per strategy.
    pub slashed: Vec<Slashed>,
}

impl AvsSlash {
    /// The error for acting on a slash that is no longer pending.
    pub fn resolved_error(&self) -> SlashingError {
        let outcome = match self.status {
            SlashStatus::Expired => "expired",
            SlashStatus::Vetoed => "was vetoed",
            SlashStatus::Executed => "was executed",
            SlashStatus::Pending => "is pending",
        };
        SlashingError::SlashResolved { id: self.id, outcome, height: self.resolved_height }
    }
}

/// Magnitude slashed from one operator in one strategy in one epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSlashed {
    pub epoch: u64,
    pub magnitude: u128,
}

/// A validator's liveness record (x/slashing's ValidatorSigningInfo), keyed
/// by its consensus address: a provider validator's (with its operator), or
/// on a consumer chain a consumer validator's (no operator: the provider
/// knows who holds a consumer key, the consumer does not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningInfo {
    pub operator: Option<Address>,
    pub start_height: u64,
    pub index_offset: u64,
    pub missed_blocks_counter: u64,
    pub jailed_until: i64,
}

/// What one slash took in one strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slashed {
    pub denom: String,
    pub magnitude: u128,
    pub tokens: u128,
}

#[async_trait]
pub trait SlashingRead: StoreRead {
    async fn slashing_params(&self) -> AppResult<SlashingParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    /// Any slash request by id, whatever its status.
    async fn avs_slash(&self, id: u64) -> AppResult<Option<AvsSlash>> {
        self.read_json(&keys::slash(id)).await
    }

    /// The slash with this id if it is still pending.
    async fn pending_slash(&self, id: u64) -> AppResult<Option<AvsSlash>> {
        Ok(self.avs_slash(id).await?.filter(|p| p.status == SlashStatus::Pending))
    }

    /// Pending slashes against an operator, oldest first. O(its pending
    /// slashes).
    async fn pending_slashes_of(&self, op: &Address) -> AppResult<Vec<AvsSlash>> {
        let prefix = keys::slash_index(Some(op), None, Some(SlashStatus::Pending.as_str()));
        let mut out = Vec::new();
        for (k, _) in self.read_prefix(&prefix).await? {
            if let Ok(id) = k[prefix.len()..].parse() {
                if let Some(p) = self.avs_slash(id).await? {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    async fn evidence_used(&self, avs: u64, evidence_ref: &str) -> AppResult<bool> {
        Ok(self.read_bytes(&keys::evidence(avs, evidence_ref)).await?.is_some())
    }

    async fn epoch_slashed(&self, op: &Address, denom: &str) -> AppResult<EpochSlashed> {
        Ok(self.read_json(&keys::epoch_slashed(op, denom)).await?.unwrap_or_default())
    }

    async fn signing_info(&self, cons_addr: &str) -> AppResult<Option<SigningInfo>> {
        self.read_json(&keys::signing_info(cons_addr)).await
    }

    async fn missed_bit(&self, cons_addr: &str, index: u64) -> AppResult<bool> {
        Ok(self.read_bytes(&keys::missed(cons_addr, index)).await?.is_some())
    }
}

impl<T: StoreRead + ?Sized> SlashingRead for T {}

#[async_trait]
pub trait SlashingWrite: StoreWrite {
    fn put_slashing_params(&mut self, params: &SlashingParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    async fn next_slash_id(&mut self) -> AppResult<u64> {
        let id = self.read_u64(keys::NEXT_ID).await?.unwrap_or(1);
        self.write_u64(keys::NEXT_ID.into(), id + 1)?;
        Ok(id)
    }

    /// Write a new slash record and its index entries (7 keys, whatever
    /// the number of slashes or stakers).
    fn put_new_slash(&mut self, p: &AvsSlash) -> AppResult<()> {
        self.write_json(keys::slash(p.id), p)?;
        for key in index_keys(p, p.status, true) {
            self.write_bytes(key, vec![])?;
        }
        Ok(())
    }

    /// Rewrite a slash record; when its status changed from `before`, move
    /// its status index entries (4 deletes, 4 writes).
    fn update_slash(&mut self, p: &AvsSlash, before: SlashStatus) -> AppResult<()> {
        self.write_json(keys::slash(p.id), p)?;
        if before != p.status {
            for key in index_keys(p, before, false) {
                self.delete_key(key)?;
            }
            for key in index_keys(p, p.status, false) {
                self.write_bytes(key, vec![])?;
            }
        }
        Ok(())
    }

    /// Mark an evidence reference used; `what` says by what (kept for audits).
    fn put_evidence_used(&mut self, avs: u64, evidence_ref: &str, what: &str) -> AppResult<()> {
        self.write_bytes(keys::evidence(avs, evidence_ref), what.as_bytes().to_vec())
    }

    fn put_epoch_slashed(&mut self, op: &Address, denom: &str, e: &EpochSlashed) -> AppResult<()> {
        self.write_json(keys::epoch_slashed(op, denom), e)
    }

    fn put_signing_info(&mut self, cons_addr: &str, info: &SigningInfo) -> AppResult<()> {
        self.write_json(keys::signing_info(cons_addr), info)
    }

    fn put_missed_bit(&mut self, cons_addr: &str, index: u64, missed: bool) -> AppResult<()> {
        if missed {
            self.write_bytes(keys::missed(cons_addr, index), vec![])
        } else {
            self.delete_key(keys::missed(cons_addr, index))
        }
    }

    /// Forget a validator's missed blocks (after jailing). O(missed blocks).
    async fn clear_missed_bits(&mut self, cons_addr: &str) -> AppResult<()> {
        for (k, _) in self.read_prefix(&keys::missed_of(cons_addr)).await? {
            self.delete_key(k)?;
        }
        Ok(())
    }

    /// Take `wad_to_slash` of what `op` allocated to operator set
    /// `avs_id/set_id` in each strategy. The magnitude taken rounds up; it
    /// comes off the allocation (and proportionally off a pending decrease),
    /// the encumbered magnitude and the max magnitude, and the tokens it
    /// stands for leave the pool: burned, or paid to `recipient`. Checks
    /// the per-epoch cap; errors change nothing (the caller's fork is
    /// dropped). O(strategies), whatever the number of delegators.
    async fn slash_allocation(
        &mut self,
        op: &Address,
        avs_id: u64,
        set_id: u32,
        strategies: &[String],
        wad_to_slash: u128,
        recipient: Option<&Address>,
    ) -> AppResult<Vec<Slashed>> {
        let reg = self.registration(op, avs_id, set_id).await?;
        if !reg.slashable(self.block_time()) {
            return Err(SlashingError::NotSlashable { operator: op.to_string(), avs_id, set_id }.into());
        }
        let params = self.slashing_params().await?;
        let blocks_per_epoch = self.delegation_params().await?.blocks_per_epoch;
        let height = self.block_height();
        let epoch = height / blocks_per_epoch;
        let mut out = Vec::new();
        for denom in strategies {
            let mut a = self.allocation(op, denom, avs_id, set_id).await?;
            let s = mul_div_up(a.magnitude, wad_to_slash, WAD).unwrap_or(a.magnitude).min(a.magnitude);
            if s == 0 {
                continue;
            }
            let mut used = self.epoch_slashed(op, denom).await?;
            if used.epoch != epoch {
                used = EpochSlashed { epoch, magnitude: 0 };
            }
            if used.magnitude.saturating_add(s) > params.max_slash_per_epoch {
                return Err(SlashingError::EpochCapExceeded {
                    operator: op.to_string(),
                    denom: denom.clone(),
                    epoch,
                    requested: s,
                    used: used.magnitude,
                    cap: params.max_slash_per_epoch,
                    next_epoch_height: (epoch + 1) * blocks_per_epoch,
                }
                .into());
            }
            used.magnitude += s;
            self.put_epoch_slashed(op, denom, &used)?;
            a.magnitude -= s;
            if a.pending_decrease > 0 {
                let d = mul_div_up(a.pending_decrease, wad_to_slash, WAD).unwrap_or(a.pending_decrease).min(a.pending_decrease);
                a.pending_decrease -= d;
            }
            if !a.has_pending() {
                a.effective_at = 0;
            }
            self.put_allocation(op, denom, avs_id, set_id, &a)?;
            let enc = self.encumbered_magnitude(op, denom).await?;
            self.put_encumbered_magnitude(op, denom, enc.saturating_sub(s))?;
            let max = self.operator_stake(op, denom).await?.max_magnitude;
            let tokens = self.slash_magnitude(op, denom, max - s.min(max), recipient).await?;
            out.push(Slashed { denom: denom.clone(), magnitude: s, tokens });
        }
        if out.is_empty() {
            return Err(SlashingError::NothingAllocated { operator: op.to_string(), avs_id, set_id, strategies: strategies.join(",") }.into());
        }
        Ok(out)
    }

    /// Take `fraction` (WAD) of an operator's whole native stake: each
    /// allocation (current, pending increase, pending decrease) and the
    /// unallocated rest lose the same fraction, rounded up, so allocations
    /// stay within the max magnitude. Burns the tokens. O(the operator's
    /// native allocations).
    async fn slash_native_fraction(&mut self, op: &Address, fraction: u128) -> AppResult<Slashed> {
        let denom = NATIVE_DENOM;
        let max = self.operator_stake(op, denom).await?.max_magnitude;
        let mut enc = self.encumbered_magnitude(op, denom).await?;
        let up = |x: u128| mul_div_up(x, fraction, WAD).unwrap_or(x).min(x);
        let mut removed = up(max.saturating_sub(enc));
        for (avs_id, set_id, mut a) in self.allocations_in(op, denom).await? {
            let (c, i, d) = (up(a.magnitude), up(a.pending_increase), up(a.pending_decrease));
            a.magnitude -= c;
            a.pending_increase -= i;
            a.pending_decrease -= d;
            if !a.has_pending() {
                a.effective_at = 0;
            }
            self.put_allocation(op, denom, avs_id, set_id, &a)?;
            removed += c + i;
            enc = enc.saturating_sub(c + i);
        }
        self.put_encumbered_magnitude(op, denom, enc)?;
        let removed = removed.min(max);
        let tokens = self.slash_magnitude(op, denom, max - removed, None).await?;
        Ok(Slashed { denom: denom.into(), magnitude: removed, tokens })
    }
}

impl<T: StoreWrite + ?Sized> SlashingWrite for T {}

/// The index keys of a slash with `status`: those naming the status, and
/// with `with_unfiltered_status` also those that do not.
fn index_keys(p: &AvsSlash, status: SlashStatus, with_unfiltered_status: bool) -> Vec<String> {
    let mut out = Vec::new();
    for op in [None, Some(&p.operator)] {
        for avs in [None, Some(p.avs_id)] {
            let mut statuses = vec![Some(status.as_str())];
            if with_unfiltered_status && (op.is_some() || avs.is_some()) {
                statuses.push(None);
            }
            for st in statuses {
                out.push(format!("{}{:020}", keys::slash_index(op, avs, st), p.id));
            }
        }
    }
    out
}

/// Event for an applied slash.
pub fn slash_event(kind: &str, op: &Address, slashed: &[Slashed], extra: Vec<(&'static str, String)>) -> Event {
    let mut attrs = vec![
        ("reason", kind.to_string()).index(),
        ("operator", op.to_string()).index(),
        ("magnitudes", slashed.iter().map(|s| format!("{}{}", s.magnitude, s.denom)).collect::<Vec<_>>().join(",")).no_index(),
        ("tokens", slashed.iter().map(|s| format!("{}{}", s.tokens, s.denom)).collect::<Vec<_>>().join(",")).no_index(),
    ];
    attrs.extend(extra.into_iter().map(|(k, v)| (k, v).no_index()));
    Event::new("slash", attrs)
}
