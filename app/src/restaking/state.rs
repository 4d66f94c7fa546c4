//! Restaking state keys, typed access, and the share accounting every
//! module goes through. The only place restaking keys are spelled.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::{pool_address, RestakingError, RestakingParams, VIRTUAL_SHARES, VIRTUAL_TOKENS};
use crate::bank::{BankRead, BankWrite};
use crate::delegation::{DelegationRead, DelegationWrite};
use crate::error::{AppError, AppResult};
use crate::math::{mul_div_down, mul_wad_down, mul2_div2_down, WAD};
use crate::rewards::RewardsWrite;
use crate::store::{StoreRead, StoreWrite};
use crate::types::{Address, Coin};

mod keys {
    use crate::types::Address;

    pub const PARAMS: &str = "restaking/params";
    pub const STRATEGIES: &str = "restaking/strategies/";
    pub const NEXT_WITHDRAWAL_ID: &str = "restaking/next_withdrawal_id";
    pub const DEPOSITS: &str = "restaking/deposits/";
    pub const WITHDRAWALS: &str = "restaking/withdrawals/";

    pub fn strategy(denom: &str) -> String {
        format!("{STRATEGIES}{denom}")
    }
    pub fn deposits_of(staker: &Address) -> String {
        format!("{DEPOSITS}{}/", staker.to_hex())
    }
    pub fn deposit(staker: &Address, denom: &str) -> String {
        format!("{DEPOSITS}{}/{denom}", staker.to_hex())
    }
    pub fn withdrawal(id: u64) -> String {
        format!("{WITHDRAWALS}{id:020}")
    }
    pub fn withdrawals_of(staker: &Address) -> String {
        format!("restaking/staker_withdrawals/{}/", staker.to_hex())
    }
    pub fn staker_withdrawal(staker: &Address, id: u64) -> String {
        format!("restaking/staker_withdrawals/{}/{id:020}", staker.to_hex())
    }
}

/// Every staker's deposit records (`{staker hex}/{denom}`), for audits.
pub fn deposits_prefix() -> &'static str {
    keys::DEPOSITS
}

/// The index of a staker's withdrawals, for paginated queries.
pub fn staker_withdrawals_prefix(staker: &Address) -> String {
    keys::withdrawals_of(staker)
}

/// One pool. Its tokens are the bank balance of `pool_address(denom)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    pub denom: String,
    /// Shares outstanding: held by stakers plus escrowed in withdrawals.
    pub total_shares: u128,
    /// Most tokens the pool may hold; None = no cap.
    pub deposit_cap: Option<u128>,
}

impl Strategy {
    /// Shares minted for `amount` deposited into a pool holding `tvl`
    /// (before the deposit), rounded down: the pool keeps the dust.
    pub fn shares_for_deposit(&self, amount: u128, tvl: u128) -> Option<u128> {
        mul_div_down(amount, self.total_shares.checked_add(VIRTUAL_SHARES)?, tvl.checked_add(VIRTUAL_TOKENS)?)
    }

    /// Tokens `shares` are worth in a pool holding `tvl`, rounded down.
    pub fn tokens_for_shares(&self, shares: u128, tvl: u128) -> Option<u128> {
        mul_div_down(shares, tvl.checked_add(VIRTUAL_TOKENS)?, self.total_shares.checked_add(VIRTUAL_SHARES)?)
    }
}

/// A staker's position in one strategy. `scaled()` is what its operator's
/// total counts for it; withdrawable shares = scaled * magnitude / WAD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakerDeposit {
    pub deposit_shares: u128,
    /// Deposit scaling factor (WAD): set when shares are added so that
    /// the operator's magnitude at that moment does not apply to them.
    pub scaling_factor: u128,
}

impl Default for StakerDeposit {
    fn default() -> Self {
        StakerDeposit { deposit_shares: 0, scaling_factor: WAD }
    }
}

impl StakerDeposit {
    pub fn scaled(&self) -> u128 {
        // deposit_shares * factor / WAD <= u128::MAX is kept by add_shares.
        mul_wad_down(self.deposit_shares, self.scaling_factor).unwrap_or(u128::MAX)
    }

