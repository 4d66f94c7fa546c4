//! AVS state keys and typed access. The only place avs keys are spelled.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{AvsError, AvsParams};
use crate::error::AppResult;
use crate::store::{StoreRead, StoreWrite};
use crate::types::Address;

mod keys {
    use crate::types::{denom_key, Address};

    pub const PARAMS: &str = "avs/params";
    pub const NEXT_ID: &str = "avs/next_id";
    pub const AVSS: &str = "avs/avss/";
    pub const QUEUE: &str = "avs/alloc_queue/";
    pub const ALLOCATIONS: &str = "avs/allocations/";
    pub const ENCUMBERED: &str = "avs/encumbered/";
    pub const CHANGED_ALLOCATIONS: &str = "avs/changed_allocations/";

    pub fn changed_allocation(avs: u64, set: u32, op: &Address) -> String {
        format!("{CHANGED_ALLOCATIONS}{avs:020}/{set:010}/{}", op.to_hex())
    }

    pub fn avs(id: u64) -> String {
        format!("{AVSS}{id:020}")
    }
    pub fn set(avs: u64, set: u32) -> String {
        format!("avs/sets/{avs:020}/{set:010}")
    }
    pub fn sets_of(avs: u64) -> String {
        format!("avs/sets/{avs:020}/")
    }
    pub fn members_of(avs: u64, set: u32) -> String {
        format!("avs/members/{avs:020}/{set:010}/")
    }
    pub fn member(avs: u64, set: u32, op: &Address) -> String {
        format!("avs/members/{avs:020}/{set:010}/{}", op.to_hex())
    }
    pub fn registrations_of(op: &Address) -> String {
        format!("avs/registrations/{}/", op.to_hex())
    }
    pub fn registration(op: &Address, avs: u64, set: u32) -> String {
        format!("avs/registrations/{}/{avs:020}/{set:010}", op.to_hex())
    }
    pub fn allocations_of(op: &Address) -> String {
        format!("{ALLOCATIONS}{}/", op.to_hex())
    }
    pub fn allocations_in(op: &Address, denom: &str) -> String {
        format!("{ALLOCATIONS}{}/{}/", op.to_hex(), denom_key(denom))
    }
    pub fn allocation(op: &Address, denom: &str, avs: u64, set: u32) -> String {
        format!("{ALLOCATIONS}{}/{}/{avs:020}/{set:010}", op.to_hex(), denom_key(denom))
    }
    pub fn encumbered(op: &Address, denom: &str) -> String {
        format!("{ENCUMBERED}{}/{}", op.to_hex(), denom_key(denom))
    }
    pub fn queue_entry(at: i64, op: &Address, denom: &str, avs: u64, set: u32) -> String {
        // Block times are positive; zero-padding keeps the queue in time order.
        format!("{QUEUE}{:020}/{}/{}/{avs:020}/{set:010}", at.max(0), op.to_hex(), denom_key(denom))
    }
    pub fn delay(op: &Address) -> String {
        format!("avs/allocation_delay/{}", op.to_hex())
    }
}

pub fn avss_prefix() -> &'static str {
    keys::AVSS
}

pub fn members_prefix(avs: u64, set: u32) -> String {
    keys::members_of(avs, set)
}

pub fn queue_prefix() -> &'static str {
    keys::QUEUE
}

