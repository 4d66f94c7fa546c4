use std::collections::BTreeSet;

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use serde::{Deserialize, Serialize};

use super::{BankError, BankWrite};
use crate::error::AppResult;
use crate::types::{Address, Coins};

/// `app_state.bank` in genesis.json, shaped like the Cosmos SDK's:
/// `{"balances":[{"address":"aegis1...","coins":[{"denom":"uaegis","amount":"100"}]}]}`.
/// The total supply is derived from the balances.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BankGenesis {
    pub balances: Vec<GenesisBalance>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance {
    pub address: String,
    pub coins: Vec<GenesisCoin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisCoin {
    pub denom: String,
    pub amount: String,
}

impl BankGenesis {
    pub async fn apply<S: BankWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let mut seen = BTreeSet::new();
        for b in &self.balances {
            let addr = Address::parse(&b.address)?;
            if !seen.insert(addr) {
                return Err(BankError::DuplicateGenesisBalance(b.address.clone()).into());
            }
            let protos: Vec<ProtoCoin> = b.coins.iter().map(|c| ProtoCoin { denom: c.denom.clone(), amount: c.amount.clone() }).collect();
            for coin in Coins::from_proto(&protos)?.iter() {
                state.mint(&addr, coin).await?;
            }
        }
        Ok(())
    }
}