    pub fn withdrawable(&self, magnitude: u128) -> u128 {
        mul_wad_down(self.scaled(), magnitude).unwrap_or(u128::MAX)
    }
}

/// A queued withdrawal: scaled shares per strategy, in escrow until
/// `completable_time`. While escrowed they count in the operator's
/// `queued_scaled`, so the operator's slashes reduce them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub id: u64,
    pub staker: Address,
    pub operator: Option<Address>,
    pub start_time: i64,
    pub completable_time: i64,
    /// (denom, scaled shares), one per strategy.
    pub entries: Vec<(String, u128)>,
}

fn overflow(what: impl Into<String>) -> AppError {
    RestakingError::Overflow(what.into()).into()
}

#[async_trait]
pub trait RestakingRead: StoreRead {
    async fn restaking_params(&self) -> AppResult<RestakingParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    async fn strategy(&self, denom: &str) -> AppResult<Option<Strategy>> {
        self.read_json(&keys::strategy(denom)).await
    }

    async fn strategies(&self) -> AppResult<Vec<Strategy>> {
        Ok(self.read_prefix_json(keys::STRATEGIES).await?.into_iter().map(|(_, s)| s).collect())
    }

    /// Tokens in a strategy's pool.
    async fn pool_tokens(&self, denom: &str) -> AppResult<u128> {
        Ok(self.balance(&pool_address(denom), denom).await?.0)
    }

    async fn staker_deposit(&self, staker: &Address, denom: &str) -> AppResult<StakerDeposit> {
        Ok(self.read_json(&keys::deposit(staker, denom)).await?.unwrap_or_default())
    }

    /// Every strategy the staker holds deposit shares in, by denom.
    async fn staker_deposits(&self, staker: &Address) -> AppResult<Vec<(String, StakerDeposit)>> {
        self.read_prefix_json(&keys::deposits_of(staker)).await
    }

    async fn withdrawal(&self, id: u64) -> AppResult<Option<Withdrawal>> {
        self.read_json(&keys::withdrawal(id)).await
    }

    /// Ids of a staker's queued withdrawals, oldest first.
    async fn staker_withdrawal_ids(&self, staker: &Address) -> AppResult<Vec<u64>> {
        let prefix = keys::withdrawals_of(staker);
        Ok(self.read_prefix(&prefix).await?.into_iter().filter_map(|(k, _)| k[prefix.len()..].parse().ok()).collect())
    }

    /// The factor a staker's scaled shares are multiplied by: its
    /// operator's max magnitude, or 1.0 if it is not delegated.
    async fn slashing_factor(&self, operator: Option<&Address>, denom: &str) -> AppResult<u128> {
        match operator {
            Some(op) => Ok(self.operator_stake(op, denom).await?.max_magnitude),
            None => Ok(WAD),
        }
    }

    /// Withdrawable shares and tokens of a staker in one strategy.
    async fn withdrawable(&self, staker: &Address, denom: &str) -> AppResult<(u128, u128)> {
        let op = self.delegated_operator(staker).await?;
        let m = self.slashing_factor(op.as_ref(), denom).await?;
        let shares = self.staker_deposit(staker, denom).await?.withdrawable(m);
        let tokens = self.shares_to_tokens(denom, shares).await?;
        Ok((shares, tokens))
    }

    async fn shares_to_tokens(&self, denom: &str, shares: u128) -> AppResult<u128> {
        let Some(strategy) = self.strategy(denom).await? else { return Ok(0) };
        let tvl = self.pool_tokens(denom).await?;
        strategy.tokens_for_shares(shares, tvl).ok_or_else(|| overflow(format!("value of {shares} {denom} shares")))
    }
}

impl<T: StoreRead + ?Sized> RestakingRead for T {}

