//! Rewards state keys and typed access. The only place rewards keys are
//! spelled.
//!
//! Accumulators are kept per (operator, strategy, reward denom): reward per
//! scaled share of that strategy delegated to the operator, times 1e27.
//! Native rewards use (op, uaegis, uaegis); an AVS reward round adds to
//! (op, strategy, reward denom) for each strategy it rewards. A staker's
//! snapshot per (strategy, reward denom) is the accumulator value it last
//! settled at; a missing snapshot means 0, which is right because a staker
//! always settles (writing snapshots) before its scaled shares change.

use std::collections::BTreeMap;

use async_trait::async_trait;
use primitive_types::U256;
use serde::{Deserialize, Serialize};

use super::RewardsParams;
use crate::delegation::DelegationRead;
use crate::error::{AppError, AppResult};
use crate::math::{acc_earned_down, u256_from_str};
use crate::restaking::RestakingRead;
use crate::store::{StoreRead, StoreWrite};
use crate::types::{denom_from_key, Address, Amount, NATIVE_DENOM};

mod keys {
    use crate::types::{denom_key as d, Address};

    pub const PARAMS: &str = "rewards/params";
    pub const UNDISTRIBUTED: &str = "rewards/undistributed";
    pub const PENDING: &str = "rewards/pending/";
    pub const COMMISSIONS: &str = "rewards/commission/";
    pub const SUBMISSIONS: &str = "rewards/submissions/";
    pub const NEXT_SUBMISSION: &str = "rewards/next_submission_id";

    pub fn accumulators(op: &Address, strategy: &str) -> String {
        format!("rewards/accumulators/{}/{}/", op.to_hex(), d(strategy))
    }
    pub fn accumulator(op: &Address, strategy: &str, reward: &str) -> String {
        format!("rewards/accumulators/{}/{}/{}", op.to_hex(), d(strategy), d(reward))
    }
    pub fn snapshots_of(staker: &Address) -> String {
        format!("rewards/snapshots/{}/", staker.to_hex())
    }
    pub fn snapshot(staker: &Address, strategy: &str, reward: &str) -> String {
        format!("rewards/snapshots/{}/{}/{}", staker.to_hex(), d(strategy), d(reward))
    }
    pub fn pending_of(staker: &Address) -> String {
        format!("{PENDING}{}/", staker.to_hex())
    }
    pub fn pending(staker: &Address, reward: &str) -> String {
        format!("{PENDING}{}/{}", staker.to_hex(), d(reward))
    }
    pub fn commissions_of(op: &Address) -> String {
        format!("{COMMISSIONS}{}/", op.to_hex())
    }
    pub fn commission(op: &Address, reward: &str) -> String {
        format!("{COMMISSIONS}{}/{}", op.to_hex(), d(reward))
    }
    pub fn avs_commission(op: &Address, avs: u64) -> String {
        format!("rewards/avs_commission/{}/{avs:020}", op.to_hex())
    }
    pub fn submission(id: u64) -> String {
        format!("{SUBMISSIONS}{id:020}")
    }
    pub fn set_submissions(avs: u64, set: u32) -> String {
        format!("rewards/set_submissions/{avs:020}/{set:010}")
    }
}

pub fn submissions_prefix() -> &'static str {
    keys::SUBMISSIONS
}

/// An AVS reward submission still paying out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub id: u64,
    pub avs_id: u64,
    pub set_id: u32,
    pub submitter: Address,
    pub denom: String,
    /// Escrowed, not yet paid.
    pub remaining: u128,
    pub remaining_epochs: u64,
    /// (strategy denom, multiplier).
    pub strategies: Vec<(String, u64)>,
}

fn parse_u256(b: &[u8]) -> AppResult<U256> {
    u256_from_str(std::str::from_utf8(b).unwrap_or_default()).ok_or_else(|| AppError::internal("corrupt accumulator"))
}

#[async_trait]
pub trait RewardsRead: StoreRead {
    async fn rewards_params(&self) -> AppResult<RewardsParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    /// Rewards in `reward` per scaled `strategy` share of `op`, times 1e27.
    async fn accumulator(&self, op: &Address, strategy: &str, reward: &str) -> AppResult<U256> {
        match self.read_bytes(&keys::accumulator(op, strategy, reward)).await? {
            Some(b) => parse_u256(&b),
            None => Ok(U256::zero()),
        }
    }