/// Parse a queue key suffix `{at}/{op}/{denom}/{avs}/{set}`.
pub fn parse_queue_suffix(suffix: &str) -> Option<(i64, Address, String, u64, u32)> {
    let mut it = suffix.split('/');
    let at = it.next()?.parse().ok()?;
    let op = Address::from_hex(it.next()?)?;
    let denom = crate::types::denom_from_key(it.next()?);
    let avs = it.next()?.parse().ok()?;
    let set = it.next()?.parse().ok()?;
    Some((at, op, denom, avs, set))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avs {
    pub id: u64,
    pub owner: Address,
    pub metadata_uri: String,
    /// Receives slashed tokens; None = they are burned.
    pub redistribution_recipient: Option<Address>,
    pub operator_set_count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSet {
    pub avs_id: u64,
    pub id: u32,
    pub strategies: Vec<String>,
    pub slasher: Address,
    pub veto_committee: Vec<Address>,
    pub veto_threshold: u32,
    pub veto_window_seconds: u64,
    pub allowlist: Vec<Address>,
    pub member_count: u64,
}

impl OperatorSet {
    pub fn accepts(&self, denom: &str) -> bool {
        self.strategies.iter().any(|s| s == denom)
    }
}

/// An operator's standing with one operator set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub registered: bool,
    /// After deregistration: block time until which the set may still slash.
    pub slashable_until: i64,
}

impl Registration {
    pub fn slashable(&self, now: i64) -> bool {
        self.registered || now < self.slashable_until
    }
}

/// An operator's allocation to one operator set in one strategy. At most
/// one change is pending at a time (EigenLayer's rule).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Current magnitude (WAD): slashable and earning.
    pub magnitude: u128,
    /// Pending increase (not yet slashable) or decrease (still slashable).
    pub pending_increase: u128,
    pub pending_decrease: u128,
    /// When the pending change applies (0 = none pending).
    pub effective_at: i64,
}

impl Allocation {
    pub fn has_pending(&self) -> bool {
        self.pending_increase > 0 || self.pending_decrease > 0
    }

    /// What this allocation adds to the operator's encumbered magnitude.
    pub fn encumbered(&self) -> u128 {
        self.magnitude + self.pending_increase
    }

    /// The magnitude it will have once the pending change applies.
    pub fn target(&self) -> u128 {
        (self.magnitude + self.pending_increase).saturating_sub(self.pending_decrease)
    }
}

/// An operator's allocation delay: `delay` (None = the default) and a
/// change waiting for `allocation_configuration_delay_seconds`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationDelay {
    pub delay: Option<u64>,
    pub pending: Option<(u64, i64)>,
}

impl AllocationDelay {
    /// The delay in force at `now`.
    pub fn current(&self, now: i64, default: u64) -> u64 {
        match self.pending {
            Some((d, at)) if now >= at => d,
            _ => self.delay.unwrap_or(default),
        }
    }
}

#[async_trait]
pub trait AvsRead: StoreRead {
    async fn avs_params(&self) -> AppResult<AvsParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    async fn avs(&self, id: u64) -> AppResult<Option<Avs>> {
        self.read_json(&keys::avs(id)).await
    }

    async fn next_avs_id(&self) -> AppResult<u64> {
        Ok(self.read_u64(keys::NEXT_ID).await?.unwrap_or(1))
    }

    async fn operator_set(&self, avs: u64, set: u32) -> AppResult<Option<OperatorSet>> {
        self.read_json(&keys::set(avs, set)).await
    }

    async fn require_operator_set(&self, avs: u64, set: u32) -> AppResult<OperatorSet> {
        Ok(self.operator_set(avs, set).await?.ok_or(AvsError::UnknownOperatorSet { avs_id: avs, set_id: set })?)
    }

    async fn operator_sets(&self, avs: u64) -> AppResult<Vec<OperatorSet>> {
        Ok(self.read_prefix_json(&keys::sets_of(avs)).await?.into_iter().map(|(_, s)| s).collect())
    }

    async fn registration(&self, op: &Address, avs: u64, set: u32) -> AppResult<Registration> {
        Ok(self.read_json(&keys::registration(op, avs, set)).await?.unwrap_or_default())
    }

    /// Every set the operator is or was registered for: (avs, set, registration).
    async fn registrations(&self, op: &Address) -> AppResult<Vec<(u64, u32, Registration)>> {
        let mut out = Vec::new();
        for (suffix, r) in self.read_prefix_json::<Registration>(&keys::registrations_of(op)).await? {
            let (a, s) = suffix.split_once('/').unwrap_or_default();
            out.push((a.parse().unwrap_or_default(), s.parse().unwrap_or_default(), r));
        }
        Ok(out)
    }

