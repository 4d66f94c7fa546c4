//! Bank state keys and typed access. The only place bank keys are spelled.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::BankError;
use crate::auth::AuthWrite;
use crate::error::{AppError, AppResult, SdkError};
use crate::store::{StoreRead, StoreWrite};
use crate::types::{Address, Amount, Coin, Coins};

mod keys {
    use crate::types::Address;

    pub const BALANCES: &str = "bank/balances/";
    pub const SUPPLY: &str = "bank/supply/";

    pub fn balances_of(addr: &Address) -> String {
        format!("{BALANCES}{}/", addr.to_hex())
    }

    pub fn balance(addr: &Address, denom: &str) -> String {
        format!("{BALANCES}{}/{denom}", addr.to_hex())
    }

    pub fn supply(denom: &str) -> String {
        format!("{SUPPLY}{denom}")
    }
}

/// The state key of a balance, for clients that verify ICS23 proofs of it.
pub fn balance_key(addr: &Address, denom: &str) -> String {
    keys::balance(addr, denom)
}

#[async_trait]
pub trait BankRead: StoreRead {
    async fn balance(&self, addr: &Address, denom: &str) -> AppResult<Amount> {
        self.read_amount(&keys::balance(addr, denom)).await
    }

    /// Every non-zero balance of `addr`, ordered by denom.
    async fn all_balances(&self, addr: &Address) -> AppResult<Coins> {
        let prefix = keys::balances_of(addr);
        let mut map = BTreeMap::new();
        for (key, value) in self.read_prefix(&prefix).await? {
            let denom = key[prefix.len()..].to_string();
            map.insert(denom, Amount::from_be_bytes(&value)?);
        }
        Ok(Coins::from_map(map))
    }

    async fn supply(&self, denom: &str) -> AppResult<Amount> {
        self.read_amount(&keys::supply(denom)).await
    }

    async fn total_supply(&self) -> AppResult<Coins> {
        let mut map = BTreeMap::new();
        for (key, value) in self.read_prefix(keys::SUPPLY).await? {
            map.insert(key[keys::SUPPLY.len()..].to_string(), Amount::from_be_bytes(&value)?);
        }
        Ok(Coins::from_map(map))
    }

    /// Supply conservation: for every denom, the recorded total supply equals
    /// the sum of all balances. Iterates all of state: for tests and audits,
    /// never for transaction execution.
    async fn check_supply_invariant(&self) -> AppResult<()> {
        let mut sums: BTreeMap<String, u128> = BTreeMap::new();
        for (key, value) in self.read_prefix(keys::BALANCES).await? {
            // `{address}/{denom}`: denoms may contain '/' (IBC denoms).
            let denom = key[keys::BALANCES.len()..].split_once('/').map(|(_, d)| d).unwrap_or_default().to_string();
            let amount = Amount::from_be_bytes(&value)?.0;
            let sum = sums.entry(denom.clone()).or_default();
            *sum = sum.checked_add(amount).ok_or_else(|| BankError::Invariant(format!("sum of {denom} balances overflows")))?;
        }
        let supply: BTreeMap<String, u128> = self.total_supply().await?.iter().map(|c| (c.denom.clone(), c.amount.0)).collect();
        if sums != supply {
            return Err(BankError::Invariant(format!("total supply {supply:?} != sum of balances {sums:?}")).into());
        }
        Ok(())
    }
}

impl<T: StoreRead + ?Sized> BankRead for T {}

#[async_trait]
pub trait BankWrite: StoreWrite {
    /// Take `coin` out of `from`'s balance, or fail with `InsufficientFunds`
    /// naming what it has, writing nothing.
    async fn debit(&mut self, from: &Address, coin: &Coin) -> AppResult<()> {
        let have = self.balance(from, &coin.denom).await?;
        let left = have.checked_sub(coin.amount).ok_or_else(|| SdkError::InsufficientFunds {
            have: format!("{have}{}", coin.denom),
            need: coin.to_string(),
        })?;
        self.write_amount(keys::balance(from, &coin.denom), left)
    }

    /// Move one coin. Fails with `InsufficientFunds` (naming what the sender
    /// has) and writes nothing if the sender lacks it. The recipient's
    /// account is created if it does not exist.
    async fn send_coin(&mut self, from: &Address, to: &Address, coin: &Coin) -> AppResult<()> {
        self.debit(from, coin).await?;
        let to_have = self.balance(to, &coin.denom).await?;
        // Cannot overflow: to_have + amount <= supply, and supply fits u128.
        let to_new = to_have.checked_add(coin.amount).ok_or_else(|| AppError::internal(format!("balance of {to} overflows")))?;
        self.write_amount(keys::balance(to, &coin.denom), to_new)?;
        // Module accounts hold balances but are not user accounts.
        if !crate::app::is_module_account(to) {
            self.get_or_create_account(to).await?;
        }
        self.record(Event::new("coin_spent", [("spender", from.to_string()).index(), ("amount", coin.to_string()).index()]));
        self.record(Event::new("coin_received", [("receiver", to.to_string()).index(), ("amount", coin.to_string()).index()]));
        Ok(())
    }

    async fn send_coins(&mut self, from: &Address, to: &Address, coins: &Coins) -> AppResult<()> {
        for coin in coins.iter() {
            self.send_coin(from, to, coin).await?;
        }
        self.record(Event::new(
            "transfer",
            [("recipient", to.to_string()).index(), ("sender", from.to_string()).index(), ("amount", coins.to_string()).index()],
        ));
        Ok(())
    }

    /// Create new tokens in `to`'s balance, raising the supply.
    async fn mint(&mut self, to: &Address, coin: &Coin) -> AppResult<()> {
        let supply = self.supply(&coin.denom).await?;
        let new_supply = supply.checked_add(coin.amount).ok_or_else(|| BankError::SupplyOverflow {
            denom: coin.denom.clone(),
            supply: supply.to_string(),
            add: coin.amount.to_string(),
        })?;
        self.write_amount(keys::supply(&coin.denom), new_supply)?;
        let have = self.balance(to, &coin.denom).await?;
        self.write_amount(keys::balance(to, &coin.denom), have.checked_add(coin.amount).expect("balance <= supply"))?;
        self.get_or_create_account(to).await?;
        self.record(Event::new("coinbase", [("minter", to.to_string()).index(), ("amount", coin.to_string()).index()]));
        Ok(())
    }

    /// Destroy tokens from `from`'s balance, lowering the supply.
    async fn burn(&mut self, from: &Address, coin: &Coin) -> AppResult<()> {
        self.debit(from, coin).await?;
        let supply = self.supply(&coin.denom).await?;
        let new_supply = supply.checked_sub(coin.amount).ok_or_else(|| AppError::internal("supply below a balance"))?;
        self.write_amount(keys::supply(&coin.denom), new_supply)?;
        self.record(Event::new("burn", [("burner", from.to_string()).index(), ("amount", coin.to_string()).index()]));
        Ok(())
    }
}

impl<T: StoreWrite + ?Sized> BankWrite for T {}