    /// Every (reward denom, accumulator) of `op`'s stake in `strategy`.
    async fn accumulators(&self, op: &Address, strategy: &str) -> AppResult<Vec<(String, U256)>> {
        let prefix = keys::accumulators(op, strategy);
        let mut out = Vec::new();
        for (k, v) in self.read_prefix(&prefix).await? {
            out.push((denom_from_key(&k[prefix.len()..]), parse_u256(&v)?));
        }
        Ok(out)
    }

    async fn snapshot(&self, staker: &Address, strategy: &str, reward: &str) -> AppResult<U256> {
        match self.read_bytes(&keys::snapshot(staker, strategy, reward)).await? {
            Some(b) => parse_u256(&b),
            None => Ok(U256::zero()),
        }
    }

    /// Settled, unclaimed staker rewards in one denom.
    async fn settled_rewards(&self, staker: &Address, reward: &str) -> AppResult<u128> {
        Ok(self.read_amount(&keys::pending(staker, reward)).await?.0)
    }

    /// Settled, unclaimed staker rewards, by denom.
    async fn settled_rewards_all(&self, staker: &Address) -> AppResult<BTreeMap<String, u128>> {
        let prefix = keys::pending_of(staker);
        let mut out = BTreeMap::new();
        for (k, v) in self.read_prefix(&prefix).await? {
            out.insert(denom_from_key(&k[prefix.len()..]), Amount::from_be_bytes(&v)?.0);
        }
        Ok(out)
    }

    /// Native commission owed to an operator.
    async fn commission(&self, op: &Address) -> AppResult<u128> {
        self.commission_in(op, NATIVE_DENOM).await
    }

    async fn commission_in(&self, op: &Address, reward: &str) -> AppResult<u128> {
        Ok(self.read_amount(&keys::commission(op, reward)).await?.0)
    }

    /// Commission owed to an operator, by denom.
    async fn commissions(&self, op: &Address) -> AppResult<BTreeMap<String, u128>> {
        let prefix = keys::commissions_of(op);
        let mut out = BTreeMap::new();
        for (k, v) in self.read_prefix(&prefix).await? {
            out.insert(denom_from_key(&k[prefix.len()..]), Amount::from_be_bytes(&v)?.0);
        }
        Ok(out)
    }

    /// Native rewards held back for the next block (rounding remainders,
    /// or no validators yet).
    async fn undistributed(&self) -> AppResult<u128> {
        Ok(self.read_amount(keys::UNDISTRIBUTED).await?.0)
    }

    /// What `staker` (delegated to `op`) earned in `strategy` since it last
    /// settled, by reward denom, with the accumulator values.
    async fn accrued(&self, staker: &Address, op: &Address, strategy: &str) -> AppResult<Vec<(String, u128, U256)>> {
        let accs = self.accumulators(op, strategy).await?;
        if accs.is_empty() {
            return Ok(vec![]);
        }
        let scaled = self.staker_deposit(staker, strategy).await?.scaled();
        let mut out = Vec::with_capacity(accs.len());
        for (reward, acc) in accs {
            let snap = self.snapshot(staker, strategy, &reward).await?;
            let earned = acc_earned_down(scaled, acc.saturating_sub(snap)).ok_or_else(|| AppError::internal("reward overflow"))?;
            out.push((reward, earned, acc));
        }
        Ok(out)
    }

    /// Every staker reward `staker` could claim now (settled + accrued), by denom.
    async fn pending_rewards_all(&self, staker: &Address) -> AppResult<BTreeMap<String, u128>> {
        let mut out = self.settled_rewards_all(staker).await?;
        if let Some(op) = self.delegated_operator(staker).await? {
            for (strategy, _) in self.staker_deposits(staker).await? {
                for (reward, earned, _) in self.accrued(staker, &op, &strategy).await? {
                    let e = out.entry(reward).or_default();
                    *e = e.saturating_add(earned);
                }
            }
        }
        out.retain(|_, v| *v > 0);
        Ok(out)
    }