    /// Operators registered for a set, in address order. O(members): for
    /// epoch-end reward rounds and queries.
    async fn set_members(&self, avs: u64, set: u32) -> AppResult<Vec<Address>> {
        let prefix = keys::members_of(avs, set);
        Ok(self.read_prefix(&prefix).await?.into_iter().filter_map(|(k, _)| Address::from_hex(&k[prefix.len()..])).collect())
    }

    async fn allocation(&self, op: &Address, denom: &str, avs: u64, set: u32) -> AppResult<Allocation> {
        Ok(self.read_json(&keys::allocation(op, denom, avs, set)).await?.unwrap_or_default())
    }

    /// An operator's allocations in one strategy: (avs, set, allocation).
    async fn allocations_in(&self, op: &Address, denom: &str) -> AppResult<Vec<(u64, u32, Allocation)>> {
        let mut out = Vec::new();
        for (suffix, a) in self.read_prefix_json::<Allocation>(&keys::allocations_in(op, denom)).await? {
            let (x, y) = suffix.split_once('/').unwrap_or_default();
            out.push((x.parse().unwrap_or_default(), y.parse().unwrap_or_default(), a));
        }
        Ok(out)
    }

    /// Every allocation of an operator: (denom, avs, set, allocation).
    async fn allocations_of(&self, op: &Address) -> AppResult<Vec<(String, u64, u32, Allocation)>> {
        let mut out = Vec::new();
        for (suffix, a) in self.read_prefix_json::<Allocation>(&keys::allocations_of(op)).await? {
            let mut it = suffix.split('/');
            let denom = crate::types::denom_from_key(it.next().unwrap_or_default());
            let x = it.next().and_then(|s| s.parse().ok()).unwrap_or_default();
            let y = it.next().and_then(|s| s.parse().ok()).unwrap_or_default();
            out.push((denom, x, y, a));
        }
        Ok(out)
    }

    async fn encumbered_magnitude(&self, op: &Address, denom: &str) -> AppResult<u128> {
        Ok(self.read_amount(&keys::encumbered(op, denom)).await?.0)
    }

    /// (set, operator) allocations changed since the journal was last
    /// cleared (see `touch_allocation`).
    async fn changed_allocations(&self) -> AppResult<Vec<(u64, u32, Address)>> {
        Ok(self
            .read_prefix(keys::CHANGED_ALLOCATIONS)
            .await?
            .into_iter()
            .filter_map(|(k, _)| {
                let mut it = k[keys::CHANGED_ALLOCATIONS.len()..].split('/');
                Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?, Address::from_hex(it.next()?)?))
            })
            .collect())
    }

    async fn allocation_delay(&self, op: &Address) -> AppResult<AllocationDelay> {
        Ok(self.read_json(&keys::delay(op)).await?.unwrap_or_default())
    }
}

impl<T: StoreRead + ?Sized> AvsRead for T {}