#[async_trait]
pub trait RestakingWrite: StoreWrite {
    fn put_restaking_params(&mut self, params: &RestakingParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    fn put_strategy(&mut self, strategy: &Strategy) -> AppResult<()> {
        self.write_json(keys::strategy(&strategy.denom), strategy)
    }

    fn put_staker_deposit(&mut self, staker: &Address, denom: &str, dep: &StakerDeposit) -> AppResult<()> {
        if dep.deposit_shares == 0 {
            self.delete_key(keys::deposit(staker, denom))
        } else {
            self.write_json(keys::deposit(staker, denom), dep)
        }
    }

    /// Move `coin` from the staker into its strategy's pool and credit the
    /// shares minted. Returns the shares.
    async fn deposit_tokens(&mut self, staker: &Address, coin: &Coin) -> AppResult<u128> {
        let denom = coin.denom.as_str();
        let amount = coin.amount.0;
        let mut strategy = self.strategy(denom).await?.ok_or_else(|| RestakingError::UnknownStrategy { denom: denom.into() })?;
        let tvl = self.pool_tokens(denom).await?;
        if let Some(cap) = strategy.deposit_cap {
            if tvl.checked_add(amount).is_none_or(|after| after > cap) {
                return Err(RestakingError::CapExceeded { denom: denom.into(), amount, tvl, cap }.into());
            }
        }
        let shares = strategy.shares_for_deposit(amount, tvl).ok_or_else(|| overflow(format!("shares for {coin}")))?;
        if shares == 0 {
            return Err(RestakingError::ZeroShares { denom: denom.into(), amount }.into());
        }
        self.send_coin(staker, &pool_address(denom), coin).await?;
        strategy.total_shares = strategy.total_shares.checked_add(shares).ok_or_else(|| overflow(format!("total shares of {denom}")))?;
        self.put_strategy(&strategy)?;
        self.add_shares(staker, denom, shares).await?;
        self.record(Event::new(
            "deposit",
            [("staker", staker.to_string()).index(), ("amount", coin.to_string()).index(), ("shares", shares.to_string()).no_index()],
        ));
        Ok(shares)
    }

    /// Credit `shares` (already counted in the strategy's total) to the
    /// staker, and to its operator if delegated. The deposit scaling factor
    /// is reset so that the new shares are worth `shares` at the operator's
    /// current magnitude; every rounding keeps the new value <= the old
    /// value + `shares`.
    async fn add_shares(&mut self, staker: &Address, denom: &str, shares: u128) -> AppResult<()> {
        let op = self.delegated_operator(staker).await?;
        self.settle_rewards(staker, denom).await?;
        let mut stake = match &op {
            Some(op) => Some(self.operator_stake(op, denom).await?),
            None => None,
        };
        let m = stake.as_ref().map_or(WAD, |s| s.max_magnitude);
        if m == 0 {
            return Err(RestakingError::FullySlashed { operator: op.map(|o| o.to_string()).unwrap_or_default(), denom: denom.into() }.into());
        }
        let mut dep = self.staker_deposit(staker, denom).await?;
        let old_scaled = dep.scaled();
        let added_scaled = mul_div_down(shares, WAD, m).ok_or_else(|| overflow(format!("scaled shares of {shares} {denom}")))?;
        let target = old_scaled.checked_add(added_scaled).ok_or_else(|| overflow("scaled shares"))?;
        dep.deposit_shares = dep.deposit_shares.checked_add(shares).ok_or_else(|| overflow("deposit shares"))?;
        dep.scaling_factor = mul_div_down(target, WAD, dep.deposit_shares).ok_or_else(|| overflow("deposit scaling factor"))?;
        let new_scaled = dep.scaled();
        self.put_staker_deposit(staker, denom, &dep)?;
        if let (Some(op), Some(stake)) = (&op, stake.as_mut()) {
            // The staker's part is recomputed, so the operator's total stays the
            // exact sum of its delegators' parts.
            stake.total_scaled = (stake.total_scaled - old_scaled).checked_add(new_scaled).ok_or_else(|| overflow("operator shares"))?;
            self.put_operator_stake(op, denom, stake)?;
        }
        Ok(())
    }

    /// Take `deposit_shares` away from the staker (and its operator's
    /// active total); returns the scaled shares removed, which the caller
    /// escrows in a withdrawal.
    async fn remove_shares(&mut self, staker: &Address, denom: &str, deposit_shares: u128) -> AppResult<u128> {
        let mut dep = self.staker_deposit(staker, denom).await?;
        if deposit_shares == 0 || deposit_shares > dep.deposit_shares {
            return Err(RestakingError::InsufficientShares { denom: denom.into(), have: dep.deposit_shares, want: deposit_shares }.into());
        }
        self.settle_rewards(staker, denom).await?;
        let old_scaled = dep.scaled();
        dep.deposit_shares -= deposit_shares;
        let removed = old_scaled - dep.scaled();
        if dep.deposit_shares == 0 {
            dep.scaling_factor = WAD;
        }
        self.put_staker_deposit(staker, denom, &dep)?;
        if let Some(op) = self.delegated_operator(staker).await? {
            let mut stake = self.operator_stake(&op, denom).await?;
            stake.total_scaled = stake.total_scaled.checked_sub(removed).ok_or_else(|| RestakingError::Invariant(format!("operator {op} {denom} total below a staker's part")))?;
            stake.queued_scaled = stake.queued_scaled.checked_add(removed).ok_or_else(|| overflow("queued shares"))?;
            self.put_operator_stake(&op, denom, &stake)?;
        }
        Ok(removed)
    }

    /// Escrow deposit shares of several strategies in one withdrawal.
    async fn queue_withdrawal(&mut self, staker: &Address, requests: &[(String, u128)]) -> AppResult<u64> {
        let params = self.restaking_params().await?;
        let now = self.block_time();
        let operator = self.delegated_operator(staker).await?;
        let mut entries = Vec::with_capacity(requests.len());
        for (denom, shares) in requests {
            if self.strategy(denom).await?.is_none() {
                return Err(RestakingError::UnknownStrategy { denom: denom.clone() }.into());
            }
            let scaled = self.remove_shares(staker, denom, *shares).await?;
            entries.push((denom.clone(), scaled));
        }
        let id = self.read_u64(keys::NEXT_WITHDRAWAL_ID).await?.unwrap_or(1);
        self.write_u64(keys::NEXT_WITHDRAWAL_ID.into(), id + 1)?;
        let delay = i64::try_from(params.withdrawal_delay_seconds).unwrap_or(i64::MAX);
        let w = Withdrawal { id, staker: *staker, operator, start_time: now, completable_time: now.saturating_add(delay), entries };
        self.write_json(keys::withdrawal(id), &w)?;
        self.write_bytes(keys::staker_withdrawal(staker, id), vec![])?;
        self.record(Event::new(
            "queue_withdrawal",
            [
                ("staker", staker.to_string()).index(),
                ("withdrawal_id", id.to_string()).index(),
                ("completable_time", w.completable_time.to_string()).no_index(),
            ],
        ));
        Ok(id)
    }

    /// Pay out a withdrawal whose delay has passed: tokens, or shares
    /// re-credited to the staker (and its current operator).
    async fn complete_withdrawal(&mut self, signer: &Address, id: u64, as_tokens: bool) -> AppResult<Vec<Coin>> {
        let w = self.withdrawal(id).await?.ok_or(RestakingError::UnknownWithdrawal { id })?;
        if w.staker != *signer {
            return Err(RestakingError::NotWithdrawalOwner { id, owner: w.staker.to_string(), signer: signer.to_string() }.into());
        }
        let now = self.block_time();
        if now < w.completable_time {
            return Err(RestakingError::WithdrawalNotReady { id, completable_at: w.completable_time, now, left: w.completable_time - now }.into());
        }
        let mut paid = Vec::new();
        for (denom, scaled) in &w.entries {
            let m = self.slashing_factor(w.operator.as_ref(), denom).await?;
            if let Some(op) = &w.operator {
                let mut stake = self.operator_stake(op, denom).await?;
                stake.queued_scaled = stake.queued_scaled.checked_sub(*scaled).ok_or_else(|| RestakingError::Invariant(format!("operator {op} {denom} queued total below a withdrawal")))?;
                self.put_operator_stake(op, denom, &stake)?;
            }
            let shares = mul_wad_down(*scaled, m).ok_or_else(|| overflow("withdrawal shares"))?;
            if shares == 0 {
                continue;
            }
            if as_tokens {
                let mut strategy = self.strategy(denom).await?.ok_or_else(|| RestakingError::UnknownStrategy { denom: denom.clone() })?;
                let tvl = self.pool_tokens(denom).await?;
                let tokens = strategy.tokens_for_shares(shares, tvl).ok_or_else(|| overflow("withdrawal tokens"))?;
                strategy.total_shares = strategy.total_shares.checked_sub(shares).ok_or_else(|| RestakingError::Invariant(format!("{denom} total shares below a withdrawal")))?;
                self.put_strategy(&strategy)?;
                if tokens > 0 {
                    let coin = Coin::new(denom.clone(), tokens);
                    self.send_coin(&pool_address(denom), signer, &coin).await?;
                    paid.push(coin);
                }
            } else {
                self.add_shares(signer, denom, shares).await?;
            }
        }
        self.delete_key(keys::withdrawal(id))?;
        self.delete_key(keys::staker_withdrawal(signer, id))?;
        self.record(Event::new(
            "complete_withdrawal",
            [
                ("staker", signer.to_string()).index(),
                ("withdrawal_id", id.to_string()).index(),
                ("amount", paid.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")).no_index(),
            ],
        ));
        Ok(paid)
    }

    /// Lower an operator's max magnitude in one strategy to `new_magnitude`
    /// and take the slashed shares out of the pool: every delegator's and
    /// every escrowed withdrawal's value drops by the same fraction without
    /// being touched. Returns the tokens removed from the pool: burned, or
    /// paid to `recipient` (an AVS's redistribution recipient).
    /// O(1) in the number of delegators and withdrawals.
    async fn slash_magnitude(&mut self, operator: &Address, denom: &str, new_magnitude: u128, recipient: Option<&Address>) -> AppResult<u128> {
        let mut stake = self.operator_stake(operator, denom).await?;
        if new_magnitude > stake.max_magnitude {
            return Err(RestakingError::Invariant(format!("magnitude can only fall: {} -> {new_magnitude}", stake.max_magnitude)).into());
        }
        let total = stake.total_scaled.checked_add(stake.queued_scaled).ok_or_else(|| overflow("operator shares"))?;
        let before = mul_wad_down(total, stake.max_magnitude).ok_or_else(|| overflow("operator shares"))?;
        let after = mul_wad_down(total, new_magnitude).ok_or_else(|| overflow("operator shares"))?;
        let slashed_shares = before - after;
        stake.max_magnitude = new_magnitude;
        self.put_operator_stake(operator, denom, &stake)?;
        let Some(mut strategy) = self.strategy(denom).await? else { return Ok(0) };
        let tvl = self.pool_tokens(denom).await?;
        let tokens = strategy.tokens_for_shares(slashed_shares, tvl).ok_or_else(|| overflow("slashed tokens"))?;
        strategy.total_shares = strategy.total_shares.checked_sub(slashed_shares).ok_or_else(|| RestakingError::Invariant(format!("{denom} total shares below an operator's")))?;
        self.put_strategy(&strategy)?;
        if tokens > 0 {
            match recipient {
                Some(to) => self.send_coin(&pool_address(denom), to, &Coin::new(denom, tokens)).await?,
                None => self.burn(&pool_address(denom), &Coin::new(denom, tokens)).await?,
            }
        }
        self.record(Event::new(
            "slash_magnitude",
            [
                ("operator", operator.to_string()).index(),
                ("denom", denom.to_string()).index(),
                ("max_magnitude", new_magnitude.to_string()).no_index(),
                ("shares", slashed_shares.to_string()).no_index(),
                ("tokens", tokens.to_string()).no_index(),
                ("recipient", recipient.map(|r| r.to_string()).unwrap_or_else(|| "burned".into())).no_index(),
            ],
        ));
        Ok(tokens)
    }

    /// Re-base a staker's scaling factors onto `operator`'s magnitudes when
    /// it delegates: its withdrawable shares do not change (up to rounding
    /// down) and they are added to the operator's totals.
    async fn delegate_deposits(&mut self, staker: &Address, operator: &Address) -> AppResult<()> {
        for (denom, mut dep) in self.staker_deposits(staker).await? {
            let mut stake = self.operator_stake(operator, &denom).await?;
            let m = stake.max_magnitude;
            if m == 0 {
                return Err(RestakingError::FullySlashed { operator: operator.to_string(), denom }.into());
            }
            let shares = dep.withdrawable(WAD);
            dep.scaling_factor = mul2_div2_down(shares, WAD, WAD, dep.deposit_shares, m).ok_or_else(|| overflow("deposit scaling factor"))?;
            self.put_staker_deposit(staker, &denom, &dep)?;
            stake.total_scaled = stake.total_scaled.checked_add(dep.scaled()).ok_or_else(|| overflow("operator shares"))?;
            self.put_operator_stake(operator, &denom, &stake)?;
        }
        Ok(())
    }
}

impl<T: StoreWrite + ?Sized> RestakingWrite for T {}

/// For tests and audits (iterates all restaking state): per strategy, the
/// shares owed to stakers and escrowed withdrawals never exceed the total,
/// the pool's tokens cover the total's value, and every operator's totals
/// equal the sum over its delegators.
pub async fn check_restaking_invariants<S: StoreRead + Send + Sync>(state: &S) -> AppResult<()> {
    use std::collections::BTreeMap;
    let bad = |m: String| -> AppError { RestakingError::Invariant(m).into() };
    // (operator hex or "", denom) -> (active scaled, queued scaled)
    let mut op_sums: BTreeMap<(String, String), (u128, u128)> = BTreeMap::new();
    let mut undelegated: BTreeMap<String, u128> = BTreeMap::new();
    for (suffix, dep) in state.read_prefix_json::<StakerDeposit>(keys::DEPOSITS).await? {
        let (staker_hex, denom) = suffix.split_once('/').ok_or_else(|| bad(format!("bad deposit key {suffix}")))?;
        let denom = denom.to_string();
        let staker = Address::from_hex(staker_hex).ok_or_else(|| bad(format!("bad deposit key {suffix}")))?;
        match state.delegated_operator(&staker).await? {
            Some(op) => op_sums.entry((op.to_hex(), denom)).or_default().0 += dep.scaled(),
            None => *undelegated.entry(denom).or_default() += dep.scaled(),
        }
    }
    for (_, w) in state.read_prefix_json::<Withdrawal>(keys::WITHDRAWALS).await? {
        for (denom, scaled) in w.entries {
            match &w.operator {
                Some(op) => op_sums.entry((op.to_hex(), denom)).or_default().1 += scaled,
                None => *undelegated.entry(denom).or_default() += scaled,
            }
        }
    }
    let mut owed: BTreeMap<String, u128> = undelegated;
    for ((op_hex, denom), (active, queued)) in &op_sums {
        let op = Address::from_hex(op_hex).ok_or_else(|| bad(format!("bad operator {op_hex}")))?;
        let stake = state.operator_stake(&op, denom).await?;
        if stake.total_scaled != *active || stake.queued_scaled != *queued {
            return Err(bad(format!(
                "operator {op} {denom}: stored totals ({}, {}) != sums over delegators and withdrawals ({active}, {queued})",
                stake.total_scaled, stake.queued_scaled
            )));
        }
        *owed.entry(denom.clone()).or_default() += mul_wad_down(active + queued, stake.max_magnitude).unwrap();
    }
    for strategy in state.strategies().await? {
        let owed_shares = owed.get(&strategy.denom).copied().unwrap_or(0);
        if owed_shares > strategy.total_shares {
            return Err(bad(format!("{}: shares owed {owed_shares} > total shares {}", strategy.denom, strategy.total_shares)));
        }
        let tvl = state.pool_tokens(&strategy.denom).await?;
        let value = strategy.tokens_for_shares(strategy.total_shares, tvl).unwrap();
        if value > tvl {
            return Err(bad(format!("{}: pool holds {tvl} tokens, shares are worth {value}", strategy.denom)));
        }
    }
    Ok(())
}