    /// Native staker rewards `staker` could claim now.
    async fn pending_rewards(&self, staker: &Address) -> AppResult<u128> {
        Ok(self.pending_rewards_all(staker).await?.get(NATIVE_DENOM).copied().unwrap_or(0))
    }

    /// The operator's commission on an AVS's rewards, if it set one.
    async fn avs_commission(&self, op: &Address, avs: u64) -> AppResult<Option<u32>> {
        self.read_json(&keys::avs_commission(op, avs)).await
    }

    async fn submission(&self, id: u64) -> AppResult<Option<Submission>> {
        self.read_json(&keys::submission(id)).await
    }

    async fn submissions(&self) -> AppResult<Vec<Submission>> {
        Ok(self.read_prefix_json(keys::SUBMISSIONS).await?.into_iter().map(|(_, s)| s).collect())
    }

    async fn set_submission_count(&self, avs: u64, set: u32) -> AppResult<u64> {
        Ok(self.read_u64(&keys::set_submissions(avs, set)).await?.unwrap_or(0))
    }
}

impl<T: StoreRead + ?Sized> RewardsRead for T {}

#[async_trait]
pub trait RewardsWrite: StoreWrite {
    fn put_rewards_params(&mut self, params: &RewardsParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    fn put_accumulator(&mut self, op: &Address, strategy: &str, reward: &str, acc: U256) -> AppResult<()> {
        self.write_bytes(keys::accumulator(op, strategy, reward), acc.to_string().into_bytes())
    }

    fn put_commission(&mut self, op: &Address, reward: &str, amount: u128) -> AppResult<()> {
        self.write_amount(keys::commission(op, reward), Amount(amount))
    }

    fn put_settled_rewards(&mut self, staker: &Address, reward: &str, amount: u128) -> AppResult<()> {
        self.write_amount(keys::pending(staker, reward), Amount(amount))
    }

    fn put_undistributed(&mut self, amount: u128) -> AppResult<()> {
        self.write_amount(keys::UNDISTRIBUTED.into(), Amount(amount))
    }

    fn put_avs_commission(&mut self, op: &Address, avs: u64, bps: u32) -> AppResult<()> {
        self.write_json(keys::avs_commission(op, avs), &bps)
    }

    async fn next_submission_id(&mut self) -> AppResult<u64> {
        let id = self.read_u64(keys::NEXT_SUBMISSION).await?.unwrap_or(1);
        self.write_u64(keys::NEXT_SUBMISSION.into(), id + 1)?;
        Ok(id)
    }

    fn put_submission(&mut self, s: &Submission) -> AppResult<()> {
        self.write_json(keys::submission(s.id), s)
    }

    fn delete_submission(&mut self, id: u64) -> AppResult<()> {
        self.delete_key(keys::submission(id))
    }

    fn put_set_submission_count(&mut self, avs: u64, set: u32, n: u64) -> AppResult<()> {
        if n == 0 {
            self.delete_key(keys::set_submissions(avs, set))
        } else {
            self.write_u64(keys::set_submissions(avs, set), n)
        }
    }

    /// Move what the staker earned in `strategy` since its last settlement
    /// into its settled balance. Must run before its scaled shares in that
    /// strategy or its delegation change. O(reward denoms of the strategy).
    async fn settle_rewards(&mut self, staker: &Address, strategy: &str) -> AppResult<()> {
        let Some(op) = self.delegated_operator(staker).await? else { return Ok(()) };
        for (reward, earned, acc) in self.accrued(staker, &op, strategy).await? {
            if earned > 0 {
                let settled = self.settled_rewards(staker, &reward).await?;
                self.put_settled_rewards(staker, &reward, settled.saturating_add(earned))?;
            }
            if self.snapshot(staker, strategy, &reward).await? != acc {
                self.write_bytes(keys::snapshot(staker, strategy, &reward), acc.to_string().into_bytes())?;
            }
        }
        Ok(())
    }

    /// Settle every strategy the staker holds.
    async fn settle_all_rewards(&mut self, staker: &Address) -> AppResult<()> {
        for (strategy, _) in self.staker_deposits(staker).await? {
            self.settle_rewards(staker, &strategy).await?;
        }
        Ok(())
    }

    /// A staker starts earning from `op`'s accumulators as they are now;
    /// snapshots of a previous operator are dropped.
    async fn start_rewards(&mut self, staker: &Address, op: &Address) -> AppResult<()> {
        for (k, _) in self.read_prefix(&keys::snapshots_of(staker)).await? {
            self.delete_key(k)?;
        }
        for (strategy, _) in self.staker_deposits(staker).await? {
            for (reward, acc) in self.accumulators(op, &strategy).await? {
                self.write_bytes(keys::snapshot(staker, &strategy, &reward), acc.to_string().into_bytes())?;
            }
        }
        Ok(())
    }

    /// Take everything `addr` is owed (settled staker rewards + commission),
    /// zeroing the records; the caller pays it out. By denom.
    async fn take_owed(&mut self, addr: &Address) -> AppResult<BTreeMap<String, u128>> {
        self.settle_all_rewards(addr).await?;
        let mut owed = self.settled_rewards_all(addr).await?;
        for denom in owed.keys() {
            self.put_settled_rewards(addr, denom, 0)?;
        }
        for (denom, amount) in self.commissions(addr).await? {
            *owed.entry(denom.clone()).or_default() += amount;
            self.put_commission(addr, &denom, 0)?;
        }
        owed.retain(|_, v| *v > 0);
        Ok(owed)
    }
}

impl<T: StoreWrite + ?Sized> RewardsWrite for T {}

/// For tests and audits (iterates every staker): per denom, the
/// distribution account holds at least what is owed (undistributed native
/// rewards + commissions + every staker's settled and accrued rewards), and
/// the AVS escrow holds what submissions still have to pay.
pub async fn check_rewards_invariant<S: StoreRead + Send + Sync>(state: &S) -> AppResult<()> {
    use crate::bank::BankRead;
    use std::collections::BTreeSet;
    let mut owed: BTreeMap<String, u128> = BTreeMap::new();
    *owed.entry(NATIVE_DENOM.into()).or_default() += state.undistributed().await?;
    for (key, value) in state.read_prefix(keys::COMMISSIONS).await? {
        let denom = denom_from_key(key.rsplit('/').next().unwrap_or_default());
        *owed.entry(denom).or_default() += Amount::from_be_bytes(&value)?.0;
    }
    let mut stakers = BTreeSet::new();
    for (key, _) in state.read_prefix(crate::restaking::state::deposits_prefix()).await? {
        let rest = &key[crate::restaking::state::deposits_prefix().len()..];
        stakers.insert(rest.split('/').next().unwrap_or_default().to_string());
    }
    for (key, _) in state.read_prefix(keys::PENDING).await? {
        stakers.insert(key[keys::PENDING.len()..].split('/').next().unwrap_or_default().to_string());
    }
    for hex in stakers {
        let addr = Address::from_hex(&hex).ok_or_else(|| AppError::internal(format!("bad staker key {hex}")))?;
        for (denom, amount) in state.pending_rewards_all(&addr).await? {
            *owed.entry(denom).or_default() += amount;
        }
    }
    let distribution = Address::module(super::DISTRIBUTION);
    for (denom, amount) in owed {
        let held = state.balance(&distribution, &denom).await?.0;
        if held < amount {
            return Err(super::RewardsError::Invariant(format!("distribution holds {held}{denom}, owes {amount}{denom}")).into());
        }
    }
    let mut escrowed: BTreeMap<String, u128> = BTreeMap::new();
    for s in state.submissions().await? {
        *escrowed.entry(s.denom).or_default() += s.remaining;
    }
    let escrow = Address::module(super::AVS_REWARDS_ESCROW);
    for (denom, amount) in escrowed {
        let held = state.balance(&escrow, &denom).await?.0;
        if held < amount {
            return Err(super::RewardsError::Invariant(format!("AVS reward escrow holds {held}{denom}, submissions owe {amount}{denom}")).into());
        }
    }
    Ok(())
}
