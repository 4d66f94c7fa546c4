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
    pub const PENDING: &str = "slashing/pending/";

    pub fn pending(id: u64) -> String {
        format!("{PENDING}{id:020}")
    }
    pub fn pending_of(op: &Address) -> String {
        format!("slashing/pending_by_operator/{}/", op.to_hex())
    }
    pub fn pending_by_op(op: &Address, id: u64) -> String {
        format!("slashing/pending_by_operator/{}/{id:020}", op.to_hex())
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

pub fn pending_prefix() -> &'static str {
    keys::PENDING
}

/// A slash waiting out its set's veto window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSlash {
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
#[derive(Clone, Debug, PartialEq, Eq)]
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

    async fn pending_slash(&self, id: u64) -> AppResult<Option<PendingSlash>> {
        self.read_json(&keys::pending(id)).await
    }

    /// Pending slashes against an operator, oldest first.
    async fn pending_slashes_of(&self, op: &Address) -> AppResult<Vec<PendingSlash>> {
        let prefix = keys::pending_of(op);
        let mut out = Vec::new();
        for (k, _) in self.read_prefix(&prefix).await? {
            if let Ok(id) = k[prefix.len()..].parse() {
                if let Some(p) = self.pending_slash(id).await? {
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

    fn put_pending_slash(&mut self, p: &PendingSlash) -> AppResult<()> {
        self.write_json(keys::pending(p.id), p)?;
        self.write_bytes(keys::pending_by_op(&p.operator, p.id), vec![])
    }

    fn delete_pending_slash(&mut self, p: &PendingSlash) -> AppResult<()> {
        self.delete_key(keys::pending(p.id))?;
        self.delete_key(keys::pending_by_op(&p.operator, p.id))
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