#[async_trait]
pub trait AvsWrite: StoreWrite {
    fn put_avs_params(&mut self, params: &AvsParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    fn put_avs(&mut self, avs: &Avs) -> AppResult<()> {
        self.write_json(keys::avs(avs.id), avs)
    }

    fn put_next_avs_id(&mut self, id: u64) -> AppResult<()> {
        self.write_u64(keys::NEXT_ID.into(), id)
    }

    fn put_operator_set(&mut self, set: &OperatorSet) -> AppResult<()> {
        self.write_json(keys::set(set.avs_id, set.id), set)
    }

    fn put_registration(&mut self, op: &Address, avs: u64, set: u32, r: &Registration) -> AppResult<()> {
        self.write_json(keys::registration(op, avs, set), r)?;
        if r.registered {
            self.write_bytes(keys::member(avs, set, op), vec![])
        } else {
            self.delete_key(keys::member(avs, set, op))
        }
    }

    fn put_allocation(&mut self, op: &Address, denom: &str, avs: u64, set: u32, a: &Allocation) -> AppResult<()> {
        self.touch_allocation(avs, set, op)?;
        if *a == Allocation::default() {
            self.delete_key(keys::allocation(op, denom, avs, set))
        } else {
            self.write_json(keys::allocation(op, denom, avs, set), a)
        }
    }

    fn put_encumbered_magnitude(&mut self, op: &Address, denom: &str, m: u128) -> AppResult<()> {
        self.write_amount(keys::encumbered(op, denom), crate::types::Amount(m))
    }

    fn enqueue_allocation(&mut self, at: i64, op: &Address, denom: &str, avs: u64, set: u32) -> AppResult<()> {
        self.write_bytes(keys::queue_entry(at, op, denom, avs, set), vec![])
    }

    fn dequeue_allocation(&mut self, at: i64, op: &Address, denom: &str, avs: u64, set: u32) -> AppResult<()> {
        self.delete_key(keys::queue_entry(at, op, denom, avs, set))
    }

    /// Journal that an operator's allocation to this operator set changed
    /// (an allocation affects only its own set, unlike stake), so that the
    /// provider's epoch end recomputes only that operator on that consumer.
    /// Cleared there.
    fn touch_allocation(&mut self, avs: u64, set: u32, op: &Address) -> AppResult<()> {
        self.write_bytes(keys::changed_allocation(avs, set, op), vec![])
    }

    fn clear_changed_allocation(&mut self, avs: u64, set: u32, op: &Address) -> AppResult<()> {
        self.delete_key(keys::changed_allocation(avs, set, op))
    }

    fn put_allocation_delay(&mut self, op: &Address, d: &AllocationDelay) -> AppResult<()> {
        self.write_json(keys::delay(op), d)
    }
}

impl<T: StoreWrite + ?Sized> AvsWrite for T {}

/// For tests and audits (iterates every allocation): per operator and
/// strategy, the stored encumbered magnitude equals the sum over its
/// allocations and never exceeds the max magnitude.
pub async fn check_avs_invariants<S: StoreRead + Send + Sync>(state: &S) -> AppResult<()> {
    use crate::delegation::DelegationRead;
    use std::collections::BTreeMap;
    let mut sums: BTreeMap<(String, String), u128> = BTreeMap::new();
    for (suffix, a) in state.read_prefix_json::<Allocation>(keys::ALLOCATIONS).await? {
        let mut it = suffix.split('/');
        let op = it.next().unwrap_or_default().to_string();
        let denom = crate::types::denom_from_key(it.next().unwrap_or_default());
        *sums.entry((op, denom)).or_default() += a.encumbered();
    }
    for (suffix, _) in state.read_prefix(keys::ENCUMBERED).await? {
        let suffix = &suffix[keys::ENCUMBERED.len()..];
        let (op, denom) = suffix.split_once('/').unwrap_or_default();
        sums.entry((op.to_string(), crate::types::denom_from_key(denom))).or_default();
    }
    for ((op_hex, denom), sum) in sums {
        let op = Address::from_hex(&op_hex).ok_or_else(|| AvsError::Invariant(format!("bad key {op_hex}")))?;
        let stored = state.encumbered_magnitude(&op, &denom).await?;
        if stored != sum {
            return Err(AvsError::Invariant(format!("operator {op} {denom}: encumbered {stored} != sum of allocations {sum}")).into());
        }
        let max = state.operator_stake(&op, &denom).await?.max_magnitude;
        if sum > max {
            return Err(AvsError::Invariant(format!("operator {op} {denom}: allocations {sum} exceed max magnitude {max}")).into());
        }
    }
    Ok(())
}
